// SPDX-License-Identifier: GPL-2.0-only
#include "whitelist.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "../common/json_file.hpp"

namespace netacct {

namespace json = boost::json;

bool Prefix::operator<(const Prefix& other) const {
  if (family != other.family) return family < other.family;
  if (int c = std::memcmp(addr, other.addr, 16); c != 0) return c < 0;
  return length < other.length;
}

bool Prefix::operator==(const Prefix& other) const {
  return family == other.family && length == other.length && std::memcmp(addr, other.addr, 16) == 0;
}

bool Prefix::contains(const Prefix& inner) const {
  if (family != inner.family || length > inner.length) return false;
  int full = length / 8, rest = length % 8;
  if (std::memcmp(addr, inner.addr, static_cast<size_t>(full)) != 0) return false;
  if (rest == 0) return true;
  auto mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (addr[full] & mask) == (inner.addr[full] & mask);
}

std::string Prefix::to_string() const {
  char text[INET6_ADDRSTRLEN] = "";
  inet_ntop(family == NETACCT_FAMILY_IPV4 ? AF_INET : AF_INET6, addr, text, sizeof text);
  return std::string(text) + "/" + std::to_string(length);
}

Result<Prefix> parse_prefix(const std::string& text, bool allow_length, bool* normalised) {
  Prefix prefix;
  std::string address = text;
  int length = -1;
  if (auto slash = text.find('/'); slash != std::string::npos) {
    if (!allow_length)
      return Error{"'" + text + "' has a prefix length: list it under \"cidrs\"", 0, {}};
    address = text.substr(0, slash);
    std::string digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3 ||
        digits.find_first_not_of("0123456789") != std::string::npos)
      return Error{"'" + text + "' has an invalid prefix length", 0, {}};
    length = std::stoi(digits);
  }
  if (inet_pton(AF_INET, address.c_str(), prefix.addr) == 1) {
    prefix.family = NETACCT_FAMILY_IPV4;
    if (length < 0) length = 32;
    if (length > 32) return Error{"'" + text + "': an IPv4 prefix length is 0..32", 0, {}};
  } else if (inet_pton(AF_INET6, address.c_str(), prefix.addr) == 1) {
    prefix.family = NETACCT_FAMILY_IPV6;
    if (length < 0) length = 128;
    if (length > 128) return Error{"'" + text + "': an IPv6 prefix length is 0..128", 0, {}};
  } else {
    return Error{"'" + text + "' is not an IPv4 or IPv6 address", 0, {}};
  }
  prefix.length = static_cast<uint8_t>(length);
  // Clear host bits; report whether there were any.
  bool changed = false;
  for (int bit = length; bit < 128; bit++) {
    uint8_t& byte = prefix.addr[bit / 8];
    auto mask = static_cast<uint8_t>(0x80 >> (bit % 8));
    if (byte & mask) {
      byte = static_cast<uint8_t>(byte & ~mask);
      changed = true;
    }
  }
  if (normalised) *normalised = changed;
  return prefix;
}

size_t Whitelist::enabled_group_count() const {
  size_t n = 0;
  for (const WhitelistGroup& group : groups) n += group.enabled ? 1 : 0;
  return n;
}

std::vector<std::string> Whitelist::sample(size_t n) const {
  std::vector<std::string> out;
  for (const auto& [prefix, match] : entries) {
    if (out.size() >= n) break;
    std::string text = prefix.to_string();
    bool host = prefix.length == (prefix.family == NETACCT_FAMILY_IPV4 ? 32 : 128);
    out.push_back(host ? text.substr(0, text.find('/')) : text);
  }
  return out;
}

namespace {

struct Validator {
  const std::string& file;

  Error error(const std::string& where, const std::string& what) const {
    return Error{file + ": " + where + (where.empty() ? "" : ": ") + what, 0, {}};
  }

  Result<std::vector<std::string>> strings(const json::object& group, const char* field,
                                           const std::string& where) const {
    std::vector<std::string> out;
    const json::value* v = group.if_contains(field);
    if (!v) return out;
    if (!v->is_array()) return error(where, "\"" + std::string(field) + "\" must be an array");
    size_t index = 0;
    for (const json::value& item : v->get_array()) {
      if (!item.is_string())
        return error(where, "\"" + std::string(field) + "\"[" + std::to_string(index) +
                                "] must be a string, not " + json::serialize(item));
      out.emplace_back(item.get_string());
      index++;
    }
    return out;
  }
};

// Gives every prefix the flags of the enabled prefixes that contain it.
// Ancestors are found by masking to each prefix length in use, so this is
// O(n x lengths in use x log n), not O(n^2): 16,384 prefixes stay cheap.
std::map<Prefix, uint32_t> inherit_flags(const std::map<Prefix, uint32_t>& own) {
  std::set<std::pair<uint8_t, uint8_t>> lengths;  // (family, length)
  for (const auto& [prefix, flags] : own) lengths.insert({prefix.family, prefix.length});
  std::map<Prefix, uint32_t> effective = own;
  for (auto& [inner, flags] : effective) {
    for (const auto& [family, length] : lengths) {
      if (family != inner.family || length >= inner.length) continue;
      Prefix outer = inner;
      outer.length = length;
      for (int bit = length; bit < 128; bit++)
        outer.addr[bit / 8] = static_cast<uint8_t>(outer.addr[bit / 8] & ~(0x80 >> (bit % 8)));
      if (auto it = own.find(outer); it != own.end()) flags |= it->second;
    }
  }
  return effective;
}

}  // namespace

Result<Whitelist> parse_whitelist(const std::string& text, const std::string& file,
                                  size_t max_entries) {
  auto parsed = parse_json_text(text, file);
  if (!parsed) return parsed.error();
  Validator check{file};
  if (std::string duplicate = find_duplicate_key(text); !duplicate.empty())
    return check.error("", "duplicate key '" + duplicate + "'");
  if (!parsed->is_object()) return check.error("", "the top level must be an object");
  const json::object& root = parsed->get_object();
  for (const auto& member : root) {
    if (member.key() != "metadata" && member.key() != "whitelist")
      return check.error("", "unknown key '" + std::string(member.key()) +
                                 "' (expected \"metadata\" and \"whitelist\")");
  }

  Whitelist whitelist;
  if (const json::value* metadata = root.if_contains("metadata")) {
    if (!metadata->is_object()) return check.error("metadata", "must be an object");
    static const std::set<std::string> known = {"description", "version", "created", "updated",
                                                "auto_reload"};
    for (const auto& member : metadata->get_object()) {
      if (!known.count(std::string(member.key())))
        return check.error("metadata", "unknown key '" + std::string(member.key()) + "'");
    }
    if (const json::value* reload = metadata->get_object().if_contains("auto_reload")) {
      if (!reload->is_bool())
        return check.error("metadata", "\"auto_reload\" must be true or false");
      whitelist.auto_reload = reload->get_bool();
    }
  }

  const json::value* groups = root.if_contains("whitelist");
  if (!groups) return whitelist;  // an empty whitelist is a valid one
  if (!groups->is_object()) return check.error("whitelist", "must be an object of named groups");

  std::map<Prefix, uint32_t> own;
  size_t values = 0;
  for (const auto& member : groups->get_object()) {
    WhitelistGroup group;
    group.name = std::string(member.key());
    std::string where = "group '" + group.name + "'";
    if (!member.value().is_object()) return check.error(where, "must be an object");
    const json::object& g = member.value().get_object();
    static const std::set<std::string> known = {"description", "enabled", "ips", "cidrs", "match"};
    for (const auto& field : g) {
      if (!known.count(std::string(field.key())))
        return check.error(where, "unknown key '" + std::string(field.key()) + "'");
    }
    if (const json::value* v = g.if_contains("description")) {
      if (!v->is_string()) return check.error(where, "\"description\" must be a string");
      group.description = std::string(v->get_string());
    }
    if (const json::value* v = g.if_contains("enabled")) {
      if (!v->is_bool()) return check.error(where, "\"enabled\" must be true or false");
      group.enabled = v->get_bool();
    }
    if (const json::value* v = g.if_contains("match")) {
      if (!v->is_string() || (v->get_string() != "remote" && v->get_string() != "any"))
        return check.error(where,
                           "\"match\" must be \"remote\" or \"any\", not " + json::serialize(*v));
      if (v->get_string() == "any") group.match = NETACCT_WL_MATCH_REMOTE | NETACCT_WL_MATCH_LOCAL;
    }
    auto ips = check.strings(g, "ips", where);
    if (!ips) return ips.error();
    auto cidrs = check.strings(g, "cidrs", where);
    if (!cidrs) return cidrs.error();
    group.ips = std::move(ips.value());
    group.cidrs = std::move(cidrs.value());
    values += group.ips.size() + group.cidrs.size();
    if (values > max_entries)
      return Error{file + ": more than " + std::to_string(max_entries) +
                       " addresses and prefixes, the limit (--max-whitelist)",
                   E2BIG,
                   {}};

    // Validate every value, enabled or not: a disabled group is still a
    // promise about what enabling it will do.
    for (const auto& [list, allow_length] :
         {std::pair{&group.ips, false}, std::pair{&group.cidrs, true}}) {
      for (const std::string& value : *list) {
        bool normalised = false;
        auto prefix = parse_prefix(value, allow_length, &normalised);
        if (!prefix) return check.error(where, prefix.error().op);
        if (normalised)
          whitelist.warnings.push_back(file + ": " + where + ": '" + value +
                                       "' has host bits set; using " + prefix->to_string());
        if (group.enabled) own[prefix.value()] |= group.match;
      }
    }
    whitelist.groups.push_back(std::move(group));
  }
  whitelist.entries = inherit_flags(own);
  return whitelist;
}

size_t whitelist_file_limit(size_t max_entries) {
  // About 24 bytes an IPv6 prefix takes in JSON, five times over for
  // descriptions and layout, plus 1 MiB; saturating.
  constexpr size_t kPerEntry = 128, kBase = 1u << 20;
  if (max_entries > (SIZE_MAX - kBase) / kPerEntry) return SIZE_MAX;
  return max_entries * kPerEntry + kBase;
}

Result<Whitelist> load_whitelist_file(const std::string& path, size_t max_entries) {
  auto text = read_regular_file(path, "whitelist", whitelist_file_limit(max_entries));
  if (!text) return text.error();
  return parse_whitelist(text.value(), path, max_entries);
}

}  // namespace netacct
