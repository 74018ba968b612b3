// SPDX-License-Identifier: GPL-2.0-only
// The whitelist file: the seed's JSON format (metadata.auto_reload; named
// groups with description, enabled, ips, cidrs), IPv4 and IPv6, plus an
// optional per-group "match": "remote" (default) or "any" (local or remote).
//
// Everything is validated before anything is applied: a bad address,
// prefix length, type, duplicate group or unknown key is an error naming
// the file, the group and the value. A CIDR with host bits set
// (10.1.2.3/8) is normalised to its network (10.0.0.0/8) with a warning,
// because the intent is clear and refusing it would only annoy.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "../../bpf/netacct_shared.h"
#include "../common/result.hpp"

namespace netacct {

struct Prefix {
  uint8_t family = 0;  // NETACCT_FAMILY_IPV4 / IPV6
  uint8_t length = 0;  // prefix length in bits
  uint8_t addr[16] = {};

  bool operator<(const Prefix& other) const;
  bool operator==(const Prefix& other) const;
  bool contains(const Prefix& inner) const;  // inner is this or more specific
  std::string to_string() const;             // "10.0.0.0/8", "fd00::5/128"
};

// Parses "10.0.0.1" (as /32) or "10.0.0.0/8"; error text names the value.
// `normalised` is set when host bits had to be cleared.
Result<Prefix> parse_prefix(const std::string& text, bool allow_length, bool* normalised);

struct WhitelistGroup {
  std::string name;
  std::string description;
  bool enabled = true;
  uint32_t match = NETACCT_WL_MATCH_REMOTE;
  std::vector<std::string> ips;
  std::vector<std::string> cidrs;
};

struct Whitelist {
  bool auto_reload = true;
  std::vector<WhitelistGroup> groups;
  std::vector<std::string> warnings;  // normalised CIDRs, one line each
  // What the kernel trie must hold: every prefix of the enabled groups with
  // the match flags it must carry. Because an LPM lookup returns only the
  // longest match, a prefix also carries the flags of every enabled prefix
  // that contains it (a /32 inside an "any" /8 still matches locally).
  std::map<Prefix, uint32_t> entries;

  size_t enabled_group_count() const;
  std::vector<std::string> sample(size_t n) const;  // first n prefixes as text
};

// Parses and validates whitelist text; file names the source in errors.
// More than max_entries addresses and prefixes (enabled or not) is an error.
Result<Whitelist> parse_whitelist(const std::string& text, const std::string& file,
                                  size_t max_entries = SIZE_MAX);
// The largest whitelist file read for a limit of max_entries entries:
// 128 bytes an entry plus 1 MiB (--max-whitelist 16384: 3 MiB).
size_t whitelist_file_limit(size_t max_entries);
// Reads and parses a whitelist file: a regular file (links are followed),
// within whitelist_file_limit(max_entries) bytes and max_entries entries.
Result<Whitelist> load_whitelist_file(const std::string& path, size_t max_entries = SIZE_MAX);

}  // namespace netacct
