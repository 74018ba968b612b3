// SPDX-License-Identifier: GPL-2.0-only
// The JSON output file read at start (rotation check, upgrade import): the
// streaming scanner over a file of fuzzed bytes, with a row callback.
#include <cstdlib>

#include "daemon/ledger/output_scanner.hpp"
#include "tests/fuzz/fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  netacct::fuzz::quiet();
  std::string path = netacct::fuzz::write_scratch("output.json", data, size);
  netacct::ScanOptions options;
  options.our_id = "fzseed";
  size_t rows = 0;
  options.on_our_row = [&](const netacct::FlowRow&, uint8_t family) -> netacct::Result<void> {
    if (family != 4 && family != 6) std::abort();
    rows++;
    return netacct::ok();
  };
  auto scanned = netacct::scan_output_file(path, options);
  if (scanned && scanned->ours) {
    if (scanned->ours->rows != rows) std::abort();
    (void)netacct::buckets_of(scanned->ours->header, path);
    (void)netacct::metadata_text(scanned->ours->header, "pin_instance");
    (void)netacct::metadata_number(scanned->ours->header, "generation");
  }
  return 0;
}
