// SPDX-License-Identifier: GPL-2.0-only
// History: time-binned totals in the ledger, sparse (only bins that had
// traffic), written in the harvest's own transaction.
//
//   flow_bins   per (local, remote, protocol): hourly, daily, monthly
//   tag_bins    per tag and direction: 5-minute
//
// A harvest belongs to the bin of its swap instant (Harvest::when): every
// bin is an exact sum of whole harvests, so each level sums exactly to the
// level above it and, over all bins, to the lifetime totals. Bins start at
// local-time boundaries (a day starts at local midnight, a month on the
// 1st), the calendar operators bill by. Retention removes whole bins older
// than its limit, in bounded steps, off the loop thread (after a commit).
#pragma once

#include <cstdint>
#include <string>

namespace netacct {

enum class BinLevel { FiveMinutes, Hour, Day, Month };

const char* level_name(BinLevel level);
// "hour", "day", "month" (and "5min"); false for anything else.
bool parse_level(const std::string& text, BinLevel& level);
// The start (unix seconds) of the bin of `level` holding instant `t`,
// and the start of the next one.
int64_t bin_start(BinLevel level, int64_t t);
int64_t next_bin(BinLevel level, int64_t start);

// How long bins of each level are kept, in seconds; 0 = forever.
struct Retention {
  int64_t five_minutes = 48 * 3600;
  int64_t hour = 14 * 86400;
  int64_t day = 400 * 86400;
  int64_t month = 0;
  // Inline: the configuration layer sets these without linking the ledger.
  int64_t of(BinLevel level) const {
    switch (level) {
      case BinLevel::FiveMinutes: return five_minutes;
      case BinLevel::Hour: return hour;
      case BinLevel::Day: return day;
      case BinLevel::Month: return month;
    }
    return 0;
  }
};

}  // namespace netacct
