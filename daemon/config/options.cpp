// SPDX-License-Identifier: GPL-2.0-only
#include "options.hpp"

#include <getopt.h>
#include <net/if.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <set>

#include "../../pin/pin_dir.hpp"
#include "../common/json_file.hpp"
#include "../common/listen_address.hpp"

namespace netacct {

namespace json = boost::json;

std::string usage_text() {
  return R"(Usage: netacctd [OPTIONS] IFACE [OUTPUT [WHITELIST]]
       netacctd --config FILE [OPTIONS]
       netacctd --list-all | --create-examples | --version | --help

Counts the bytes and packets each (local IP, remote IP, protocol) pair sends
and receives on IFACE, keeps the totals in a ledger database (SQLite) and
exports the current period (since the last rotation) to OUTPUT (JSON).

Options:
  --xdp[=MODE]          count ingress with XDP (default: TC ingress). Without MODE:
                        native XDP, or TC ingress (logged) where the driver has no
                        native XDP or the device has no link-layer header;
                        =native: refuse instead; =generic: generic (skb) XDP, which
                        counts a GRO-merged packet once (see the README)
  --xdp-generic         the same as --xdp=generic
  -n, --namespace NS    IFACE lives in network namespace NS (name or path)
  -t, --tag TAG         instance tag [a-z0-9_-]{1,32} (default: from NS and IFACE)
  -i, --interval S      harvest interval in seconds (default 5)
  -d, --debug[=libbpf]  debug logging (=libbpf: also libbpf's loader detail); the table too
      --console=MODE    the table of each interval: live (redrawn in place, on a terminal),
                        plain (scrolling), off; default: live on a terminal, plain with
                        --debug, else off
      --no-console      the same as --console=off
      --quota SPEC      a byte limit per local address or prefix per day or month, e.g.
                        10.0.0.0/24:month:50G (repeatable); crossing it is logged once per
                        period, shown in /metrics and runs --quota-command
      --quota-command CMD
                        run as: sh -c CMD netacct-quota LOCAL PERIOD PERIOD_START USED LIMIT
                        (bounded to 10 s)
      --retention LIST  history kept per level, e.g. 5min=48h,hour=14d,day=400d,month=forever
                        (those are the defaults)
  -c, --config FILE     read one instance object (multi_accounting_config.json format)
      --max-flows N     flow capacity (default 65536)
      --max-whitelist N whitelist prefixes (default 16384); a whitelist file with more
                        entries, or larger than 128 bytes an entry + 1 MiB, is refused
      --file-mode MODE  permissions of the OUTPUT file and a new ledger (default 0640)
      --keep-capabilities
                        keep every capability for the daemon's life (default: drop those
                        only the start needs, see SECURITY.md)
      --max-prefix-rows N
                        rows of the prefix buffer: flows that find the flow buffer full
                        are counted per (local, remote prefix, protocol) (default 4096)
      --overflow-prefix-v4 N, --overflow-prefix-v6 N
                        remote prefix length of those rows (default 24 and 48)
      --log-file FILE   log here instead of stderr (reopened on SIGUSR1)
      --log-dir DIR     where bare OUTPUT names go
      --state-dir DIR   where the ledger database TAG.db lives (default: the log dir)
      --ledger FILE     the ledger database itself (default: STATE_DIR/TAG.db)
      --json-interval S write OUTPUT at most every S seconds (default: the harvest interval);
                        a harvest that changed nothing never rewrites it
      --json-max-idle-days N
                        in OUTPUT, fold flows idle N days into one row per (local, protocol)
                        with remote "*"; sums stay exact, the ledger keeps every row (default off)
      --config-dir DIR  where bare WHITELIST names go
      --pin-base DIR    pin root (default /sys/fs/bpf/netacct)
      --cleanup-on-exit detach and unpin on exit (default: keep counting)
      --metrics-listen ADDR:PORT
                        serve Prometheus metrics at http://ADDR:PORT/metrics
                        (default 127.0.0.1:9464; [::1]:PORT for IPv6)
      --no-metrics      do not serve /metrics
      --metrics-top-flows N
                        also export the top N flows by bytes (default 0 = off)
      --ipfix [udp:|tcp:]HOST:PORT
                        after every harvest, send its flows and buckets as IPFIX records
                        to this collector (repeatable; [IPV6]:PORT); never blocks a harvest
      --ipfix-template-refresh S
                        UDP: resend the templates at least every S seconds (default 600)
      --list-all        list interfaces of the host and every named namespace
      --create-examples write example whitelist and multi-instance config
  -V, --version         print the version
  -h, --help            this help

Signals: TERM/INT final harvest and exit (programs stay attached unless
--cleanup-on-exit), USR1 reopen output and log (logrotate), HUP reload.

Exit status: 0 stopped cleanly; 1 runtime failure (a refused start leaves
nothing behind; a failure while running); 2 usage or configuration error.

Examples:
  netacctd veth0
  netacctd --xdp --namespace blue veth1 blue.json
  netacctd --config /etc/netacct/eth0.json
)";
}

static std::string env_or(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value && *value ? value : fallback;
}

// A checkout: the binary is <repo>/build/bin/netacctd (or under build/).
static std::string checkout_root() {
  char exe[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return {};
  std::string path(exe, static_cast<size_t>(n));
  auto at = path.rfind("/build/");
  if (at == std::string::npos) return {};
  std::string root = path.substr(0, at);
  if (::access((root + "/Makefile").c_str(), F_OK) != 0) return {};
  if (::access((root + "/bpf/netacct.bpf.c").c_str(), F_OK) != 0) return {};
  return root;
}

std::string default_log_dir() {
  std::string root = checkout_root();
  return env_or("NETACCT_LOG_DIR", root.empty() ? "/var/lib/netacct" : root + "/logs");
}

Result<void> parse_retention(const std::string& text, Retention& retention) {
  std::string rest = text;
  while (!rest.empty()) {
    auto comma = rest.find(',');
    std::string item = rest.substr(0, comma);
    rest = comma == std::string::npos ? "" : rest.substr(comma + 1);
    auto equals = item.find('=');
    std::string level = item.substr(0, equals);
    std::string value = equals == std::string::npos ? "" : item.substr(equals + 1);
    int64_t* slot = level == "5min"    ? &retention.five_minutes
                    : level == "hour"  ? &retention.hour
                    : level == "day"   ? &retention.day
                    : level == "month" ? &retention.month
                                       : nullptr;
    if (!slot || value.empty())
      return Error{"retention '" + item +
                       "': expected LEVEL=DURATION with LEVEL 5min, hour, day or "
                       "month (e.g. hour=14d)",
                   0,
                   {}};
    if (value == "forever" || value == "0") {
      *slot = 0;
      continue;
    }
    char* end = nullptr;
    long long amount = std::strtoll(value.c_str(), &end, 10);
    int64_t unit = *end == 'm' ? 60 : *end == 'h' ? 3600 : *end == 'd' ? 86400 : 0;
    if (amount <= 0 || unit == 0 || end[1] != '\0')
      return Error{"retention '" + item +
                       "': the duration must be N followed by m, h or d, or "
                       "'forever'",
                   0,
                   {}};
    *slot = amount * unit;
  }
  return ok();
}

std::string default_state_dir(const std::string& log_dir) {
  return env_or("NETACCT_STATE_DIR", log_dir.empty() ? default_log_dir() : log_dir);
}

std::string default_config_dir() {
  std::string root = checkout_root();
  return env_or("NETACCT_CONFIG_DIR", root.empty() ? "/etc/netacct" : root + "/config");
}

std::string resolve_path(const std::string& name, const std::string& dir) {
  if (name.empty() || name.find('/') != std::string::npos) return name;
  return dir + "/" + name;
}

std::string derive_tag(const std::string& netns, const std::string& interface) {
  std::string base = netns;
  if (auto slash = base.rfind('/'); slash != std::string::npos) base = base.substr(slash + 1);
  std::string raw = base.empty() ? interface : base + "-" + interface;
  std::string tag;
  for (char c : raw) {
    char lower = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    bool ok = (lower >= 'a' && lower <= 'z') || (lower >= '0' && lower <= '9') || lower == '_' ||
              lower == '-';
    tag += ok ? lower : '-';
  }
  if (tag.size() > 32) tag.resize(32);
  return tag;
}

static Result<double> parse_interval(const std::string& text, const std::string& where) {
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !std::isfinite(value) || value < 0.1 || value > 86400)
    return Error{
        where + ": interval '" + text + "' must be a number of seconds in 0.1..86400", 0, {}};
  return value;
}

static Result<uint32_t> parse_count(const std::string& text, const std::string& where,
                                    uint32_t max) {
  char* end = nullptr;
  errno = 0;
  unsigned long long value = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || value < 1 || value > max || text[0] == '-')
    return Error{where + ": '" + text + "' must be an integer in 1.." + std::to_string(max), 0, {}};
  return static_cast<uint32_t>(value);
}

static Result<uint32_t> parse_top_flows(const std::string& text, const std::string& where) {
  if (text == "0") return 0u;
  return parse_count(text, where, kMaxMetricsTopFlows);
}

// Checked here so a bad address is a usage error; bound by the daemon.
static Result<std::string> parse_metrics_listen(const std::string& text, const std::string& where) {
  if (auto parsed = parse_listen_address(text); !parsed)
    return Error{where + ": " + parsed.error().message(), 0, {}};
  return text;
}

Result<void> apply_instance_config(const std::string& path, DaemonOptions& opts) {
  auto parsed = read_json_file(path);
  if (!parsed) {
    Error error = parsed.error();
    if (error.err == ENOENT || error.err == EACCES) error.op = "config file " + path;
    return error;
  }
  const json::value& root = parsed.value();
  if (!root.is_object()) return Error{path + ": the config must be a JSON object", 0, {}};
  return apply_instance_object(root.get_object(), path, opts);
}

static Result<void> set_xdp_mode(const std::string& mode, DaemonOptions& opts) {
  if (mode != "" && mode != "auto" && mode != "native" && mode != "generic")
    return Error{"must be native or generic (or given alone), not '" + mode + "'", 0, {}};
  opts.xdp = true;
  opts.xdp_native = mode == "native";
  opts.xdp_generic = mode == "generic";
  return ok();
}

Result<void> apply_instance_object(const json::object& object, const std::string& path,
                                   DaemonOptions& opts) {
  static const std::set<std::string> known = {"tag",
                                              "namespace",
                                              "interface",
                                              "output_file",
                                              "whitelist_file",
                                              "xdp",
                                              "debug",
                                              "interval",
                                              "max_flows",
                                              "max_whitelist",
                                              "max_prefix_rows",
                                              "overflow_prefix_v4",
                                              "overflow_prefix_v6",
                                              "xdp_generic",
                                              "log_file",
                                              "object_file",
                                              "metrics",
                                              "metrics_listen",
                                              "metrics_top_flows",
                                              "state_dir",
                                              "ledger",
                                              "json_interval",
                                              "json_max_idle_days",
                                              "retention",
                                              "quotas",
                                              "quota_command",
                                              "ipfix",
                                              "ipfix_template_refresh"};
  for (const auto& member : object) {
    if (!known.count(std::string(member.key())))
      return Error{path + ": unknown key '" + std::string(member.key()) + "'", 0, {}};
  }
  auto field = [&](const char* name) -> const json::value* { return object.if_contains(name); };
  auto text = [&](const char* name, std::string& out, bool nullable) -> Result<void> {
    const json::value* v = field(name);
    if (!v) return ok();
    if (v->is_null() && nullable) {
      out.clear();
      return ok();
    }
    if (!v->is_string()) return Error{path + ": '" + name + "' must be a string", 0, {}};
    out = std::string(v->get_string());
    return ok();
  };
  auto flag = [&](const char* name, bool& out) -> Result<void> {
    const json::value* v = field(name);
    if (!v) return ok();
    if (!v->is_bool()) return Error{path + ": '" + name + "' must be true or false", 0, {}};
    out = v->get_bool();
    return ok();
  };
  for (auto result :
       {text("tag", opts.tag, false), text("namespace", opts.netns, true),
        text("interface", opts.interface, false), text("output_file", opts.output_file, false),
        text("whitelist_file", opts.whitelist_file, true), text("log_file", opts.log_file, true),
        text("state_dir", opts.state_dir, true), text("ledger", opts.ledger_file, true),
        flag("xdp_generic", opts.xdp_generic), flag("debug", opts.debug),
        flag("metrics", opts.metrics)}) {
    if (!result) return result.error();
  }
  if (const json::value* v = field("quotas")) {
    if (!v->is_array())
      return Error{path + ": 'quotas' must be an array such as [\"10.0.0.1:month:50G\"]", 0, {}};
    opts.quotas.clear();
    for (const json::value& item : v->get_array()) {
      if (!item.is_string()) return Error{path + ": 'quotas' entries must be strings", 0, {}};
      auto quota = parse_quota(std::string(item.get_string()));
      if (!quota) return Error{path + ": " + quota.error().message(), 0, {}};
      opts.quotas.push_back(quota.value());
    }
  }
  if (auto quota_command = text("quota_command", opts.quota_command, true); !quota_command)
    return quota_command.error();
  // "ipfix": "HOST:PORT" or ["udp:HOST:PORT", "tcp:HOST:PORT"].
  if (const json::value* v = field("ipfix")) {
    json::array list;
    if (v->is_string())
      list.push_back(*v);
    else if (v->is_array())
      list = v->get_array();
    else
      return Error{
          path + ": 'ipfix' must be a string or an array such as [\"10.0.0.9:4739\"]", 0, {}};
    opts.ipfix.clear();
    for (const json::value& item : list) {
      if (!item.is_string()) return Error{path + ": 'ipfix' entries must be strings", 0, {}};
      auto collector = parse_collector_address(std::string(item.get_string()));
      if (!collector) return Error{path + ": " + collector.error().message(), 0, {}};
      opts.ipfix.push_back(collector.value());
    }
  }
  if (const json::value* v = field("ipfix_template_refresh")) {
    if (!v->is_number()) return Error{path + ": 'ipfix_template_refresh' must be a number", 0, {}};
    auto refresh = parse_interval(json::serialize(*v), path + ": ipfix_template_refresh");
    if (!refresh) return refresh.error();
    opts.ipfix_template_refresh = refresh.value();
  }
  if (const json::value* v = field("retention")) {
    if (!v->is_string())
      return Error{path + ": 'retention' must be a string such as \"hour=14d,day=400d\"", 0, {}};
    if (auto parsed = parse_retention(std::string(v->get_string()), opts.retention); !parsed)
      return Error{path + ": " + parsed.error().message(), 0, {}};
  }
  // "xdp": true / false, or "native" / "generic" / "auto" (true).
  if (const json::value* v = field("xdp")) {
    bool bad_xdp = true;
    if (v->is_bool()) {
      opts.xdp = v->get_bool();
      bad_xdp = false;
    } else if (v->is_string()) {
      if (auto set = set_xdp_mode(std::string(v->get_string()), opts); set) bad_xdp = false;
    }
    if (bad_xdp)
      return Error{path + ": 'xdp' must be true, false, \"native\" or \"generic\"", 0, {}};
  }
  if (opts.xdp_generic) opts.xdp = true;
  if (const json::value* v = field("tag"); v && v->is_string() && v->get_string().empty())
    return Error{path + ": 'tag' must not be empty ([a-z0-9_-]{1,32})", 0, {}};
  if (const json::value* v = field("interval")) {
    if (!v->is_number()) return Error{path + ": 'interval' must be a number", 0, {}};
    auto interval = parse_interval(json::serialize(*v), path);
    if (!interval) return interval.error();
    opts.interval = interval.value();
  }
  for (auto [name, slot, max] :
       {std::tuple{"max_flows", &opts.max_flows, 16u << 20},
        std::tuple{"max_whitelist", &opts.max_whitelist, 1u << 20},
        std::tuple{"max_prefix_rows", &opts.max_prefix_rows, 1u << 20},
        std::tuple{"overflow_prefix_v4", &opts.overflow_prefix_v4, 32u},
        std::tuple{"overflow_prefix_v6", &opts.overflow_prefix_v6, 128u}}) {
    if (const json::value* v = field(name)) {
      if (!v->is_number())
        return Error{path + ": '" + std::string(name) + "' must be an integer", 0, {}};
      auto count = parse_count(json::serialize(*v), path + ": " + name, max);
      if (!count) return count.error();
      *slot = count.value();
    }
  }
  if (const json::value* v = field("json_interval")) {
    if (!v->is_number()) return Error{path + ": 'json_interval' must be a number", 0, {}};
    auto interval = parse_interval(json::serialize(*v), path + ": json_interval");
    if (!interval) return interval.error();
    opts.json_interval = interval.value();
  }
  if (const json::value* v = field("json_max_idle_days")) {
    if (!v->is_number()) return Error{path + ": 'json_max_idle_days' must be an integer", 0, {}};
    auto days = parse_count(json::serialize(*v), path + ": json_max_idle_days", 36500);
    if (!days) return days.error();
    opts.json_max_idle_days = days.value();
  }
  if (const json::value* v = field("metrics_listen")) {
    if (!v->is_string()) return Error{path + ": 'metrics_listen' must be a string", 0, {}};
    auto listen = parse_metrics_listen(std::string(v->get_string()), path + ": metrics_listen");
    if (!listen) return listen.error();
    opts.metrics_listen = listen.value();
    opts.metrics_listen_set = true;
  }
  if (const json::value* v = field("metrics_top_flows")) {
    if (!v->is_number()) return Error{path + ": 'metrics_top_flows' must be an integer", 0, {}};
    auto count = parse_top_flows(json::serialize(*v), path + ": metrics_top_flows");
    if (!count) return count.error();
    opts.metrics_top_flows = count.value();
  }
  return ok();
}

Result<DaemonOptions> parse_options(int argc, char** argv) {
  enum LongOnly {
    kMaxFlows = 1000,
    kMaxWhitelist,
    kLogFile,
    kLogDir,
    kConfigDir,
    kPinBase,
    kCleanupOnExit,
    kListAll,
    kCreateExamples,
    kXdpGeneric,
    kMetricsListen,
    kNoMetrics,
    kMetricsTopFlows,
    kStateDir,
    kLedger,
    kJsonInterval,
    kJsonMaxIdleDays,
    kConsole,
    kNoConsole,
    kRetention,
    kQuota,
    kQuotaCommand,
    kMaxPrefixRows,
    kOverflowPrefixV4,
    kOverflowPrefixV6,
    kIpfix,
    kIpfixTemplateRefresh,
    kFileMode,
    kKeepCapabilities
  };
  static const option long_options[] = {
      {"xdp", optional_argument, nullptr, 'x'},
      {"xdp-generic", no_argument, nullptr, kXdpGeneric},
      {"namespace", required_argument, nullptr, 'n'},
      {"tag", required_argument, nullptr, 't'},
      {"interval", required_argument, nullptr, 'i'},
      {"debug", optional_argument, nullptr, 'd'},
      {"config", required_argument, nullptr, 'c'},
      {"max-flows", required_argument, nullptr, kMaxFlows},
      {"max-whitelist", required_argument, nullptr, kMaxWhitelist},
      {"max-prefix-rows", required_argument, nullptr, kMaxPrefixRows},
      {"overflow-prefix-v4", required_argument, nullptr, kOverflowPrefixV4},
      {"overflow-prefix-v6", required_argument, nullptr, kOverflowPrefixV6},
      {"log-file", required_argument, nullptr, kLogFile},
      {"log-dir", required_argument, nullptr, kLogDir},
      {"config-dir", required_argument, nullptr, kConfigDir},
      {"pin-base", required_argument, nullptr, kPinBase},
      {"cleanup-on-exit", no_argument, nullptr, kCleanupOnExit},
      {"list-all", no_argument, nullptr, kListAll},
      {"create-examples", no_argument, nullptr, kCreateExamples},
      {"metrics-listen", required_argument, nullptr, kMetricsListen},
      {"no-metrics", no_argument, nullptr, kNoMetrics},
      {"metrics-top-flows", required_argument, nullptr, kMetricsTopFlows},
      {"state-dir", required_argument, nullptr, kStateDir},
      {"ledger", required_argument, nullptr, kLedger},
      {"json-interval", required_argument, nullptr, kJsonInterval},
      {"json-max-idle-days", required_argument, nullptr, kJsonMaxIdleDays},
      {"console", required_argument, nullptr, kConsole},
      {"no-console", no_argument, nullptr, kNoConsole},
      {"retention", required_argument, nullptr, kRetention},
      {"quota", required_argument, nullptr, kQuota},
      {"quota-command", required_argument, nullptr, kQuotaCommand},
      {"ipfix", required_argument, nullptr, kIpfix},
      {"ipfix-template-refresh", required_argument, nullptr, kIpfixTemplateRefresh},
      {"file-mode", required_argument, nullptr, kFileMode},
      {"keep-capabilities", no_argument, nullptr, kKeepCapabilities},
      {"version", no_argument, nullptr, 'V'},
      {"help", no_argument, nullptr, 'h'},
      {nullptr, 0, nullptr, 0},
  };

  // First pass: only --config, so the file is applied before the flags.
  DaemonOptions opts;
  std::string config;
  for (int i = 1; i < argc; i++) {
    std::string arg = argv[i];
    if ((arg == "--config" || arg == "-c") && i + 1 < argc) config = argv[i + 1];
    if (arg.rfind("--config=", 0) == 0) config = arg.substr(9);
  }
  if (!config.empty()) {
    if (auto applied = apply_instance_config(config, opts); !applied) return applied.error();
    opts.config_file = config;
  }

  // 0, not 1: glibc then re-initialises getopt completely. With 1 a parse
  // that stopped inside a cluster of short options ("-Qd": error at Q)
  // leaves getopt pointing into that argv, which the next parse reads
  // (found by tests/fuzz/fuzz_options: a use after free).
  optind = 0;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, ":xn:t:i:d::c:Vh", long_options, nullptr)) != -1) {
    std::string value = optarg ? optarg : "";
    switch (c) {
      case 'x':
        if (auto set = set_xdp_mode(value, opts); !set)
          return Error{"--xdp " + set.error().op, 0, {}};
        break;
      case kXdpGeneric: opts.xdp = opts.xdp_generic = true; break;
      case 'n': opts.netns = value; break;
      case 't':
        if (value.empty())
          return Error{"--tag: the tag must not be empty ([a-z0-9_-]{1,32})", 0, {}};
        opts.tag = value;
        break;
      case 'i': {
        auto interval = parse_interval(value, "--interval");
        if (!interval) return interval.error();
        opts.interval = interval.value();
        break;
      }
      case 'd':
        if (!value.empty() && value != "libbpf")
          return Error{"--debug=" + value + ": the only detail level is 'libbpf'", 0, {}};
        opts.debug = true;
        opts.debug_libbpf = value == "libbpf";
        break;
      case kConsole:
        if (value == "live")
          opts.console = ConsoleMode::Live;
        else if (value == "plain")
          opts.console = ConsoleMode::Plain;
        else if (value == "off")
          opts.console = ConsoleMode::Off;
        else if (value == "auto")
          opts.console = ConsoleMode::Auto;
        else
          return Error{"--console=" + value + ": expected live, plain, off or auto", 0, {}};
        break;
      case kNoConsole: opts.console = ConsoleMode::Off; break;
      case kQuota: {
        auto quota = parse_quota(value);
        if (!quota) return Error{"--quota: " + quota.error().message(), 0, {}};
        opts.quotas.push_back(quota.value());
        break;
      }
      case kQuotaCommand: opts.quota_command = value; break;
      case kIpfix: {
        auto collector = parse_collector_address(value);
        if (!collector) return Error{"--ipfix: " + collector.error().message(), 0, {}};
        opts.ipfix.push_back(collector.value());
        break;
      }
      case kIpfixTemplateRefresh: {
        auto refresh = parse_interval(value, "--ipfix-template-refresh");
        if (!refresh) return refresh.error();
        opts.ipfix_template_refresh = refresh.value();
        break;
      }
      case kFileMode: {
        char* end = nullptr;
        errno = 0;
        unsigned long mode = std::strtoul(value.c_str(), &end, 8);
        if (value.empty() || *end != '\0' || errno != 0 || mode > 0777 || (mode & 0600) != 0600)
          return Error{"--file-mode: '" + value +
                           "' is not an octal mode of at most 0777 that the owner can read and "
                           "write (e.g. 0640)",
                       0,
                       {}};
        opts.file_mode = static_cast<uint32_t>(mode);
        break;
      }
      case kKeepCapabilities: opts.keep_capabilities = true; break;
      case kRetention:
        if (auto parsed = parse_retention(value, opts.retention); !parsed)
          return Error{"--retention: " + parsed.error().message(), 0, {}};
        break;
      case kStateDir: opts.state_dir = value; break;
      case kLedger: opts.ledger_file = value; break;
      case kJsonInterval: {
        auto interval = parse_interval(value, "--json-interval");
        if (!interval) return interval.error();
        opts.json_interval = interval.value();
        break;
      }
      case kJsonMaxIdleDays: {
        auto days = parse_count(value, "--json-max-idle-days", 36500);
        if (!days) return days.error();
        opts.json_max_idle_days = days.value();
        break;
      }
      case 'c': break;  // applied above
      case kMaxFlows: {
        auto count = parse_count(value, "--max-flows", 16u << 20);
        if (!count) return count.error();
        opts.max_flows = count.value();
        break;
      }
      case kMaxPrefixRows:
      case kOverflowPrefixV4:
      case kOverflowPrefixV6: {
        const char* name = c == kMaxPrefixRows      ? "--max-prefix-rows"
                           : c == kOverflowPrefixV4 ? "--overflow-prefix-v4"
                                                    : "--overflow-prefix-v6";
        uint32_t max = c == kMaxPrefixRows ? 1u << 20 : c == kOverflowPrefixV4 ? 32u : 128u;
        auto count = parse_count(value, name, max);
        if (!count) return count.error();
        (c == kMaxPrefixRows      ? opts.max_prefix_rows
         : c == kOverflowPrefixV4 ? opts.overflow_prefix_v4
                                  : opts.overflow_prefix_v6) = count.value();
        break;
      }
      case kMaxWhitelist: {
        auto count = parse_count(value, "--max-whitelist", 1u << 20);
        if (!count) return count.error();
        opts.max_whitelist = count.value();
        break;
      }
      case kLogFile: opts.log_file = value; break;
      case kLogDir: opts.log_dir = value; break;
      case kConfigDir: opts.config_dir = value; break;
      case kPinBase: opts.pin_base = value; break;
      case kCleanupOnExit: opts.cleanup_on_exit = true; break;
      case kMetricsListen: {
        auto listen = parse_metrics_listen(value, "--metrics-listen");
        if (!listen) return listen.error();
        opts.metrics_listen = listen.value();
        opts.metrics_listen_set = true;
        opts.metrics = true;
        break;
      }
      case kNoMetrics: opts.metrics = false; break;
      case kMetricsTopFlows: {
        auto count = parse_top_flows(value, "--metrics-top-flows");
        if (!count) return count.error();
        opts.metrics_top_flows = count.value();
        break;
      }
      case kListAll: opts.action = Action::ListAll; break;
      case kCreateExamples: opts.action = Action::CreateExamples; break;
      case 'V': opts.action = Action::Version; break;
      case 'h': opts.action = Action::Help; break;
      case ':': return Error{"option '" + std::string(argv[optind - 1]) + "' needs a value", 0, {}};
      default: return Error{"unknown option '" + std::string(argv[optind - 1]) + "'", 0, {}};
    }
  }
  int positional = argc - optind;
  if (positional > 3)
    return Error{"too many arguments (expected IFACE [OUTPUT [WHITELIST]]): '" +
                     std::string(argv[optind + 3]) + "'",
                 0,
                 {}};
  if (positional >= 1) opts.interface = argv[optind];
  if (positional >= 2) opts.output_file = argv[optind + 1];
  if (positional >= 3) opts.whitelist_file = argv[optind + 2];
  return opts;
}

Result<void> finalize_options(DaemonOptions& opts) {
  if (opts.interface.empty())
    return Error{
        "no interface given (usage: netacctd [OPTIONS] IFACE [OUTPUT [WHITELIST]]; "
        "'make run' starts a demo)",
        0,
        {}};
  if (opts.interface.size() >= IFNAMSIZ || opts.interface.find('/') != std::string::npos)
    return Error{"interface name '" + opts.interface + "' is not valid", 0, {}};
  if (opts.tag.empty()) opts.tag = derive_tag(opts.netns, opts.interface);
  if (std::string reason = pin::tag_error(opts.tag); !reason.empty()) return Error{reason, 0, {}};
  if (opts.log_dir.empty()) opts.log_dir = default_log_dir();
  if (opts.config_dir.empty()) opts.config_dir = default_config_dir();
  if (opts.pin_base.empty()) opts.pin_base = pin::kDefaultBase;
  opts.output_file = resolve_path(opts.output_file, opts.log_dir);
  if (opts.state_dir.empty()) opts.state_dir = default_state_dir(opts.log_dir);
  if (opts.ledger_file.empty())
    opts.ledger_file = opts.state_dir + "/" + opts.tag + ".db";
  else
    opts.ledger_file = resolve_path(opts.ledger_file, opts.state_dir);
  if (!opts.whitelist_file.empty())
    opts.whitelist_file = resolve_path(opts.whitelist_file, opts.config_dir);
  if (opts.console == ConsoleMode::Auto)
    opts.console = ::isatty(STDOUT_FILENO) ? ConsoleMode::Live
                   : opts.debug            ? ConsoleMode::Plain
                                           : ConsoleMode::Off;
  return ok();
}

}  // namespace netacct
