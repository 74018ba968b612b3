// SPDX-License-Identifier: GPL-2.0-only
// Failpoints: named instants of a harvest where a test can make the process
// die, to prove that a crash at any step loses and duplicates nothing.
//
//   NETACCT_FAILPOINT=<step>[:<n>]   abort() at the n-th time (default 1st)
//                                    the harvest reaches <step>
//
// Steps, in harvest order: after-meta, after-swap, mid-read, before-commit,
// after-commit, mid-clear, before-idle. Unset (the normal case), a
// failpoint costs one branch. Unit tests install an action that throws
// instead of aborting.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "../common/result.hpp"

namespace netacct {

enum class HarvestStep {
  AfterMeta,
  AfterSwap,
  MidRead,
  BeforeCommit,
  AfterCommit,
  MidClear,
  BeforeIdle
};

const char* step_name(HarvestStep step);
std::optional<HarvestStep> parse_step(const std::string& name);

class FailPoints {
 public:
  using Action = std::function<void(HarvestStep)>;

  FailPoints() = default;
  // Reads NETACCT_FAILPOINT; an invalid value is an error naming it.
  static Result<FailPoints> from_environment();
  // Arms `step`: the `count`-th hit runs `action` (abort() when empty).
  void arm(HarvestStep step, int count = 1, Action action = {});
  void hit(HarvestStep step);
  bool armed() const { return armed_.has_value(); }

 private:
  std::optional<HarvestStep> armed_;
  int remaining_ = 0;
  Action action_;
};

}  // namespace netacct
