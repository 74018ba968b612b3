// SPDX-License-Identifier: GPL-2.0-only
// `netacct report` and `netacct tags`: the ledger's history and totals,
// read-only (the daemon is never blocked: WAL readers do not lock writers).
#pragma once

#include <string>
#include <vector>

namespace netacct::report {

// Runs `netacct report ARGS...` / `netacct tags ARGS...` (argv after the
// command word). Prints to stdout; errors are one line on stderr. Returns
// the exit code: 0, 1 (runtime: unreadable database), 2 (usage).
int report_command(const std::vector<std::string>& args, const std::string& state_dir);
int tags_command(const std::vector<std::string>& args, const std::string& state_dir);

// Local time "YYYY-MM-DD[ HH:MM[:SS]]" (or with a T) to unix seconds; -1 if
// it is none of those.
long long parse_local_time(const std::string& text);

}  // namespace netacct::report
