// SPDX-License-Identifier: GPL-2.0-only
#include "daemon/failure_streak.hpp"

#include "daemon/common/log.hpp"

namespace netacct {

void FailureStreak::failed(int64_t now_ms, const std::string& cause, const char* consequence) {
  if (attempts_ == 0) started_ms_ = now_ms;
  attempts_++;
  if (attempts_ == 1 || cause != cause_) {
    NA_ERROR("%s failed, %s: %s", what_.c_str(), consequence, cause.c_str());
    cause_ = cause;
    logged_ms_ = now_ms;
    unlogged_ = 0;
    return;
  }
  unlogged_++;
  if (now_ms - logged_ms_ < repeat_ms_) return;
  NA_ERROR("%s still failing (%llu more attempts in %.0f s): %s", what_.c_str(),
           static_cast<unsigned long long>(unlogged_),
           static_cast<double>(now_ms - logged_ms_) / 1e3, cause.c_str());
  logged_ms_ = now_ms;
  unlogged_ = 0;
}

void FailureStreak::succeeded(int64_t now_ms) {
  if (attempts_ == 0) return;
  NA_INFO("%s recovered after %llu failed attempts in %.1f s", what_.c_str(),
          static_cast<unsigned long long>(attempts_),
          static_cast<double>(now_ms - started_ms_) / 1e3);
  attempts_ = 0;
  unlogged_ = 0;
  cause_.clear();
}

}  // namespace netacct
