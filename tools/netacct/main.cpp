// SPDX-License-Identifier: GPL-2.0-only
// netacct: the operator's command. `netacct status` lists every tag on
// this host. (The history queries of the ledger will live here too.)
#include <getopt.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <string>
#include <vector>

#include "daemon/common/version.hpp"
#include "daemon/config/options.hpp"
#include "pin/pin_dir.hpp"
#include "report.hpp"
#include "status.hpp"
#include "top.hpp"

namespace {

const char* kUsage = R"(Usage: netacct status [--json] [--state-dir DIR] [--pin-base DIR]
       netacct report [--tag T] [--by total|local|remote|protocol|flow|prefix/N]
                      [--period 5min|hour|day|month]
                      [--since T [--until T] | --month YYYY-MM | --last N(m|h|d)]
                      [--top N] [--format table|json|csv]
       netacct tags [--json]
       netacct top [--tag T] [--refresh S] [--once]

  report    traffic per period from the ledger's history (read-only, safe
            while netacctd runs). Bins are whole and in local time; a harvest
            belongs to the bin of its instant. Defaults: --by total,
            --period day, the last 31 days (24 h per hour, 2 h per 5min,
            366 days per month). 5min holds per-tag totals only.
  tags      every tag with a ledger: interface, lifetime totals, last harvest.
  top       the busiest flows of the last harvest by rate (bytes/s, packets/s),
            redrawn in place every S seconds (default 1); q quits. Not on a
            terminal, or with --once: one frame.

  status    one line per netacct tag on this host: interface@namespace,
            ingress mode, state (running, counting, leftover, stopped), pid,
            metrics address, age of the last harvest, flows in the buffer at
            the last harvest / capacity, and netacct-health's verdict.
            counting = no netacctd runs but the programs count (by design:
            the next start harvests it); leftover = pinned but not counting.

Options:
  -j, --json            one JSON object {"tags": [...]}
      --state-dir DIR   where ledgers live (default /var/lib/netacct, logs/ in a checkout)
      --pin-base DIR    pin root (default /sys/fs/bpf/netacct)
  -V, --version         print the version
  -h, --help            this help

Exit status: 0 listed, 2 bad usage.
)";

int usage_error(const std::string& message) {
  std::fprintf(stderr, "netacct: %s\nTry 'netacct --help'.\n", message.c_str());
  return 2;
}

std::string own_directory() {
  char path[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
  if (n <= 0) return ".";
  std::string self(path, static_cast<size_t>(n));
  return self.substr(0, self.rfind('/'));
}

}  // namespace

int main(int argc, char** argv) {
  enum { kStateDir = 1000, kPinBase };
  static const option long_options[] = {
      {"json", no_argument, nullptr, 'j'},
      {"state-dir", required_argument, nullptr, kStateDir},
      {"pin-base", required_argument, nullptr, kPinBase},
      {"version", no_argument, nullptr, 'V'},
      {"help", no_argument, nullptr, 'h'},
      {nullptr, 0, nullptr, 0},
  };
  bool as_json = false;
  netacct::status::Settings settings;
  opterr = 0;
  // '+': options stop at the command word; status's own come after it and
  // are read by a second pass; report's and tags' are theirs to parse.
  auto parse_options = [&]() -> int {
    int c;
    while ((c = getopt_long(argc, argv, "+:jVh", long_options, nullptr)) != -1) {
      switch (c) {
        case 'j': as_json = true; break;
        case kStateDir: settings.state_dir = optarg; break;
        case kPinBase: settings.pin_base = optarg; break;
        case 'V': std::printf("netacct %s\n", netacct::kVersion); return 0;
        case 'h': std::fputs(kUsage, stdout); return 0;
        case ':':
          return usage_error("option '" + std::string(argv[optind - 1]) + "' needs a value");
        default: return usage_error("unknown option '" + std::string(argv[optind - 1]) + "'");
      }
    }
    return -1;
  };
  if (int done = parse_options(); done >= 0) return done;
  if (optind >= argc) return usage_error("no command given (try 'netacct status')");
  std::string command = argv[optind];
  if (command == "report" || command == "tags" || command == "top") {
    // Their own options follow the command word; --state-dir may be given
    // before it (parsed above) or among them.
    std::vector<std::string> rest;
    for (int i = optind + 1; i < argc; i++) {
      std::string arg = argv[i];
      if (arg == "--state-dir" && i + 1 < argc)
        settings.state_dir = argv[++i];
      else
        rest.push_back(arg);
    }
    if (settings.state_dir.empty()) settings.state_dir = netacct::default_state_dir();
    if (command == "top") return netacct::top::top_command(rest, settings.state_dir);
    return command == "report" ? netacct::report::report_command(rest, settings.state_dir)
                               : netacct::report::tags_command(rest, settings.state_dir);
  }
  if (command != "status") return usage_error("unknown command '" + command + "'");
  optind++;
  if (int done = parse_options(); done >= 0) return done;
  if (optind < argc) return usage_error("too many arguments: '" + std::string(argv[optind]) + "'");
  if (settings.state_dir.empty()) settings.state_dir = netacct::default_state_dir();
  if (settings.pin_base.empty()) settings.pin_base = netacct::pin::kDefaultBase;
  settings.health_tool = own_directory() + "/netacct-health";
  auto tags = netacct::status::collect(settings);
  std::string text =
      as_json ? netacct::status::render_json(tags) : netacct::status::render_table(tags);
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}
