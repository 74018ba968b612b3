// SPDX-License-Identifier: GPL-2.0-only
#include "bench_memory.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cstring>
#include <stdexcept>
#include <string>

#include "bench_common.hpp"
#include "bpf/netacct_shared.h"
#include "daemon/common/unique_fd.hpp"

namespace netacct::bench {

// The kernel's htab_map_mem_usage(): a preallocated hash map is charged
// n_buckets * 16 + max_entries * elem_size (+ a few per-CPU words), where
// elem_size = 48 (htab_elem header) + round_up(key, 8) + what holds the value:
//   shared value:  round_up(value, 8) = 32 bytes inline;
//   per-CPU value: an 8-byte pointer inline, plus round_up(value, 8) = 32
//                  bytes on every possible CPU.
// So a per-CPU buffer costs, per entry, 32 * cpus - 24 bytes more than the
// shared one (the bucket array and header are the same):
//   percpu(cpus) = shared + entries * (32 * cpus - 24)
uint64_t MemoryFigures::percpu_estimate(int cpus) const {
  constexpr int64_t value = sizeof(netacct_counters);
  int64_t per_entry = value * cpus - value + 8;
  return static_cast<uint64_t>(static_cast<int64_t>(shared) + int64_t{entries} * per_entry);
}

MemoryFigures measure_memory(uint64_t shared_memlock, uint32_t entries) {
  MemoryFigures out;
  out.entries = entries;
  out.shared = shared_memlock;
  out.possible_cpus = libbpf_num_possible_cpus();
  // The same buffer as a per-CPU map, created only to read what the kernel
  // charges for it on this machine: a check of the formula above.
  UniqueFd percpu(bpf_map_create(BPF_MAP_TYPE_PERCPU_HASH, "bench_percpu", sizeof(netacct_flow_key),
                                 sizeof(netacct_counters), entries, nullptr));
  if (!percpu) throw std::runtime_error("create per-CPU map: " + std::string(std::strerror(errno)));
  out.percpu_here = map_memlock(percpu.get());
  return out;
}

}  // namespace netacct::bench
