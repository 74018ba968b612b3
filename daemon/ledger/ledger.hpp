// SPDX-License-Identifier: GPL-2.0-only
// Ledger: the exactly-once harvest protocol, between a CounterSource (the
// kernel's double buffers) and a LedgerStore (the database of record).
//
// The source and the store are bound by a generation number: the source's
// meta records which harvest g is under way, the store records with every
// commit which generation of which counter instance it holds. One harvest:
//   1. source.state := (g, DRAINING)   the idle buffer will now hold g's data
//   2. swap                             (RCU-exact; see engine/harvester.hpp)
//   3. read the idle buffer
//   4. store.commit(delta, binding = (instance, g))   one transaction
//   5. clear the idle buffer
//   6. source.state := (g, IDLE)
// A state still DRAINING on the next harvest or start means 4-6 did not all
// happen. The store then answers whether g of this instance was committed:
// if yes only 5-6 are redone, if no 3-6. Every kill point is thus either
// before the commit (redo) or after it (skip): nothing is lost, nothing is
// counted twice. A failed commit (disk full, database locked) leaves the
// data in the idle buffer for the next harvest to retry.
#pragma once

#include <cstdint>
#include <functional>

#include "../common/delta.hpp"
#include "../common/result.hpp"
#include "counter_source.hpp"
#include "failpoint.hpp"
#include "store.hpp"

namespace netacct {

// Unix seconds; injected so tests control time.
using Clock = std::function<int64_t()>;
int64_t system_clock_seconds();

struct Harvest {
  Delta delta;              // what this call added to the store (recovered included)
  uint64_t generation = 0;  // the source generation now committed
  int64_t when = 0;         // unix seconds of the swap
  bool recovered = false;   // an interrupted harvest was completed first
};

class Ledger {
 public:
  Ledger(CounterSource& source, LedgerStore& store, Clock clock, FailPoints failpoints = {});

  // Finishes a harvest a crash left half-done (a DRAINING state), if any.
  Result<Harvest> recover();
  // recover() + one full harvest.
  Result<Harvest> harvest();

 private:
  Result<bool> committed(const SourceState& state);
  Result<void> finish(uint64_t generation, Delta& delta);

  CounterSource& source_;
  LedgerStore& store_;
  Clock clock_;
  FailPoints failpoints_;
};

}  // namespace netacct
