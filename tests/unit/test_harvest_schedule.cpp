// SPDX-License-Identifier: GPL-2.0-only
// The reactor's harvest schedule, without a loop.
#include <doctest/doctest.h>

#include "daemon/harvest_schedule.hpp"

using netacct::HarvestSchedule;
using Next = HarvestSchedule::Next;

TEST_CASE("schedule: one harvest at a time; requests meanwhile collapse into one more") {
  HarvestSchedule s;
  CHECK(s.request() == Next::StartHarvest);
  CHECK(s.request() == Next::Nothing);
  CHECK(s.request() == Next::Nothing);
  CHECK(s.finished() == Next::StartHarvest);  // the collapsed one
  CHECK(s.finished() == Next::Nothing);
  CHECK_FALSE(s.running());
}

TEST_CASE("schedule: a stop while idle runs the final harvest, then finishes") {
  HarvestSchedule s;
  CHECK(s.stop() == Next::StartHarvest);
  CHECK(s.final_harvest());
  CHECK(s.request() == Next::Nothing);  // the final one covers it
  CHECK(s.stop() == Next::Nothing);
  CHECK(s.finished() == Next::FinishStop);
}

TEST_CASE("schedule: a stop during a harvest waits, then runs a final one that starts after it") {
  HarvestSchedule s;
  CHECK(s.request() == Next::StartHarvest);
  CHECK_FALSE(s.final_harvest());
  CHECK(s.request() == Next::Nothing);  // pending "again" is dropped by the stop
  CHECK(s.stop() == Next::Nothing);
  CHECK_FALSE(s.final_harvest());  // the running one may have swapped too early
  CHECK(s.finished() == Next::StartHarvest);
  CHECK(s.final_harvest());
  CHECK(s.finished() == Next::FinishStop);
}

TEST_CASE("schedule: the JSON export is due on the final harvest, on request, or by interval") {
  CHECK(HarvestSchedule::export_due(true, false, 1000, 900, 60000));
  CHECK(HarvestSchedule::export_due(false, true, 1000, 900, 60000));
  CHECK(HarvestSchedule::export_due(false, false, 1000, 0, 60000));  // never exported
  CHECK_FALSE(HarvestSchedule::export_due(false, false, 30000, 1000, 60000));
  CHECK(HarvestSchedule::export_due(false, false, 61000, 1000, 60000));
  CHECK(HarvestSchedule::export_due(false, false, 60980, 1000, 60000));  // a timer a bit early
}
