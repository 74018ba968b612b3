// SPDX-License-Identifier: GPL-2.0-only
// Internals shared by attach.cpp (XDP, the attach_all/detach_all/query
// front) and attach_tc.cpp (tc filters). Not part of the engine's API.
#pragma once

#include <bpf/libbpf.h>

#include <cstdint>
#include <string>
#include <vector>

#include "../common/result.hpp"
#include "../common/unique_fd.hpp"
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

// The ids of the maps a program uses.
Result<std::vector<uint32_t>> prog_map_ids(uint32_t prog_id);

// Which netacct tag under `pin_base` loaded program `prog_id` (its pinned
// active_flows map is among the program's maps), as "tag 'x' (netacctd pid
// N)" or "tag 'x' (no netacctd runs; its programs keep counting)"; a plain
// "another netacct tag" when no pin directory under pin_base matches.
std::string describe_prog_owner(uint32_t prog_id, const std::string& pin_base);
// The pin base of a tag's pin path (its parent directory).
std::string pin_base_of(const std::string& pin_path);

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

// ---- tcx (attach_tcx.cpp) ----
// Program names as the kernel stores them (BPF_OBJ_NAME_LEN = 16 fits them).
const char* our_prog_name(TcDirection direction);
std::string tcx_link_path(const std::string& pin_path, TcDirection direction);
// A pinned tcx link of the tag (pinned false: none).
struct TcxLink {
  bool pinned = false;
  UniqueFd fd;
  uint32_t prog_id = 0;
  uint32_t ifindex = 0;  // 0: its interface is gone
};
Result<TcxLink> open_tcx_link(const std::string& pin_path, TcDirection direction);
// The programs on the interface's tcx chain, head first; empty when the
// kernel has no tcx. Must run inside the interface's namespace.
Result<std::vector<uint32_t>> tcx_chain(int ifindex, const Interface& iface, TcDirection direction);
// The link sits on `ifindex` of the current namespace (its program is in
// that interface's chain).
Result<bool> tcx_link_live(const TcxLink& link, int ifindex, const Interface& iface,
                           TcDirection direction);
// EBUSY naming the tag when another tag's netacct program is in the tcx
// chain (empty without tcx). Must run inside the namespace.
Result<void> refuse_other_tag(const Datapath& datapath, const Interface& iface, int ifindex,
                              TcDirection direction);
// Attaches (or updates in place) the tag's tcx link; false when the kernel
// has no tcx (nothing was changed). Must run inside the namespace.
Result<bool> attach_tcx(const Datapath& datapath, const Interface& iface, int ifindex,
                        TcDirection direction);
// Detaches and unpins the tag's tcx link wherever it is (netacct-cleanup).
Result<void> drop_tcx_link(const std::string& pin_path, const Interface& iface,
                           TcDirection direction);

// QuietNetlink (libbpf_log.hpp) silences the kernel acks of expected failures.
using netacct::QuietNetlink;

}  // namespace netacct::attach_detail
