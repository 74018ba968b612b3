// SPDX-License-Identifier: GPL-2.0-only
#include "ledger.hpp"

#include <ctime>

#include "../../bpf/netacct_shared.h"
#include "../common/log.hpp"

namespace netacct {

int64_t system_clock_seconds() {
  return static_cast<int64_t>(std::time(nullptr));
}

Ledger::Ledger(CounterSource& source, LedgerStore& store, Clock clock, FailPoints failpoints)
    : source_(source),
      store_(store),
      clock_(std::move(clock)),
      failpoints_(std::move(failpoints)) {}

Result<bool> Ledger::committed(const SourceState& state) {
  auto binding = store_.binding();
  if (!binding) return binding.error();
  return binding->instance == state.instance && binding->generation >= state.generation;
}

Result<void> Ledger::finish(uint64_t generation, Delta& delta) {
  if (auto cleared = source_.clear_idle(delta, [this] { failpoints_.hit(HarvestStep::MidClear); });
      !cleared)
    return cleared.error();
  failpoints_.hit(HarvestStep::BeforeIdle);
  return source_.set_state(generation, NETACCT_PHASE_IDLE);
}

Result<Harvest> Ledger::recover() {
  auto state = source_.state();
  if (!state) return state.error();
  Harvest result;
  if (state->phase != NETACCT_PHASE_DRAINING) return result;
  result.generation = state->generation;
  result.when = clock_();
  result.recovered = true;
  auto delta = source_.read_idle({});
  if (!delta) return delta.error();
  auto done = committed(state.value());
  if (!done) return done.error();
  if (done.value()) {
    NA_INFO("harvest %llu was already committed: clearing its buffer",
            static_cast<unsigned long long>(state->generation));
  } else {
    NA_INFO("completing interrupted harvest %llu (%zu flows)",
            static_cast<unsigned long long>(state->generation), delta->flows.size());
    if (auto commit =
            store_.commit({state->instance, state->generation}, delta.value(), result.when);
        !commit)
      return commit.error();
  }
  if (auto finished = finish(state->generation, delta.value()); !finished) return finished.error();
  if (!done.value()) result.delta = std::move(delta.value());
  return result;
}

Result<Harvest> Ledger::harvest() {
  auto pending = recover();
  if (!pending) return pending.error();

  auto state = source_.state();
  if (!state) return state.error();
  uint64_t generation = state->generation + 1;
  if (auto marked = source_.set_state(generation, NETACCT_PHASE_DRAINING); !marked)
    return marked.error();
  failpoints_.hit(HarvestStep::AfterMeta);

  Harvest result;
  result.generation = generation;
  result.recovered = pending->recovered;
  uint64_t swap_ns = 0;
  if (auto swapped = source_.swap(&swap_ns); !swapped) return swapped.error();
  result.when = clock_();
  failpoints_.hit(HarvestStep::AfterSwap);

  auto delta = source_.read_idle([this] { failpoints_.hit(HarvestStep::MidRead); });
  if (!delta) return delta.error();
  delta->swap_ns = swap_ns;
  failpoints_.hit(HarvestStep::BeforeCommit);
  if (auto commit = store_.commit({state->instance, generation}, delta.value(), result.when);
      !commit)
    return commit.error();
  failpoints_.hit(HarvestStep::AfterCommit);
  if (auto finished = finish(generation, delta.value()); !finished) return finished.error();

  result.delta = std::move(delta.value());
  // Report what the interrupted harvest added too.
  result.delta.merge(pending->delta);
  return result;
}

}  // namespace netacct
