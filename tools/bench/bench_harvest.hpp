// SPDX-License-Identifier: GPL-2.0-only
// Harvest rate: a full Harvester::harvest() (swap + batch read + batch clear)
// of an active buffer filled from user space.
#pragma once

#include <cstdint>

namespace netacct::bench {

struct HarvestFigures {
  uint32_t flows = 0;
  double total_s = 0;                          // median of the rounds
  double swap_s = 0, read_s = 0, clear_s = 0;  // medians of each step
  double per_s() const { return total_s > 0 ? flows / total_s : 0; }
};

struct HarvestResults {
  HarvestFigures small;  // 65,536 flows
  HarvestFigures large;  // 1,000,000 flows
  uint64_t flow_buffer_memlock_1m = 0;
};

constexpr uint32_t kHarvestCapacity = 1000000;

HarvestResults measure_harvest(int rounds);

}  // namespace netacct::bench
