// SPDX-License-Identifier: GPL-2.0-only
// `netacct top`: a live view of the busiest flows by current rate, from the
// snapshot each harvest leaves in the ledger (the `recent` table: the
// harvest's 200 busiest flows and its interval). On a terminal it redraws
// in place on the alternate screen and quits on `q` (or Ctrl+C), restoring
// the screen; otherwise it prints one frame.
#pragma once

#include <string>
#include <vector>

namespace netacct::top {

int top_command(const std::vector<std::string>& args, const std::string& state_dir);

}  // namespace netacct::top
