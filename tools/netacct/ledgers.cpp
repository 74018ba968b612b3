// SPDX-License-Identifier: GPL-2.0-only
#include "ledgers.hpp"

#include <dirent.h>

#include <algorithm>
#include <cerrno>

#include "pin/pin_dir.hpp"

namespace netacct {

std::vector<std::string> ledger_tags(const std::string& state_dir) {
  std::vector<std::string> tags;
  if (DIR* dir = ::opendir(state_dir.c_str())) {
    while (dirent* entry = ::readdir(dir)) {
      std::string name = entry->d_name;
      if (name.size() > 3 && name.compare(name.size() - 3, 3, ".db") == 0 &&
          pin::valid_tag(name.substr(0, name.size() - 3)))
        tags.push_back(name.substr(0, name.size() - 3));
    }
    ::closedir(dir);
  }
  std::sort(tags.begin(), tags.end());
  return tags;
}

OpenedLedger open_tag_ledger(const std::string& state_dir, const std::string& tag) {
  OpenedLedger opened;
  opened.tag = tag;
  if (opened.tag.empty()) {
    std::vector<std::string> tags = ledger_tags(state_dir);
    if (tags.empty()) {
      opened.exit_code = 1;
      opened.error = "no ledger in " + state_dir + " (is --state-dir right?)";
      return opened;
    }
    if (tags.size() > 1) {
      std::string names;
      for (const std::string& t : tags) names += (names.empty() ? "" : ", ") + t;
      opened.exit_code = 2;
      opened.error = "several tags (" + names + "): choose one with --tag";
      return opened;
    }
    opened.tag = tags.front();
  }
  auto reader = LedgerReader::open(ledger_path(state_dir, opened.tag));
  if (!reader) {
    opened.exit_code = 1;
    opened.error = reader.error().err == ENOENT
                       ? "no ledger for tag '" + opened.tag + "' in " + state_dir
                       : reader.error().message();
    return opened;
  }
  opened.reader = std::move(reader.value());
  return opened;
}

}  // namespace netacct
