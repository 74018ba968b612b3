// SPDX-License-Identifier: GPL-2.0-only
#include "history_report.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <functional>
#include <map>
#include <tuple>

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

std::string masked_remote(const std::string& remote, int bits) {
  unsigned char address[16] = {};
  int family = inet_pton(AF_INET, remote.c_str(), address) == 1    ? AF_INET
               : inet_pton(AF_INET6, remote.c_str(), address) == 1 ? AF_INET6
                                                                   : 0;
  if (family == 0) return remote;  // "*" and prefix rows stay as they are
  int width = family == AF_INET ? 32 : 128;
  int keep = family == AF_INET ? std::min(bits, 32) : std::min(bits > 32 ? bits : bits + 96, 128);
  for (int i = keep; i < width; i++)
    address[i / 8] &= static_cast<unsigned char>(~(0x80 >> (i % 8)));
  char text[INET6_ADDRSTRLEN];
  inet_ntop(family, address, text, sizeof text);
  return std::string(text) + "/" + std::to_string(keep);
}

namespace {

using RowKey = std::tuple<int64_t, std::string, std::string, int>;

// Adds the grouped rows of one level with start in [from, until) to `out`,
// each under the start of its bin at `level` (rolled-up or not).
Result<void> gather(sql::Database& db, const ReportQuery& query, BinLevel stored, int64_t from,
                    std::map<RowKey, netacct_counters>& out) {
  bool local = query.by == GroupBy::Local || query.by == GroupBy::Flow;
  bool remote = query.by == GroupBy::Remote || query.by == GroupBy::Flow;
  bool protocol = query.by == GroupBy::Protocol || query.by == GroupBy::Flow;
  std::string columns = std::string(local ? ", local" : ", ''") + (remote ? ", remote" : ", ''") +
                        (protocol ? ", protocol" : ", -1");
  std::string group = std::string(local ? ", local" : "") + (remote ? ", remote" : "") +
                      (protocol ? ", protocol" : "");
  // 5-minute totals per tag live in tag_bins, per local in flow_bins (remote
  // "*"); the other levels' per-local rows are never "*".
  bool tag_table = stored == BinLevel::FiveMinutes && query.by == GroupBy::Total;
  std::string where = stored == BinLevel::FiveMinutes ? "" : " AND remote != '*'";
  std::string sql = "SELECT start" + columns +
                    ", sum(rx_bytes), sum(rx_packets), sum(tx_bytes), sum(tx_packets) FROM " +
                    (tag_table ? "tag_bins" : "flow_bins") +
                    " WHERE level = ?1 AND start >= ?2 AND start < ?3" + (tag_table ? "" : where) +
                    " GROUP BY start" + group;
  auto stmt = db.prepare(sql.c_str());
  if (!stmt) return stmt.error();
  stmt->bind(1, static_cast<int64_t>(stored)).bind(2, from).bind(3, query.until);
  while (true) {
    auto row = stmt->step();
    if (!row) return row.error();
    if (!row.value()) break;
    std::string remote_text(stmt->column_text(2));
    if (query.prefix_bits > 0 && remote)
      remote_text = masked_remote(remote_text, query.prefix_bits);
    RowKey key{bin_start(query.level, stmt->column_int(0)), std::string(stmt->column_text(1)),
               remote_text, static_cast<int>(stmt->column_int(3))};
    out[key] += netacct_counters{stmt->column_u64(4), stmt->column_u64(5), stmt->column_u64(6),
                                 stmt->column_u64(7)};
  }
  return ok();
}

Result<int64_t> marker(sql::Database& db, const char* column) {
  auto stmt = db.prepare((std::string("SELECT ") + column + " FROM ledger WHERE id = 1").c_str());
  if (!stmt) return stmt.error();
  auto row = stmt->step();
  if (!row) return row.error();
  return row.value() ? stmt->column_int(0) : 0;
}

}  // namespace

Result<std::vector<ReportRow>> run_report(sql::Database& db, const ReportQuery& query) {
  if (query.level == BinLevel::FiveMinutes && query.by != GroupBy::Total &&
      query.by != GroupBy::Local)
    return Error{
        "5-minute history holds totals per tag and per local address only (use --by "
        "total or local, or an hourly period)",
        0,
        {}};
  int64_t from = bin_start(query.level, query.since);
  std::map<RowKey, netacct_counters> merged;
  if (auto done = gather(db, query, query.level, from, merged); !done) return done.error();
  // Days and months not rolled up yet are still hours and days (history.hpp).
  if (query.level == BinLevel::Day || query.level == BinLevel::Month) {
    auto hours = marker(db, "rolled_hours_until");
    if (!hours) return hours.error();
    if (auto done = gather(db, query, BinLevel::Hour, std::max(from, hours.value()), merged); !done)
      return done.error();
  }
  if (query.level == BinLevel::Month) {
    auto days = marker(db, "rolled_days_until");
    if (!days) return days.error();
    if (auto done = gather(db, query, BinLevel::Day, std::max(from, days.value()), merged); !done)
      return done.error();
  }
  std::vector<ReportRow> rows;
  rows.reserve(merged.size());
  for (auto& [key, counters] : merged)
    rows.push_back(
        {std::get<0>(key), std::get<1>(key), std::get<2>(key), std::get<3>(key), counters});
  auto bytes = [](const ReportRow& r) { return r.counters.rx_bytes + r.counters.tx_bytes; };
  std::stable_sort(rows.begin(), rows.end(), [&](const ReportRow& a, const ReportRow& b) {
    return a.start != b.start ? a.start < b.start : bytes(a) > bytes(b);
  });
  if (query.top == 0) return rows;
  std::vector<ReportRow> top;
  size_t in_bin = 0;
  for (ReportRow& row : rows) {
    if (!top.empty() && top.back().start != row.start) in_bin = 0;
    if (in_bin++ < query.top) top.push_back(std::move(row));
  }
  return top;
}

Result<std::vector<PercentileRow>> percentile_by_local(sql::Database& db, int64_t since,
                                                       int64_t until, double percentile) {
  if (percentile <= 0 || percentile >= 100)
    return Error{"the percentile must be between 0 and 100 (exclusive)", 0, {}};
  int64_t first = bin_start(BinLevel::FiveMinutes, since);
  if (until <= first) return std::vector<PercentileRow>{};
  // Every 5-minute interval of the range is a sample; bins without traffic
  // (absent: history is sparse) are samples of zero.
  uint64_t intervals = static_cast<uint64_t>((until - first + 299) / 300);
  auto stmt = db.prepare(
      "SELECT local, rx_bytes, tx_bytes FROM flow_bins WHERE level = ?1 AND start >= ?2 AND "
      "start < ?3 ORDER BY local");
  if (!stmt) return stmt.error();
  stmt->bind(1, static_cast<int64_t>(BinLevel::FiveMinutes)).bind(2, first).bind(3, until);
  std::vector<PercentileRow> out;
  std::vector<uint64_t> rx, tx, peak;
  // The value at or below which `percentile` % of the samples lie: drop
  // the top (100 - p) % of the intervals, take the largest left.
  auto rank_value = [&](std::vector<uint64_t>& samples) -> double {
    std::sort(samples.begin(), samples.end(), std::greater<>());
    auto dropped =
        static_cast<size_t>(static_cast<double>(intervals) * (100.0 - percentile) / 100.0);
    return dropped < samples.size() ? static_cast<double>(samples[dropped]) / 300.0 : 0.0;
  };
  auto flush = [&](const std::string& local) {
    if (local.empty()) return;
    PercentileRow row;
    row.local = local;
    row.intervals = intervals;
    row.active_intervals = rx.size();
    row.rx_bytes_per_s = rank_value(rx);
    row.tx_bytes_per_s = rank_value(tx);
    row.max_bytes_per_s = rank_value(peak);
    out.push_back(std::move(row));
    rx.clear(), tx.clear(), peak.clear();
  };
  std::string current;
  while (true) {
    auto row = stmt->step();
    if (!row) return row.error();
    if (!row.value()) break;
    std::string local(stmt->column_text(0));
    if (local != current) flush(current), current = local;
    uint64_t r = stmt->column_u64(1), t = stmt->column_u64(2);
    rx.push_back(r);
    tx.push_back(t);
    peak.push_back(std::max(r, t));
  }
  flush(current);
  return out;
}

}  // namespace netacct
