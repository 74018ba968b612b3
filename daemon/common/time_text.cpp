// SPDX-License-Identifier: GPL-2.0-only
#include "time_text.hpp"

#include <ctime>

namespace netacct {

std::string format_time(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  struct tm local {};
  localtime_r(&t, &local);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &local);
  return text;
}

int64_t parse_time(const std::string& text) {
  struct tm local {};
  if (!strptime(text.c_str(), "%Y-%m-%d %H:%M:%S", &local)) return -1;
  local.tm_isdst = -1;
  return static_cast<int64_t>(std::mktime(&local));
}

std::string format_time_utc(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  struct tm utc {};
  gmtime_r(&t, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

}  // namespace netacct
