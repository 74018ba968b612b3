// SPDX-License-Identifier: GPL-2.0-only
// The multi-instance configuration (netacct-multi's multi_accounting_config.json).
#include "tests/fuzz/fuzz_common.hpp"
#include "tools/multi/multi_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  netacct::fuzz::quiet();
  std::string text(reinterpret_cast<const char*>(data), size);
  netacct::multi::ConfigDefaults defaults;
  defaults.log_dir = defaults.config_dir = netacct::fuzz::scratch_dir();
  (void)netacct::multi::parse_multi_config(text, "fuzz.json", defaults);
  return 0;
}
