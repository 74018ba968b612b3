// SPDX-License-Identifier: GPL-2.0-only
// Restart delays of a crashed instance: 1 s, doubling to 30 s; a child that
// ran at least 60 s before it died starts again from 1 s. Pure arithmetic,
// so the policy has its own unit test.
#pragma once

#include <algorithm>
#include <cstdint>

namespace netacct::multi {

class Backoff {
 public:
  static constexpr uint64_t kFirstMs = 1000;
  static constexpr uint64_t kMaxMs = 30000;
  static constexpr uint64_t kResetAfterMs = 60000;

  // The delay before the next start of a child that ran `ran_ms`.
  uint64_t next(uint64_t ran_ms) {
    if (ran_ms >= kResetAfterMs) delay_ms_ = kFirstMs;
    uint64_t delay = delay_ms_;
    delay_ms_ = std::min(delay_ms_ * 2, kMaxMs);
    return delay;
  }

 private:
  uint64_t delay_ms_ = kFirstMs;
};

}  // namespace netacct::multi
