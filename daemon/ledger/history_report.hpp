// SPDX-License-Identifier: GPL-2.0-only
// Reports over the ledger's history (history.hpp), read-only: the rows
// `netacct report` prints. Bins are whole: a range selects every bin of
// the level that begins in [bin_start(since), until).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "../common/flow.hpp"
#include "../common/result.hpp"
#include "history.hpp"
#include "sqlite.hpp"

namespace netacct {

enum class GroupBy { Total, Local, Remote, Protocol, Flow };
bool parse_group_by(const std::string& text, GroupBy& by);
const char* group_by_name(GroupBy by);

struct ReportQuery {
  BinLevel level = BinLevel::Day;
  int64_t since = 0;
  int64_t until = 0;  // exclusive
  GroupBy by = GroupBy::Total;
  size_t top = 0;  // per bin, largest first; 0 = all
  // With GroupBy::Remote: remotes masked to this many bits (IPv4; IPv6
  // uses prefix_bits + 96, at most 128), e.g. 24 groups by /24. 0 = whole
  // addresses.
  int prefix_bits = 0;
};

struct ReportRow {
  int64_t start = 0;
  std::string local;   // "" unless grouped by local or flow
  std::string remote;  // "" unless grouped by remote or flow
  int protocol = -1;   // -1 unless grouped by protocol or flow
  netacct_counters counters{};
};

// 5-minute bins hold totals per tag and per local address: with
// BinLevel::FiveMinutes the grouping must be Total or Local.
Result<std::vector<ReportRow>> run_report(sql::Database& db, const ReportQuery& query);

// Remote address text masked to a prefix: "203.0.113.7", 24 -> "203.0.113.0/24"
// (IPv6: bits + 96, so /24 of IPv4 is /120 of IPv6; callers that want an
// explicit IPv6 length pass it above 32).
std::string masked_remote(const std::string& remote, int bits);

// The p-th percentile of 5-minute rates per local address over a range:
// every 5-minute interval of the range is a sample (no traffic = 0), the
// top (100 - p) % are dropped, the largest left is the figure; the
// convention burstable bandwidth is billed by. Per direction, and of the
// larger direction in each interval.
struct PercentileRow {
  std::string local;
  uint64_t intervals = 0;         // samples in the range
  uint64_t active_intervals = 0;  // of which had traffic
  double rx_bytes_per_s = 0;
  double tx_bytes_per_s = 0;
  double max_bytes_per_s = 0;
};
Result<std::vector<PercentileRow>> percentile_by_local(sql::Database& db, int64_t since,
                                                       int64_t until, double percentile);

}  // namespace netacct
