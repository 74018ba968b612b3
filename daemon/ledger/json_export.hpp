// SPDX-License-Identifier: GPL-2.0-only
// JsonExport: writes the seed's multi-source JSON file from the ledger. The
// file shows the current *period*: everything counted since the file was
// last rotated; the ledger keeps the lifetime totals and the boundaries.
//
// Rotation is seen, not signalled: the ledger records the identity (device,
// inode, size, mtime) of the file its last export left. If the file at the
// path is no longer that one (renamed away, truncated, replaced) and does
// not hold our entry of this period, it was rotated: the rotated file holds
// the period up to our last export, so the new period starts with exactly
// what was committed since then (the "unexported" scope). Rotated + new =
// truth whenever SIGUSR1 arrives: late, early, never, or while netacctd was
// not running. One export, sequence s (under the file's lock):
//   1. recover a pending export left by a crash (below)
//   2. if the file is not our last export: scan it; no entry of ours with
//      this ledger, period and sequence -> rotate the period
//   3. write PATH.netacct-tmp (O_EXCL|O_NOFOLLOW): other sources' entries
//      carried over, ours streamed from the period's rows; fsync
//   4. ledger: pending := (s, inode of the temporary file)
//   5. rename over PATH, fsync the directory
//   6. ledger: export := (s, identity of PATH), unexported := empty
// After a crash, a pending export whose temporary file still exists never
// reached PATH (3-5): the file is removed and the export forgotten; one
// whose temporary file is gone was renamed (5-6): step 6 is completed.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "../common/result.hpp"
#include "output_scanner.hpp"
#include "sqlite_store.hpp"

namespace netacct {

// Identity and settings of a source, written into "metadata".
struct SourceInfo {
  std::string tag;
  std::string interface;
  std::string netns;         // "" = host
  std::string ingress_mode;  // "tc" or "xdp"
  std::string xdp_mode;      // "native", "generic" or "none"
  uint32_t flow_capacity = 0;
};

inline constexpr int kOutputSchemaVersion = 3;

struct ExportReport {
  bool written = false;
  bool rotated = false;
  uint64_t rows = 0;   // rows written for our entry
  uint64_t bytes = 0;  // size of the file written
};

class JsonExport {
 public:
  struct Options {
    std::string path;
    SourceInfo info;
    int64_t max_idle_days = 0;  // fold rows idle this long into one per (local, protocol); 0 = off
    unsigned file_mode = 0640;  // the file's permissions (set exactly, umask aside)
  };
  JsonExport(SqliteStore& store, Options options);

  // Settles a pending export a crash left behind (start-up).
  Result<void> recover();
  // Start-up: refuses an output file that is there but cannot be read as
  // one (naming file, line and column), unless it is our last export.
  Result<void> check_existing();
  // Whether an export is needed now: something unexported, the metadata
  // changed, or the file is no longer the one we wrote.
  Result<bool> needed();
  // Runs the export protocol above.
  Result<ExportReport> write(int64_t now);
  // Seeds a new ledger from an earlier release's output file, if it holds
  // our entry (upgrade). Returns whether it did.
  Result<bool> import_existing(int64_t now);

  void set_info(SourceInfo info);
  // May be called from another thread than the exporter's.
  void set_whitelist_info(boost::json::value info);
  const std::string& path() const { return options_.path; }

 private:
  // Whether PATH holds our last export; refreshes others_ when it had to
  // read the file.
  Result<bool> holds_our_export(const ExportState& state, const LedgerInfo& info, int64_t now);
  Result<void> render(int fd, int64_t now, const LedgerInfo& info, uint64_t seq,
                      ExportReport& report);
  std::string temp_path() const { return options_.path + ".netacct-tmp"; }

  SqliteStore& store_;
  Options options_;
  std::mutex info_mutex_;
  boost::json::value whitelist_info_;
  bool metadata_changed_ = true;
  // Other sources' entries of a shared file, kept between exports and
  // re-read only when someone else wrote the file.
  std::vector<std::pair<std::string, std::string>> others_;  // (id, text)
  bool others_loaded_ = false;
};

}  // namespace netacct
