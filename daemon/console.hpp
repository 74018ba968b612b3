// SPDX-License-Identifier: GPL-2.0-only
// The console table: after each harvest, the busiest flows of that interval
// with their rates, the interval's totals and the whitelisted traffic. It
// observes harvests like the metrics do and reads nothing but the harvest's
// delta, so its cost follows the interval.
//
// Two modes. Live (a terminal): the table is redrawn in place on the
// alternate screen, as top does, with the latest log lines under it; the
// screen is restored by close() (the reactor calls it on SIGINT/SIGTERM)
// or the destructor, and the log lines shown meanwhile are printed again
// on the normal screen. Plain: the seed's scrolling table, one block per
// interval (a pipe, a file, or --console=plain).
#pragma once

#include <cstdio>
#include <deque>
#include <mutex>
#include <string>

#include "common/log.hpp"
#include "harvest_observer.hpp"

namespace netacct {

struct ConsoleContext {
  std::string interface;
  std::string netns;
  std::string output_path;
  std::string ledger_path;
  size_t max_rows = 20;  // largest flows first
};

class Console final : public HarvestObserver, public log::LineSink {
 public:
  Console(std::FILE* out, ConsoleContext context, bool live);
  ~Console() override;
  Console(const Console&) = delete;
  Console& operator=(const Console&) = delete;

  void on_harvest(const HarvestReport& report) override;
  // Leaves the live screen and gives the log back to stderr (idempotent).
  void close();
  // log::LineSink: log lines while the live screen is up.
  void line(const char* text, size_t length) override;

 private:
  void redraw(const HarvestReport& report);

  std::FILE* out_;
  ConsoleContext context_;
  bool live_;
  bool screen_open_ = false;
  std::mutex lines_mutex_;
  std::deque<std::string> recent_;  // the last kKeptLines log lines
};

// The table of one harvest (tests call it directly).
void print_table(std::FILE* out, const HarvestReport& report, const ConsoleContext& context);

}  // namespace netacct
