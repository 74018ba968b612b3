// SPDX-License-Identifier: GPL-2.0-only
#include "netns_process.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace netacct::test {

NetnsProcess::NetnsProcess(const std::string& netns, std::vector<std::string> argv,
                           const std::string& log, int stop_signal)
    : log_(log), stop_signal_(stop_signal) {
  const std::string netns_path = "/var/run/netns/" + netns;
  pid_ = ::fork();
  if (pid_ == 0) {
    ::setpgid(0, 0);
    int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    int ns = ::open(netns_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (ns < 0 || ::setns(ns, CLONE_NEWNET) != 0) ::_exit(126);
    std::vector<char*> args;
    for (std::string& arg : argv) args.push_back(arg.data());
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  if (pid_ > 0) ::setpgid(pid_, pid_);  // also here: stop() may come before the child runs
}

NetnsProcess::~NetnsProcess() {
  stop();
}

bool NetnsProcess::running() {
  if (pid_ <= 0) return false;
  siginfo_t info{};
  if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
      info.si_pid == pid_) {
    stop(0);  // exited: reap it and what is left of its group
    return false;
  }
  return true;
}

bool NetnsProcess::stop(int timeout_ms) {
  if (pid_ <= 0) return true;
  // Exited but not reaped: the pid (and so the group id) cannot be reused
  // before waitpid, so killing the group here reaches only its own leftovers.
  auto exited = [&] {
    siginfo_t info{};
    return ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
           info.si_pid == pid_;
  };
  bool clean = exited();
  if (!clean) {
    ::kill(pid_, stop_signal_);
    for (int waited = 0; waited < timeout_ms && !clean; waited += 50) {
      ::usleep(50000);
      clean = exited();
    }
  }
  ::kill(-pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
  return clean;
}

}  // namespace netacct::test
