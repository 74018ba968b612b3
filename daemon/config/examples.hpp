// SPDX-License-Identifier: GPL-2.0-only
// The shipped examples: the seed's whitelist and multi-instance config.
#pragma once

#include <cstdio>

#include "options.hpp"

namespace netacct {

// Writes the seed's example whitelist and multi-instance config into the
// config dir; never overwrites an existing file. Returns the exit code.
int create_examples(const DaemonOptions& options, std::FILE* out);
// The seed's example multi_accounting_config.json (netacct-multi --create-example).
const char* example_multi_config();

}  // namespace netacct
