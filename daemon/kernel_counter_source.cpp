// SPDX-License-Identifier: GPL-2.0-only
#include "kernel_counter_source.hpp"

namespace netacct {

std::string boot_id_text(const uint8_t boot_id[16]) {
  static const char* digits = "0123456789abcdef";
  std::string text;
  for (int i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10) text += '-';
    text += digits[boot_id[i] >> 4];
    text += digits[boot_id[i] & 15];
  }
  return text;
}

std::string pin_instance_id(const netacct_meta& meta) {
  return boot_id_text(meta.boot_id) + "/" + std::to_string(meta.created_ns);
}

Result<SourceState> KernelCounterSource::state() {
  auto meta = harvester_.meta();
  if (!meta) return meta.error();
  return SourceState{pin_instance_id(meta.value()), boot_id_text(meta->boot_id), meta->generation,
                     meta->phase};
}

Result<void> KernelCounterSource::set_state(uint64_t generation, uint32_t phase) {
  return harvester_.set_state(generation, phase);
}

Result<void> KernelCounterSource::swap(uint64_t* elapsed_ns) {
  return harvester_.swap(elapsed_ns);
}

Result<Delta> KernelCounterSource::read_idle(const BatchHook& after_batch) {
  harvester_.set_batch_hook(after_batch);
  auto delta = harvester_.read_idle();
  harvester_.set_batch_hook({});
  return delta;
}

Result<void> KernelCounterSource::clear_idle(Delta& read, const BatchHook& after_batch) {
  harvester_.set_batch_hook(after_batch);
  auto cleared = harvester_.clear_idle(read);
  harvester_.set_batch_hook({});
  return cleared;
}

}  // namespace netacct
