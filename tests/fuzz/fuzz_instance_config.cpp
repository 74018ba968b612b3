// SPDX-License-Identifier: GPL-2.0-only
// An instance configuration file (netacctd --config FILE), read from disk
// as netacctd reads it, then the rest of the start-up validation.
#include "daemon/config/options.hpp"
#include "tests/fuzz/fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  netacct::fuzz::quiet();
  std::string path = netacct::fuzz::write_scratch("instance.json", data, size);
  netacct::DaemonOptions options;
  options.interface = "veth0";
  if (!netacct::apply_instance_config(path, options)) return 0;
  // Paths must not be created: point the directories at the scratch dir.
  options.log_dir = options.config_dir = netacct::fuzz::scratch_dir();
  (void)netacct::finalize_options(options);
  return 0;
}
