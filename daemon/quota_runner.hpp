// SPDX-License-Identifier: GPL-2.0-only
// QuotaRunner: observes harvests; for each quota a harvest newly crossed it
// logs one line and runs the configured command (uv_spawn, bounded in
// time: SIGKILL after kTimeoutMs), logging a failure. The ledger records
// crossings, so each is reported once per period, restarts included.
#pragma once

#include <uv.h>

#include <list>
#include <memory>
#include <string>

#include "harvest_observer.hpp"
#include "loop/handle.hpp"

namespace netacct {

class QuotaRunner final : public HarvestObserver {
 public:
  static constexpr uint64_t kTimeoutMs = 10000;
  QuotaRunner(uv_loop_t* loop, std::string command) : loop_(loop), command_(std::move(command)) {}
  void on_harvest(const HarvestReport& report) override;

 private:
  struct Run {
    QuotaRunner* owner = nullptr;
    std::string what;
    loop::Handle<uv_process_t> process;
    loop::Handle<uv_timer_t> timer;
  };
  void spawn(const QuotaState& state);
  void finished(Run* run, int64_t status, int signal);

  uv_loop_t* loop_;
  std::string command_;
  std::list<std::unique_ptr<Run>> running_;
};

}  // namespace netacct
