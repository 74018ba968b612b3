// SPDX-License-Identifier: GPL-2.0-only
// Runs build/bin/netacctd as a child process for integration tests, and
// reads its JSON output back into exact numbers.
#pragma once

#include <sys/types.h>

#include <boost/json.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "bpf/netacct_shared.h"

namespace netacct::test {

// $BUILD, or "build".
std::string build_dir();
std::string netacctd_path();
// A fresh directory /tmp/<prefix>-XXXXXX for one test's files.
std::string make_temp_dir(const std::string& prefix = "netacct-it");
// A whole text file ("" if it cannot be read).
std::string read_text(const std::string& path);  // $BUILD/bin/netacctd (BUILD defaults to "build")

struct RunResult {
  int exit_code = -1;  // -1: still running / killed by signal
  std::string output;  // stdout + stderr
};

class DaemonProcess {
 public:
  DaemonProcess() = default;
  ~DaemonProcess();  // SIGKILLs a daemon still running (tests must not leak)
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  // Starts netacctd with args; output goes to log_path. With `netns`, the
  // daemon runs inside that network namespace (like `ip netns exec`, but
  // only the network namespace changes: /sys, and so the host's bpffs with
  // the test's pins, stay as they are).
  void start(const std::vector<std::string>& args, const std::string& log_path,
             const std::string& netns = "");
  // Runs this binary instead of $BUILD/bin/netacctd (a sanitizer build).
  void set_binary(const std::string& path) { binary_ = path; }
  // An environment variable for the next start (e.g. NETACCT_FAILPOINT).
  void set_env(const std::string& name, const std::string& value);
  void signal(int signum);
  // Waits up to timeout_ms; returns the exit code (or -1 on timeout / signal).
  int wait(int timeout_ms);
  bool running();
  pid_t pid() const { return pid_; }
  // The signal that ended the last reaped daemon (0: it exited).
  int exit_signal() const { return exit_signal_; }

 private:
  void reaped(int status);
  pid_t pid_ = -1;
  int exit_signal_ = 0;
  std::string binary_;
  std::vector<std::pair<std::string, std::string>> env_;
};

// Runs netacctd to completion (for bad-input tests): exit code and output.
RunResult run_netacctd(const std::vector<std::string>& args, int timeout_ms = 10000);

// Reads OUTPUT and returns the source entry with id == tag (null if none).
boost::json::value read_source(const std::string& output_path, const std::string& tag);
// Counters of the flow (local, remote, protocol name) in a source entry;
// all zero when the flow is absent.
netacct_counters flow_counters(const boost::json::value& source, const std::string& local,
                               const std::string& remote, const std::string& protocol);
uint64_t source_generation(const boost::json::value& source);

// Polls until pred() or timeout; returns pred()'s last value.
template <typename Pred>
bool wait_until(Pred pred, int timeout_ms);

}  // namespace netacct::test

#include <chrono>
#include <thread>

template <typename Pred>
bool netacct::test::wait_until(Pred pred, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return pred();
}
