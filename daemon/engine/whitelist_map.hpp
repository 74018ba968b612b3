// SPDX-License-Identifier: GPL-2.0-only
// WhitelistMap: brings the kernel's whitelist trie to a new set of prefixes
// by applying the difference, never by emptying and refilling it.
//
// An insert that fails (the trie is full: old and new together exceed its
// capacity, or the kernel is out of memory) undoes the inserts before it, so
// the previous whitelist is in force again, complete, and nothing new is.
//
// Order makes a reload atomic for every address that matters: new and
// changed prefixes go in first, removed ones come out last. An address
// whitelisted by both versions is covered at every instant (by an old or a
// new prefix); an address in neither is never covered by anything.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "../common/result.hpp"
#include "../config/whitelist.hpp"
#include "datapath.hpp"

namespace netacct {

struct WhitelistApplyStats {
  size_t added = 0;
  size_t changed = 0;
  size_t removed = 0;
  size_t total = 0;
  uint64_t elapsed_ns = 0;
};

class WhitelistMap {
 public:
  explicit WhitelistMap(Datapath& datapath) : datapath_(datapath) {}

  // Reads what the (possibly adopted) trie holds, so the first apply after a
  // restart is a diff too.
  Result<void> load_current();
  // Fails without changing anything if `entries` exceeds the capacity.
  Result<WhitelistApplyStats> apply(const std::map<Prefix, uint32_t>& entries);
  const std::map<Prefix, uint32_t>& current() const { return current_; }
  // Tests: the n-th insert of the next applies fails with EIO (0: none).
  void fail_insert_at(size_t n) { fail_insert_at_ = n; }

 private:
  void set_runtime(size_t entries, bool local_match);
  Result<void> roll_back(const std::vector<std::pair<Prefix, std::optional<uint32_t>>>& undo);

  Datapath& datapath_;
  std::map<Prefix, uint32_t> current_;
  size_t fail_insert_at_ = 0;
};

}  // namespace netacct
