// SPDX-License-Identifier: GPL-2.0-only
#include "history_report.hpp"

namespace netacct {

bool parse_group_by(const std::string& text, GroupBy& by) {
  for (GroupBy candidate :
       {GroupBy::Total, GroupBy::Local, GroupBy::Remote, GroupBy::Protocol, GroupBy::Flow})
    if (text == group_by_name(candidate)) {
      by = candidate;
      return true;
    }
  return false;
}

const char* group_by_name(GroupBy by) {
  switch (by) {
    case GroupBy::Total: return "total";
    case GroupBy::Local: return "local";
    case GroupBy::Remote: return "remote";
    case GroupBy::Protocol: return "protocol";
    case GroupBy::Flow: return "flow";
  }
  return "total";
}

Result<std::vector<ReportRow>> run_report(sql::Database& db, const ReportQuery& query) {
  if (query.level == BinLevel::FiveMinutes && query.by != GroupBy::Total)
    return Error{
        "5-minute history holds per-tag totals only (use --by total, or an hourly period)", 0, {}};
  bool local = query.by == GroupBy::Local || query.by == GroupBy::Flow;
  bool remote = query.by == GroupBy::Remote || query.by == GroupBy::Flow;
  bool protocol = query.by == GroupBy::Protocol || query.by == GroupBy::Flow;
  std::string columns = std::string(local ? ", local" : ", ''") + (remote ? ", remote" : ", ''") +
                        (protocol ? ", protocol" : ", -1");
  std::string group = std::string(local ? ", local" : "") + (remote ? ", remote" : "") +
                      (protocol ? ", protocol" : "");
  std::string table = query.level == BinLevel::FiveMinutes ? "tag_bins" : "flow_bins";
  std::string sql = "SELECT start" + columns +
                    ", sum(rx_bytes), sum(rx_packets), sum(tx_bytes), sum(tx_packets) FROM " +
                    table + " WHERE level = ?1 AND start >= ?2 AND start < ?3 GROUP BY start" +
                    group + " ORDER BY start, sum(rx_bytes) + sum(tx_bytes) DESC";
  auto stmt = db.prepare(sql.c_str());
  if (!stmt) return stmt.error();
  stmt->bind(1, static_cast<int64_t>(query.level))
      .bind(2, bin_start(query.level, query.since))
      .bind(3, query.until);
  std::vector<ReportRow> rows;
  size_t in_bin = 0;
  while (true) {
    auto row = stmt->step();
    if (!row) return row.error();
    if (!row.value()) break;
    ReportRow r;
    r.start = stmt->column_int(0);
    if (!rows.empty() && rows.back().start != r.start) in_bin = 0;
    if (query.top > 0 && in_bin >= query.top) continue;
    in_bin++;
    r.local = std::string(stmt->column_text(1));
    r.remote = std::string(stmt->column_text(2));
    r.protocol = static_cast<int>(stmt->column_int(3));
    r.counters = {stmt->column_u64(4), stmt->column_u64(5), stmt->column_u64(6),
                  stmt->column_u64(7)};
    rows.push_back(std::move(r));
  }
  return rows;
}

}  // namespace netacct
