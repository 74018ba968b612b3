// SPDX-License-Identifier: GPL-2.0-only
// Reactor: netacctd's one libuv loop. It owns the loop and its handles (the
// harvest timer, the signals, the link and whitelist watchers, /metrics)
// and drives one Instance: the timer and signals ask the HarvestSchedule
// for a harvest, which runs on the thread pool (the swap waits for an RCU
// grace period and the ledger fsyncs: neither may block the loop); its
// report goes to the observers (metrics, console, systemd) on the loop
// thread.
#pragma once

#include <uv.h>

#include <atomic>
#include <memory>
#include <vector>

#include "config/options.hpp"
#include "console.hpp"
#include "failure_streak.hpp"
#include "file_watcher.hpp"
#include "harvest_schedule.hpp"
#include "instance.hpp"
#include "ipfix_service.hpp"
#include "link_watcher.hpp"
#include "loop/handle.hpp"
#include "metrics/metrics_service.hpp"
#include "quota_runner.hpp"
#include "service_notifier.hpp"

namespace netacct {

class Reactor {
 public:
  explicit Reactor(DaemonOptions options);
  ~Reactor();
  Reactor(const Reactor&) = delete;
  Reactor& operator=(const Reactor&) = delete;

  // Sets everything up, runs the loop until a stop signal, returns the exit
  // code. Start-up errors are printed as one line and return 1.
  int run();

 private:
  int refuse(const Error& error);
  void act(HarvestSchedule::Next next);
  void start_harvest();
  void harvest_done();  // loop thread
  void on_timer();
  void on_signal(int signum);
  void reopen_outputs();
  void reload_config();
  void start_whitelist_watcher();
  void finish_stop();
  void drop_capabilities();
  void close_handles();

  DaemonOptions options_;
  Instance instance_;
  HarvestSchedule schedule_;
  uv_loop_t loop_{};
  bool loop_open_ = false;
  loop::Handle<uv_timer_t> timer_;
  loop::Handle<uv_signal_t> signals_[4];
  uv_work_t work_{};
  std::unique_ptr<LinkWatcher> link_watcher_;
  std::unique_ptr<FileWatcher> whitelist_watcher_;
  std::unique_ptr<MetricsService> metrics_;    // null with --no-metrics
  std::unique_ptr<Console> console_;           // null without a console
  std::unique_ptr<QuotaRunner> quota_runner_;  // null without quotas
  std::unique_ptr<IpfixService> ipfix_;        // null without --ipfix
  ServiceNotifier notifier_;                   // systemd; inert outside it
  std::vector<HarvestObserver*> observers_;

  // Handed between the loop and the worker: set before uv_queue_work,
  // read after its completion callback (libuv orders the two).
  bool job_final_ = false;
  bool job_export_ = false;
  HarvestReport job_report_;
  std::atomic<bool> export_requested_{false};  // SIGUSR1: export at the next harvest
  int64_t last_export_ms_ = 0;                 // loop thread
  int64_t harvests_ = 0;
  FailureStreak harvest_failures_{"harvest"};  // loop thread
  FailureStreak export_failures_;              // loop thread; names the output
  int exit_code_ = 0;
};

}  // namespace netacct
