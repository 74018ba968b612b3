// SPDX-License-Identifier: GPL-2.0-only
// Ledger: commits harvests to the cumulative JSON file exactly once, even if
// the process is killed at any instant.
//
// The kernel side and the file are bound by a generation number kept both in
// the pinned meta map and in the file (with the pinned-map instance it
// belongs to). One harvest, generation g:
//   1. meta := (g, DRAINING)       the idle buffer will now hold g's data
//   2. swap buffers                 (RCU-exact; see harvester.hpp)
//   3. read the idle buffer
//   4. write the file with totals + delta and generation g (atomic rename)
//   5. clear the idle buffer
//   6. meta := (g, IDLE)
// On the next harvest or start, a meta still in DRAINING means steps 4-6
// did not all happen: if the file already holds generation g of this
// instance, only 5-6 are redone; otherwise 3-6. Every kill point is thus
// either before the rename (redo) or after it (skip). A failed write leaves
// the data in the idle buffer, so an unwritable output never loses counts.
#pragma once

#include <sys/stat.h>

#include <boost/json.hpp>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "../common/result.hpp"
#include "datapath.hpp"
#include "harvester.hpp"
#include "totals.hpp"

namespace netacct {

class Ledger {
 public:
  Ledger(Datapath& datapath, Harvester& harvester, std::string output_path, SourceInfo info);

  // Loads this source's entry from the output file (a missing file is an
  // empty start; a malformed one is an error naming file and line). Also
  // records where the pinned maps came from (a new instance after a reboot).
  Result<void> load();
  // Finishes a harvest a crash left half-done (DRAINING), if any.
  Result<Delta> recover(int64_t now);
  // Recover + one full harvest; returns what was added to the totals.
  Result<Delta> harvest(int64_t now);
  // After SIGUSR1: if the file no longer holds our entry (moved away,
  // truncated, replaced), the totals restart from zero in a fresh entry.
  // Returns true when that happened.
  Result<bool> reopen(int64_t now);

  const Totals& totals() const { return totals_; }
  const std::string& output_path() const { return output_path_; }
  void set_output_path(std::string path) { output_path_ = std::move(path); }
  void set_info(SourceInfo info) { info_ = std::move(info); }
  const SourceInfo& info() const { return info_; }
  // May be called from the loop thread while a harvest runs on the pool.
  void set_whitelist_info(boost::json::value info) {
    std::lock_guard<std::mutex> lock(whitelist_mutex_);
    whitelist_info_ = std::move(info);
  }

 private:
  // Adds delta as generation g and writes the file; on failure the totals
  // are left exactly as before.
  Result<void> commit(uint64_t generation, const Delta& delta, int64_t now);
  Result<void> write_file(int64_t now);
  // Other instances' entries of a shared file, re-read only when someone
  // else wrote the file since our last write.
  Result<void> refresh_others(int64_t now);
  Result<void> finish(uint64_t generation, Delta& delta);

  Datapath& datapath_;
  Harvester& harvester_;
  std::string output_path_;
  SourceInfo info_;
  Totals totals_;
  std::string instance_;  // pin instance of the maps we harvest
  struct OtherSource {
    std::string id;
    std::string text;  // pretty JSON, indented as an element of "sources"
  };
  std::vector<OtherSource> others_;
  bool others_valid_ = false;
  struct stat written_ {};  // the file as our last write left it
  std::mutex whitelist_mutex_;
  boost::json::value whitelist_info_;
};

}  // namespace netacct
