// SPDX-License-Identifier: GPL-2.0-only
// Keeps XDP programs resident in the kernel's XDP dispatcher.
//
// Why: BPF_PROG_TEST_RUN of an XDP program with repeat > 1 adds the program
// to the XDP dispatcher and removes it afterwards, and each change waits for
// an RCU grace period: about 22 ms per call here, so 65,536 calls would take
// 25 minutes. A program attached in native mode stays in the dispatcher, and
// the test run's add/remove then only counts references. Attached programs
// also run through the dispatcher's direct call, as in production.
//
// How, without touching the host: the bench first moves itself into a new,
// empty network namespace (it dies with the process), and attaches each
// program to one end of a veth pair created there. No packet is sent.
#pragma once

#include <string>
#include <vector>

#include "daemon/common/unique_fd.hpp"

namespace netacct::bench {

class XdpResident {
 public:
  // Moves the process into a private network namespace. Call before any
  // thread is started. False (with `why`) if the kernel refuses.
  static bool enter_private_netns(std::string& why);

  // Attaches `prog_fd` in native mode to a fresh veth end; the attachment
  // lasts as long as this object. Throws on failure.
  void keep(int prog_fd);

 private:
  std::vector<UniqueFd> links_;
  std::vector<std::string> free_ends_;  // veth ends with no program yet
  int pairs_ = 0;
};

}  // namespace netacct::bench
