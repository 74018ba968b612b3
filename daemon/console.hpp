// SPDX-License-Identifier: GPL-2.0-only
// The console table (--debug, or stdout on a terminal): after each harvest,
// the busiest flows of that interval with their rates, the interval's
// totals and buckets. It observes harvests like the metrics do; it reads
// nothing but the harvest's delta, so its cost follows the interval.
#pragma once

#include <cstdio>
#include <string>

#include "harvest_observer.hpp"

namespace netacct {

struct ConsoleContext {
  std::string interface;
  std::string netns;
  std::string output_path;
  std::string ledger_path;
  size_t max_rows = 20;  // largest flows first
};

class Console final : public HarvestObserver {
 public:
  Console(std::FILE* out, ConsoleContext context) : out_(out), context_(std::move(context)) {}
  void on_harvest(const HarvestReport& report) override;

 private:
  std::FILE* out_;
  ConsoleContext context_;
};

// The table of one harvest (tests call it directly).
void print_table(std::FILE* out, const HarvestReport& report, const ConsoleContext& context);

}  // namespace netacct
