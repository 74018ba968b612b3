// SPDX-License-Identifier: GPL-2.0-only
#include "units.hpp"

#include <cstdio>

namespace netacct {

namespace {
std::string scaled(double value, const char* suffix) {
  static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  int unit = 0;
  while (value >= 1024.0 && unit < 5) {
    value /= 1024.0;
    unit++;
  }
  char text[40];
  if (unit == 0)
    std::snprintf(text, sizeof text, "%.0f %s%s", value, units[unit], suffix);
  else
    std::snprintf(text, sizeof text, "%.2f %s%s", value, units[unit], suffix);
  return text;
}
}  // namespace

std::string human_bytes(uint64_t bytes) {
  return scaled(static_cast<double>(bytes), "");
}
std::string human_rate(double bytes_per_second) {
  return scaled(bytes_per_second, "/s");
}

}  // namespace netacct
