// SPDX-License-Identifier: GPL-2.0-only
#pragma once

namespace netacct {
inline constexpr const char* kVersion = "0.1.0";
}
