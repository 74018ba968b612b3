// SPDX-License-Identifier: GPL-2.0-only
// Reactor: netacctd's one libuv loop. It owns every handle (harvest timer,
// signals, link watcher) and every engine object of one tag, and wires
// them: the timer queues a harvest on the thread pool (the swap waits for an
// RCU grace period and the file is fsynced: neither may block the loop),
// signals stop, reopen or reload, link events re-attach.
#pragma once

#include <uv.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "../pin/pin_dir.hpp"
#include "engine/attach.hpp"
#include "engine/datapath.hpp"
#include "engine/harvester.hpp"
#include "engine/ledger.hpp"
#include "file_watcher.hpp"
#include "link_watcher.hpp"
#include "metrics/metrics_service.hpp"
#include "options.hpp"
#include "whitelist_service.hpp"

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
  Result<void> start();
  Result<void> check_output_writable();
  void attach_if_present();
  void on_timer();
  void queue_harvest();
  void harvest_in_worker();  // thread pool: the only place the ledger runs
  void harvest_done();       // loop thread
  void on_signal(int signum);
  void begin_stop();
  void finish_stop();
  void reopen_outputs();
  void reload_whitelist(WhitelistService::Trigger trigger);
  // SIGHUP with --config: applies what can change at run time (interval,
  // debug, whitelist file) and names what needs a restart.
  void reload_config();
  void start_whitelist_watcher();
  void print_console();
  void close_handles();

  DaemonOptions options_;
  uv_loop_t loop_{};
  uv_timer_t timer_{};
  uv_signal_t signals_[4]{};
  uv_work_t work_{};
  bool handles_open_ = false;

  std::optional<pin::PinDir> pin_dir_;
  std::unique_ptr<Datapath> datapath_;
  std::unique_ptr<Harvester> harvester_;
  std::unique_ptr<Ledger> ledger_;
  std::unique_ptr<LinkWatcher> link_watcher_;
  std::unique_ptr<WhitelistService> whitelist_;
  std::unique_ptr<FileWatcher> whitelist_watcher_;
  std::unique_ptr<MetricsService> metrics_;  // null with --no-metrics
  Interface interface_;
  AttachReport attach_report_;
  bool attached_ = false;

  // Harvest bookkeeping: one harvest in flight at most.
  bool harvest_running_ = false;
  bool harvest_again_ = false;
  bool stopping_ = false;
  bool final_pending_ = false;               // stop requested while a harvest ran
  std::atomic<bool> reopen_pending_{false};  // set on the loop, read by the worker
  std::optional<Result<Delta>> last_result_;
  uint64_t harvest_ns_ = 0;  // written by the worker, read in harvest_done
  int64_t harvests_ = 0;
  int exit_code_ = 0;
  std::FILE* log_file_ = nullptr;
};

}  // namespace netacct
