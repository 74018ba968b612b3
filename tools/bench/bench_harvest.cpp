// SPDX-License-Identifier: GPL-2.0-only
#include "bench_harvest.hpp"

#include <bpf/bpf.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "bench_common.hpp"
#include "daemon/engine/datapath.hpp"
#include "daemon/engine/harvester.hpp"

namespace netacct::bench {
namespace {

// Distinct IPv4 UDP flow keys: local 192.0.2.1, remote = the index.
std::vector<netacct_flow_key> make_keys(uint32_t count) {
  std::vector<netacct_flow_key> keys(count);
  const uint8_t local[4] = {192, 0, 2, 1};
  for (uint32_t i = 0; i < count; i++) {
    netacct_flow_key& key = keys[i];
    key.family = NETACCT_FAMILY_IPV4;
    key.protocol = 17;
    std::memcpy(key.local, local, 4);
    uint32_t remote = 0x0a000000u + i;  // 10.0.0.0 + i, network order below
    key.remote[0] = static_cast<uint8_t>(remote >> 24);
    key.remote[1] = static_cast<uint8_t>(remote >> 16);
    key.remote[2] = static_cast<uint8_t>(remote >> 8);
    key.remote[3] = static_cast<uint8_t>(remote);
  }
  return keys;
}

// Fills the active buffer with the first `count` keys, as the programs would
// have after `count` flows, in batches of 64k (one syscall each).
void fill_active(Datapath& datapath, Harvester& harvester,
                 const std::vector<netacct_flow_key>& keys, uint32_t count) {
  auto active = harvester.active_index();
  if (!active) throw std::runtime_error(active.error().message());
  int fd = datapath.flows_fd(active.value());
  std::vector<netacct_counters> values(65536, netacct_counters{1500, 1, 0, 0});
  LIBBPF_OPTS(bpf_map_batch_opts, opts);
  for (uint32_t done = 0; done < count;) {
    uint32_t batch = std::min<uint32_t>(65536, count - done);
    uint32_t n = batch;
    if (bpf_map_update_batch(fd, &keys[done], values.data(), &n, &opts) != 0)
      throw std::runtime_error("fill flow buffer: " + std::string(std::strerror(errno)));
    done += batch;
  }
}

double seconds(uint64_t ns) {
  return static_cast<double>(ns) / 1e9;
}

HarvestFigures harvest_rounds(Datapath& datapath, Harvester& harvester,
                              const std::vector<netacct_flow_key>& keys, uint32_t count,
                              int rounds) {
  std::vector<double> total, swap, read, clear;
  for (int round = 0; round < rounds; round++) {
    fill_active(datapath, harvester, keys, count);
    auto start = std::chrono::steady_clock::now();
    auto delta = harvester.harvest();
    std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    if (!delta) throw std::runtime_error(delta.error().message());
    if (delta->flows.size() != count) throw std::runtime_error("harvest missed flows");
    total.push_back(elapsed.count());
    swap.push_back(seconds(delta->swap_ns));
    read.push_back(seconds(delta->read_ns));
    clear.push_back(seconds(delta->clear_ns));
  }
  return HarvestFigures{count, median(total), median(swap), median(read), median(clear)};
}

}  // namespace

HarvestResults measure_harvest(int rounds) {
  DatapathOptions options;
  options.tag = "bench";
  options.pin = false;
  options.flow_capacity = kHarvestCapacity;
  auto opened = Datapath::open(options);
  if (!opened) throw std::runtime_error(opened.error().message());
  Datapath& datapath = *opened.value();
  Harvester harvester(datapath);

  std::vector<netacct_flow_key> keys = make_keys(kHarvestCapacity);
  HarvestResults out;
  out.flow_buffer_memlock_1m = map_memlock(datapath.flows_fd(0));
  out.small = harvest_rounds(datapath, harvester, keys, 65536, rounds);
  // Filling 1M flows costs about as much as harvesting them: fewer rounds.
  out.large = harvest_rounds(datapath, harvester, keys, kHarvestCapacity, std::max(3, rounds - 2));
  return out;
}

}  // namespace netacct::bench
