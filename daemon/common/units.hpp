// SPDX-License-Identifier: GPL-2.0-only
// Human-readable sizes, as the console tables print them.
#pragma once

#include <cstdint>
#include <string>

namespace netacct {

// "512 B", "1.50 KiB", "3.20 MiB": IEC units (powers of 1024), so labelled.
std::string human_bytes(uint64_t bytes);
// A rate: "1.50 KiB/s".
std::string human_rate(double bytes_per_second);

}  // namespace netacct
