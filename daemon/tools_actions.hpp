// SPDX-License-Identifier: GPL-2.0-only
// The one-shot actions of netacctd: --list-all and --create-examples.
#pragma once

#include <cstdio>

#include "options.hpp"

namespace netacct {

// Interfaces of the host and of every named namespace (/var/run/netns), via
// libnl. Returns the exit code.
int list_all_interfaces(std::FILE* out);
// Writes the seed's example whitelist and multi-instance config into the
// config dir; never overwrites an existing file. Returns the exit code.
int create_examples(const DaemonOptions& options, std::FILE* out);
// The seed's example multi_accounting_config.json (netacct-multi --create-example).
const char* example_multi_config();

}  // namespace netacct
