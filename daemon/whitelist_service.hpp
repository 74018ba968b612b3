// SPDX-License-Identifier: GPL-2.0-only
// WhitelistService: the daemon's whitelist. Loads the file, applies it to the
// trie as a diff, reloads it on file changes (when the active version says
// auto_reload) and on SIGHUP, keeps the last good version when a new one is
// broken or missing, and describes itself for the JSON's whitelist_info.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "common/result.hpp"
#include "config/whitelist.hpp"
#include "engine/datapath.hpp"
#include "engine/whitelist_map.hpp"

namespace netacct {

class WhitelistService {
 public:
  WhitelistService(std::string path, Datapath& datapath);

  // Parses the file before any kernel state changes, so a broken whitelist
  // stops the start with its error. A missing file is an empty whitelist.
  // More than max_entries entries (--max-whitelist) is refused here.
  static Result<std::optional<Whitelist>> preload(const std::string& path, size_t max_entries);
  // Reads the trie as it is (adopted pins) and applies `initial` as a diff.
  Result<void> start(std::optional<Whitelist> initial);

  enum class Trigger { FileChange, Signal };
  // Loads, validates and applies; on any failure the active version stays.
  // Returns true when a new version was applied.
  bool reload(Trigger trigger);

  // A new file for the next reloads (SIGHUP after a configuration change).
  void set_path(std::string path) { path_ = std::move(path); }
  bool auto_reload() const { return active_ ? active_->auto_reload : true; }
  size_t count() const { return map_.current().size(); }
  std::string sample_text(size_t n = 5) const;
  boost::json::value info_json() const;
  // The last load or reload: whether it applied, and when (unix seconds).
  bool last_reload_ok() const { return last_ok_; }
  int64_t last_reload_time() const { return last_time_; }

 private:
  void record(bool ok, const std::string& result, const WhitelistApplyStats* stats);

  std::string path_;
  Datapath& datapath_;
  WhitelistMap map_;
  std::optional<Whitelist> active_;
  uint64_t reloads_ = 0;
  int64_t last_time_ = 0;
  bool last_ok_ = true;
  std::string last_result_ = "not loaded";
  WhitelistApplyStats last_stats_;
};

}  // namespace netacct
