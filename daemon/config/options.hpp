// SPDX-License-Identifier: GPL-2.0-only
// netacctd's settings: command line (the seed's flags and positional
// arguments), one instance object of multi_accounting_config.json, and the
// seed's path resolution (bare output names go to the log dir, bare
// whitelist names to the config dir).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "../../bpf/netacct_shared.h"
#include "../common/collector_address.hpp"
#include "../common/quota_spec.hpp"
#include "../common/result.hpp"
#include "../ledger/history.hpp"

namespace boost::json {
class object;
}

namespace netacct {

enum class Action { Run, Help, Version, ListAll, CreateExamples };

enum class ConsoleMode { Auto, Live, Plain, Off };

struct DaemonOptions {
  Action action = Action::Run;
  std::string interface;
  std::string netns;
  std::string tag;  // derived from interface/netns when empty
  std::string output_file = "traffic_stats.json";
  std::string whitelist_file = "whitelist.json";
  std::string config_file;
  std::string log_file;  // "" = stderr
  std::string log_dir;
  std::string state_dir;    // the ledger's directory ("" = the log dir)
  std::string ledger_file;  // "" = STATE_DIR/TAG.db
  std::string config_dir;
  std::string pin_base;
  // --xdp[=native|generic]: xdp alone falls back to TC ingress where native
  // XDP is unavailable; xdp_native refuses instead; xdp_generic forces
  // generic XDP (--xdp-generic is an alias of --xdp=generic).
  bool xdp = false;
  bool xdp_native = false;
  bool xdp_generic = false;
  bool debug = false;
  bool debug_libbpf = false;  // --debug=libbpf: libbpf's loader detail too
  bool cleanup_on_exit = false;
  // --console: the table of each interval. Auto: live on a terminal, plain
  // with --debug otherwise, else off. finalize() resolves Auto.
  ConsoleMode console = ConsoleMode::Auto;
  double interval = 5.0;
  double json_interval = 0;         // 0 = the harvest interval
  uint32_t json_max_idle_days = 0;  // 0 = no folding
  // Quotas (--quota, "quotas") and the command run once when one is crossed.
  std::vector<Quota> quotas;
  std::string quota_command;
  // History retention (--retention 5min=48h,hour=14d,day=400d,month=0).
  Retention retention;
  uint32_t max_flows = 65536;
  uint32_t max_whitelist = 16384;
  // Overflow with attribution: rows per prefix buffer and their remote
  // prefix lengths (--max-prefix-rows, --overflow-prefix-v4/-v6).
  uint32_t max_prefix_rows = NETACCT_DEFAULT_PREFIX_ROWS;
  uint32_t overflow_prefix_v4 = NETACCT_DEFAULT_PREFIX_V4;
  uint32_t overflow_prefix_v6 = NETACCT_DEFAULT_PREFIX_V6;
  // /metrics (daemon/metrics/): on by default, loopback only.
  bool metrics = true;
  std::string metrics_listen = "127.0.0.1:9464";
  bool metrics_listen_set = false;  // given explicitly: failing to bind it is an error
  uint32_t metrics_top_flows = 0;   // per-flow series for the top N flows; 0 = none
  // IPFIX export (daemon/export/): each harvest's delta to these collectors.
  std::vector<CollectorAddress> ipfix;
  double ipfix_template_refresh = 600;  // UDP: resend templates at least this often (s)
  // Permissions of the output file and of a ledger this start creates.
  uint32_t file_mode = 0640;
  // Keep every capability after the start (SECURITY.md lists what is dropped).
  bool keep_capabilities = false;
};

// Upper bound of --metrics-top-flows (two series per flow).
inline constexpr uint32_t kMaxMetricsTopFlows = 1000;

// "5min=48h,hour=14d,day=400d,month=forever": each level's retention (a
// number with m, h or d; 0 or "forever" keeps all); levels not named keep
// their defaults.
Result<void> parse_retention(const std::string& text, Retention& retention);

// Exit code for usage errors (bad flag or value).
inline constexpr int kUsageExit = 2;

// Parses argv; --config is applied first, flags given on the command line
// win over it. Errors are one line naming the flag, field or value.
Result<DaemonOptions> parse_options(int argc, char** argv);
// Reads one instance object (the seed's multi-instance format) into opts.
Result<void> apply_instance_config(const std::string& path, DaemonOptions& opts);
// The same rules for an object already parsed (netacct-multi's instances);
// `where` starts every error message ("multi.json: instances[1]").
Result<void> apply_instance_object(const boost::json::object& object, const std::string& where,
                                   DaemonOptions& opts);
// Fills tag, resolves the paths and validates everything that can be
// checked without touching the kernel.
Result<void> finalize_options(DaemonOptions& opts);

std::string usage_text();
// Default directories: a checkout's logs/ and config/ when run from one,
// else /var/lib/netacct and /etc/netacct (overridable by flags and the
// NETACCT_LOG_DIR / NETACCT_CONFIG_DIR environment variables).
std::string default_log_dir();
// The ledger's directory: $NETACCT_STATE_DIR, else the log directory.
std::string default_state_dir(const std::string& log_dir = "");
std::string default_config_dir();
// Resolves a file name the seed's way.
std::string resolve_path(const std::string& name, const std::string& dir);
// "eth0", "blue-veth0": a valid tag made of namespace and interface.
std::string derive_tag(const std::string& netns, const std::string& interface);

}  // namespace netacct
