// SPDX-License-Identifier: GPL-2.0-only
// Test doubles for the ledger protocol: a counter source that behaves like
// the kernel's double buffers and meta map, a store kept in memory, a store
// whose commits fail on demand, and a temporary directory.
#pragma once

#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include "bpf/netacct_shared.h"
#include "daemon/ledger/counter_source.hpp"
#include "daemon/ledger/store.hpp"

namespace netacct::test {

// What a failpoint "crash" throws in unit tests.
struct SimulatedCrash : std::runtime_error {
  SimulatedCrash() : std::runtime_error("simulated crash") {}
};

netacct_flow_key flow_key(const std::string& local, const std::string& remote, uint8_t protocol);
netacct_counters counters(uint64_t rx_bytes, uint64_t rx_packets, uint64_t tx_bytes,
                          uint64_t tx_packets);

// The pinned maps, in memory: survives a "process restart" (a new Ledger).
class FakeCounterSource final : public CounterSource {
 public:
  explicit FakeCounterSource(std::string instance = "boot-a/1", size_t batch = 2)
      : instance_(std::move(instance)), batch_(batch) {}

  // Traffic arriving: counted into the active buffer, and into the truth.
  void add(const netacct_flow_key& key, const netacct_counters& c);
  void add_bucket(uint8_t bucket, const netacct_counters& c);
  // A reboot: new, empty maps with a new instance id.
  void reboot(std::string instance);

  Result<SourceState> state() override;
  Result<void> set_state(uint64_t generation, uint32_t phase) override;
  Result<void> swap(uint64_t* elapsed_ns) override;
  Result<Delta> read_idle(const BatchHook& after_batch) override;
  Result<void> clear_idle(Delta& read, const BatchHook& after_batch) override;

  // Everything ever added (the ground truth).
  std::unordered_map<netacct_flow_key, netacct_counters, FlowKeyHash> truth;
  BucketCounters bucket_truth{};

 private:
  struct Buffer {
    std::unordered_map<netacct_flow_key, netacct_counters, FlowKeyHash> flows;
    BucketCounters buckets{};
  };
  Buffer buffers_[2];
  int active_ = 0;
  std::string instance_;
  uint64_t generation_ = 0;
  uint32_t phase_ = NETACCT_PHASE_IDLE;
  size_t batch_;
};

// A LedgerStore in memory: the protocol's reference model.
class MemoryStore final : public LedgerStore {
 public:
  Result<Binding> binding() override { return binding_; }
  Result<void> commit(const Binding& binding, const Delta& delta, int64_t when) override;
  std::unordered_map<netacct_flow_key, netacct_counters, FlowKeyHash> flows;
  BucketCounters buckets{};

 private:
  Binding binding_;
};

// Wraps a store; its next `failures` commits fail (disk full, locked).
class FailingStore final : public LedgerStore {
 public:
  explicit FailingStore(LedgerStore& inner) : inner_(inner) {}
  int failures = 0;
  Result<Binding> binding() override { return inner_.binding(); }
  Result<void> commit(const Binding& binding, const Delta& delta, int64_t when) override {
    if (failures > 0) {
      failures--;
      return Error{"simulated: database is full", ENOSPC, {}};
    }
    return inner_.commit(binding, delta, when);
  }

 private:
  LedgerStore& inner_;
};

class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace netacct::test
