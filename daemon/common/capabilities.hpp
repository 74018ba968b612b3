// SPDX-License-Identifier: GPL-2.0-only
// Dropping the capabilities the running daemon no longer needs once its
// programs are loaded and attached (SECURITY.md says what each one is for).
// Raw capget/capset and prctl: no libcap needed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "result.hpp"

namespace netacct {

struct CapabilityReport {
  uint64_t kept = 0;              // effective set afterwards, as a bit mask
  uint64_t dropped = 0;           // what was effective or permitted before and is gone now
  bool bounding_dropped = false;  // false when CAP_SETPCAP was missing (systemd)
};

// The capabilities the running daemon keeps (see SECURITY.md):
// CAP_NET_ADMIN (re-attach tc filters and the XDP link when an interface
// comes back) and CAP_SYS_ADMIN (setns() into a named namespace on
// re-attach; BPF_PROG_GET_FD_BY_ID, which the attachment checks on every
// harvest timer need to tell our filters from foreign ones; it also grants
// what CAP_BPF gives, so map updates and pinning keep working).
std::vector<int> runtime_capabilities();

// Keeps only `keep` in the effective and permitted sets, clears the
// inheritable and ambient sets, and removes everything else from the
// bounding set (so a child that execs, such as the quota command, cannot
// regain more). Applies to the calling thread and to threads created after
// it; call it before starting any other thread.
Result<CapabilityReport> drop_capabilities_except(const std::vector<int>& keep);

// "cap_net_admin,cap_sys_admin" for a mask.
std::string capability_names(uint64_t mask);

}  // namespace netacct
