// SPDX-License-Identifier: GPL-2.0-only
// netacct-cleanup: removes what netacctd leaves in the kernel on purpose
// (programs attached, maps pinned) for the given tags, or all tags.
// Wiring only: options -> clean_tag per tag -> exit code.
#include <getopt.h>

#include <cstdio>
#include <string>
#include <vector>

#include "cleanup.hpp"
#include "daemon/common/log.hpp"
#include "daemon/common/version.hpp"
#include "daemon/engine/libbpf_log.hpp"
#include "pin/pin_dir.hpp"

namespace {

const char* kUsage = R"(Usage: netacct-cleanup [OPTIONS] [TAG...]

Removes netacct's tc filters, XDP link and pinned maps/programs of each TAG
(every tag under the pin base when none is given), in the host and in every
named network namespace, also after a crash or when the interface or the
namespace is gone. Filters, programs and qdiscs that are not the tag's are
never touched: a filter is the tag's only if it sits at netacct's tc handle
and priority, runs netacct's program and uses the tag's pinned maps.

Options:
  -f, --force          also clean a tag a running netacctd holds
  -v, --verbose        say more (every engine step, every pinned object)
  -c, --config FILE    clean the tags of FILE (multi_accounting_config.json,
                       or one instance object such as /etc/netacct/TAG.json)
  -n, --verify-only    change nothing; list each tag's state:
                         running      a netacctd holds the tag (its pid shown)
                         stopped, counting
                                      no netacctd, but the maps are pinned and
                                      the programs attached: by design, since
                                      netacctd leaves them counting on exit
                         clean        nothing of the tag is left
                         LEFTOVERS    pins without attachments, attachments
                                      without their maps, or partial state
                       exit 1 only if some tag has LEFTOVERS
      --pin-base DIR   pin root (default /sys/fs/bpf/netacct)
  -V, --version        print the version
  -h, --help           this help

Removing a tag also removes the clsact qdisc netacct created on its
interface, once no filter (of anyone) remains on it; a clsact that existed
before netacct attached is never removed.

Exit status: 0 done (or, with --verify-only, every tag running, stopped
but counting, or clean); 1 runtime: leftovers (--verify-only), a refusal
(tag in use) or a failure; 2 usage or configuration error (a bad option,
a malformed --config file).

EXAMPLES:
  netacct-cleanup eth0                 # remove tag eth0 (refused while netacctd runs)
  netacct-cleanup --force --verbose    # remove every tag, running or not
  netacct-cleanup --config /etc/netacct/multi_accounting_config.json
  netacct-cleanup --verify-only        # state of every tag (exit 1 on leftovers)
)";

int usage_error(const std::string& message) {
  std::fprintf(stderr, "netacct-cleanup: %s\nTry 'netacct-cleanup --help'.\n", message.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace netacct;
  enum { kPinBase = 1000 };
  static const option long_options[] = {
      {"force", no_argument, nullptr, 'f'},
      {"verbose", no_argument, nullptr, 'v'},
      {"config", required_argument, nullptr, 'c'},
      {"verify-only", no_argument, nullptr, 'n'},
      {"pin-base", required_argument, nullptr, kPinBase},
      {"version", no_argument, nullptr, 'V'},
      {"help", no_argument, nullptr, 'h'},
      {nullptr, 0, nullptr, 0},
  };
  cleanup::Settings settings;
  settings.pin_base = pin::kDefaultBase;
  std::vector<std::string> configs;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, ":fvc:nVh", long_options, nullptr)) != -1) {
    switch (c) {
      case 'f': settings.force = true; break;
      case 'v': settings.verbose = true; break;
      case 'c': configs.emplace_back(optarg); break;
      case 'n': settings.verify_only = true; break;
      case kPinBase:
        if (!*optarg) return usage_error("--pin-base needs a directory");
        settings.pin_base = optarg;
        break;
      case 'V': std::printf("netacct-cleanup %s\n", kVersion); return 0;
      case 'h': std::fputs(kUsage, stdout); return 0;
      case ':': return usage_error(std::string("option '") + argv[optind - 1] + "' needs a value");
      default: return usage_error(std::string("unknown option '") + argv[optind - 1] + "'");
    }
  }
  std::vector<std::string> tags;
  for (int i = optind; i < argc; i++) {
    if (std::string reason = pin::tag_error(argv[i]); !reason.empty()) return usage_error(reason);
    tags.emplace_back(argv[i]);
  }
  for (const std::string& config : configs) {
    auto listed = cleanup::tags_from_config(config);
    if (!listed) {
      std::fprintf(stderr, "netacct-cleanup: %s\n", listed.error().message().c_str());
      return 2;  // a configuration error, like netacctd's
    }
    tags.insert(tags.end(), listed->begin(), listed->end());
  }
  const bool all = tags.empty() && configs.empty();
  if (all) tags = pin::list_tags(settings.pin_base);

  log::set_tag("");
  log::set_level(settings.verbose ? log::Level::Info : log::Level::Error);
  route_libbpf_to_log(false);

  if (tags.empty()) {
    std::printf("no netacct tags under %s: nothing to %s\n", settings.pin_base.c_str(),
                settings.verify_only ? "verify" : "clean");
    return 0;
  }
  int status = 0;
  std::vector<std::string> done;
  for (const std::string& tag : tags) {
    bool repeated = false;
    for (const std::string& seen : done) repeated = repeated || seen == tag;
    if (repeated) continue;
    done.push_back(tag);
    if (cleanup::clean_tag(tag, settings, stdout) != cleanup::Outcome::Clean) status = 1;
  }
  return status;
}
