// SPDX-License-Identifier: GPL-2.0-only
// Datapath: the loaded kernel side of one tag. Opens the skeleton, sets the
// capacities, adopts the maps already pinned under the tag's pin directory
// (so counting continues across restarts and upgrades) or creates and
// initialises them, and pins the freshly loaded programs.
//
// Destroying a Datapath releases this process's handles only: pinned maps,
// pinned programs and attachments stay. Removing them is explicit.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "../../bpf/netacct_shared.h"
#include "../../pin/pin_dir.hpp"
#include "../common/result.hpp"

struct netacct_bpf;

namespace netacct {

struct DatapathOptions {
  std::string tag;
  std::string pin_base = pin::kDefaultBase;
  // false: nothing is pinned or adopted (BPF tests, benchmarks).
  bool pin = true;
  uint32_t flow_capacity = NETACCT_DEFAULT_FLOWS;
  uint32_t whitelist_capacity = NETACCT_DEFAULT_WHITELIST;
  // Rows of each prefix buffer (flows that did not fit, by remote prefix),
  // and the prefix lengths of those rows: 1..32 and 1..128.
  uint32_t prefix_capacity = NETACCT_DEFAULT_PREFIX_ROWS;
  uint32_t prefix_len_v4 = NETACCT_DEFAULT_PREFIX_V4;
  uint32_t prefix_len_v6 = NETACCT_DEFAULT_PREFIX_V6;
  // NETACCT_LINK_*: how frames on the interface begin (see link_framing()
  // in attach.hpp). Fixed at load time, in the programs' read-only data.
  uint32_t link_framing = NETACCT_LINK_ETHERNET;
};

class Datapath {
 public:
  static Result<std::unique_ptr<Datapath>> open(const DatapathOptions& options);
  ~Datapath();
  Datapath(const Datapath&) = delete;
  Datapath& operator=(const Datapath&) = delete;

  // True if the maps existed and were adopted (their counts continue).
  bool adopted() const { return adopted_; }
  uint32_t flow_capacity() const { return flow_capacity_; }
  uint32_t whitelist_capacity() const { return whitelist_capacity_; }
  uint32_t prefix_capacity() const { return prefix_capacity_; }
  const std::string& tag() const { return tag_; }
  uint32_t link_framing() const { return link_framing_; }
  // Empty when not pinned.
  const std::string& pin_path() const { return pin_path_; }

  int xdp_ingress_fd() const;
  int tc_ingress_fd() const;
  int tc_egress_fd() const;
  int flows_fd(int index) const;  // 0 = flows_a, 1 = flows_b
  int active_slot_fd() const;
  int prefix_fd(int index) const;  // 0 = prefix_a, 1 = prefix_b
  int prefix_slot_fd() const;
  int whitelist_fd() const;
  int meta_fd() const;
  // The programs' runtime switches, in the skeleton's mmaped .bss.
  netacct_runtime& runtime();
  // Moves the programs to a new whitelist generation: packets from now on
  // ask the trie again instead of using a row's remembered answer. Call
  // after every change to the whitelist trie.
  void next_key_generation();

  // Replaces flow buffer `index` with a new, empty one (bucket keys in)
  // under the same pin, so a drained buffer holding many flows need not be
  // emptied key by key. Only for the idle buffer: no program writes it. The
  // new map is pinned under a temporary name and renamed over the old pin,
  // so the pin always names one whole buffer, the old or the new.
  Result<void> renew_flow_buffer(int index);

 private:
  struct SkelDeleter {
    void operator()(netacct_bpf* skel) const;
  };
  Datapath() = default;

  std::unique_ptr<netacct_bpf, SkelDeleter> skel_;
  std::string tag_;
  std::string pin_path_;
  bool adopted_ = false;
  uint32_t key_generation_ = 0;
  uint32_t flow_capacity_ = 0;
  uint32_t whitelist_capacity_ = 0;
  uint32_t prefix_capacity_ = 0;
  uint32_t link_framing_ = NETACCT_LINK_ETHERNET;
};

// Reads the layout record of an existing pin directory (no load needed).
Result<netacct_meta> read_pinned_meta(const std::string& pin_path);

// Inserts the zeroed bucket keys a flow buffer must always hold.
Result<void> insert_bucket_keys(int flows_fd);

}  // namespace netacct
