// SPDX-License-Identifier: GPL-2.0-only
#include "reactor.hpp"

#include <fcntl.h>
#include <malloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <ctime>

#include "common/json_file.hpp"
#include "common/log.hpp"
#include "console.hpp"
#include "engine/netns.hpp"

namespace netacct {

namespace {

off_t file_size(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_size : -1;
}

int64_t unix_now() {
  return static_cast<int64_t>(std::time(nullptr));
}

const int kSignals[4] = {SIGTERM, SIGINT, SIGUSR1, SIGHUP};

}  // namespace

Reactor::Reactor(DaemonOptions options) : options_(std::move(options)) {
  interface_ = Interface{options_.interface, options_.netns};
}

Reactor::~Reactor() {
  if (log_file_) std::fclose(log_file_);
}

Result<void> Reactor::check_output_writable() {
  // Fail now, before any kernel state changes, if OUTPUT cannot be written.
  std::string probe = options_.output_file + ".probe." + std::to_string(::getpid());
  int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return make_error("output file " + options_.output_file + " is not writable", errno);
  ::close(fd);
  ::unlink(probe.c_str());
  return ok();
}

Result<void> Reactor::start() {
  if (auto writable = check_output_writable(); !writable) return writable.error();
  // A malformed output file is refused before any kernel state is made.
  if (auto existing = read_json_file(options_.output_file);
      !existing && existing.error().err != ENOENT && file_size(options_.output_file) != 0)
    return existing.error();
  if (auto index = interface_index(interface_); !index) return index.error();

  // A broken whitelist stops the start before any kernel state changes.
  auto whitelist = WhitelistService::preload(options_.whitelist_file);
  if (!whitelist) return whitelist.error();
  // So does a --metrics-listen address that cannot be bound.
  auto metrics = MetricsService::create(options_);
  if (!metrics) return metrics.error();
  metrics_ = std::move(metrics.value());

  auto dir = pin::PinDir::open(options_.tag, options_.pin_base);
  if (!dir) return dir.error();
  pin_dir_.emplace(std::move(dir.value()));
  if (auto locked = pin_dir_->lock(); !locked) return locked.error();

  DatapathOptions datapath_options;
  datapath_options.tag = options_.tag;
  datapath_options.pin_base = options_.pin_base;
  datapath_options.flow_capacity = options_.max_flows;
  datapath_options.whitelist_capacity = options_.max_whitelist;
  auto datapath = Datapath::open(datapath_options);
  if (!datapath) return datapath.error();
  datapath_ = std::move(datapath.value());
  harvester_ = std::make_unique<Harvester>(*datapath_);

  SourceInfo info;
  info.tag = options_.tag;
  info.interface = options_.interface;
  info.netns = options_.netns;
  info.ingress_mode = options_.xdp ? "xdp" : "tc";
  info.xdp_mode = "none";
  info.flow_capacity = datapath_->flow_capacity();
  ledger_ = std::make_unique<Ledger>(*datapath_, *harvester_, options_.output_file, info);
  if (auto loaded = ledger_->load(); !loaded) return loaded.error();
  // Finish a harvest a crash interrupted before anything else touches maps.
  if (auto recovered = ledger_->recover(unix_now()); !recovered) return recovered.error();

  whitelist_ = std::make_unique<WhitelistService>(options_.whitelist_file, *datapath_);
  if (auto applied = whitelist_->start(std::move(whitelist.value())); !applied)
    return applied.error();
  ledger_->set_whitelist_info(whitelist_->info_json());
  if (metrics_) {
    metrics_->seed(ledger_->totals(), datapath_->flow_capacity());
    metrics_->on_whitelist(*whitelist_);
  }

  auto report =
      attach_all(*datapath_, interface_, options_.xdp ? IngressMode::Xdp : IngressMode::Tc);
  if (!report) return report.error();
  attach_report_ = report.value();
  attached_ = true;
  info.xdp_mode = to_string(attach_report_.xdp_mode);
  ledger_->set_info(info);
  NA_INFO("counting on %s%s%s: %s ingress%s%s, tc egress; %s maps (%u flows); output %s",
          options_.interface.c_str(), options_.netns.empty() ? "" : " in netns ",
          options_.netns.c_str(), options_.xdp ? "xdp" : "tc", options_.xdp ? " mode " : "",
          options_.xdp ? info.xdp_mode.c_str() : "",
          datapath_->adopted() ? "adopted pinned" : "new", datapath_->flow_capacity(),
          options_.output_file.c_str());
  return ok();
}

void Reactor::attach_if_present() {
  if (stopping_) return;
  auto status = query_attachments(datapath_->pin_path(), interface_);
  if (!status || !status->interface_present) {
    if (attached_)
      NA_WARN("interface %s is gone; keeping totals and waiting for it",
              options_.interface.c_str());
    attached_ = false;
    return;
  }
  bool complete =
      status->tc_egress && (options_.xdp ? status->xdp != XdpMode::None : status->tc_ingress);
  if (complete) {
    attached_ = true;
    return;
  }
  auto report =
      attach_all(*datapath_, interface_, options_.xdp ? IngressMode::Xdp : IngressMode::Tc);
  if (!report) {
    NA_WARN("re-attach to %s failed: %s", options_.interface.c_str(),
            report.error().message().c_str());
    return;
  }
  attach_report_ = report.value();
  attached_ = true;
  NA_INFO("interface %s is back: programs re-attached", options_.interface.c_str());
}

void Reactor::on_timer() {
  queue_harvest();
  // Cheap netlink query: catches a namespace re-created under the same name,
  // which the link watcher (bound to the old namespace) cannot see.
  attach_if_present();
}

void Reactor::queue_harvest() {
  if (harvest_running_) {
    harvest_again_ = true;  // coalesce: one more right after this one
    return;
  }
  harvest_running_ = true;
  work_.data = this;
  uv_queue_work(
      &loop_, &work_,
      [](uv_work_t* work) { static_cast<Reactor*>(work->data)->harvest_in_worker(); },
      [](uv_work_t* work, int) { static_cast<Reactor*>(work->data)->harvest_done(); });
}

void Reactor::harvest_in_worker() {
  // The loop thread does not touch the ledger while this runs.
  int64_t now = unix_now();
  uint64_t started = uv_hrtime();
  if (reopen_pending_) {
    auto rotated = ledger_->reopen(now);
    if (rotated && rotated.value())
      NA_INFO("output %s was rotated: starting a fresh file from zero",
              ledger_->output_path().c_str());
    reopen_pending_ = false;
  }
  last_result_.emplace(ledger_->harvest(now));
  harvest_ns_ = uv_hrtime() - started;
  // A large harvest frees tens of MB on this pool thread's malloc arena;
  // give them back instead of keeping the high-water mark as RSS.
  malloc_trim(0);
}

void Reactor::harvest_done() {
  harvest_running_ = false;
  harvests_++;
  if (metrics_)
    metrics_->on_harvest(last_result_, static_cast<double>(harvest_ns_) / 1e9, unix_now());
  if (last_result_ && !last_result_->ok()) {
    // The delta stays in the idle buffer: the next harvest retries it.
    NA_ERROR("harvest failed, will retry: %s", last_result_->error().message().c_str());
    if (stopping_) exit_code_ = 1;
  } else if (last_result_) {
    const Delta& delta = last_result_->value();
    NA_DEBUG("harvest: %zu flows, swap %.2f ms, read %.2f ms, clear %.2f ms", delta.flows.size(),
             static_cast<double>(delta.swap_ns) / 1e6, static_cast<double>(delta.read_ns) / 1e6,
             static_cast<double>(delta.clear_ns) / 1e6);
    if (options_.console && !stopping_) print_console();
  }
  if (stopping_) {
    if (final_pending_) {
      final_pending_ = false;
      queue_harvest();
    } else {
      finish_stop();
    }
    return;
  }
  if (harvest_again_) {
    harvest_again_ = false;
    queue_harvest();
  }
}

void Reactor::print_console() {
  ConsoleContext context;
  context.interface = options_.interface;
  context.netns = options_.netns;
  context.output_path = ledger_->output_path();
  context.whitelist_count = whitelist_ ? whitelist_->count() : 0;
  context.whitelist_sample = whitelist_ ? whitelist_->sample_text() : "";
  print_table(stdout, ledger_->totals(), context, unix_now());
}

void Reactor::reopen_outputs() {
  if (!options_.log_file.empty()) {
    std::FILE* reopened = std::fopen(options_.log_file.c_str(), "a");
    if (reopened) {
      log::set_output(reopened);
      if (log_file_) std::fclose(log_file_);
      log_file_ = reopened;
    }
  }
  // The output file is checked by the next harvest, in the worker.
  reopen_pending_ = true;
  NA_INFO("SIGUSR1: reopening outputs");
  queue_harvest();
}

void Reactor::reload_whitelist(WhitelistService::Trigger trigger) {
  if (stopping_ || !whitelist_) return;
  whitelist_->reload(trigger);
  ledger_->set_whitelist_info(whitelist_->info_json());
  if (metrics_) metrics_->on_whitelist(*whitelist_);
}

void Reactor::start_whitelist_watcher() {
  whitelist_watcher_.reset();
  if (options_.whitelist_file.empty()) return;
  whitelist_watcher_ = std::make_unique<FileWatcher>(&loop_, options_.whitelist_file, [this] {
    reload_whitelist(WhitelistService::Trigger::FileChange);
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

  if (fresh.interval != options_.interval) {
    options_.interval = fresh.interval;
    auto interval_ms = static_cast<uint64_t>(std::llround(options_.interval * 1000.0));
    uv_timer_set_repeat(&timer_, interval_ms);
    uv_timer_again(&timer_);
    NA_INFO("config: harvest interval now %.3g s", options_.interval);
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
    whitelist_->set_path(whitelist);
    start_whitelist_watcher();
    NA_INFO("config: whitelist file now %s", whitelist.c_str());
  }
}

void Reactor::on_signal(int signum) {
  switch (signum) {
    case SIGTERM:
    case SIGINT:
      NA_INFO("%s: final harvest, then exit (programs stay attached%s)",
              signum == SIGTERM ? "SIGTERM" : "SIGINT",
              options_.cleanup_on_exit ? "; --cleanup-on-exit removes them" : "");
      begin_stop();
      break;
    case SIGUSR1: reopen_outputs(); break;
    case SIGHUP:
      NA_INFO("SIGHUP: reloading configuration and whitelist, re-checking attachments");
      reload_config();
      reload_whitelist(WhitelistService::Trigger::Signal);
      attach_if_present();
      queue_harvest();
      break;
  }
}

void Reactor::begin_stop() {
  if (stopping_) return;
  stopping_ = true;
  uv_timer_stop(&timer_);
  // The final harvest must start after the signal: if one is running now,
  // it may have swapped before the last packets arrived.
  if (harvest_running_)
    final_pending_ = true;
  else
    queue_harvest();
}

void Reactor::finish_stop() {
  if (options_.cleanup_on_exit) {
    if (auto detached = detach_all(datapath_->pin_path(), interface_); !detached)
      NA_WARN("detach: %s", detached.error().message().c_str());
    ledger_.reset();
    whitelist_.reset();
    harvester_.reset();
    std::string pin_path = datapath_->pin_path();
    datapath_.reset();
    if (pin_dir_) {
      if (auto removed = pin_dir_->remove_all(); !removed)
        NA_WARN("unpin: %s", removed.error().message().c_str());
    }
    NA_INFO("detached and unpinned %s (--cleanup-on-exit)", pin_path.c_str());
  }
  close_handles();
}

void Reactor::close_handles() {
  if (!handles_open_) return;
  handles_open_ = false;
  link_watcher_.reset();
  whitelist_watcher_.reset();
  if (metrics_) metrics_->close();
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), nullptr);
  for (uv_signal_t& signal : signals_) uv_close(reinterpret_cast<uv_handle_t*>(&signal), nullptr);
}

int Reactor::run() {
  if (!options_.log_file.empty()) {
    log_file_ = std::fopen(options_.log_file.c_str(), "a");
    if (!log_file_) {
      std::fprintf(stderr, "netacctd: cannot open log file %s: %s\n", options_.log_file.c_str(),
                   std::strerror(errno));
      return 1;
    }
    log::set_output(log_file_);
  }
  if (auto started = start(); !started) {
    NA_ERROR("%s", started.error().message().c_str());
    return 1;
  }

  uv_loop_init(&loop_);
  handles_open_ = true;
  uv_timer_init(&loop_, &timer_);
  timer_.data = this;
  auto interval_ms = static_cast<uint64_t>(std::llround(options_.interval * 1000.0));
  // First harvest right away: counts made while no daemon ran show at once.
  uv_timer_start(
      &timer_, [](uv_timer_t* t) { static_cast<Reactor*>(t->data)->on_timer(); }, 0, interval_ms);
  for (int i = 0; i < 4; i++) {
    uv_signal_init(&loop_, &signals_[i]);
    signals_[i].data = this;
    uv_signal_start(
        &signals_[i],
        [](uv_signal_t* s, int signum) { static_cast<Reactor*>(s->data)->on_signal(signum); },
        kSignals[i]);
  }
  link_watcher_ = std::make_unique<LinkWatcher>(
      &loop_, options_.interface, options_.netns, [this](bool present) {
        if (present)
          attach_if_present();
        else if (attached_) {
          attached_ = false;
          NA_WARN("interface %s was removed; keeping totals and waiting for it",
                  options_.interface.c_str());
        }
      });
  if (auto watching = link_watcher_->start(); !watching)
    NA_WARN("link events unavailable (%s); re-attaching on the harvest timer only",
            watching.error().message().c_str());

  start_whitelist_watcher();
  if (metrics_) metrics_->start(&loop_);

  uv_run(&loop_, UV_RUN_DEFAULT);
  if (int rc = uv_loop_close(&loop_); rc != 0) {
    NA_ERROR("internal error: libuv handles left open at exit (%s)", uv_strerror(rc));
    return 1;
  }
  NA_INFO("stopped after %lld harvests", static_cast<long long>(harvests_));
  return exit_code_;
}

}  // namespace netacct
