// SPDX-License-Identifier: GPL-2.0-only
// LedgerStore: what the exactly-once protocol (ledger.hpp) needs of the
// ledger of record. It remembers which generation of which counter instance
// it committed last, and commits a delta together with that binding in one
// atomic step: after a crash the binding says whether a harvest's delta is
// in the store or not, never "partly".
#pragma once

#include <cstdint>
#include <string>

#include "../common/delta.hpp"
#include "../common/result.hpp"

namespace netacct {

struct Binding {
  std::string instance;     // SourceState::instance of the committed counters
  uint64_t generation = 0;  // the last harvest of that instance committed
};

class LedgerStore {
 public:
  virtual ~LedgerStore() = default;
  virtual Result<Binding> binding() = 0;
  // Adds `delta` and moves the binding to `binding`, atomically. On error
  // nothing changed. `when`: unix seconds of the harvest's swap.
  virtual Result<void> commit(const Binding& binding, const Delta& delta, int64_t when) = 0;
};

}  // namespace netacct
