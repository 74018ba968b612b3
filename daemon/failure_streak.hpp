// SPDX-License-Identifier: GPL-2.0-only
// A failure that repeats at every harvest (a full disk, a locked database,
// an unwritable output) is logged when it starts, when its cause changes,
// once a minute while it lasts (with how many attempts failed), and once
// when it ends: the log says everything without drowning in copies.
#pragma once

#include <cstdint>
#include <string>

namespace netacct {

class FailureStreak {
 public:
  // `what` names the action ("harvest", "writing /var/log/x.json").
  explicit FailureStreak(std::string what, int64_t repeat_ms = 60000)
      : what_(std::move(what)), repeat_ms_(repeat_ms) {}

  // One failed attempt at `now_ms`; `consequence` ends the first line
  // ("will retry (the ledger has every count)").
  void failed(int64_t now_ms, const std::string& cause, const char* consequence);
  // One successful attempt: logs the recovery when a streak was running.
  void succeeded(int64_t now_ms);
  bool failing() const { return attempts_ > 0; }

 private:
  std::string what_;
  int64_t repeat_ms_;
  uint64_t attempts_ = 0;  // failed attempts in the current streak
  uint64_t unlogged_ = 0;  // of those, not yet reported
  int64_t started_ms_ = 0;
  int64_t logged_ms_ = 0;
  std::string cause_;
};

}  // namespace netacct
