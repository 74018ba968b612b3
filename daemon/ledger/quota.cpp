// SPDX-License-Identifier: GPL-2.0-only
#include "quota.hpp"

#include "history_report.hpp"

namespace netacct {

Result<std::vector<QuotaState>> check_quotas(sql::Database& db, const std::vector<Quota>& quotas,
                                             int64_t now) {
  std::vector<QuotaState> states;
  for (const Quota& quota : quotas) {
    QuotaState state;
    state.quota = quota;
    BinLevel level = quota.period == QuotaPeriod::Day ? BinLevel::Day : BinLevel::Month;
    state.period_start = bin_start(level, now);
    // The period's usage per local address (rolled up or not), summed over
    // the addresses the quota covers.
    ReportQuery query;
    query.level = level;
    query.since = state.period_start;
    query.until = now + 1;
    query.by = GroupBy::Local;
    auto rows = run_report(db, query);
    if (!rows) return rows.error();
    for (const ReportRow& row : rows.value())
      if (address_in(row.local, quota.local))
        state.used += row.counters.rx_bytes + row.counters.tx_bytes;
    state.exceeded = state.used > quota.bytes;
    if (state.exceeded) {
      auto record = db.prepare(
          "INSERT OR IGNORE INTO quota_events (quota, period_start, crossed_at, used) VALUES "
          "(?1, ?2, ?3, ?4)");
      if (!record) return record.error();
      record->bind(1, quota_name(quota))
          .bind(2, state.period_start)
          .bind(3, now)
          .bind(4, static_cast<int64_t>(state.used));
      if (auto done = record->run(); !done) return done.error();
      state.newly_exceeded = db.changes() > 0;
    }
    states.push_back(std::move(state));
  }
  return states;
}

}  // namespace netacct
