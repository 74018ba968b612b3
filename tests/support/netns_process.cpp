// SPDX-License-Identifier: GPL-2.0-only
#include "netns_process.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace netacct::test {

NetnsProcess::NetnsProcess(const std::string& netns, std::vector<std::string> argv,
                           const std::string& log)
    : log_(log) {
  const std::string netns_path = "/var/run/netns/" + netns;
  pid_ = ::fork();
  if (pid_ == 0) {
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
}

NetnsProcess::~NetnsProcess() {
  stop();
}

bool NetnsProcess::running() {
  if (pid_ <= 0) return false;
  if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

bool NetnsProcess::stop(int timeout_ms) {
  if (pid_ <= 0) return true;
  ::kill(pid_, SIGTERM);
  for (int waited = 0; waited < timeout_ms; waited += 50) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      return true;
    }
    ::usleep(50000);
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
  return false;
}

}  // namespace netacct::test
