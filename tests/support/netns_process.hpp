// SPDX-License-Identifier: GPL-2.0-only
// NetnsProcess: a helper program (Prometheus, nfcapd, nfacctd) run inside a
// test's network namespace, its stdout and stderr appended to a log file,
// and always ended: stop() (SIGTERM, then SIGKILL after a bound) runs from
// the destructor too, so a failing test leaves no collector behind.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace netacct::test {

class NetnsProcess {
 public:
  // argv[0] is the program's path. The child setns()es into `netns`
  // (a name under /var/run/netns) before exec.
  NetnsProcess(const std::string& netns, std::vector<std::string> argv, const std::string& log);
  ~NetnsProcess();
  NetnsProcess(const NetnsProcess&) = delete;
  NetnsProcess& operator=(const NetnsProcess&) = delete;

  // SIGTERM, wait up to timeout_ms, then SIGKILL; true if it exited on
  // SIGTERM within the bound. Safe to call twice.
  bool stop(int timeout_ms = 5000);
  bool running();
  pid_t pid() const { return pid_; }
  const std::string& log() const { return log_; }

 private:
  std::string log_;
  pid_t pid_ = -1;
};

}  // namespace netacct::test
