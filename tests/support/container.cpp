// SPDX-License-Identifier: GPL-2.0-only
#include "container.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "daemon_process.hpp"
#include "topology.hpp"

namespace netacct::test {

namespace {

std::string quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

// The container's PID 1: nspawn's child running systemd (nspawn first
// forks a short-lived helper, which must not be mistaken for it).
pid_t child_of(pid_t parent) {
  std::string out;
  if (run("pgrep -x systemd -P " + std::to_string(parent), &out) != 0) return -1;
  return static_cast<pid_t>(std::atoi(out.c_str()));
}

bool reap(pid_t pid, int timeout_ms) {
  for (int waited = 0; waited <= timeout_ms; waited += 50) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid || r < 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

}  // namespace

std::unique_ptr<Container> Container::boot(std::string* why) {
  if (::geteuid() != 0) {
    *why = "not root";
    return nullptr;
  }
  if (run("command -v systemd-nspawn && command -v nsenter") != 0) {
    *why = "systemd-nspawn is missing (Debian package 'systemd-container'; 'make deps')";
    return nullptr;
  }
  if (::access("/usr/lib/systemd/systemd", X_OK) != 0) {
    *why = "no /usr/lib/systemd/systemd to boot (Debian package 'systemd')";
    return nullptr;
  }
  if (::access("/run/netns", F_OK) != 0) ::mkdir("/run/netns", 0755);
  std::unique_ptr<Container> box(new Container());
  box->dir_ = make_temp_dir("netacct-nspawn");
  const std::string name = "netacct-it-" + std::to_string(::getpid());
  std::vector<std::string> args = {
      "systemd-nspawn", "--quiet", "--directory=/", "--volatile=yes", "--machine=" + name,
      "--register=no", "--keep-unit", "--private-network", "--capability=CAP_BPF,CAP_PERFMON",
      "--system-call-filter=bpf", "--overlay=/etc::/etc", "--overlay=/usr::/usr",
      "--overlay=/var::/var", "--bind=/sys/fs/bpf", "--bind=/run/netns", "--console=pipe", "--boot",
      // Services enabled on the host with no business here.
      "systemd.mask=postgresql.service", "systemd.mask=prometheus.service",
      "systemd.mask=nfdump.service", "systemd.mask=e2scrub_reap.service"};
  const std::string console = box->dir_ + "/console.log";
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    *why = "fork failed";
    return nullptr;
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);
    int in = ::open("/dev/null", O_RDONLY);
    int out = ::open(console.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(out, 2);
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  box->nspawn_ = pid;
  // PID 1 of the container, then systemd's own view of the boot.
  bool found = wait_until(
      [&] {
        box->leader_ = child_of(pid);
        return box->leader_ > 0;
      },
      10000);
  std::string state;
  // Until systemd's bus is up, systemctl answers "offline".
  if (found)
    wait_until(
        [&] {
          state.clear();
          box->exec("timeout 10 systemctl is-system-running --wait", &state);
          while (!state.empty() && (state.back() == '\n' || state.back() == ' ')) state.pop_back();
          return state == "running" || state == "degraded";
        },
        60000);
  if (!found || (state != "running" && state != "degraded"))
    // A failure, not a skip; the destructor stops what started.
    throw std::runtime_error("systemd-nspawn did not boot (state '" + state +
                             "'): " + box->console());
  return box;
}

Container::~Container() {
  if (nspawn_ > 0) {
    ::kill(nspawn_, SIGTERM);  // nspawn: power the container off
    if (!reap(nspawn_, 30000)) {
      ::kill(nspawn_, SIGKILL);
      reap(nspawn_, 5000);
    }
  }
  if (!dir_.empty()) run("rm -rf " + quote(dir_));
}

std::string Container::root() const {
  return "/proc/" + std::to_string(leader_) + "/root";
}

int Container::exec(const std::string& command, std::string* output) const {
  return run("nsenter -t " + std::to_string(leader_) + " -a sh -c " + quote(command), output);
}

std::string Container::exec_ok(const std::string& command) const {
  std::string out;
  if (exec(command, &out) != 0)
    throw std::runtime_error("in the container: " + command + " failed:\n" + out);
  return out;
}

std::string Container::console() const {
  std::ifstream in(dir_ + "/console.log");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace netacct::test
