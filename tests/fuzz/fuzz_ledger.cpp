// SPDX-License-Identifier: GPL-2.0-only
// The ledger database opened at start, corrupt or from another version:
// fuzzed bytes as the database file, opened read-write as netacctd does
// (schema check, tag check) and read-only as the tools do.
#include "daemon/ledger/ledger_reader.hpp"
#include "daemon/ledger/sqlite_store.hpp"
#include "tests/fuzz/fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  netacct::fuzz::quiet();
  const std::string dir = netacct::fuzz::scratch_dir();
  for (const char* suffix : {"-wal", "-shm", "-journal"})
    ::unlink((dir + "/t.db" + suffix).c_str());
  std::string path = netacct::fuzz::write_scratch("t.db", data, size);
  if (auto reader = netacct::LedgerReader::open(path); reader) (void)(*reader)->snapshot();
  netacct::SqliteStore::Options options;
  options.path = path;
  options.tag = "fzseed";
  options.cache_kib = 256;
  if (auto store = netacct::SqliteStore::open(options); store) {
    (void)(*store)->binding();
    (void)(*store)->has_unexported();
    (void)(*store)->queries().info();
    (void)(*store)->queries().export_state();
  }
  return 0;
}
