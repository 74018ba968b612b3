// SPDX-License-Identifier: GPL-2.0-only
// Instance: everything one tag counts with, and nothing of the event loop.
// It opens (validate, ledger, pins, maps, recovery, whitelist, attach),
// harvests (the exactly-once ledger protocol, then the JSON export when
// due), reloads the whitelist, keeps the programs attached, and shuts down.
//
// Threads: harvest() runs on libuv's thread pool, one at a time (the
// reactor's HarvestSchedule sees to that); everything else runs on the loop
// thread. The two share only the whitelist description handed to the
// export (behind its mutex) and read-only map fds.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "../pin/pin_dir.hpp"
#include "config/options.hpp"
#include "engine/attach.hpp"
#include "engine/datapath.hpp"
#include "engine/harvester.hpp"
#include "harvest_observer.hpp"
#include "kernel_counter_source.hpp"
#include "ledger/json_export.hpp"
#include "ledger/ledger.hpp"
#include "ledger/sqlite_store.hpp"
#include "whitelist_service.hpp"

namespace netacct {

class Instance {
 public:
  explicit Instance(DaemonOptions options, Clock clock = system_clock_seconds);
  ~Instance();
  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;

  // Refusals come first, before anything is created: output, ledger,
  // interface, whitelist. Then the ledger (seeded from an earlier release's
  // file on upgrade), pins and maps, crash recovery, whitelist, attach.
  // A start refused after that point is rolled back (rollback()): the
  // system is left as this start found it.
  Result<void> open();

  // Pool thread. One harvest; then the JSON export if `export_wanted` and
  // the export has something to say.
  HarvestReport harvest(bool export_wanted);

  // Loop thread.
  void reload_whitelist(WhitelistService::Trigger trigger);
  void set_whitelist_path(const std::string& path);
  // Re-attaches what is missing (an interface that came back); logs changes.
  void reconcile_attachments();
  // Notes where /metrics is served ("" = off) in the ledger, for `netacct
  // status`. Call before the first harvest (the loop thread, no harvest
  // running).
  void record_metrics(const std::string& address);
  void interface_removed();
  // --cleanup-on-exit: detach and unpin. Otherwise nothing: the programs
  // keep counting and the next start harvests what they counted.
  void shutdown(bool detach);

  const DaemonOptions& options() const { return options_; }
  uint32_t flow_capacity() const;
  const WhitelistService* whitelist() const { return whitelist_.get(); }
  const std::string& ledger_path() const { return options_.ledger_file; }
  // What counts ingress ("tc" or "xdp", after any fallback) and the XDP
  // mode ("native", "generic", "none"); valid after open().
  std::string ingress_mode() const { return source_info().ingress_mode; }
  std::string xdp_mode() const { return source_info().xdp_mode; }
  // The interface's ifindex in its namespace (0 when it is gone).
  uint32_t ifindex() const;

 private:
  Result<void> open_steps();
  // Undoes what open_steps() created, in reverse order, and only that:
  // attachments and a clsact qdisc this start made, pins and directories
  // that did not exist before it, a ledger it created. Pins, maps and
  // attachments of an earlier run (the adopted case) stay with their counts.
  void rollback();
  Result<void> check_output();
  Result<void> attach();
  XdpRequest xdp_request() const;
  SourceInfo source_info() const;

  DaemonOptions options_;
  Clock clock_;
  Interface interface_;
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<JsonExport> export_;
  std::optional<pin::PinDir> pin_dir_;
  std::unique_ptr<Datapath> datapath_;
  std::unique_ptr<Harvester> harvester_;
  std::unique_ptr<KernelCounterSource> source_;
  std::unique_ptr<Ledger> ledger_;
  std::unique_ptr<WhitelistService> whitelist_;
  // What open_steps() found before it changed anything (for rollback()).
  struct StartRecord {
    bool ledger_created = false;
    bool pins_recorded = false;
    std::vector<std::string> pins_before;
    bool attach_recorded = false;
    AttachStatus attach_before;
  };
  StartRecord start_;
  AttachReport attach_report_;
  LinkType link_;
  bool attached_ = false;
  int64_t last_harvest_ms_ = 0;
};

}  // namespace netacct
