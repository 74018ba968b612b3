// SPDX-License-Identifier: GPL-2.0-only
// CounterSource: where the ledger's counts come from. In netacctd it is the
// kernel's double-buffered flow maps (engine/kernel_counter_source.hpp); in
// unit tests a fake, so the exactly-once protocol runs without root.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "../common/delta.hpp"
#include "../common/result.hpp"

namespace netacct {

// The harvest state the source keeps beside its counters (the pinned meta
// map), and which incarnation of the counters it is.
struct SourceState {
  std::string instance;     // "<boot id>/<creation ns>": new after a reboot or cleanup
  std::string boot_id;      // the kernel boot the counters were created in
  uint64_t generation = 0;  // number of the last harvest begun
  uint32_t phase = 0;       // NETACCT_PHASE_IDLE or NETACCT_PHASE_DRAINING
};

// Called after each batch of a read or clear (the mid-read and mid-clear
// failpoints); may be empty.
using BatchHook = std::function<void()>;

class CounterSource {
 public:
  virtual ~CounterSource() = default;
  virtual Result<SourceState> state() = 0;
  virtual Result<void> set_state(uint64_t generation, uint32_t phase) = 0;
  // Makes the idle buffer active; when it returns, nothing writes the
  // buffer that became idle. `elapsed_ns` receives the time it took.
  virtual Result<void> swap(uint64_t* elapsed_ns) = 0;
  // Reads the idle buffer. No side effects.
  virtual Result<Delta> read_idle(const BatchHook& after_batch) = 0;
  // Empties the idle buffer of what `read` holds and zeroes its buckets;
  // repeating it (after a crash part-way) is harmless.
  virtual Result<void> clear_idle(Delta& read, const BatchHook& after_batch) = 0;
};

}  // namespace netacct
