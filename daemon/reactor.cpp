// SPDX-License-Identifier: GPL-2.0-only
#include "reactor.hpp"

#include <pthread.h>
#include <signal.h>

#include <cmath>
#include <csignal>

#include "common/capabilities.hpp"
#include "common/log.hpp"
#include "export/ipfix_session.hpp"

namespace netacct {

namespace {

const int kSignals[4] = {SIGTERM, SIGINT, SIGUSR1, SIGHUP};

uint64_t to_ms(double seconds) {
  return static_cast<uint64_t>(std::llround(seconds * 1000.0));
}

}  // namespace

Reactor::Reactor(DaemonOptions options)
    : options_(options),
      instance_(std::move(options)),
      export_failures_("writing " + options_.output_file) {}

Reactor::~Reactor() = default;

void Reactor::act(HarvestSchedule::Next next) {
  switch (next) {
    case HarvestSchedule::Next::Nothing: break;
    case HarvestSchedule::Next::StartHarvest: start_harvest(); break;
    case HarvestSchedule::Next::FinishStop: finish_stop(); break;
  }
}

void Reactor::start_harvest() {
  job_final_ = schedule_.final_harvest();
  double json_interval = options_.json_interval > 0 ? options_.json_interval : options_.interval;
  job_export_ = HarvestSchedule::export_due(job_final_, export_requested_.exchange(false),
                                            static_cast<int64_t>(uv_now(&loop_)), last_export_ms_,
                                            static_cast<int64_t>(to_ms(json_interval)));
  work_.data = this;
  uv_queue_work(
      &loop_, &work_,
      [](uv_work_t* work) {
        auto* self = static_cast<Reactor*>(work->data);
        // The worker touches only the instance's harvest path; the loop
        // thread does not harvest, export or commit while this runs.
        self->job_report_ = self->instance_.harvest(self->job_export_);
      },
      [](uv_work_t* work, int) { static_cast<Reactor*>(work->data)->harvest_done(); });
}

void Reactor::harvest_done() {
  harvests_++;
  const HarvestReport& report = job_report_;
  if (job_export_ && report.export_error.empty())
    last_export_ms_ = static_cast<int64_t>(uv_now(&loop_));
  const auto now_ms = static_cast<int64_t>(uv_now(&loop_));
  if (!report.ok) {
    harvest_failures_.failed(now_ms, report.error, "will retry");
    if (job_final_) exit_code_ = 1;
  } else {
    harvest_failures_.succeeded(now_ms);
    const Delta& delta = report.harvest.delta;
    NA_DEBUG("harvest %llu: %zu flows, swap %.2f ms, read %.2f ms, clear %.2f ms, %.2f ms in all%s",
             static_cast<unsigned long long>(report.harvest.generation), delta.flows.size(),
             static_cast<double>(delta.swap_ns) / 1e6, static_cast<double>(delta.read_ns) / 1e6,
             static_cast<double>(delta.clear_ns) / 1e6, report.seconds * 1e3,
             report.exported.written ? "; output written" : "");
  }
  if (!report.export_error.empty())
    export_failures_.failed(now_ms, report.export_error, "will retry (the ledger has every count)");
  else if (job_export_ && report.ok)
    export_failures_.succeeded(now_ms);
  if (job_final_ && report.ok) {
    netacct_counters total = report.harvest.delta.flow_total();
    NA_INFO("final harvest: %zu flows, %llu bytes, %llu packets committed to %s",
            report.harvest.delta.flows.size(),
            static_cast<unsigned long long>(total.rx_bytes + total.tx_bytes),
            static_cast<unsigned long long>(total.rx_packets + total.tx_packets),
            options_.ledger_file.c_str());
  }
  for (HarvestObserver* observer : observers_)
    if (observer && (!schedule_.stopping() || observer != console_.get()))
      observer->on_harvest(report);
  act(schedule_.finished());
}

void Reactor::on_timer() {
  act(schedule_.request());
  // Cheap netlink query: catches a namespace re-created under the same name,
  // which the link watcher (bound to the old namespace) cannot see.
  if (!schedule_.stopping()) instance_.reconcile_attachments();
}

void Reactor::reopen_outputs() {
  if (auto reopened = log::reopen(); !reopened)
    NA_WARN("SIGUSR1: %s", reopened.error().message().c_str());
  // The export notices a rotated file by itself; the signal only makes it
  // look now.
  export_requested_ = true;
  NA_INFO("SIGUSR1: log reopened; checking %s", options_.output_file.c_str());
  act(schedule_.request());
}

void Reactor::start_whitelist_watcher() {
  whitelist_watcher_.reset();
  if (options_.whitelist_file.empty()) return;
  whitelist_watcher_ = std::make_unique<FileWatcher>(&loop_, options_.whitelist_file, [this] {
    if (schedule_.stopping()) return;
    instance_.reload_whitelist(WhitelistService::Trigger::FileChange);
    if (metrics_ && instance_.whitelist()) metrics_->on_whitelist(*instance_.whitelist());
  });
  if (auto watching = whitelist_watcher_->start(); !watching)
    NA_WARN("whitelist hot reload unavailable (%s); SIGHUP still reloads",
            watching.error().message().c_str());
}

void Reactor::reload_config() {
  if (options_.config_file.empty()) return;
  DaemonOptions fresh = options_;
  if (auto applied = apply_instance_config(options_.config_file, fresh); !applied) {
    NA_ERROR("configuration reload rejected, keeping the running settings: %s",
             applied.error().message().c_str());
    return;
  }
  // Identity and capacity are fixed for a running tag.
  auto differs = [](const char* name, const std::string& now, const std::string& wanted) {
    if (now != wanted)
      NA_WARN("config: '%s' changed ('%s' -> '%s'): takes effect after a restart", name,
              now.c_str(), wanted.c_str());
  };
  differs("tag", options_.tag, fresh.tag.empty() ? options_.tag : fresh.tag);
  differs("interface", options_.interface, fresh.interface);
  differs("namespace", options_.netns, fresh.netns);
  differs("xdp", options_.xdp ? "true" : "false", fresh.xdp ? "true" : "false");
  differs("output_file", options_.output_file, resolve_path(fresh.output_file, options_.log_dir));
  differs("max_flows", std::to_string(options_.max_flows), std::to_string(fresh.max_flows));
  differs("max_prefix_rows", std::to_string(options_.max_prefix_rows),
          std::to_string(fresh.max_prefix_rows));
  differs("overflow_prefix_v4", std::to_string(options_.overflow_prefix_v4),
          std::to_string(fresh.overflow_prefix_v4));
  differs("overflow_prefix_v6", std::to_string(options_.overflow_prefix_v6),
          std::to_string(fresh.overflow_prefix_v6));

  if (fresh.interval != options_.interval) {
    options_.interval = fresh.interval;
    uv_timer_set_repeat(timer_.get(), to_ms(options_.interval));
    uv_timer_again(timer_.get());
    NA_INFO("config: harvest interval now %.3g s", options_.interval);
  }
  if (fresh.json_interval != options_.json_interval) {
    options_.json_interval = fresh.json_interval;
    NA_INFO("config: JSON export interval now %.3g s",
            options_.json_interval > 0 ? options_.json_interval : options_.interval);
  }
  if (fresh.debug != options_.debug) {
    options_.debug = fresh.debug;
    log::set_level(options_.debug ? log::Level::Debug : log::Level::Info);
    NA_INFO("config: debug %s", options_.debug ? "on" : "off");
  }
  std::string whitelist = fresh.whitelist_file.empty()
                              ? std::string()
                              : resolve_path(fresh.whitelist_file, options_.config_dir);
  if (whitelist != options_.whitelist_file) {
    options_.whitelist_file = whitelist;
    instance_.set_whitelist_path(whitelist);
    start_whitelist_watcher();
    NA_INFO("config: whitelist file now %s", whitelist.c_str());
  }
}

void Reactor::on_signal(int signum) {
  switch (signum) {
    case SIGTERM:
    case SIGINT:
      if (console_) console_->close();  // the stop and final lines go to the normal screen
      NA_INFO("%s: final harvest, then exit (programs stay attached%s)",
              signum == SIGTERM ? "SIGTERM" : "SIGINT",
              options_.cleanup_on_exit ? "; --cleanup-on-exit removes them" : "");
      uv_timer_stop(timer_.get());
      notifier_.stopping();
      act(schedule_.stop());
      break;
    case SIGUSR1: reopen_outputs(); break;
    case SIGHUP:
      if (schedule_.stopping()) break;
      NA_INFO("SIGHUP: reloading configuration and whitelist, re-checking attachments");
      reload_config();
      instance_.reload_whitelist(WhitelistService::Trigger::Signal);
      if (metrics_ && instance_.whitelist()) metrics_->on_whitelist(*instance_.whitelist());
      instance_.reconcile_attachments();
      export_requested_ = true;  // a harvest on demand is also written out
      act(schedule_.request());
      break;
  }
}

// Loaded, pinned and attached: from here on the daemon re-attaches, checks
// its attachments and updates maps, and needs only runtime_capabilities().
// Before any thread starts (libuv's pool starts with the first harvest), so
// every thread has the narrow sets.
void Reactor::drop_capabilities() {
  if (options_.keep_capabilities) {
    NA_INFO("capabilities: all kept (--keep-capabilities)");
    return;
  }
  auto dropped = drop_capabilities_except(runtime_capabilities());
  if (!dropped) {
    NA_WARN("capabilities: could not drop: %s", dropped.error().message().c_str());
    return;
  }
  NA_INFO("capabilities: running with %s%s", capability_names(dropped->kept).c_str(),
          dropped->dropped ? "; the start's others dropped" : "");
}

void Reactor::finish_stop() {
  instance_.shutdown(options_.cleanup_on_exit);
  close_handles();
}

void Reactor::close_handles() {
  link_watcher_.reset();
  // A quota command still running is left to finish on its own; its
  // handles close here so the loop can end.
  quota_runner_.reset();
  whitelist_watcher_.reset();
  if (metrics_) metrics_->close();
  // The final harvest's records get a short drain, off the loop thread.
  ipfix_.reset();
  notifier_.close();
  timer_.close();
  for (auto& signal : signals_) signal.close();
}

// A refused start: one line in the same form as a usage error
// ("netacctd: ..."), whatever ends the start; also in the log file when
// there is one. Runtime events are log lines.
int Reactor::refuse(const Error& error) {
  if (!options_.log_file.empty()) NA_ERROR("%s", error.message().c_str());
  std::fprintf(stderr, "netacctd: %s\n", error.message().c_str());
  return 1;
}

int Reactor::run() {
  if (!options_.log_file.empty()) {
    if (auto opened = log::open_file(options_.log_file); !opened) {
      std::fprintf(stderr, "netacctd: %s\n", opened.error().message().c_str());
      return 1;
    }
  }
  // A stop or reload signal that arrives while the start is under way waits
  // (pending) until the loop's handlers are installed, instead of killing a
  // daemon that is half started with the default action. Threads started
  // meanwhile inherit the mask, so the loop's thread is the one that gets it.
  sigset_t handled;
  sigemptyset(&handled);
  for (int signum : kSignals) sigaddset(&handled, signum);
  pthread_sigmask(SIG_BLOCK, &handled, nullptr);
  // A --metrics-listen address that cannot be bound refuses the start
  // before any kernel state changes.
  auto metrics = MetricsService::create(options_);
  if (!metrics) return refuse(metrics.error());
  metrics_ = std::move(metrics.value());
  if (auto opened = instance_.open(); !opened) return refuse(opened.error());
  // Capabilities go before the IPFIX workers start: every thread gets the
  // narrow sets.
  drop_capabilities();
  // IPFIX before metrics: a batch the queue refuses is in the same
  // harvest's /metrics.
  ipfix_ = IpfixService::create(options_, options_.ipfix.empty() ? 0 : instance_.ifindex(),
                                open_ipfix_session);
  if (ipfix_) {
    observers_.push_back(ipfix_.get());
    if (metrics_) metrics_->set_ipfix_source([this] { return ipfix_->stats(); });
  }
  if (metrics_) {
    if (auto seeded = metrics_->seed(instance_.ledger_path(), instance_.flow_capacity()); !seeded)
      NA_WARN("metrics start from zero: %s", seeded.error().message().c_str());
    if (instance_.whitelist()) metrics_->on_whitelist(*instance_.whitelist());
    metrics_->set_ingress(instance_.ingress_mode(), instance_.xdp_mode());
    observers_.push_back(metrics_.get());
  }
  if (options_.console == ConsoleMode::Live || options_.console == ConsoleMode::Plain) {
    ConsoleContext context;
    context.interface = options_.interface;
    context.netns = options_.netns;
    context.output_path = options_.output_file;
    context.ledger_path = options_.ledger_file;
    console_ = std::make_unique<Console>(stdout, context, options_.console == ConsoleMode::Live);
    observers_.push_back(console_.get());
  }
  if (!options_.quotas.empty()) {
    quota_runner_ = std::make_unique<QuotaRunner>(&loop_, options_.quota_command);
    observers_.push_back(quota_runner_.get());
  }

  observers_.push_back(&notifier_);

  uv_loop_init(&loop_);
  loop_open_ = true;
  notifier_.start(&loop_);
  timer_.init(uv_timer_init, &loop_);
  timer_->data = this;
  // First harvest right away: counts made while no daemon ran show at once.
  uv_timer_start(
      timer_.get(), [](uv_timer_t* t) { static_cast<Reactor*>(t->data)->on_timer(); }, 0,
      to_ms(options_.interval));
  for (int i = 0; i < 4; i++) {
    signals_[i].init(uv_signal_init, &loop_);
    signals_[i]->data = this;
    uv_signal_start(
        signals_[i].get(),
        [](uv_signal_t* s, int signum) { static_cast<Reactor*>(s->data)->on_signal(signum); },
        kSignals[i]);
  }
  pthread_sigmask(SIG_UNBLOCK, &handled, nullptr);
  link_watcher_ = std::make_unique<LinkWatcher>(&loop_, options_.interface, options_.netns,
                                                [this](bool present) {
                                                  if (schedule_.stopping()) return;
                                                  if (present)
                                                    instance_.reconcile_attachments();
                                                  else
                                                    instance_.interface_removed();
                                                });
  if (auto watching = link_watcher_->start(); !watching)
    NA_WARN("link events unavailable (%s); re-attaching on the harvest timer only",
            watching.error().message().c_str());
  start_whitelist_watcher();
  if (metrics_) metrics_->start(&loop_);
  instance_.record_metrics(metrics_ ? metrics_->address() : std::string());

  uv_run(&loop_, UV_RUN_DEFAULT);
  int closed = uv_loop_close(&loop_);
  loop_open_ = false;
  if (closed != 0) {
    NA_ERROR("internal error: libuv handles left open at exit (%s)", uv_strerror(closed));
    return 1;
  }
  NA_INFO("stopped after %lld harvests", static_cast<long long>(harvests_));
  return exit_code_;
}

}  // namespace netacct
