// SPDX-License-Identifier: GPL-2.0-only
// netacct-multi: the seed's multi-instance manager. Validates the whole
// config, then runs one netacctd per instance under a Supervisor, or with
// --summary-only prints the combined summary once from the output files.
#include <getopt.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>

#include "daemon/common/json_file.hpp"
#include "daemon/common/log.hpp"
#include "daemon/common/time_text.hpp"
#include "daemon/common/version.hpp"
#include "daemon/config/examples.hpp"
#include "multi_config.hpp"
#include "summary.hpp"
#include "supervisor.hpp"

namespace {

using namespace netacct;
using namespace netacct::multi;

constexpr int kConfigExit = 2;

const char* kUsage = R"(Usage: netacct-multi [OPTIONS] CONFIG
       netacct-multi --summary-only [--json] CONFIG
       netacct-multi --create-example [CONFIG]

Runs one netacctd per instance of CONFIG (the seed's {"instances": [...]}
format, each instance as for 'netacctd --config'), restarts a crashed one
with backoff (1 s doubling to 30 s; reset after 60 s of running), and prints
a combined summary when something changed (and at least every
--summary-interval). Instance i without its own "metrics_listen" serves
/metrics on 127.0.0.1:(--metrics-base-port + i). SIGINT/SIGTERM stop every instance (each
does its final harvest) and exit 0. The whole config is validated first;
any error is one line and exit status 2.

Exit status: 0 stopped cleanly; 1 runtime failure; 2 usage or
configuration error (as for netacctd and netacct-cleanup).

Options:
  -d, --debug           debug lines here, and --debug for every netacctd
  -s, --summary-only    print the combined summary of the ledgers once and exit
      --create-example  write the example config to CONFIG (default
                        config/multi_accounting_config.json); never overwrites
  -j, --json            summaries as one JSON object per line
  -i, --interval S      how often the ledgers are read (default: smallest instance interval, >= 1 s)
      --summary-interval S
                        print the summary at least this often, also unchanged (default 60)
      --metrics-base-port P
                        first port of the instances' /metrics (default 9464)
      --stop-timeout S  how long to wait for instances to stop before SIGKILL (default 20)
      --netacctd PATH   the daemon to run (default: netacctd next to this binary)
      --log-dir DIR     where bare output file names go (default as netacctd)
      --config-dir DIR  where bare whitelist file names go (default as netacctd)
  -V, --version         print the version
  -h, --help            this help

Examples:
  netacct-multi config/multi_accounting_config.json
  netacct-multi --summary-only /etc/netacct/multi_accounting_config.json
  netacct-multi --create-example
)";

struct CliOptions {
  std::string config;
  bool debug = false;
  bool summary_only = false;
  bool create_example = false;
  bool json = false;
  double interval = 0;
  double summary_interval = 60;
  double stop_timeout = 20;
  std::string netacctd;
  ConfigDefaults defaults;
};

int usage_error(const std::string& text) {
  std::fprintf(stderr, "netacct-multi: %s\nTry 'netacct-multi --help'.\n", text.c_str());
  return kConfigExit;
}

bool parse_seconds(const char* text, double low, double high, double& out) {
  char* end = nullptr;
  double value = std::strtod(text, &end);
  if (!*text || *end != '\0' || !std::isfinite(value) || value < low || value > high) return false;
  out = value;
  return true;
}

std::string own_directory() {
  char exe[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return ".";
  std::string path(exe, static_cast<size_t>(n));
  return path.substr(0, path.rfind('/'));
}

int create_example(const CliOptions& cli) {
  std::string path = cli.config.empty() ? default_multi_config_path() : cli.config;
  if (::access(path.c_str(), F_OK) == 0) {
    std::fprintf(stderr, "netacct-multi: %s exists; not overwritten\n", path.c_str());
    return 1;
  }
  std::string dir = path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/'));
  if (!dir.empty()) ::mkdir(dir.c_str(), 0755);
  if (auto written = write_file_atomic(path, example_multi_config()); !written) {
    std::fprintf(stderr, "netacct-multi: %s\n", written.error().message().c_str());
    return 1;
  }
  std::printf("wrote %s\n", path.c_str());
  return 0;
}

int summary_only(const MultiConfig& config, bool json) {
  std::vector<std::string> ledgers;
  for (const Instance& instance : config.instances) ledgers.push_back(instance.options.ledger_file);
  std::vector<SourceReading> readings = read_sources(ledgers);
  std::vector<SummaryRow> rows;
  for (size_t i = 0; i < config.instances.size(); i++) {
    const DaemonOptions& opts = config.instances[i].options;
    SummaryRow row;
    row.tag = opts.tag;
    row.interface = opts.interface;
    row.netns = opts.netns;
    row.state = observed_state(opts.tag, opts.pin_base);
    row.metrics = opts.metrics ? opts.metrics_listen : "off";
    row.reading = readings[i];
    rows.push_back(std::move(row));
  }
  std::string text = json ? render_json(rows)
                          : render_table(rows, "netacct summary of " + config.path + " at " +
                                                   format_time(std::time(nullptr)));
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  enum {
    kCreateExample = 1000,
    kStopTimeout,
    kNetacctd,
    kLogDir,
    kConfigDir,
    kSummaryInterval,
    kMetricsBasePort
  };
  static const option long_options[] = {
      {"debug", no_argument, nullptr, 'd'},
      {"summary-only", no_argument, nullptr, 's'},
      {"create-example", no_argument, nullptr, kCreateExample},
      {"json", no_argument, nullptr, 'j'},
      {"interval", required_argument, nullptr, 'i'},
      {"stop-timeout", required_argument, nullptr, kStopTimeout},
      {"netacctd", required_argument, nullptr, kNetacctd},
      {"log-dir", required_argument, nullptr, kLogDir},
      {"config-dir", required_argument, nullptr, kConfigDir},
      {"version", no_argument, nullptr, 'V'},
      {"help", no_argument, nullptr, 'h'},
      {"summary-interval", required_argument, nullptr, kSummaryInterval},
      {"metrics-base-port", required_argument, nullptr, kMetricsBasePort},
      {nullptr, 0, nullptr, 0},
  };
  CliOptions cli;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, ":dsji:Vh", long_options, nullptr)) != -1) {
    switch (c) {
      case 'd': cli.debug = true; break;
      case 's': cli.summary_only = true; break;
      case 'j': cli.json = true; break;
      case kCreateExample: cli.create_example = true; break;
      case 'i':
        if (!parse_seconds(optarg, 0.1, 86400, cli.interval))
          return usage_error("--interval: '" + std::string(optarg) +
                             "' must be seconds in 0.1..86400");
        break;
      case kStopTimeout:
        if (!parse_seconds(optarg, 0.1, 3600, cli.stop_timeout))
          return usage_error("--stop-timeout: '" + std::string(optarg) +
                             "' must be seconds in 0.1..3600");
        break;
      case kNetacctd: cli.netacctd = optarg; break;
      case kSummaryInterval:
        if (!parse_seconds(optarg, 0.1, 86400, cli.summary_interval))
          return usage_error("--summary-interval: '" + std::string(optarg) +
                             "' must be seconds in 0.1..86400");
        break;
      case kMetricsBasePort: {
        double port = 0;
        if (!parse_seconds(optarg, 1, 65000, port) || port != static_cast<int>(port))
          return usage_error("--metrics-base-port: '" + std::string(optarg) +
                             "' must be a port in 1..65000");
        cli.defaults.metrics_base_port = static_cast<int>(port);
        break;
      }
      case kLogDir: cli.defaults.log_dir = optarg; break;
      case kConfigDir: cli.defaults.config_dir = optarg; break;
      case 'V': std::printf("netacct-multi %s\n", kVersion); return 0;
      case 'h': std::fputs(kUsage, stdout); return 0;
      case ':': return usage_error("option '" + std::string(argv[optind - 1]) + "' needs a value");
      default: return usage_error("unknown option '" + std::string(argv[optind - 1]) + "'");
    }
  }
  if (argc - optind > 1)
    return usage_error("too many arguments: '" + std::string(argv[optind + 1]) + "'");
  if (argc - optind == 1) cli.config = argv[optind];
  if (cli.create_example) return create_example(cli);
  if (cli.config.empty()) return usage_error("no CONFIG given");

  auto loaded = load_multi_config(cli.config, cli.defaults);
  if (!loaded) {
    std::fprintf(stderr, "netacct-multi: %s\n", loaded.error().message().c_str());
    return kConfigExit;
  }
  if (cli.summary_only) return summary_only(loaded.value(), cli.json);

  SupervisorOptions options;
  options.netacctd = cli.netacctd.empty() ? own_directory() + "/netacctd" : cli.netacctd;
  if (::access(options.netacctd.c_str(), X_OK) != 0) {
    std::fprintf(stderr,
                 "netacct-multi: netacctd not found at %s (build it, or use --netacctd PATH)\n",
                 options.netacctd.c_str());
    return 1;
  }
  options.debug = cli.debug;
  options.json = cli.json;
  options.poll_interval = cli.interval;
  options.summary_interval = cli.summary_interval;
  options.stop_timeout_ms = static_cast<uint64_t>(std::llround(cli.stop_timeout * 1000));
  log::set_tag("multi");
  log::set_level(cli.debug ? log::Level::Debug : log::Level::Info);
  Supervisor supervisor(std::move(loaded.value()), options);
  return supervisor.run();
}
