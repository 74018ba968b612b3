// SPDX-License-Identifier: GPL-2.0-only
// Delta: what one harvest drained from the kernel, the unit the engine hands
// to the ledger. Pure data, shared by the engine (which fills it) and the
// ledger, exporters and observers (which read it).
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "flow.hpp"

namespace netacct {

struct FlowDelta {
  netacct_flow_key key;
  netacct_counters counters;
};

using BucketCounters = std::array<netacct_counters, NETACCT_BUCKET_LAST + 1>;

struct Delta {
  std::vector<FlowDelta> flows;  // buckets excluded
  // Indexed by NETACCT_BUCKET_*; index 0 unused.
  BucketCounters buckets{};
  uint64_t swap_ns = 0;   // time spent in the swap (mostly the RCU wait)
  uint64_t read_ns = 0;   // batch lookups
  uint64_t clear_ns = 0;  // batch deletes

  netacct_counters flow_total() const {
    netacct_counters total{};
    for (const FlowDelta& flow : flows) total += flow.counters;
    return total;
  }
  netacct_counters bucket_total() const {
    netacct_counters total{};
    for (const netacct_counters& bucket : buckets) total += bucket;
    return total;
  }
  bool empty() const {
    netacct_counters zero{};
    return flows.empty() && bucket_total() == zero;
  }
  // Appends another delta (a recovered harvest reported with the next one).
  void merge(const Delta& other) {
    flows.insert(flows.end(), other.flows.begin(), other.flows.end());
    for (size_t i = 0; i < buckets.size(); i++) buckets[i] += other.buckets[i];
  }
};

}  // namespace netacct
