// SPDX-License-Identifier: GPL-2.0-only
// ns/packet of our programs and of the empty ones on the same hook.
#pragma once

#include <cstdint>

#include "bench_common.hpp"

namespace netacct::bench {

struct PacketFigures {
  double empty_xdp = 0, empty_tc = 0;
  double xdp_1flow = 0, tc_in_1flow = 0, tc_eg_1flow = 0;
  double xdp_v6 = 0;
  double xdp_wl = 0;       // remote in a 10,000-prefix whitelist
  double xdp_wl_miss = 0;  // same trie loaded, remote not in it: a flow plus a trie miss
  // 65,536 distinct existing flows, each frame run `mix_repeat` times per call.
  double empty_xdp_64k = 0, xdp_64k = 0;
  uint32_t mix_repeat = 0;
  // The same with repeat 1: every packet of a flow follows other flows' packets,
  // so its hash bucket and element are likely out of L1 (closer to real traffic).
  double empty_xdp_64k_r1 = 0, xdp_64k_r1 = 0;
  // One flow, 65,536 calls of repeat 1: the same per-call overhead with warm
  // data, so 64k_r1 - 1flow_r1 is what the cache misses on 64k flows cost.
  double empty_xdp_1flow_r1 = 0, xdp_1flow_r1 = 0;
  uint64_t flow_buffer_memlock_64k = 0;  // one flow buffer at 65,536 flows
};

constexpr uint32_t kSingleRepeat = 500000;  // runs per call for one frame
constexpr uint32_t kMixRepeat = 64;         // runs per call for each of 65,536 frames
constexpr uint32_t kMixFlows = 65536;
constexpr uint32_t kWhitelistPrefixes = 10000;

class XdpResident;

// `resident` keeps the XDP programs in the dispatcher; without it (nullptr)
// the mix runs with repeat 1, the only repeat that does not wait for RCU.
PacketFigures measure_packets(const EmptyProgs& empty, XdpResident* resident, int rounds);

// 65,536 IPv4 UDP frames from distinct remotes to one local address.
std::vector<Frame> mix_frames();

}  // namespace netacct::bench
