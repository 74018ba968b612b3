// SPDX-License-Identifier: GPL-2.0-only
// HarvestSchedule: when netacctd starts a harvest, as a small pure state
// machine (unit-tested without a loop). At most one harvest runs at a time;
// requests while one runs collapse into one more right after it. A stop
// waits for the running harvest, then runs a final one that begins after
// the stop was asked for (so the last packets before it are in), then
// finishes.
#pragma once

#include <cstdint>

namespace netacct {

class HarvestSchedule {
 public:
  enum class Next { Nothing, StartHarvest, FinishStop };

  // The timer, SIGHUP or SIGUSR1 want a harvest.
  Next request();
  // SIGTERM/SIGINT.
  Next stop();
  // The running harvest finished.
  Next finished();

  bool running() const { return running_; }
  bool stopping() const { return stopping_; }
  // Whether the harvest about to start is the final one.
  bool final_harvest() const { return stopping_ && !final_pending_; }

  // Whether a harvest should also write the JSON export: on the final
  // harvest, when asked (SIGUSR1), or once `interval_ms` has passed since
  // the last export.
  static bool export_due(bool final_harvest, bool requested, int64_t now_ms, int64_t last_ms,
                         int64_t interval_ms);

 private:
  bool running_ = false;
  bool again_ = false;
  bool stopping_ = false;
  bool final_pending_ = false;
};

}  // namespace netacct
