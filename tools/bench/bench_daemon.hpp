// SPDX-License-Identifier: GPL-2.0-only
// The daemon's user-space side at scale: the ledger protocol, the SQLite
// store and the JSON export, exactly as netacctd runs them, fed by a
// synthetic counter source (the kernel's side is measured by the harvest
// rows of the main benchmark). Each scenario runs in a fresh process
// (this binary re-executed), so its peak RSS is its own.
#pragma once

#include <string>

namespace netacct::bench {

struct DaemonFigures {
  // 65,536 remotes in history, then idle intervals.
  double idle_harvest_cpu_ms = 0;
  double idle_harvest_write_bytes = 0;
  double idle_hwm_mib = 0;
  // 1,000,000 remotes in history, 65,536 new or changed flows per harvest.
  double commit_ms = 0;  // Ledger::harvest: read delta + one transaction
  double export_ms = 0;  // one JSON export of the period
  double export_rows_per_s = 0;
  double export_rss_growth_mib = 0;  // VmRSS after the export minus before
  double harvest_user_ms = 0;        // commit + export, when a harvest also exports
  double startup_ms = 0;             // open ledger + export state + recover + metrics seed
  double hwm_mib = 0;
  double history_build_s = 0;  // informational: building the 1M history
};

// Runs both scenarios as child processes of this binary.
DaemonFigures measure_daemon(const std::string& self_path);

// The child side: `netacct-bench --daemon-scenario NAME` runs one scenario
// and prints its figures as "key=value" lines. Returns the exit code.
int run_daemon_scenario(const std::string& name);

}  // namespace netacct::bench
