// SPDX-License-Identifier: GPL-2.0-only
// netacctd: exact per-address traffic accounting for one interface (tag).
// Wiring only: options -> the chosen action -> exit code.
#include <cstdio>

#include "common/log.hpp"
#include "common/version.hpp"
#include "config/examples.hpp"
#include "config/options.hpp"
#include "engine/libbpf_log.hpp"
#include "list_interfaces.hpp"
#include "reactor.hpp"

int main(int argc, char** argv) {
  using namespace netacct;
  auto parsed = parse_options(argc, argv);
  if (!parsed) {
    std::fprintf(stderr, "netacctd: %s\nTry 'netacctd --help'.\n",
                 parsed.error().message().c_str());
    return kUsageExit;
  }
  DaemonOptions options = std::move(parsed.value());
  switch (options.action) {
    case Action::Help: std::fputs(usage_text().c_str(), stdout); return 0;
    case Action::Version: std::printf("netacctd %s\n", kVersion); return 0;
    case Action::ListAll: return list_all_interfaces(stdout);
    case Action::CreateExamples: return create_examples(options, stdout);
    case Action::Run: break;
  }
  if (auto finalized = finalize_options(options); !finalized) {
    std::fprintf(stderr, "netacctd: %s\n", finalized.error().message().c_str());
    return kUsageExit;
  }
  log::set_tag(options.tag);
  log::set_level(options.debug ? log::Level::Debug : log::Level::Info);
  route_libbpf_to_log(options.debug_libbpf);
  Reactor reactor(std::move(options));
  return reactor.run();
}
