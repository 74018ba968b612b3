// SPDX-License-Identifier: GPL-2.0-only
#include "harvest_schedule.hpp"

namespace netacct {

HarvestSchedule::Next HarvestSchedule::request() {
  if (stopping_) return Next::Nothing;  // the final harvest covers it
  if (running_) {
    again_ = true;
    return Next::Nothing;
  }
  running_ = true;
  return Next::StartHarvest;
}

HarvestSchedule::Next HarvestSchedule::stop() {
  if (stopping_) return Next::Nothing;
  stopping_ = true;
  again_ = false;
  // A harvest running now may have swapped before the last packets came:
  // the final one must start after this instant.
  if (running_) {
    final_pending_ = true;
    return Next::Nothing;
  }
  running_ = true;
  return Next::StartHarvest;
}

HarvestSchedule::Next HarvestSchedule::finished() {
  running_ = false;
  if (stopping_) {
    if (!final_pending_) return Next::FinishStop;
    final_pending_ = false;
    running_ = true;
    return Next::StartHarvest;
  }
  if (again_) {
    again_ = false;
    running_ = true;
    return Next::StartHarvest;
  }
  return Next::Nothing;
}

bool HarvestSchedule::export_due(bool final_harvest, bool requested, int64_t now_ms,
                                 int64_t last_ms, int64_t interval_ms) {
  if (final_harvest || requested || last_ms == 0) return true;
  // A little slack: a timer that fires a few ms early still exports.
  return now_ms - last_ms >= interval_ms - 50;
}

}  // namespace netacct
