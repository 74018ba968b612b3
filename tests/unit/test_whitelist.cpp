// SPDX-License-Identifier: GPL-2.0-only
// Whitelist parsing: the seed's format, every error class named precisely,
// host-bit normalisation, and the match flags the trie must carry.
#include <doctest/doctest.h>

#include "daemon/config/whitelist.hpp"

using namespace netacct;

namespace {

std::string error_of(const std::string& text) {
  auto parsed = parse_whitelist(text, "wl.json");
  REQUIRE_FALSE(parsed.ok());
  return parsed.error().message();
}

Prefix prefix(const std::string& text) {
  auto parsed = parse_prefix(text, true, nullptr);
  REQUIRE(parsed.ok());
  return parsed.value();
}

}  // namespace

TEST_CASE("the seed's example whitelist parses") {
  auto wl = parse_whitelist(R"({
    "metadata": {"description": "x", "version": "1.0", "created": "2025-01-20T10:30:00",
                 "auto_reload": true},
    "whitelist": {
      "localhost": {"description": "Localhost", "enabled": true, "ips": ["127.0.0.1"], "cidrs": []},
      "private": {"description": "RFC 1918", "enabled": false, "ips": [],
                  "cidrs": ["192.168.0.0/16", "10.0.0.0/8"]},
      "v6": {"enabled": true, "ips": ["fd00::5"], "cidrs": ["fd00:1::/64"]}
    }})",
                            "wl.json");
  REQUIRE(wl.ok());
  CHECK(wl->auto_reload);
  CHECK(wl->groups.size() == 3);
  CHECK(wl->enabled_group_count() == 2);
  // Disabled groups are validated but not applied.
  CHECK(wl->entries.size() == 3);
  CHECK(wl->entries.count(prefix("127.0.0.1/32")) == 1);
  CHECK(wl->entries.count(prefix("fd00::5/128")) == 1);
  CHECK(wl->entries.count(prefix("fd00:1::/64")) == 1);
  CHECK(wl->entries.count(prefix("10.0.0.0/8")) == 0);
  CHECK(wl->entries.at(prefix("127.0.0.1/32")) == NETACCT_WL_MATCH_REMOTE);
}

TEST_CASE("an empty or group-less whitelist is valid") {
  CHECK(parse_whitelist("{}", "wl.json").ok());
  CHECK(parse_whitelist(R"({"whitelist": {}})", "wl.json")->entries.empty());
}

TEST_CASE("every error class names the file, the group and the value") {
  CHECK(error_of("{\n \"whitelist\": {\n  \"a\": [\n}").rfind("wl.json:4:", 0) == 0);  // syntax
  CHECK(error_of("[]").find("top level") != std::string::npos);
  CHECK(error_of(R"({"whitelst": {}})").find("'whitelst'") != std::string::npos);
  CHECK(error_of(R"({"metadata": {"auto_reload": "yes"}})").find("auto_reload") !=
        std::string::npos);
  CHECK(error_of(R"({"metadata": {"colour": 1}})").find("'colour'") != std::string::npos);
  CHECK(error_of(R"({"whitelist": []})").find("whitelist") != std::string::npos);
  CHECK(error_of(R"({"whitelist": {"g": 5}})").find("group 'g'") != std::string::npos);

  std::string duplicate = error_of(R"({"whitelist": {"g": {"ips": []}, "g": {"ips": []}}})");
  CHECK(duplicate.find("duplicate") != std::string::npos);
  CHECK(duplicate.find("whitelist.g") != std::string::npos);

  std::string unknown = error_of(R"({"whitelist": {"office": {"ipz": []}}})");
  CHECK(unknown.find("group 'office'") != std::string::npos);
  CHECK(unknown.find("'ipz'") != std::string::npos);
  CHECK(error_of(R"({"whitelist": {"g": {"enabled": 1}}})").find("enabled") != std::string::npos);
  CHECK(error_of(R"({"whitelist": {"g": {"ips": "10.0.0.1"}}})").find("\"ips\" must be an array") !=
        std::string::npos);
  CHECK(error_of(R"({"whitelist": {"g": {"ips": [42]}}})").find("\"ips\"[0]") != std::string::npos);

  std::string bad_ip = error_of(R"({"whitelist": {"dns": {"ips": ["8.8.8.8", "8.8.8.256"]}}})");
  CHECK(bad_ip.find("group 'dns'") != std::string::npos);
  CHECK(bad_ip.find("'8.8.8.256'") != std::string::npos);
  CHECK(error_of(R"({"whitelist": {"g": {"ips": ["10.0.0.0/8"]}}})").find("cidrs") !=
        std::string::npos);
  CHECK(error_of(R"({"whitelist": {"g": {"cidrs": ["10.0.0.0/33"]}}})").find("'10.0.0.0/33'") !=
        std::string::npos);
  CHECK(error_of(R"({"whitelist": {"g": {"cidrs": ["fd00::/129"]}}})").find("'fd00::/129'") !=
        std::string::npos);
  CHECK(error_of(R"({"whitelist": {"g": {"cidrs": ["10.0.0.0/x"]}}})").find("prefix length") !=
        std::string::npos);
  CHECK(error_of(R"({"whitelist": {"g": {"cidrs": ["10.0.0.0/-1"]}}})").find("'10.0.0.0/-1'") !=
        std::string::npos);
  CHECK(error_of(R"({"whitelist": {"g": {"cidrs": ["example.com/8"]}}})").find("example.com") !=
        std::string::npos);
  CHECK(error_of(R"({"whitelist": {"g": {"match": "local"}}})").find("\"match\"") !=
        std::string::npos);
  // A disabled group is validated too.
  CHECK(error_of(R"({"whitelist": {"off": {"enabled": false, "ips": ["nope"]}}})").find("'nope'") !=
        std::string::npos);
}

TEST_CASE("host bits are cleared with a warning naming the value") {
  auto wl = parse_whitelist(R"({"whitelist": {"g": {"cidrs": ["10.1.2.3/8", "fd00::1/64"]}}})",
                            "wl.json");
  REQUIRE(wl.ok());
  CHECK(wl->entries.count(prefix("10.0.0.0/8")) == 1);
  CHECK(wl->entries.count(prefix("fd00::/64")) == 1);
  REQUIRE(wl->warnings.size() == 2);
  CHECK(wl->warnings[0].find("'10.1.2.3/8'") != std::string::npos);
  CHECK(wl->warnings[0].find("10.0.0.0/8") != std::string::npos);
}

TEST_CASE("match flags: any adds local matching, and nested prefixes inherit") {
  auto wl = parse_whitelist(R"({"whitelist": {
      "wide": {"match": "any", "cidrs": ["10.0.0.0/8"]},
      "host": {"ips": ["10.1.2.3", "192.0.2.1"]}}})",
                            "wl.json");
  REQUIRE(wl.ok());
  const uint32_t both = NETACCT_WL_MATCH_REMOTE | NETACCT_WL_MATCH_LOCAL;
  CHECK(wl->entries.at(prefix("10.0.0.0/8")) == both);
  // The /32 is the longest match for 10.1.2.3, so it must carry "any" too.
  CHECK(wl->entries.at(prefix("10.1.2.3/32")) == both);
  CHECK(wl->entries.at(prefix("192.0.2.1/32")) == NETACCT_WL_MATCH_REMOTE);
}

TEST_CASE("prefixes order, contain and print") {
  CHECK(prefix("10.0.0.0/8").contains(prefix("10.255.0.1/32")));
  CHECK_FALSE(prefix("10.0.0.0/8").contains(prefix("11.0.0.1/32")));
  CHECK_FALSE(prefix("10.0.0.0/16").contains(prefix("10.0.0.0/8")));
  CHECK_FALSE(prefix("10.0.0.0/8").contains(prefix("a00::/16")));
  CHECK(prefix("fd00::/8").to_string() == "fd00::/8");
  CHECK(prefix("0.0.0.0/0").contains(prefix("1.2.3.4")));
}
