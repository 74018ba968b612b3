// SPDX-License-Identifier: GPL-2.0-only
#include "daemon_process.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace netacct::test {

namespace json = boost::json;

std::string build_dir() {
  const char* build = std::getenv("BUILD");
  return build && *build ? build : "build";
}

std::string netacctd_path() {
  return build_dir() + "/bin/netacctd";
}

std::string make_temp_dir(const std::string& prefix) {
  std::string pattern = "/tmp/" + prefix + "-XXXXXX";
  if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp " + pattern);
  return pattern;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

DaemonProcess::~DaemonProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

void DaemonProcess::start(const std::vector<std::string>& args, const std::string& log_path,
                          const std::string& netns) {
  std::string binary = binary_.empty() ? netacctd_path() : binary_;
  std::string netns_path = netns.empty() ? "" : "/var/run/netns/" + netns;
  pid_ = ::fork();
  if (pid_ == 0) {
    if (!netns_path.empty()) {
      int ns = ::open(netns_path.c_str(), O_RDONLY | O_CLOEXEC);
      if (ns < 0 || ::setns(ns, CLONE_NEWNET) != 0) ::_exit(126);
    }
    int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    // A failpoint abort() must not leave core files behind.
    rlimit no_core{0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);
    for (const auto& [name, value] : env_) ::setenv(name.c_str(), value.c_str(), 1);
    std::vector<char*> argv;
    argv.push_back(binary.data());
    std::vector<std::string> copy = args;
    for (std::string& arg : copy) argv.push_back(arg.data());
    argv.push_back(nullptr);
    ::execv(binary.c_str(), argv.data());
    ::_exit(127);
  }
}

void DaemonProcess::set_env(const std::string& name, const std::string& value) {
  env_.emplace_back(name, value);
}

void DaemonProcess::reaped(int status) {
  pid_ = -1;
  exit_signal_ = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

void DaemonProcess::signal(int signum) {
  if (pid_ > 0) ::kill(pid_, signum);
}

int DaemonProcess::wait(int timeout_ms) {
  if (pid_ <= 0) return -1;
  for (int waited = 0; waited <= timeout_ms; waited += 10) {
    int status = 0;
    pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      reaped(status);
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    ::usleep(10000);
  }
  return -1;
}

bool DaemonProcess::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    reaped(status);
    return false;
  }
  return true;
}

RunResult run_netacctd(const std::vector<std::string>& args, int timeout_ms) {
  char log_path[] = "/tmp/netacct-run-XXXXXX";
  int fd = ::mkstemp(log_path);
  ::close(fd);
  RunResult result;
  {
    DaemonProcess process;
    process.start(args, log_path);
    result.exit_code = process.wait(timeout_ms);
  }
  std::ifstream in(log_path);
  std::stringstream text;
  text << in.rdbuf();
  result.output = text.str();
  ::unlink(log_path);
  return result;
}

json::value read_source(const std::string& output_path, const std::string& tag) {
  std::ifstream in(output_path);
  if (!in) return nullptr;
  std::stringstream text;
  text << in.rdbuf();
  boost::system::error_code ec;
  json::value file = json::parse(text.str(), ec);
  if (ec || !file.is_object()) return nullptr;
  const json::value* sources = file.as_object().if_contains("sources");
  if (!sources || !sources->is_array()) return nullptr;
  for (const json::value& source : sources->as_array()) {
    const json::value* id = source.as_object().if_contains("id");
    if (id && id->is_string() && id->as_string() == tag) return source;
  }
  return nullptr;
}

netacct_counters flow_counters(const json::value& source, const std::string& local,
                               const std::string& remote, const std::string& protocol) {
  netacct_counters counters{};
  if (!source.is_object()) return counters;
  const json::value* traffic = source.as_object().if_contains("traffic_data");
  if (!traffic || !traffic->is_array()) return counters;
  for (const json::value& row : traffic->as_array()) {
    const json::object& r = row.as_object();
    if (r.at("source_ip") == local.c_str() && r.at("destination_ip") == remote.c_str() &&
        r.at("protocol") == protocol.c_str()) {
      counters.rx_bytes = r.at("rx_bytes").to_number<uint64_t>();
      counters.rx_packets = r.at("rx_packets").to_number<uint64_t>();
      counters.tx_bytes = r.at("tx_bytes").to_number<uint64_t>();
      counters.tx_packets = r.at("tx_packets").to_number<uint64_t>();
    }
  }
  return counters;
}

uint64_t source_generation(const json::value& source) {
  if (!source.is_object()) return 0;
  return source.as_object().at("metadata").as_object().at("generation").to_number<uint64_t>();
}

}  // namespace netacct::test
