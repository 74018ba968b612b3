// SPDX-License-Identifier: GPL-2.0-only
// Whitelist JSON: parse, validate, and (when valid) every entry is a prefix
// of its family's length with no host bits, and the limit holds.
#include <cstdlib>

#include "daemon/config/whitelist.hpp"
#include "tests/fuzz/fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  netacct::fuzz::quiet();
  std::string text(reinterpret_cast<const char*>(data), size);
  auto parsed = netacct::parse_whitelist(text, "fuzz.json", 4096);
  if (!parsed) return 0;
  if (parsed->entries.size() > 4096) std::abort();
  for (const auto& [prefix, match] : parsed->entries) {
    unsigned bits = prefix.family == NETACCT_FAMILY_IPV4 ? 32 : 128;
    if (prefix.length > bits || match == 0) std::abort();
    (void)prefix.to_string();
  }
  (void)parsed->sample(5);
  return 0;
}
