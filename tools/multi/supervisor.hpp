// SPDX-License-Identifier: GPL-2.0-only
// Supervisor: runs one netacctd per instance on one libuv loop. Children
// are started with uv_spawn (each in its own session, so a terminal's Ctrl+C
// reaches only the supervisor, which then stops them in order), restarted
// with Backoff when they die, and shown in a combined summary every
// interval. SIGINT/SIGTERM forward SIGTERM to every child (each does its
// final harvest), wait up to the stop timeout, then SIGKILL what is left;
// a second SIGINT/SIGTERM kills at once. SIGHUP and SIGUSR1 are forwarded.
//
// Nothing in a loop callback blocks on disk: output files are read on
// libuv's thread pool (uv_queue_work); the only synchronous I/O left in
// callbacks is writing lines to our own stdout/stderr.
#pragma once

#include <uv.h>

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "backoff.hpp"
#include "multi_config.hpp"
#include "summary.hpp"

namespace netacct::multi {

struct SupervisorOptions {
  std::string netacctd;          // the daemon binary
  bool debug = false;            // our debug lines, and --debug for every child
  bool json = false;             // summaries as one JSON object per line
  double poll_interval = 0;      // reading the ledgers; 0 = the smallest instance interval, >= 1 s
  double summary_interval = 60;  // the summary prints on a change, and at least this often
  uint64_t stop_timeout_ms = 20000;
};

class Supervisor {
 public:
  Supervisor(MultiConfig config, SupervisorOptions options);
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // Runs until stopped by a signal. 0 after an orderly stop, 1 if a child
  // had to be killed or the start failed.
  int run();

 private:
  struct Spawned;
  struct Child {
    Supervisor* owner = nullptr;
    const Instance* instance = nullptr;
    std::string config_path;
    State state = State::Starting;
    uint32_t restarts = 0;
    Backoff backoff;
    uint64_t started_ms = 0;
    Spawned* spawned = nullptr;  // the running process, null when none
    uv_timer_t restart_timer{};
  };
  struct SummaryWork {
    uv_work_t request{};
    Supervisor* owner = nullptr;
    std::vector<std::string> ledgers;
    std::vector<SourceReading> readings;
  };

  Result<void> write_child_configs();
  void spawn(Child& child);
  void schedule_restart(Child& child, uint64_t delay_ms);
  static void close_spawned_handle(uv_handle_t* handle);
  void on_exit(Spawned* spawned, int64_t status, int term_signal);
  void on_signal(int signum);
  void begin_stop();
  void kill_remaining();
  void finish_if_stopped();
  void queue_summary();
  std::vector<SummaryRow> rows(const std::vector<SourceReading>& readings) const;
  void print_summary(const std::vector<SourceReading>& readings);
  std::vector<std::string> ledgers() const;

  MultiConfig config_;
  SupervisorOptions options_;
  uv_loop_t loop_{};
  std::vector<std::unique_ptr<Child>> children_;
  std::set<Spawned*> live_;  // processes and pipes not yet closed
  std::vector<std::unique_ptr<uv_signal_t>> signals_;
  uv_timer_t summary_timer_{};
  uv_timer_t stop_timer_{};
  SummaryWork work_;
  bool work_busy_ = false;
  std::vector<SummaryRow> last_printed_;
  uint64_t last_print_ms_ = 0;
  bool stopping_ = false;
  bool closed_ = false;
  bool forced_ = false;
  std::string runtime_dir_;
};

}  // namespace netacct::multi
