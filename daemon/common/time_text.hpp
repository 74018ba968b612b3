// SPDX-License-Identifier: GPL-2.0-only
// Timestamps as netacct's files write them.
#pragma once

#include <cstdint>
#include <string>

namespace netacct {

// "2025-01-20 10:30:00" in local time, as the seed writes it.
std::string format_time(int64_t unix_seconds);
// Inverse of format_time; -1 if it does not parse.
int64_t parse_time(const std::string& text);
// "2025-01-20T09:30:00Z": UTC, ISO 8601.
std::string format_time_utc(int64_t unix_seconds);

}  // namespace netacct
