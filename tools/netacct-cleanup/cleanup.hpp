// SPDX-License-Identifier: GPL-2.0-only
// netacct-cleanup's work for one tag: find what the tag left in the kernel
// (tc filters, the XDP link, its pin directory) and remove it, or only
// report it. Everything is identified through the tag's pins (see
// daemon/engine/discover.hpp), so nothing that is not the tag's is touched.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "daemon/common/result.hpp"

namespace netacct::cleanup {

struct Settings {
  std::string pin_base;
  bool force = false;        // go on while a daemon holds the tag
  bool verify_only = false;  // report, change nothing
  bool verbose = false;
};

enum class Outcome {
  Clean,      // nothing of the tag is left (after removal, or already)
  Leftovers,  // verify-only found true leftovers (not a running or a stopped-but-counting tag)
  Refused,    // a daemon holds the tag and there was no --force
  Failed,     // some removal failed (reported on stderr)
};

// Cleans (or verifies) one tag; progress goes to `out`, problems to stderr.
Outcome clean_tag(const std::string& tag, const Settings& settings, std::FILE* out);

// The tags of a config file: the seed's multi-instance file
// ({"instances": [...]}) or one instance object (/etc/netacct/<tag>.json).
// An instance without "tag" gets the daemon's derived tag.
Result<std::vector<std::string>> tags_from_config(const std::string& path);

}  // namespace netacct::cleanup
