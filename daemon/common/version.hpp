// SPDX-License-Identifier: GPL-2.0-only
// The version every binary prints: the Makefile's VERSION (by default the
// one of debian/changelog), written to $(BUILD)/gen/netacct_version.h only
// when it changes, so a new version recompiles only the files that print it.
#pragma once

#if __has_include("netacct_version.h")
#include "netacct_version.h"
#endif
#ifndef NETACCT_VERSION
#define NETACCT_VERSION "0.1.0"
#endif

namespace netacct {
inline constexpr const char* kVersion = NETACCT_VERSION;
}
