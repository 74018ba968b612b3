// SPDX-License-Identifier: GPL-2.0-only
// netacctd's command line: the input split at NUL bytes into arguments.
// --config would read a file: such arguments are dropped (the config file
// has its own harness).
#include <vector>

#include "daemon/config/options.hpp"
#include "tests/fuzz/fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  netacct::fuzz::quiet();
  std::vector<std::string> args = {"netacctd"};
  std::string current;
  for (size_t i = 0; i < size && args.size() < 64; i++) {
    if (data[i] == 0) {
      args.push_back(current);
      current.clear();
    } else {
      current += static_cast<char>(data[i]);
    }
  }
  if (!current.empty()) args.push_back(current);
  std::vector<char*> argv;
  for (std::string& arg : args) {
    if (arg.rfind("-c", 0) == 0 || arg.rfind("--c", 0) == 0) arg = "--debug";
    argv.push_back(arg.data());
  }
  argv.push_back(nullptr);
  auto parsed = netacct::parse_options(static_cast<int>(args.size()), argv.data());
  if (parsed && parsed->action == netacct::Action::Run) {
    parsed->log_dir = parsed->config_dir = netacct::fuzz::scratch_dir();
    parsed->state_dir = netacct::fuzz::scratch_dir();
    (void)netacct::finalize_options(parsed.value());
  }
  return 0;
}
