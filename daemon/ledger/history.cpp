// SPDX-License-Identifier: GPL-2.0-only
#include "history.hpp"

#include <ctime>

namespace netacct {

const char* level_name(BinLevel level) {
  switch (level) {
    case BinLevel::FiveMinutes: return "5min";
    case BinLevel::Hour: return "hour";
    case BinLevel::Day: return "day";
    case BinLevel::Month: return "month";
  }
  return "hour";
}

bool parse_level(const std::string& text, BinLevel& level) {
  for (BinLevel candidate : {BinLevel::FiveMinutes, BinLevel::Hour, BinLevel::Day, BinLevel::Month})
    if (text == level_name(candidate)) {
      level = candidate;
      return true;
    }
  return false;
}

int64_t bin_start(BinLevel level, int64_t t) {
  std::time_t now = static_cast<std::time_t>(t);
  struct tm local {};
  localtime_r(&now, &local);
  switch (level) {
    case BinLevel::FiveMinutes: return t - ((local.tm_min % 5) * 60 + local.tm_sec);
    case BinLevel::Hour: return t - (local.tm_min * 60 + local.tm_sec);
    case BinLevel::Day:
    case BinLevel::Month: {
      // mktime, not arithmetic: days around a DST change are 23 or 25 h.
      local.tm_sec = local.tm_min = local.tm_hour = 0;
      if (level == BinLevel::Month) local.tm_mday = 1;
      local.tm_isdst = -1;
      return static_cast<int64_t>(std::mktime(&local));
    }
  }
  return t;
}

int64_t next_bin(BinLevel level, int64_t start) {
  switch (level) {
    case BinLevel::FiveMinutes: return start + 300;
    case BinLevel::Hour: return start + 3600;
    case BinLevel::Day:
    case BinLevel::Month: {
      std::time_t at = static_cast<std::time_t>(start);
      struct tm local {};
      localtime_r(&at, &local);
      if (level == BinLevel::Day)
        local.tm_mday += 1;
      else
        local.tm_mon += 1;
      local.tm_sec = local.tm_min = local.tm_hour = 0;
      local.tm_isdst = -1;
      return static_cast<int64_t>(std::mktime(&local));
    }
  }
  return start;
}

}  // namespace netacct
