// SPDX-License-Identifier: GPL-2.0-only
// NetnsProcess: a helper program (Prometheus, nfcapd, nfacctd) run inside a
// test's network namespace, its stdout and stderr appended to a log file,
// and always ended: stop() (its stop signal, then SIGKILL after a bound)
// runs from the destructor too, so a failing test leaves no collector
// behind. The child leads a process group of its own, so helpers that fork
// (nfacctd's plugins) are ended with it.
#pragma once

#include <sys/types.h>

#include <csignal>
#include <string>
#include <vector>

namespace netacct::test {

class NetnsProcess {
 public:
  // argv[0] is the program's path. The child setns()es into `netns`
  // (a name under /var/run/netns) before exec. stop_signal asks it to end
  // (nfacctd shuts down on SIGINT, not SIGTERM).
  NetnsProcess(const std::string& netns, std::vector<std::string> argv, const std::string& log,
               int stop_signal = SIGTERM);
  ~NetnsProcess();
  NetnsProcess(const NetnsProcess&) = delete;
  NetnsProcess& operator=(const NetnsProcess&) = delete;

  // The stop signal, wait up to timeout_ms, then SIGKILL; in both cases
  // what is left of its process group is killed before it is reaped. True
  // if it exited on the stop signal within the bound. Safe to call twice.
  bool stop(int timeout_ms = 5000);
  bool running();
  pid_t pid() const { return pid_; }
  const std::string& log() const { return log_; }

 private:
  std::string log_;
  int stop_signal_;
  pid_t pid_ = -1;
};

}  // namespace netacct::test
