// SPDX-License-Identifier: GPL-2.0-only
// KernelCounterSource: the ledger's CounterSource over a tag's pinned maps:
// the meta map holds the harvest state, the Harvester swaps and drains.
#pragma once

#include <string>

#include "engine/harvester.hpp"
#include "ledger/counter_source.hpp"

namespace netacct {

// Text form of a pinned map instance, e.g. "3f2a...c1/1732540800123456789".
std::string pin_instance_id(const netacct_meta& meta);
std::string boot_id_text(const uint8_t boot_id[16]);

class KernelCounterSource final : public CounterSource {
 public:
  explicit KernelCounterSource(Harvester& harvester) : harvester_(harvester) {}

  Result<SourceState> state() override;
  Result<void> set_state(uint64_t generation, uint32_t phase) override;
  Result<void> swap(uint64_t* elapsed_ns) override;
  Result<Delta> read_idle(const BatchHook& after_batch) override;
  Result<void> clear_idle(Delta& read, const BatchHook& after_batch) override;

 private:
  Harvester& harvester_;
};

}  // namespace netacct
