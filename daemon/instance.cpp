// SPDX-License-Identifier: GPL-2.0-only
#include "instance.hpp"

#include <fcntl.h>
#include <malloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>

#include "common/log.hpp"
#include "engine/netns.hpp"

namespace netacct {

namespace {

uint64_t monotonic_ns() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

std::string directory_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// Creates a default directory (logs/ of a checkout, /var/lib/netacct) the
// operator did not name; a directory given explicitly must exist.
Result<void> ensure_directory(const std::string& dir, bool is_default) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) return Error{dir + " is not a directory", ENOTDIR, {}};
    return ok();
  }
  if (!is_default) return make_error("directory " + dir, errno);
  if (::mkdir(dir.c_str(), 0750) != 0 && errno != EEXIST)
    return make_error("create directory " + dir, errno);
  return ok();
}

// A file that will be written: not a directory or a special file, and its
// directory writable (probed with a file of our own, removed at once).
Result<void> check_writable_file(const std::string& what, const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    const char* kind = S_ISDIR(st.st_mode)   ? "a directory"
                       : S_ISLNK(st.st_mode) ? "a symbolic link"
                                             : "not a regular file";
    return Error{what + " " + path + " is " + kind, 0, {}};
  }
  std::string probe = path + ".probe." + std::to_string(::getpid());
  int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return make_error(what + " " + path + " is not writable", errno);
  ::close(fd);
  ::unlink(probe.c_str());
  return ok();
}

}  // namespace

Instance::Instance(DaemonOptions options, Clock clock)
    : options_(std::move(options)), clock_(std::move(clock)) {
  interface_ = Interface{options_.interface, options_.netns};
}

Instance::~Instance() = default;

uint32_t Instance::flow_capacity() const {
  return datapath_ ? datapath_->flow_capacity() : 0;
}

SourceInfo Instance::source_info() const {
  SourceInfo info;
  info.tag = options_.tag;
  info.interface = options_.interface;
  info.netns = options_.netns;
  // What counts ingress now: "tc" also when --xdp fell back to TC ingress.
  info.ingress_mode = attached_ ? to_string(attach_report_.ingress) : options_.xdp ? "xdp" : "tc";
  info.xdp_mode = to_string(attach_report_.xdp_mode);
  info.flow_capacity = flow_capacity();
  return info;
}

Result<void> Instance::check_output() {
  bool default_dirs = options_.log_dir == default_log_dir();
  if (directory_of(options_.output_file) == options_.log_dir)
    if (auto made = ensure_directory(options_.log_dir, default_dirs); !made) return made;
  if (directory_of(options_.ledger_file) == options_.state_dir)
    if (auto made = ensure_directory(options_.state_dir,
                                     options_.state_dir == options_.log_dir && default_dirs);
        !made)
      return made;
  if (auto writable = check_writable_file("output file", options_.output_file); !writable)
    return writable;
  return check_writable_file("ledger", options_.ledger_file);
}

Result<void> Instance::open() {
  start_ = StartRecord{};
  auto opened = open_steps();
  if (!opened) rollback();
  return opened;
}

void Instance::rollback() {
  if (datapath_ && start_.attach_recorded)
    if (auto undone = undo_attach(*datapath_, interface_, start_.attach_before); !undone)
      NA_WARN("refused start: undo attach: %s", undone.error().message().c_str());
  attached_ = false;
  ledger_.reset();
  source_.reset();
  whitelist_.reset();
  harvester_.reset();
  datapath_.reset();
  if (pin_dir_ && start_.pins_recorded)
    if (auto removed = pin_dir_->remove_except(start_.pins_before); !removed)
      NA_WARN("refused start: unpin: %s", removed.error().message().c_str());
  pin_dir_.reset();
  export_.reset();
  std::string ledger_path = store_ ? store_->path() : std::string();
  store_.reset();
  // A ledger this start created would otherwise skip the upgrade import
  // once the cause is fixed.
  if (start_.ledger_created)
    for (const char* suffix : {"", "-wal", "-shm"}) ::unlink((ledger_path + suffix).c_str());
}

Result<void> Instance::open_steps() {
  // ---- refusals: nothing exists yet that a failure would leave behind ----
  if (auto checked = check_output(); !checked) return checked;
  auto link = link_type(interface_);
  if (!link) return link.error();
  link_ = link.value();
  if (options_.xdp && options_.xdp_native && link_.framing != NETACCT_LINK_ETHERNET)
    return Error{"--xdp=native: interface " + options_.interface + " (link type " + link_.name +
                     ") has no link-layer header, so native XDP would not see its packets; "
                     "use --xdp (falls back to TC ingress), no --xdp, or --xdp=generic",
                 EOPNOTSUPP,
                 {}};
  auto whitelist = WhitelistService::preload(options_.whitelist_file, options_.max_whitelist);
  if (!whitelist) return whitelist.error();
  auto failpoints = FailPoints::from_environment();
  if (!failpoints) return failpoints.error();

  // ---- the ledger, before any kernel state: an unreadable one refuses ----
  SqliteStore::Options store_options;
  store_options.path = options_.ledger_file;
  store_options.tag = options_.tag;
  store_options.file_mode = options_.file_mode;
  auto store = SqliteStore::open(store_options);
  if (!store) return store.error();
  store_ = std::move(store.value());
  start_.ledger_created = store_->created();
  JsonExport::Options export_options;
  export_options.path = options_.output_file;
  export_options.info = source_info();
  export_options.max_idle_days = options_.json_max_idle_days;
  export_options.file_mode = options_.file_mode;
  export_ = std::make_unique<JsonExport>(*store_, export_options);
  if (auto recovered = export_->recover(); !recovered) return recovered;
  if (auto readable = export_->check_existing(); !readable) return readable;
  if (auto imported = export_->import_existing(clock_()); !imported) return imported.error();

  // ---- pins and maps; a harvest a crash interrupted is finished first ----
  auto dir = pin::PinDir::open(options_.tag, options_.pin_base);
  if (!dir) return dir.error();
  pin_dir_.emplace(std::move(dir.value()));
  if (auto locked = pin_dir_->lock(); !locked) {
    int pid = pin_dir_->holder_pid();
    Error error = locked.error();
    if (pid > 0) error.op += " (netacctd pid " + std::to_string(pid) + ")";
    return error;
  }
  // Under the lock: what is pinned now is an earlier run's and stays.
  start_.pins_before = pin_dir_->entries();
  start_.pins_recorded = true;
  DatapathOptions datapath_options;
  datapath_options.tag = options_.tag;
  datapath_options.pin_base = options_.pin_base;
  datapath_options.flow_capacity = options_.max_flows;
  datapath_options.whitelist_capacity = options_.max_whitelist;
  datapath_options.prefix_capacity = options_.max_prefix_rows;
  datapath_options.prefix_len_v4 = options_.overflow_prefix_v4;
  datapath_options.prefix_len_v6 = options_.overflow_prefix_v6;
  datapath_options.link_framing = link_.framing;
  auto datapath = Datapath::open(datapath_options);
  if (!datapath) return datapath.error();
  datapath_ = std::move(datapath.value());
  harvester_ = std::make_unique<Harvester>(*datapath_);
  source_ = std::make_unique<KernelCounterSource>(*harvester_);
  ledger_ = std::make_unique<Ledger>(*source_, *store_, clock_, std::move(failpoints.value()));
  if (auto recovered = ledger_->recover(); !recovered) return recovered.error();
  auto state = source_->state();
  if (!state) return state.error();
  if (auto binding = store_->binding();
      binding && binding->instance != state->instance && !binding->instance.empty())
    NA_INFO("ledger %s: new pinned maps %s (the ledger's were %s): totals continue",
            options_.ledger_file.c_str(), state->instance.c_str(), binding->instance.c_str());

  whitelist_ = std::make_unique<WhitelistService>(options_.whitelist_file, *datapath_);
  if (auto applied = whitelist_->start(std::move(whitelist.value())); !applied) return applied;
  export_->set_whitelist_info(whitelist_->info_json());

  auto before = query_attachments(datapath_->pin_path(), interface_);
  if (!before) return before.error();
  start_.attach_before = before.value();
  start_.attach_recorded = true;
  if (auto attached = attach(); !attached) return attached;
  // The ingress mode that took effect (after a fallback to TC, "tc").
  if (auto noted =
          store_->set_identity(state->boot_id, options_.interface, options_.netns,
                               to_string(attach_report_.ingress), datapath_->flow_capacity());
      !noted)
    return noted;
  NA_INFO(
      "counting on %s%s%s (link type %s, %s framing): %s ingress%s%s, tc egress; %s maps (%u "
      "flows); ledger %s; output %s",
      options_.interface.c_str(), options_.netns.empty() ? "" : " in netns ",
      options_.netns.c_str(), link_.name.c_str(), framing_name(link_.framing),
      to_string(attach_report_.ingress), attach_report_.ingress == IngressMode::Xdp ? " mode " : "",
      attach_report_.ingress == IngressMode::Xdp ? to_string(attach_report_.xdp_mode) : "",
      datapath_->adopted() ? "adopted pinned" : "new", datapath_->flow_capacity(),
      options_.ledger_file.c_str(), options_.output_file.c_str());
  return ok();
}

XdpRequest Instance::xdp_request() const {
  return options_.xdp_generic  ? XdpRequest::Generic
         : options_.xdp_native ? XdpRequest::Native
                               : XdpRequest::Auto;
}

Result<void> Instance::attach() {
  // The programs were loaded for the framing the interface had at start; an
  // interface re-created with another link type needs a restart (new load).
  if (auto link = link_type(interface_); !link) {
    return link.error();
  } else if (link->framing != datapath_->link_framing()) {
    return Error{"interface " + options_.interface + " is now of link type " + link->name + " (" +
                     framing_name(link->framing) + " framing); the programs were loaded for " +
                     framing_name(datapath_->link_framing()) +
                     " framing: restart netacctd to count it",
                 EPROTO,
                 {}};
  }
  auto report = attach_all(*datapath_, interface_,
                           options_.xdp ? IngressMode::Xdp : IngressMode::Tc, xdp_request());
  if (!report) return report.error();
  attach_report_ = report.value();
  attached_ = true;
  export_->set_info(source_info());
  return ok();
}

// Old history rows removed per harvest at most: pruning never makes a
// harvest long, and catches up over a few intervals.
constexpr uint64_t kPruneRowsPerHarvest = 20000;

HarvestReport Instance::harvest(bool export_wanted) {
  HarvestReport report;
  uint64_t started = monotonic_ns();
  report.now = clock_();
  auto harvest = ledger_->harvest();
  if (harvest) {
    report.ok = true;
    report.harvest = std::move(harvest.value());
    int64_t now_ms = static_cast<int64_t>(started / 1000000);
    report.interval =
        last_harvest_ms_ > 0 ? static_cast<double>(now_ms - last_harvest_ms_) / 1e3 : 0;
    last_harvest_ms_ = now_ms;
  } else {
    // The delta stays in the idle buffer: the next harvest retries it.
    report.error = harvest.error().message();
  }
  // History roll-ups and retention, a bounded step per harvest (off the
  // loop thread).
  if (report.ok)
    if (auto rolled = store_->roll_up(report.now, kPruneRowsPerHarvest); !rolled)
      NA_WARN("ledger: rolling up history: %s", rolled.error().message().c_str());
  if (report.ok)
    if (auto pruned = store_->prune_history(report.now, options_.retention, kPruneRowsPerHarvest);
        !pruned)
      NA_WARN("ledger: pruning history: %s", pruned.error().message().c_str());
  if (report.ok && !options_.quotas.empty()) {
    auto quotas = store_->check_quotas(options_.quotas, report.now);
    if (quotas)
      report.quotas = std::move(quotas.value());
    else
      NA_WARN("ledger: checking quotas: %s", quotas.error().message().c_str());
  }
  if (export_wanted) {
    auto needed = export_->needed();
    if (!needed) {
      report.export_error = needed.error().message();
    } else if (needed.value()) {
      auto written = export_->write(report.now);
      if (written)
        report.exported = written.value();
      else
        report.export_error = written.error().message();
    }
  }
  report.seconds = static_cast<double>(monotonic_ns() - started) / 1e9;
  // A large harvest frees megabytes on this pool thread's malloc arena;
  // give them back instead of keeping the high-water mark as RSS.
  malloc_trim(0);
  return report;
}

void Instance::reload_whitelist(WhitelistService::Trigger trigger) {
  if (!whitelist_) return;
  whitelist_->reload(trigger);
  export_->set_whitelist_info(whitelist_->info_json());
}

void Instance::set_whitelist_path(const std::string& path) {
  options_.whitelist_file = path;
  if (whitelist_) whitelist_->set_path(path);
}

void Instance::record_metrics(const std::string& address) {
  if (!store_) return;
  if (auto noted = store_->set_metrics(address); !noted)
    NA_WARN("ledger: %s", noted.error().message().c_str());
}

void Instance::interface_removed() {
  if (!attached_) return;
  attached_ = false;
  NA_WARN("interface %s was removed; keeping totals and waiting for it",
          options_.interface.c_str());
}

void Instance::reconcile_attachments() {
  auto status = query_attachments(datapath_->pin_path(), interface_);
  if (!status || !status->interface_present) {
    if (attached_)
      NA_WARN("interface %s is gone; keeping totals and waiting for it",
              options_.interface.c_str());
    attached_ = false;
    return;
  }
  bool complete = status->tc_egress &&
                  (attach_report_.ingress == IngressMode::Xdp ? status->xdp != XdpMode::None
                                                              : status->tc_ingress);
  if (complete) {
    attached_ = true;
    return;
  }
  if (auto attached = attach(); !attached) {
    NA_WARN("re-attach to %s failed: %s", options_.interface.c_str(),
            attached.error().message().c_str());
    return;
  }
  NA_INFO("interface %s is back: programs re-attached", options_.interface.c_str());
}

void Instance::shutdown(bool detach) {
  if (!detach || !datapath_) return;
  if (auto detached = detach_all(datapath_->pin_path(), interface_); !detached)
    NA_WARN("detach: %s", detached.error().message().c_str());
  ledger_.reset();
  source_.reset();
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

uint32_t Instance::ifindex() const {
  auto index = interface_index(interface_);
  return index ? static_cast<uint32_t>(index.value()) : 0;
}

}  // namespace netacct
