// SPDX-License-Identifier: GPL-2.0-only
// netacct-health: a Nagios-style check of one netacct tag. Prints one status
// line; exits 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (usage errors too).
#include <getopt.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "daemon/common/log.hpp"
#include "daemon/common/version.hpp"
#include "daemon/config/options.hpp"
#include "daemon/engine/libbpf_log.hpp"
#include "daemon/ledger/ledger_reader.hpp"
#include "health.hpp"
#include "pin/pin_dir.hpp"

namespace {

const char* kUsage = R"(Usage: netacct-health [OPTIONS] TAG
       netacct-health --config FILE [OPTIONS]

Checks one netacct tag and prints one Nagios-style status line:
  - the maps are pinned (/sys/fs/bpf/netacct/TAG) and a netacctd holds the tag,
  - the programs are attached (ingress: tc or XDP, and tc egress), on the
    interface the ledger names, or found by scanning the host and every
    named network namespace,
  - flow-map utilisation (entries of the fuller flow buffer vs capacity),
  - freshness: the time of the last harvest the ledger committed (every
    harvest commits, also when nothing was counted).

Options:
  -l, --ledger FILE     the tag's ledger (default STATE_DIR/TAG.db)
      --state-dir DIR   where ledgers live (default /var/lib/netacct, logs/ in a checkout)
  -c, --config FILE     an instance config (/etc/netacct/TAG.json): tag and ledger
  -a, --max-age S       a last harvest older than S seconds is CRITICAL (default 300)
  -w, --warn-util P     WARNING at P % flow-map utilisation (default 80)
  -C, --crit-util P     CRITICAL at P % (default 95)
      --pin-base DIR    pin root (default /sys/fs/bpf/netacct)
  -V, --version         print the version
  -h, --help            this help

Exit status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (bad usage).

EXAMPLES:
  netacct-health eth0 --ledger /var/lib/netacct/eth0.db
  netacct-health --config /etc/netacct/eth0.json --max-age 60
  netacct-health blue-veth0 --warn-util 70 --crit-util 90
)";

int usage_error(const std::string& message) {
  std::printf("NETACCT UNKNOWN - %s\n", message.c_str());
  std::fprintf(stderr, "netacct-health: %s\nTry 'netacct-health --help'.\n", message.c_str());
  return netacct::health::kUnknown;
}

bool parse_number(const char* text, double min, double max, double& out) {
  char* end = nullptr;
  double value = std::strtod(text, &end);
  if (!*text || *end != '\0' || !std::isfinite(value) || value < min || value > max) return false;
  out = value;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace netacct;
  enum { kPinBase = 1000, kStateDir };
  static const option long_options[] = {
      {"ledger", required_argument, nullptr, 'l'},
      {"state-dir", required_argument, nullptr, kStateDir},
      {"config", required_argument, nullptr, 'c'},
      {"max-age", required_argument, nullptr, 'a'},
      {"warn-util", required_argument, nullptr, 'w'},
      {"crit-util", required_argument, nullptr, 'C'},
      {"pin-base", required_argument, nullptr, kPinBase},
      {"version", no_argument, nullptr, 'V'},
      {"help", no_argument, nullptr, 'h'},
      {nullptr, 0, nullptr, 0},
  };
  health::Settings settings;
  settings.pin_base = pin::kDefaultBase;
  std::string config, state_dir;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, ":l:c:a:w:C:Vh", long_options, nullptr)) != -1) {
    switch (c) {
      case 'l': settings.ledger = optarg; break;
      case kStateDir: state_dir = optarg; break;
      case 'c': config = optarg; break;
      case 'a':
        if (!parse_number(optarg, 1, 1e7, settings.max_age))
          return usage_error(std::string("--max-age '") + optarg + "' must be seconds in 1..1e7");
        break;
      case 'w':
      case 'C': {
        double& slot = c == 'w' ? settings.warn_util : settings.crit_util;
        if (!parse_number(optarg, 0, 100, slot))
          return usage_error(std::string(c == 'w' ? "--warn-util '" : "--crit-util '") + optarg +
                             "' must be a percentage in 0..100");
        break;
      }
      case kPinBase: settings.pin_base = optarg; break;
      case 'V': std::printf("netacct-health %s\n", kVersion); return 0;
      case 'h': std::fputs(kUsage, stdout); return 0;
      case ':': return usage_error(std::string("option '") + argv[optind - 1] + "' needs a value");
      default: return usage_error(std::string("unknown option '") + argv[optind - 1] + "'");
    }
  }
  if (argc - optind > 1) return usage_error("one TAG only");
  if (optind < argc) settings.tag = argv[optind];
  if (!config.empty()) {
    DaemonOptions options;
    auto applied = apply_instance_config(config, options);
    if (applied && options.tag.empty()) options.tag = settings.tag;
    if (applied) applied = finalize_options(options);
    if (!applied) return usage_error(applied.error().message());
    if (!settings.tag.empty() && settings.tag != options.tag)
      return usage_error("TAG '" + settings.tag + "' differs from the config's tag '" +
                         options.tag + "'");
    settings.tag = options.tag;
    if (settings.ledger.empty()) settings.ledger = options.ledger_file;
  }
  if (settings.tag.empty()) return usage_error("no TAG given");
  if (std::string reason = pin::tag_error(settings.tag); !reason.empty())
    return usage_error(reason);
  if (settings.ledger.empty())
    settings.ledger =
        ledger_path(state_dir.empty() ? default_state_dir() : state_dir, settings.tag);
  if (settings.warn_util > settings.crit_util)
    return usage_error("--warn-util must not exceed --crit-util");

  log::set_level(log::Level::Error);
  route_libbpf_to_log(false);
  health::Report report = health::run_checks(settings);
  std::printf("%s\n", report.line().c_str());
  return report.state;
}
