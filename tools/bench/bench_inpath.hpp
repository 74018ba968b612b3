// SPDX-License-Identifier: GPL-2.0-only
// In-path cost: netacct's TC egress program on a real veth carrying bulk TCP
// (TSO on, so the skbs are clones with only the headers in their head),
// against an empty TC program chained after it on the same device (a
// clsact filter behind our tcx link, or behind our clsact filter), so both
// see the very same packets. The kernel's own bpf_stats (run_time_ns /
// run_cnt while BPF_STATS_RUN_TIME is enabled) give ns per run.
#pragma once

#include <cstdint>

namespace netacct::bench {

struct InPathFigures {
  double empty_ns = 0;
  double ours_ns = 0;
  uint64_t runs = 0;       // skbs our program ran on (median round)
  uint64_t tcp_bytes = 0;  // payload sent per round
  double ratio() const { return empty_ns > 0 ? ours_ns / empty_ns : 0; }
};

// `rounds` TCP transfers of at most `bytes` each (and 20 s), in namespaces
// of its own; the median round. Throws std::runtime_error on setup failure.
InPathFigures measure_tcp_egress(int rounds, uint64_t bytes);

}  // namespace netacct::bench
