// SPDX-License-Identifier: GPL-2.0-only
// Quotas: a byte limit per local address (or prefix) per day or month,
// checked against the ledger's history after each commit. A crossing is
// recorded in the ledger (quota_events), so it is reported once per period
// even across restarts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "../common/quota_spec.hpp"
#include "../common/result.hpp"
#include "history.hpp"
#include "sqlite.hpp"

namespace netacct {

struct QuotaState {
  Quota quota;
  int64_t period_start = 0;
  uint64_t used = 0;  // bytes in this period so far
  bool exceeded = false;
  bool newly_exceeded = false;  // crossed by this harvest: log, command
};

// Usage of every quota in its current period at `now`, from the history;
// crossings are recorded in `db` (which must be writable).
Result<std::vector<QuotaState>> check_quotas(sql::Database& db, const std::vector<Quota>& quotas,
                                             int64_t now);

}  // namespace netacct
