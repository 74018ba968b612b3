// SPDX-License-Identifier: GPL-2.0-only
// netacctd --list-all.
#pragma once

#include <cstdio>

namespace netacct {

// Interfaces of the host and of every named namespace (/var/run/netns), via
// libnl. Returns the exit code.
int list_all_interfaces(std::FILE* out);

}  // namespace netacct
