// SPDX-License-Identifier: GPL-2.0-only
#include "supervisor.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "daemon/common/json_file.hpp"
#include "daemon/common/log.hpp"
#include "daemon/common/time_text.hpp"

namespace netacct::multi {

// One started netacctd: its process handle and the pipe carrying its
// stderr. Heap-allocated per start and freed when both handles have
// closed, so a restart never reuses a handle libuv may still hold.
struct Supervisor::Spawned {
  uv_process_t process{};
  uv_pipe_t pipe{};
  Supervisor* owner = nullptr;
  Child* child = nullptr;  // null once the process has exited
  std::string partial;     // stderr text after the last newline
  int open_handles = 0;
};

namespace {

std::string exit_text(int64_t status, int term_signal) {
  if (term_signal != 0) return std::string("killed by signal ") + strsignal(term_signal);
  return "exit status " + std::to_string(status);
}

}  // namespace

Supervisor::Supervisor(MultiConfig config, SupervisorOptions options)
    : config_(std::move(config)), options_(std::move(options)) {
  for (const Instance& instance : config_.instances) {
    auto child = std::make_unique<Child>();
    child->owner = this;
    child->instance = &instance;
    children_.push_back(std::move(child));
  }
}

Supervisor::~Supervisor() {
  for (const auto& child : children_) {
    if (!child->config_path.empty()) ::unlink(child->config_path.c_str());
  }
  if (!runtime_dir_.empty()) ::rmdir(runtime_dir_.c_str());
}

// Each child gets its instance as a file of its own (--config), with every
// path already resolved, in a private directory removed on exit.
Result<void> Supervisor::write_child_configs() {
  for (const char* base : {"/run", "/tmp"}) {
    std::string templ = std::string(base) + "/netacct-multi.XXXXXX";
    if (::mkdtemp(templ.data())) {
      runtime_dir_ = templ;
      break;
    }
  }
  if (runtime_dir_.empty()) return make_error("create a runtime directory in /run or /tmp", errno);
  for (const auto& child : children_) {
    child->config_path = runtime_dir_ + "/" + child->instance->options.tag + ".json";
    if (auto written = write_file_atomic(child->config_path, child->instance->child_config);
        !written)
      return written.error();
  }
  return ok();
}

int Supervisor::run() {
  if (auto written = write_child_configs(); !written) {
    NA_ERROR("%s", written.error().message().c_str());
    return 1;
  }
  if (int err = uv_loop_init(&loop_); err != 0) {
    NA_ERROR("uv_loop_init: %s", uv_strerror(err));
    return 1;
  }
  for (int signum : {SIGINT, SIGTERM, SIGHUP, SIGUSR1}) {
    auto handle = std::make_unique<uv_signal_t>();
    uv_signal_init(&loop_, handle.get());
    handle->data = this;
    uv_signal_start(
        handle.get(),
        [](uv_signal_t* h, int sig) { static_cast<Supervisor*>(h->data)->on_signal(sig); }, signum);
    signals_.push_back(std::move(handle));
  }
  uv_timer_init(&loop_, &summary_timer_);
  summary_timer_.data = this;
  uv_timer_init(&loop_, &stop_timer_);
  stop_timer_.data = this;
  for (const auto& child : children_) {
    uv_timer_init(&loop_, &child->restart_timer);
    child->restart_timer.data = child.get();
  }

  double interval = options_.poll_interval;
  if (interval <= 0) {
    interval = 1e9;
    for (const Instance& instance : config_.instances)
      interval = std::min(interval, instance.options.interval);
    interval = std::max(interval, 1.0);
  }
  auto interval_ms = static_cast<uint64_t>(std::llround(interval * 1000));
  NA_INFO("managing %zu instances from %s with %s (summary on change, at least every %.0f s)",
          children_.size(), config_.path.c_str(), options_.netacctd.c_str(),
          options_.summary_interval);
  for (const auto& child : children_) spawn(*child);
  uv_timer_start(
      &summary_timer_, [](uv_timer_t* h) { static_cast<Supervisor*>(h->data)->queue_summary(); },
      interval_ms, interval_ms);

  uv_run(&loop_, UV_RUN_DEFAULT);
  // Every handle closed: a non-zero return is a leaked handle, a bug, and
  // the exit status says so.
  bool leaked = false;
  if (int err = uv_loop_close(&loop_); err != 0) {
    NA_ERROR("internal error: libuv handles left open at exit (%s)", uv_strerror(err));
    leaked = true;
  }

  // The children did their final harvest: the last summary, read directly
  // (no loop runs any more), printed whatever changed.
  last_printed_.clear();
  print_summary(read_sources(ledgers()));
  NA_INFO("all instances stopped%s", forced_ ? " (some had to be killed)" : "");
  return forced_ || leaked ? 1 : 0;
}

void Supervisor::spawn(Child& child) {
  const DaemonOptions& opts = child.instance->options;
  auto* spawned = new Spawned();
  spawned->owner = this;
  spawned->child = &child;
  uv_pipe_init(&loop_, &spawned->pipe, 0);
  spawned->pipe.data = spawned;
  spawned->process.data = spawned;
  spawned->open_handles = 2;
  live_.insert(spawned);

  std::vector<std::string> args = {options_.netacctd, "--config", child.config_path};
  if (options_.debug) args.push_back("--debug");
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  uv_stdio_container_t stdio[3];
  stdio[0].flags = UV_IGNORE;
  stdio[1].flags = UV_IGNORE;  // netacctd's own table: the combined summary replaces it
  stdio[2].flags = static_cast<uv_stdio_flags>(UV_CREATE_PIPE | UV_WRITABLE_PIPE);
  stdio[2].data.stream = reinterpret_cast<uv_stream_t*>(&spawned->pipe);
  uv_process_options_t options{};
  options.file = options_.netacctd.c_str();
  options.args = argv.data();
  options.stdio = stdio;
  options.stdio_count = 3;
  // Own session: a terminal's SIGINT reaches only us; we stop the children
  // in order (and a child that died of it would otherwise be restarted).
  options.flags = UV_PROCESS_DETACHED;
  options.exit_cb = [](uv_process_t* process, int64_t status, int term_signal) {
    auto* s = static_cast<Spawned*>(process->data);
    s->owner->on_exit(s, status, term_signal);
  };

  child.started_ms = uv_now(&loop_);
  if (int err = uv_spawn(&loop_, &spawned->process, &options); err != 0) {
    NA_ERROR("instance '%s': cannot start %s: %s", opts.tag.c_str(), options_.netacctd.c_str(),
             uv_strerror(err));
    spawned->child = nullptr;
    close_spawned_handle(reinterpret_cast<uv_handle_t*>(&spawned->process));
    close_spawned_handle(reinterpret_cast<uv_handle_t*>(&spawned->pipe));
    schedule_restart(child, child.backoff.next(0));
    return;
  }
  child.spawned = spawned;
  child.state = State::Running;
  NA_INFO("instance '%s': started netacctd pid %d on %s%s%s", opts.tag.c_str(),
          spawned->process.pid, opts.interface.c_str(), opts.netns.empty() ? "" : " in namespace ",
          opts.netns.c_str());
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(&spawned->pipe),
      [](uv_handle_t*, size_t suggested, uv_buf_t* buf) {
        buf->base = new char[suggested];
        buf->len = suggested;
      },
      [](uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
        auto* s = static_cast<Spawned*>(stream->data);
        if (nread > 0) s->partial.append(buf->base, static_cast<size_t>(nread));
        delete[] buf->base;
        // Child log lines are passed through whole (they carry their tag).
        size_t newline;
        while ((newline = s->partial.find('\n')) != std::string::npos) {
          std::fwrite(s->partial.data(), 1, newline + 1, stderr);
          s->partial.erase(0, newline + 1);
        }
        if (nread < 0) {
          if (!s->partial.empty()) std::fprintf(stderr, "%s\n", s->partial.c_str());
          s->partial.clear();
          close_spawned_handle(reinterpret_cast<uv_handle_t*>(&s->pipe));
        }
      });
}

void Supervisor::on_exit(Spawned* spawned, int64_t status, int term_signal) {
  Child* child = spawned->child;
  spawned->child = nullptr;
  close_spawned_handle(reinterpret_cast<uv_handle_t*>(&spawned->process));
  if (!child) return;
  child->spawned = nullptr;
  const std::string& tag = child->instance->options.tag;
  uint64_t ran_ms = uv_now(&loop_) - child->started_ms;
  if (stopping_) {
    child->state = State::Stopped;
    if (status == 0 && term_signal == 0)
      NA_INFO("instance '%s': stopped", tag.c_str());
    else
      NA_WARN("instance '%s': stopped with %s", tag.c_str(),
              exit_text(status, term_signal).c_str());
    finish_if_stopped();
    return;
  }
  uint64_t delay = child->backoff.next(ran_ms);
  NA_WARN("instance '%s': netacctd %s after %.1f s; restarting in %.0f s", tag.c_str(),
          exit_text(status, term_signal).c_str(), static_cast<double>(ran_ms) / 1000.0,
          static_cast<double>(delay) / 1000.0);
  schedule_restart(*child, delay);
}

void Supervisor::on_signal(int signum) {
  if (signum == SIGHUP || signum == SIGUSR1) {
    NA_INFO("forwarding %s to the running instances", strsignal(signum));
    for (const auto& child : children_) {
      if (child->spawned) uv_process_kill(&child->spawned->process, signum);
    }
    return;
  }
  if (stopping_) {
    NA_WARN("second %s: killing the remaining instances", strsignal(signum));
    kill_remaining();
    return;
  }
  NA_INFO("%s: stopping all instances (each does its final harvest)", strsignal(signum));
  begin_stop();
}

void Supervisor::begin_stop() {
  stopping_ = true;
  uv_timer_stop(&summary_timer_);
  for (const auto& child : children_) {
    uv_timer_stop(&child->restart_timer);
    if (child->spawned) {
      child->state = State::Stopping;
      uv_process_kill(&child->spawned->process, SIGTERM);
    } else {
      child->state = State::Stopped;
    }
  }
  uv_timer_start(
      &stop_timer_,
      [](uv_timer_t* h) {
        auto* self = static_cast<Supervisor*>(h->data);
        NA_WARN("instances still running after %.0f s: killing them",
                static_cast<double>(self->options_.stop_timeout_ms) / 1000.0);
        self->kill_remaining();
      },
      options_.stop_timeout_ms, 0);
  finish_if_stopped();
}

void Supervisor::kill_remaining() {
  for (const auto& child : children_) {
    if (child->spawned) {
      forced_ = true;
      uv_process_kill(&child->spawned->process, SIGKILL);
    }
  }
}

// Once every child has exited, close every handle so uv_run returns.
void Supervisor::finish_if_stopped() {
  if (!stopping_ || closed_) return;
  for (const auto& child : children_) {
    if (child->spawned) return;
  }
  closed_ = true;
  for (const auto& handle : signals_)
    uv_close(reinterpret_cast<uv_handle_t*>(handle.get()), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&summary_timer_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&stop_timer_), nullptr);
  for (const auto& child : children_)
    uv_close(reinterpret_cast<uv_handle_t*>(&child->restart_timer), nullptr);
  // A pipe whose EOF has not arrived yet is closed with the rest.
  for (Spawned* spawned : std::set<Spawned*>(live_))
    close_spawned_handle(reinterpret_cast<uv_handle_t*>(&spawned->pipe));
}

std::vector<std::string> Supervisor::ledgers() const {
  std::vector<std::string> paths;
  for (const Instance& instance : config_.instances) paths.push_back(instance.options.ledger_file);
  return paths;
}

void Supervisor::queue_summary() {
  if (work_busy_ || stopping_) return;
  work_busy_ = true;
  work_.owner = this;
  work_.ledgers = ledgers();
  work_.request.data = &work_;
  uv_queue_work(
      &loop_, &work_.request,
      [](uv_work_t* request) {
        auto* work = static_cast<SummaryWork*>(request->data);
        work->readings = read_sources(work->ledgers);
      },
      [](uv_work_t* request, int status) {
        auto* work = static_cast<SummaryWork*>(request->data);
        work->owner->work_busy_ = false;
        if (status == 0 && !work->owner->stopping_) work->owner->print_summary(work->readings);
      });
}

std::vector<SummaryRow> Supervisor::rows(const std::vector<SourceReading>& readings) const {
  std::vector<SummaryRow> out;
  for (size_t i = 0; i < children_.size(); i++) {
    const DaemonOptions& opts = children_[i]->instance->options;
    SummaryRow row;
    row.tag = opts.tag;
    row.interface = opts.interface;
    row.netns = opts.netns;
    row.state = children_[i]->state;
    row.restarts = children_[i]->restarts;
    row.metrics = opts.metrics ? opts.metrics_listen : "off";
    if (i < readings.size()) row.reading = readings[i];
    out.push_back(std::move(row));
  }
  return out;
}

void Supervisor::print_summary(const std::vector<SourceReading>& readings) {
  std::vector<SummaryRow> table = rows(readings);
  // Quiet while nothing changes; a reminder at least every summary_interval.
  uint64_t now_ms = uv_now(&loop_);
  if (!summary_due(table, last_printed_, now_ms, last_print_ms_,
                   static_cast<uint64_t>(options_.summary_interval * 1000)))
    return;
  last_printed_ = table;
  last_print_ms_ = now_ms;
  std::string text = options_.json
                         ? render_json(table)
                         : "\n" + render_table(table, "netacct-multi summary at " +
                                                          format_time(std::time(nullptr)));
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

void Supervisor::close_spawned_handle(uv_handle_t* handle) {
  if (uv_is_closing(handle)) return;
  uv_close(handle, [](uv_handle_t* closed) {
    auto* spawned = static_cast<Spawned*>(closed->data);
    if (--spawned->open_handles == 0) {
      spawned->owner->live_.erase(spawned);
      delete spawned;
    }
  });
}

void Supervisor::schedule_restart(Child& child, uint64_t delay_ms) {
  child.state = State::Restarting;
  uv_timer_start(
      &child.restart_timer,
      [](uv_timer_t* h) {
        auto* c = static_cast<Child*>(h->data);
        if (c->owner->stopping_) return;
        c->restarts++;
        c->owner->spawn(*c);
      },
      delay_ms, 0);
}

}  // namespace netacct::multi
