// SPDX-License-Identifier: GPL-2.0-only
// The per-CPU-value alternative, measured: the same programs built with
// -DNETACCT_PERCPU_VALUES (flow buffers BPF_MAP_TYPE_PERCPU_HASH, plain adds
// instead of atomics), loaded straight from their skeleton, unpinned.
#pragma once

#include <cstdint>

#include "bench_common.hpp"

namespace netacct::bench {

class XdpResident;

struct PercpuFigures {
  double empty_xdp = 0, xdp_1flow = 0;    // same rounds, same frame
  double empty_xdp_64k = 0, xdp_64k = 0;  // 65,536 flows, mix_repeat per call
  double empty_xdp_64k_r1 = 0, xdp_64k_r1 = 0;
  uint64_t flow_buffer_memlock = 0;  // one per-CPU buffer at 65,536 flows, this machine
};

PercpuFigures measure_percpu(const EmptyProgs& empty, XdpResident* resident, int rounds);

}  // namespace netacct::bench
