// SPDX-License-Identifier: GPL-2.0-only
#include "quota_runner.hpp"

#include <csignal>
#include <vector>

#include "common/log.hpp"
#include "common/time_text.hpp"

namespace netacct {

void QuotaRunner::on_harvest(const HarvestReport& report) {
  for (const QuotaState& state : report.quotas) {
    if (!state.newly_exceeded) continue;
    NA_WARN("quota exceeded: %s used %llu bytes of %llu in the %s starting %s",
            state.quota.local.c_str(), static_cast<unsigned long long>(state.used),
            static_cast<unsigned long long>(state.quota.bytes),
            state.quota.period == QuotaPeriod::Day ? "day" : "month",
            format_time(state.period_start).c_str());
    if (!command_.empty()) spawn(state);
  }
}

void QuotaRunner::spawn(const QuotaState& state) {
  auto run = std::make_unique<Run>();
  run->owner = this;
  run->what = "quota command for " + state.quota.local;
  std::vector<std::string> args = {"/bin/sh",
                                   "-c",
                                   command_,
                                   "netacct-quota",
                                   state.quota.local,
                                   state.quota.period == QuotaPeriod::Day ? "day" : "month",
                                   format_time_utc(state.period_start),
                                   std::to_string(state.used),
                                   std::to_string(state.quota.bytes)};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  uv_stdio_container_t stdio[3];
  stdio[0].flags = UV_IGNORE;
  stdio[1].flags = UV_INHERIT_FD;
  stdio[1].data.fd = 2;  // its output goes to our log stream
  stdio[2].flags = UV_INHERIT_FD;
  stdio[2].data.fd = 2;
  uv_process_options_t options{};
  options.file = argv[0];
  options.args = argv.data();
  options.stdio = stdio;
  options.stdio_count = 3;
  options.exit_cb = [](uv_process_t* process, int64_t status, int signal) {
    auto* done = static_cast<Run*>(process->data);
    done->owner->finished(done, status, signal);
  };
  run->process->data = run.get();
  if (int rc = run->process.init(uv_spawn, loop_, &options); rc != 0) {
    NA_WARN("%s: cannot start: %s", run->what.c_str(), uv_strerror(rc));
    return;
  }
  run->timer.init(uv_timer_init, loop_);
  run->timer->data = run.get();
  uv_timer_start(
      run->timer.get(),
      [](uv_timer_t* timer) {
        auto* late = static_cast<Run*>(timer->data);
        NA_WARN("%s: still running after %llu ms, killed", late->what.c_str(),
                static_cast<unsigned long long>(kTimeoutMs));
        uv_process_kill(late->process.get(), SIGKILL);
      },
      kTimeoutMs, 0);
  running_.push_back(std::move(run));
}

void QuotaRunner::finished(Run* run, int64_t status, int signal) {
  if (status != 0 || signal != 0)
    NA_WARN("%s failed (exit %lld, signal %d)", run->what.c_str(), static_cast<long long>(status),
            signal);
  running_.remove_if([&](const std::unique_ptr<Run>& r) { return r.get() == run; });
}

}  // namespace netacct
