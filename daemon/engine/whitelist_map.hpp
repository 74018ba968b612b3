// SPDX-License-Identifier: GPL-2.0-only
// WhitelistMap: brings the kernel's whitelist trie to a new set of prefixes
// by applying the difference, never by emptying and refilling it.
//
// Order makes a reload atomic for every address that matters: new and
// changed prefixes go in first, removed ones come out last. An address
// whitelisted by both versions is covered at every instant (by an old or a
// new prefix); an address in neither is never covered by anything.
#pragma once

#include <cstdint>
#include <map>

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

 private:
  void set_runtime(size_t entries, bool local_match);

  Datapath& datapath_;
  std::map<Prefix, uint32_t> current_;
};

}  // namespace netacct
