// SPDX-License-Identifier: GPL-2.0-only
#include "bench_percpu.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "bench_packets.hpp"
#include "bench_resident.hpp"
#include "bpf/netacct_shared.h"
#include "netacct_percpu.skel.h"

namespace netacct::bench {
namespace {

struct SkelDeleter {
  void operator()(netacct_percpu_bpf* skel) const { netacct_percpu_bpf::destroy(skel); }
};
using Skel = std::unique_ptr<netacct_percpu_bpf, SkelDeleter>;

// Loads the per-CPU build with 65,536 flows per buffer and nothing pinned
// (its maps must never meet the daemon's pins). The slot of active_flows
// already points at flows_a (the object's initial value).
Skel load() {
  Skel skel(netacct_percpu_bpf::open());
  if (!skel)
    throw std::runtime_error("open per-CPU skeleton: " + std::string(std::strerror(errno)));
  for (bpf_map* map : {skel->maps.flows_a, skel->maps.flows_b}) {
    if (bpf_map__set_max_entries(map, kMixFlows + NETACCT_BUCKET_COUNT) != 0)
      throw std::runtime_error("set per-CPU flow capacity");
  }
  for (bpf_map* map :
       {skel->maps.flows_a, skel->maps.flows_b, skel->maps.active_flows, skel->maps.prefix_a,
        skel->maps.prefix_b, skel->maps.active_prefix, skel->maps.whitelist, skel->maps.meta})
    bpf_map__set_pin_path(map, nullptr);
  if (int err = netacct_percpu_bpf::load(skel.get()); err != 0)
    throw std::runtime_error("load per-CPU programs: " + std::string(std::strerror(-err)));
  return skel;
}

// A per-CPU map takes one value per possible CPU from user space.
std::vector<netacct_counters> percpu_zero() {
  return std::vector<netacct_counters>(static_cast<size_t>(libbpf_num_possible_cpus()));
}

void insert_buckets(int fd) {
  std::vector<netacct_counters> zero = percpu_zero();
  for (uint8_t bucket = NETACCT_BUCKET_FIRST; bucket <= NETACCT_BUCKET_LAST; bucket++) {
    netacct_flow_key key{};
    key.family = NETACCT_FAMILY_BUCKET;
    key.protocol = bucket;
    if (bpf_map_update_elem(fd, &key, zero.data(), BPF_NOEXIST) != 0)
      throw std::runtime_error("insert per-CPU bucket key");
  }
}

uint64_t overflow_packets(int fd) {
  netacct_flow_key key{};
  key.family = NETACCT_FAMILY_BUCKET;
  key.protocol = NETACCT_BUCKET_OVERFLOW_V4;
  std::vector<netacct_counters> values = percpu_zero();
  if (bpf_map_lookup_elem(fd, &key, values.data()) != 0)
    throw std::runtime_error("read per-CPU overflow bucket");
  uint64_t packets = 0;
  for (const netacct_counters& value : values) packets += value.rx_packets;
  return packets;
}

}  // namespace

PercpuFigures measure_percpu(const EmptyProgs& empty, XdpResident* resident, int rounds) {
  Skel skel = load();
  int flows = bpf_map__fd(skel->maps.flows_a);
  insert_buckets(flows);
  insert_buckets(bpf_map__fd(skel->maps.flows_b));
  int ours = bpf_program__fd(skel->progs.netacct_xdp_in);
  if (resident) resident->keep(ours);

  PercpuFigures out;
  out.flow_buffer_memlock = map_memlock(flows);
  std::vector<Frame> frames = mix_frames();
  for (const Frame& frame : frames) test_run_ns(ours, frame, 1);  // creates the flows
  if (overflow_packets(flows) != 0) throw std::runtime_error("per-CPU: 64k flows did not fit");

  const uint32_t repeat = resident ? kMixRepeat : 1;
  std::vector<double> empty1, ours1, empty64, ours64, empty_r1, ours_r1;
  for (int round = 0; round < rounds; round++) {
    empty1.push_back(test_run_ns(empty.xdp_fd(), frames.front(), kSingleRepeat));
    ours1.push_back(test_run_ns(ours, frames.front(), kSingleRepeat));
    empty64.push_back(mix_ns(empty.xdp_fd(), frames, repeat));
    ours64.push_back(mix_ns(ours, frames, repeat));
    empty_r1.push_back(mix_ns(empty.xdp_fd(), frames, 1));
    ours_r1.push_back(mix_ns(ours, frames, 1));
  }
  if (overflow_packets(flows) != 0) throw std::runtime_error("per-CPU: hit the overflow bucket");
  out.empty_xdp = median(empty1);
  out.xdp_1flow = median(ours1);
  out.empty_xdp_64k = median(empty64);
  out.xdp_64k = median(ours64);
  out.empty_xdp_64k_r1 = median(empty_r1);
  out.xdp_64k_r1 = median(ours_r1);
  return out;
}

}  // namespace netacct::bench
