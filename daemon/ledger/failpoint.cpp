// SPDX-License-Identifier: GPL-2.0-only
#include "failpoint.hpp"

#include <cstdlib>

#include "../common/log.hpp"

namespace netacct {

namespace {
constexpr HarvestStep kSteps[] = {HarvestStep::AfterMeta,   HarvestStep::AfterSwap,
                                  HarvestStep::MidRead,     HarvestStep::BeforeCommit,
                                  HarvestStep::AfterCommit, HarvestStep::MidClear,
                                  HarvestStep::BeforeIdle};
}

const char* step_name(HarvestStep step) {
  switch (step) {
    case HarvestStep::AfterMeta: return "after-meta";
    case HarvestStep::AfterSwap: return "after-swap";
    case HarvestStep::MidRead: return "mid-read";
    case HarvestStep::BeforeCommit: return "before-commit";
    case HarvestStep::AfterCommit: return "after-commit";
    case HarvestStep::MidClear: return "mid-clear";
    case HarvestStep::BeforeIdle: return "before-idle";
  }
  return "?";
}

std::optional<HarvestStep> parse_step(const std::string& name) {
  for (HarvestStep step : kSteps)
    if (name == step_name(step)) return step;
  return std::nullopt;
}

Result<FailPoints> FailPoints::from_environment() {
  FailPoints points;
  const char* value = std::getenv("NETACCT_FAILPOINT");
  if (!value || !*value) return points;
  std::string text = value;
  int count = 1;
  if (auto colon = text.find(':'); colon != std::string::npos) {
    count = std::atoi(text.c_str() + colon + 1);
    text.resize(colon);
  }
  auto step = parse_step(text);
  if (!step || count < 1)
    return Error{std::string("NETACCT_FAILPOINT='") + value +
                     "': expected <step>[:<n>] with step one of after-meta, after-swap, "
                     "mid-read, before-commit, after-commit, mid-clear, before-idle",
                 0,
                 {}};
  points.arm(*step, count);
  return points;
}

void FailPoints::arm(HarvestStep step, int count, Action action) {
  armed_ = step;
  remaining_ = count;
  action_ = std::move(action);
}

void FailPoints::hit(HarvestStep step) {
  if (!armed_ || *armed_ != step || --remaining_ > 0) return;
  armed_.reset();
  if (action_) {
    action_(step);
    return;
  }
  NA_WARN("failpoint %s reached: aborting (NETACCT_FAILPOINT)", step_name(step));
  std::abort();
}

}  // namespace netacct
