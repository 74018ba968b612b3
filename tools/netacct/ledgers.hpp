// SPDX-License-Identifier: GPL-2.0-only
// Finding ledgers for the netacct commands: the tags that have one in the
// state directory, and opening the one a command names (or the only one).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "daemon/ledger/ledger_reader.hpp"

namespace netacct {

// Tags with a ledger (TAG.db) in `state_dir`, sorted.
std::vector<std::string> ledger_tags(const std::string& state_dir);

struct OpenedLedger {
  std::string tag;
  std::unique_ptr<LedgerReader> reader;  // null on failure
  int exit_code = 0;                     // on failure: 1 runtime, 2 usage
  std::string error;                     // on failure: one line
};
// Opens `tag`'s ledger; with no tag, the only ledger there is.
OpenedLedger open_tag_ledger(const std::string& state_dir, const std::string& tag);

}  // namespace netacct
