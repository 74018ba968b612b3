// SPDX-License-Identifier: GPL-2.0-only
// Kernel memory of a flow buffer: the shared-value hash map we use, against
// a per-CPU-value hash map of the same capacity.
#pragma once

#include <cstdint>

namespace netacct::bench {

struct MemoryFigures {
  uint32_t entries = 0;      // max_entries of one buffer (flows + buckets)
  uint64_t shared = 0;       // memlock of one shared-value buffer (measured)
  uint64_t percpu_here = 0;  // memlock of a per-CPU-value map created here (measured)
  int possible_cpus = 0;     // this machine's
  // Estimate for one per-CPU-value buffer at `cpus` possible CPUs.
  uint64_t percpu_estimate(int cpus) const;
};

// `shared_memlock` is that of a flow buffer with `entries` entries.
MemoryFigures measure_memory(uint64_t shared_memlock, uint32_t entries);

}  // namespace netacct::bench
