// SPDX-License-Identifier: GPL-2.0-only
// Internals shared by attach.cpp (XDP, the attach_all/detach_all/query
// front) and attach_tc.cpp (tc filters). Not part of the engine's API.
#pragma once

#include <bpf/libbpf.h>

#include <cstdint>
#include <string>

#include "../common/result.hpp"
#include "attach.hpp"
#include "libbpf_log.hpp"

namespace netacct::attach_detail {

// "network namespace 'blue'" or "the current network namespace".
std::string namespace_name(const Interface& iface);
// "interface 'veth0' in network namespace 'blue'": the context of every error.
std::string describe(const Interface& iface);
// The ifindex; must run inside the interface's namespace.
Result<int> index_in_scope(const Interface& iface);
Result<std::string> prog_name(uint32_t prog_id);

// The id of the tag's active_flows map: every program a tag loads uses it,
// so it tells this tag's programs from another tag's of the same name.
// From a loaded datapath, or from a pin directory (0 when there is none).
uint32_t owner_map_id(const Datapath& datapath);
uint32_t owner_map_id(const std::string& pin_path);

// What sits at our tc handle and priority.
struct TcSlot {
  uint32_t prog_id = 0;  // 0: no filter there
  std::string name;
  bool netacct = false;  // runs netacct's program for this direction
  bool ours = false;     // ... and of this tag (when the owner is known)
};
// owner 0: any netacct program counts as ours. Must run inside the netns.
Result<TcSlot> query_tc_slot(int ifindex, const Interface& iface, TcDirection direction,
                             uint32_t owner);
// detach_tc for one owner (0: any netacct program).
Result<void> detach_tc_owned(const Interface& iface, TcDirection direction, uint32_t owner);

// QuietNetlink (libbpf_log.hpp) silences the kernel acks of expected failures.
using netacct::QuietNetlink;

}  // namespace netacct::attach_detail
