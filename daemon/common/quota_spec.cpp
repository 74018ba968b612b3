// SPDX-License-Identifier: GPL-2.0-only
#include "quota_spec.hpp"

#include <arpa/inet.h>

#include <cstdlib>
#include <cstring>

namespace netacct {
namespace {

bool parse_address(const std::string& text, int& family, unsigned char (&bytes)[16]) {
  std::memset(bytes, 0, sizeof bytes);
  if (inet_pton(AF_INET, text.c_str(), bytes) == 1) return family = AF_INET, true;
  if (inet_pton(AF_INET6, text.c_str(), bytes) == 1) return family = AF_INET6, true;
  return false;
}

}  // namespace

bool address_in(const std::string& local, const std::string& prefix) {
  auto slash = prefix.find('/');
  std::string base = prefix.substr(0, slash);
  int family_a = 0, family_p = 0;
  unsigned char a[16], p[16];
  if (!parse_address(local, family_a, a) || !parse_address(base, family_p, p) ||
      family_a != family_p)
    return false;
  int max_bits = family_a == AF_INET ? 32 : 128;
  int bits = slash == std::string::npos ? max_bits : std::atoi(prefix.c_str() + slash + 1);
  for (int i = 0; i < bits; i++) {
    int byte = i / 8, bit = 7 - i % 8;
    if (((a[byte] >> bit) & 1) != ((p[byte] >> bit) & 1)) return false;
  }
  return true;
}

Result<Quota> parse_quota(const std::string& text) {
  auto first = text.rfind(':');
  auto second = first == std::string::npos ? std::string::npos : text.rfind(':', first - 1);
  auto bad = [&](const std::string& why) {
    return Error{"quota '" + text + "': " + why +
                     " (expected LOCAL[/N]:day|month:BYTES, e.g. 10.0.0.0/24:month:50G)",
                 0,
                 {}};
  };
  if (second == std::string::npos) return bad("three fields separated by ':'");
  Quota quota;
  quota.local = text.substr(0, second);
  std::string period = text.substr(second + 1, first - second - 1);
  std::string amount = text.substr(first + 1);
  int family = 0;
  unsigned char bytes[16];
  std::string base = quota.local.substr(0, quota.local.find('/'));
  if (!parse_address(base, family, bytes)) return bad("'" + base + "' is not an IP address");
  if (auto slash = quota.local.find('/'); slash != std::string::npos) {
    char* end = nullptr;
    long bits = std::strtol(quota.local.c_str() + slash + 1, &end, 10);
    if (*end || bits < 0 || bits > (family == AF_INET ? 32 : 128))
      return bad("bad prefix length in '" + quota.local + "'");
  }
  if (period == "day")
    quota.period = QuotaPeriod::Day;
  else if (period == "month")
    quota.period = QuotaPeriod::Month;
  else
    return bad("the period must be day or month");
  char* end = nullptr;
  double number = std::strtod(amount.c_str(), &end);
  std::string unit = end;
  double scale = unit.empty()   ? 1
                 : unit == "k"  ? 1e3
                 : unit == "M"  ? 1e6
                 : unit == "G"  ? 1e9
                 : unit == "T"  ? 1e12
                 : unit == "Ki" ? 1024.0
                 : unit == "Mi" ? 1024.0 * 1024
                 : unit == "Gi" ? 1024.0 * 1024 * 1024
                 : unit == "Ti" ? 1024.0 * 1024 * 1024 * 1024
                                : 0;
  if (end == amount.c_str() || number <= 0 || scale == 0)
    return bad("'" + amount + "' is not a byte count (units k M G T, Ki Mi Gi Ti)");
  quota.bytes = static_cast<uint64_t>(number * scale);
  return quota;
}

std::string quota_name(const Quota& quota) {
  return quota.local + (quota.period == QuotaPeriod::Day ? ":day:" : ":month:") +
         std::to_string(quota.bytes);
}

}  // namespace netacct
