// SPDX-License-Identifier: GPL-2.0-only
#include "ledger_fakes.hpp"

#include <unistd.h>

#include <algorithm>
#include <vector>

namespace netacct::test {

netacct_flow_key flow_key(const std::string& local, const std::string& remote, uint8_t protocol) {
  netacct_flow_key key{};
  if (!make_flow_key(local, remote, protocol, key)) throw std::runtime_error("bad test key");
  return key;
}

netacct_counters counters(uint64_t rx_bytes, uint64_t rx_packets, uint64_t tx_bytes,
                          uint64_t tx_packets) {
  return netacct_counters{rx_bytes, rx_packets, tx_bytes, tx_packets};
}

void FakeCounterSource::add(const netacct_flow_key& key, const netacct_counters& c) {
  buffers_[active_].flows[key] += c;
  truth[key] += c;
}

void FakeCounterSource::add_bucket(uint8_t bucket, const netacct_counters& c) {
  buffers_[active_].buckets[bucket] += c;
  bucket_truth[bucket] += c;
}

void FakeCounterSource::reboot(std::string instance) {
  buffers_[0] = Buffer{};
  buffers_[1] = Buffer{};
  active_ = 0;
  instance_ = std::move(instance);
  generation_ = 0;
  phase_ = NETACCT_PHASE_IDLE;
}

Result<SourceState> FakeCounterSource::state() {
  return SourceState{instance_, "boot", generation_, phase_};
}

Result<void> FakeCounterSource::set_state(uint64_t generation, uint32_t phase) {
  generation_ = generation;
  phase_ = phase;
  return ok();
}

Result<void> FakeCounterSource::swap(uint64_t* elapsed_ns) {
  if (elapsed_ns) *elapsed_ns = 0;
  active_ = 1 - active_;
  return ok();
}

Result<Delta> FakeCounterSource::read_idle(const BatchHook& after_batch) {
  const Buffer& idle = buffers_[1 - active_];
  Delta delta;
  size_t in_batch = 0;
  for (const auto& [key, c] : idle.flows) {
    delta.flows.push_back({key, c});
    if (++in_batch == batch_) {
      in_batch = 0;
      if (after_batch) after_batch();
    }
  }
  if (after_batch) after_batch();
  delta.buckets = idle.buckets;
  return delta;
}

Result<void> FakeCounterSource::clear_idle(Delta& read, const BatchHook& after_batch) {
  Buffer& idle = buffers_[1 - active_];
  size_t in_batch = 0;
  for (const FlowDelta& flow : read.flows) {
    idle.flows.erase(flow.key);  // already gone after a crash: harmless
    if (++in_batch == batch_) {
      in_batch = 0;
      if (after_batch) after_batch();
    }
  }
  if (after_batch) after_batch();
  idle.buckets = BucketCounters{};
  return ok();
}

Result<void> MemoryStore::commit(const Binding& binding, const Delta& delta, int64_t) {
  for (const FlowDelta& flow : delta.flows) flows[flow.key] += flow.counters;
  for (size_t i = 0; i < buckets.size(); i++) buckets[i] += delta.buckets[i];
  binding_ = binding;
  return ok();
}

TempDir::TempDir() {
  char templ[] = "/tmp/netacct-unit-XXXXXX";
  if (!::mkdtemp(templ)) throw std::runtime_error("mkdtemp");
  path_ = templ;
}

TempDir::~TempDir() {
  std::system(("rm -rf '" + path_ + "'").c_str());
}

}  // namespace netacct::test
