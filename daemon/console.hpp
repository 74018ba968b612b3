// SPDX-License-Identifier: GPL-2.0-only
// The seed's console table: cumulative per-flow totals with human-readable
// sizes and a totals line, printed after each harvest.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include "engine/totals.hpp"

namespace netacct {

// "512.00 B", "1.50 KB", "3.20 MB" (1024-based, as the seed prints).
std::string human_bytes(uint64_t bytes);

struct ConsoleContext {
  std::string interface;
  std::string netns;
  std::string output_path;
  size_t whitelist_count = 0;
  std::string whitelist_sample;  // "127.0.0.1, 10.0.0.1"
  size_t max_rows = 40;          // largest flows first
};

void print_table(std::FILE* out, const Totals& totals, const ConsoleContext& context, int64_t now);

}  // namespace netacct
