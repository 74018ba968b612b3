// SPDX-License-Identifier: GPL-2.0-only
// A whitelist apply that fails part way (the trie fills up while old and new
// versions are both in it, or an insert fails) is rolled back: the previous
// whitelist is in the kernel again, complete, and nothing of the new one
// stays; packets are classified by the previous version.
#include <bpf/bpf.h>
#include <doctest/doctest.h>
#include <netinet/in.h>

#include <cstring>

#include "daemon/engine/whitelist_map.hpp"
#include "tests/bpf/expect.hpp"
#include "tests/support/packet.hpp"

using namespace netacct;
using namespace netacct::test;

namespace {

std::map<Prefix, uint32_t> prefixes(const std::vector<std::string>& texts, uint32_t match) {
  std::map<Prefix, uint32_t> out;
  for (const std::string& text : texts) {
    bool normalised = false;
    auto prefix = parse_prefix(text, true, &normalised);
    REQUIRE(prefix.ok());
    out[prefix.value()] = match;
  }
  return out;
}

// What the kernel trie holds, read back by a fresh reader.
std::map<Prefix, uint32_t> in_kernel(Datapath& datapath) {
  WhitelistMap reader(datapath);
  REQUIRE(reader.load_current().ok());
  return reader.current();
}

bool whitelisted(BpfFixture& fx, const std::string& remote) {
  PacketSpec spec{.protocol = IPPROTO_UDP, .payload = 20};
  spec.src = remote;
  spec.dst = "10.0.0.1";
  Packet packet = build_packet(spec);
  (void)fx.harvest();
  send(fx, Hook::TcIngress, packet.frame, 1);
  Delta delta = fx.harvest();
  return delta.buckets[NETACCT_BUCKET_WHITELISTED].rx_packets == 1;
}

}  // namespace

TEST_CASE("whitelist apply: a full trie part way keeps the previous whitelist, complete") {
  BpfFixture fx(1024, 4);
  WhitelistMap map(fx.datapath());
  REQUIRE(map.load_current().ok());
  auto old_set =
      prefixes({"198.51.100.1/32", "198.51.100.2/32", "10.9.0.0/16"}, NETACCT_WL_MATCH_REMOTE);
  REQUIRE(map.apply(old_set).ok());
  REQUIRE(in_kernel(fx.datapath()) == old_set);
  // The trie is twice the capacity (old and new versions fit together), so
  // it is filled behind the map's back: 4 more entries make 7 of 8, and the
  // second insert of the new version gets the kernel's E2BIG.
  auto foreign = prefixes({"172.16.1.0/24", "172.16.2.0/24", "172.16.3.0/24", "172.16.4.0/24"},
                          NETACCT_WL_MATCH_REMOTE);
  for (const auto& [prefix, match] : foreign) {
    netacct_wl_key key{};
    key.prefixlen = NETACCT_WL_KEY_PREFIX_BITS + prefix.length;
    key.family = prefix.family;
    std::memcpy(key.addr, prefix.addr, 16);
    netacct_wl_value value{match, 0};
    REQUIRE(bpf_map_update_elem(fx.datapath().whitelist_fd(), &key, &value, BPF_ANY) == 0);
  }
  auto everything = old_set;
  everything.insert(foreign.begin(), foreign.end());
  auto new_set =
      prefixes({"203.0.113.1/32", "203.0.113.2/32", "203.0.113.3/32"}, NETACCT_WL_MATCH_REMOTE);
  auto applied = map.apply(new_set);
  REQUIRE_FALSE(applied.ok());
  INFO(applied.error().message());
  CHECK(applied.error().message().find("previous whitelist stays in force") != std::string::npos);
  CHECK(map.current() == old_set);
  CHECK(in_kernel(fx.datapath()) == everything);
  CHECK(whitelisted(fx, "198.51.100.2"));
  CHECK(whitelisted(fx, "10.9.3.4"));
  CHECK_FALSE(whitelisted(fx, "203.0.113.1"));
  // The trie still takes a whitelist that fits.
  auto smaller = prefixes({"203.0.113.1/32"}, NETACCT_WL_MATCH_REMOTE);
  REQUIRE(map.apply(smaller).ok());
  auto expected = smaller;
  expected.insert(foreign.begin(), foreign.end());
  CHECK(in_kernel(fx.datapath()) == expected);
  CHECK(whitelisted(fx, "203.0.113.1"));
  CHECK_FALSE(whitelisted(fx, "198.51.100.2"));
}

TEST_CASE("whitelist apply: an insert failing at entry k restores added and changed entries") {
  BpfFixture fx(1024, 64);
  WhitelistMap map(fx.datapath());
  REQUIRE(map.load_current().ok());
  auto old_set =
      prefixes({"198.51.100.0/24", "2001:db8::/32", "10.1.0.0/16"}, NETACCT_WL_MATCH_REMOTE);
  REQUIRE(map.apply(old_set).ok());
  for (size_t k = 1; k <= 4; k++) {
    CAPTURE(k);
    // Changes the match of two old prefixes, adds two, drops one.
    auto new_set = prefixes({"198.51.100.0/24", "2001:db8::/32"},
                            NETACCT_WL_MATCH_REMOTE | NETACCT_WL_MATCH_LOCAL);
    new_set.merge(prefixes({"203.0.113.0/24", "192.0.2.0/24"}, NETACCT_WL_MATCH_REMOTE));
    map.fail_insert_at(k);
    REQUIRE_FALSE(map.apply(new_set).ok());
    CHECK(map.current() == old_set);
    CHECK(in_kernel(fx.datapath()) == old_set);
    CHECK(whitelisted(fx, "10.1.2.3"));
    CHECK_FALSE(whitelisted(fx, "203.0.113.9"));
  }
  map.fail_insert_at(0);
  auto final_set = prefixes({"203.0.113.0/24"}, NETACCT_WL_MATCH_REMOTE);
  REQUIRE(map.apply(final_set).ok());
  CHECK(in_kernel(fx.datapath()) == final_set);
}

// The programs remember the trie's answer per flow row (whitelisted or
// not), so only a flow's first packet in a buffer asks the trie. Every
// whitelist apply moves them to a new generation: packets before it keep
// the answer they got, packets after it get the new one.
TEST_CASE("whitelist apply mid-interval: packets before count by the old list, after by the new") {
  BpfFixture fx(1024, 64);
  WhitelistMap map(fx.datapath());
  REQUIRE(map.load_current().ok());
  const char* local = "10.0.0.1";
  const char* listed = "198.51.100.7";  // whitelisted, then not, then again
  const char* steady = "203.0.113.50";  // never whitelisted: one flow throughout
  auto frame = [&](const char* remote) {
    return build_packet({.src = remote, .dst = local, .protocol = IPPROTO_UDP, .payload = 72});
  };
  const Packet from_listed = frame(listed);  // 100 IP bytes
  const Packet from_steady = frame(steady);  // 100 IP bytes
  auto some = prefixes({"198.51.100.0/24"}, NETACCT_WL_MATCH_REMOTE);
  auto other = prefixes({"192.0.2.0/24"}, NETACCT_WL_MATCH_REMOTE);

  REQUIRE(map.apply(some).ok());
  (void)fx.harvest();
  send(fx, Hook::TcIngress, from_listed.frame, 3);  // whitelisted: bucket
  send(fx, Hook::TcIngress, from_steady.frame, 2);
  REQUIRE(map.apply(other).ok());  // listed is counted from now
  send(fx, Hook::TcIngress, from_listed.frame, 4);
  send(fx, Hook::TcIngress, from_steady.frame, 5);
  REQUIRE(map.apply(some).ok());  // and whitelisted again
  send(fx, Hook::TcIngress, from_listed.frame, 6);
  send(fx, Hook::TcIngress, from_steady.frame, 1);

  Expected want;
  want.flows = {{local, listed, IPPROTO_UDP, rx(4, 400)},
                // Three generations of one flow: one row in the delta.
                {local, steady, IPPROTO_UDP, rx(8, 800)}};
  with_bucket(want, NETACCT_BUCKET_WHITELISTED, rx(9, 900));
  want.packets_sent = 3 + 2 + 4 + 5 + 6 + 1;
  check_delta(fx.harvest(), want);

  // The next buffer starts over: one row per flow, the list as it is now.
  send(fx, Hook::TcIngress, from_listed.frame, 2);
  send(fx, Hook::TcIngress, from_steady.frame, 2);
  Expected next;
  next.flows = {{local, steady, IPPROTO_UDP, rx(2, 200)}};
  with_bucket(next, NETACCT_BUCKET_WHITELISTED, rx(2, 200));
  next.packets_sent = 4;
  check_delta(fx.harvest(), next);
}
