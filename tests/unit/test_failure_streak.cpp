// SPDX-License-Identifier: GPL-2.0-only
// A failure repeated at every harvest is logged at its start, on a change of
// cause, once per repeat period, and at its end: never once per attempt.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "daemon/common/log.hpp"
#include "daemon/failure_streak.hpp"

using namespace netacct;

namespace {

struct CapturedLines : log::LineSink {
  std::vector<std::string> lines;
  CapturedLines() { log::set_sink(this); }
  ~CapturedLines() override { log::set_sink(nullptr); }
  void line(const char* text, size_t length) override { lines.emplace_back(text, length); }
  bool last_has(const std::string& needle) const {
    return !lines.empty() && lines.back().find(needle) != std::string::npos;
  }
};

}  // namespace

TEST_CASE("failure streak: first, changed cause, once a minute, recovery") {
  CapturedLines captured;
  FailureStreak streak("harvest", 60000);
  streak.succeeded(0);
  CHECK(captured.lines.empty());  // no streak, nothing to say

  streak.failed(1000, "disk is full", "will retry");
  REQUIRE(captured.lines.size() == 1);
  CHECK(captured.last_has("error: harvest failed, will retry: disk is full"));
  for (int64_t t = 1200; t < 61000; t += 200) streak.failed(t, "disk is full", "will retry");
  CHECK(captured.lines.size() == 1);  // 299 repeats inside the minute: silent

  streak.failed(61000, "disk is full", "will retry");
  REQUIRE(captured.lines.size() == 2);
  CHECK(captured.last_has("harvest still failing (300 more attempts in 60 s): disk is full"));

  streak.failed(61200, "database is locked", "will retry");
  REQUIRE(captured.lines.size() == 3);  // a new cause is news
  CHECK(captured.last_has("harvest failed, will retry: database is locked"));

  CHECK(streak.failing());
  streak.succeeded(62000);
  REQUIRE(captured.lines.size() == 4);
  CHECK(captured.last_has("info: harvest recovered after 302 failed attempts in 61.0 s"));
  CHECK_FALSE(streak.failing());

  streak.failed(70000, "disk is full", "will retry");
  CHECK(captured.lines.size() == 5);  // a new streak starts over
}
