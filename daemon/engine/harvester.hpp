// SPDX-License-Identifier: GPL-2.0-only
// Harvester: swaps the double-buffered flow maps and drains the idle one.
//
// A harvest is swap -> read_idle -> clear_idle. The swap replaces the one
// slot of active_flows; the kernel returns from that update only after an
// RCU grace period, i.e. once no program can still be adding to the buffer
// that just went idle. Reading and clearing the idle buffer therefore race
// with nothing, and no update is lost or counted twice.
//
// The prefix buffers (flows that did not fit, by remote prefix) are a
// second pair swapped the same way right after the flow buffers: their slot
// update waits for the programs too, so once swap() returns neither idle
// buffer is written any more. read_idle() reads both idle buffers into one
// Delta (prefix rows are the keys with a prefix length in key.pad) and
// clear_idle() deletes each row from the buffer it came from. A crash
// between the two slot updates leaves the prefix slot one swap behind; the
// first use of a Harvester puts it back beside the flow slot before anything
// is read, so the prefix buffer whose twin went idle goes idle too.
//
// The steps are separate so the daemon can make a harvest exactly-once
// across crashes: it records the harvest in the pinned meta map, commits the
// delta to its file, and only then clears the buffer (see docs/DESIGN.md).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <vector>

#include "../common/delta.hpp"
#include "../common/flow.hpp"
#include "../common/result.hpp"
#include "datapath.hpp"

namespace netacct {

class Harvester {
 public:
  explicit Harvester(Datapath& datapath, uint32_t batch_size = 8192);

  // Which buffer programs write to now: 0 (flows_a) or 1 (flows_b).
  Result<int> active_index();
  // Makes the idle buffer active. The old active buffer must be empty-able:
  // call only after the previous idle buffer was cleared.
  Result<void> swap(uint64_t* elapsed_ns = nullptr);
  // Reads every entry of the idle buffer with batch lookups. No side effects.
  Result<Delta> read_idle();
  // Empties the idle buffers: deletes the rows the last read_idle found and
  // zeroes the buckets, or, when the flow buffer held at least 1/kRenewFraction of its
  // capacity, replaces it with a new one (Datapath::renew_flow_buffer).
  Result<void> clear_idle(Delta& read);
  // swap + read_idle + clear_idle.
  Result<Delta> harvest();

  // Called after each batch of read_idle and clear_idle (the ledger's
  // mid-read and mid-clear failpoints); empty by default.
  void set_batch_hook(std::function<void()> hook) { batch_hook_ = std::move(hook); }

  // The harvest state kept in the pinned meta map.
  Result<netacct_meta> meta();
  Result<void> set_state(uint64_t generation, uint32_t phase);

 private:
  // A new 1,000,005-entry buffer costs about what deleting 100,000 keys
  // does (45 ms); deleting scales with the keys, creating with capacity.
  static constexpr uint32_t kRenewFraction = 8;
  bool renew_pays_off(size_t keys) const;

  int idle_fd();
  int idle_prefix_fd();
  // Makes the prefix slot name the twin of the active flow buffer.
  Result<void> align_prefix_slot();
  Result<void> set_prefix_slot(int index);
  // Adds a buffer's rows to `out` (flow keys stripped of their whitelist
  // generation, whitelisted rows into their bucket) and its row keys, as
  // the kernel keys them, to `drained`.
  Result<void> read_buffer(int fd, Delta& out, std::vector<netacct_flow_key>& drained);
  static void merge_duplicate_flows(Delta& delta);
  Result<void> delete_keys(int fd, const std::vector<netacct_flow_key>& keys);

  Datapath& datapath_;
  uint32_t batch_size_;
  int active_index_ = -1;  // cached after the first query
  int prefix_index_ = -1;  // the prefix slot's buffer, likewise
  std::vector<netacct_flow_key> keys_;
  std::vector<netacct_counters> values_;
  // The rows the last read_idle found, for clear_idle to delete.
  std::vector<netacct_flow_key> drained_flow_keys_;
  std::vector<netacct_flow_key> drained_prefix_keys_;
  std::function<void()> batch_hook_;
};

}  // namespace netacct
