// SPDX-License-Identifier: GPL-2.0-only
// The whitelist trie: a matching remote address sends the packet to the
// whitelisted bucket (rx or tx by direction) and creates no flow; the local
// address is matched only by prefixes flagged NETACCT_WL_MATCH_LOCAL.
#include <doctest/doctest.h>
#include <netinet/in.h>

#include "tests/bpf/expect.hpp"
#include "tests/support/packet.hpp"

using namespace netacct;
using namespace netacct::test;

namespace {

struct Traffic {
  std::string local;
  std::string remote;
  bool whitelisted;
};

// Sends `traffic` on every hook (3 frames each, oriented by direction) and
// checks the whole delta: whitelisted rows in the bucket, others in flows.
void check_traffic(BpfFixture& fx, const std::vector<Traffic>& traffic) {
  Expected want;
  for (const Traffic& t : traffic) {
    netacct_counters flow{};
    for (Hook hook : kAllHooks) {
      PacketSpec spec{.protocol = IPPROTO_UDP, .payload = 52};
      spec.src = is_egress(hook) ? t.local : t.remote;
      spec.dst = is_egress(hook) ? t.remote : t.local;
      Packet packet = build_packet(spec);
      send(fx, hook, packet.frame, 3);
      netacct_counters counted = on(hook, 3, 3 * packet.ip_bytes);
      if (t.whitelisted) {
        with_bucket(want, NETACCT_BUCKET_WHITELISTED, counted);
      } else {
        flow += counted;
      }
      want.packets_sent += 3;
    }
    if (!t.whitelisted) want.flows.push_back({t.local, t.remote, IPPROTO_UDP, flow});
  }
  check_delta(fx.harvest(), want);
}

}  // namespace

TEST_CASE("Exact /32 and /128 entries whitelist only that remote address") {
  BpfFixture fx;
  fx.whitelist("198.51.100.7", NETACCT_WL_MATCH_REMOTE);
  fx.whitelist("2001:db8:1::7/128", NETACCT_WL_MATCH_REMOTE);
  check_traffic(fx, {
                        {"10.0.0.1", "198.51.100.7", true},
                        {"10.0.0.1", "198.51.100.8", false},
                        {"10.0.0.1", "198.51.100.6", false},
                        {"fd00::1", "2001:db8:1::7", true},
                        {"fd00::1", "2001:db8:1::8", false},
                    });
}

TEST_CASE("CIDR prefixes whitelist every remote inside and nothing outside") {
  BpfFixture fx;
  fx.whitelist("198.51.100.0/24", NETACCT_WL_MATCH_REMOTE);
  fx.whitelist("172.16.0.0/12", NETACCT_WL_MATCH_REMOTE);
  fx.whitelist("2001:db8:aa00::/40", NETACCT_WL_MATCH_REMOTE);
  check_traffic(fx, {
                        {"10.0.0.1", "198.51.100.0", true},
                        {"10.0.0.1", "198.51.100.255", true},
                        {"10.0.0.1", "198.51.101.1", false},
                        {"10.0.0.1", "172.31.255.255", true},
                        {"10.0.0.1", "172.32.0.1", false},
                        {"fd00::1", "2001:db8:aa12:3456::1", true},
                        {"fd00::1", "2001:db8:ab00::1", false},
                    });
}

TEST_CASE("An IPv4 prefix never matches IPv6 and vice versa") {
  // The family byte leads the trie key: 0.0.0.0/0 must not swallow IPv6, and
  // ::/0 must not swallow IPv4 (v4 addresses sit in the first 4 bytes).
  BpfFixture fx;
  fx.whitelist("0.0.0.0/0", NETACCT_WL_MATCH_REMOTE);
  check_traffic(fx, {{"10.0.0.1", "203.0.113.9", true}, {"fd00::1", "::cb00:7109", false}});
  BpfFixture fx6;
  fx6.whitelist("::/0", NETACCT_WL_MATCH_REMOTE);
  check_traffic(fx6, {{"10.0.0.1", "203.0.113.9", false}, {"fd00::1", "2001:db8::9", true}});
}

TEST_CASE("A remote-only prefix does not match the local address") {
  BpfFixture fx;
  fx.whitelist("10.9.0.0/16", NETACCT_WL_MATCH_REMOTE);
  fx.whitelist("fd09::/32", NETACCT_WL_MATCH_REMOTE);
  // Local inside the prefixes, remote outside: counted as flows.
  check_traffic(fx, {
                        {"10.9.0.1", "10.8.0.1", false},
                        {"fd09::1", "fd08::1", false},
                        // And the control: the same prefix as remote.
                        {"10.8.0.1", "10.9.0.1", true},
                    });
}

TEST_CASE("A prefix flagged MATCH_LOCAL whitelists by local address") {
  BpfFixture fx;
  fx.whitelist("10.9.0.0/16", NETACCT_WL_MATCH_LOCAL);
  fx.whitelist("fd09::/32", NETACCT_WL_MATCH_LOCAL);
  check_traffic(fx, {
                        {"10.9.0.1", "10.8.0.1", true},
                        {"fd09::1", "fd08::1", true},
                        // Local-only: the same prefix as remote does not match.
                        {"10.8.0.1", "10.9.0.1", false},
                        {"fd08::1", "fd09::1", false},
                    });
}

TEST_CASE("A prefix flagged for both sides matches either") {
  BpfFixture fx;
  fx.whitelist("10.9.0.0/16", NETACCT_WL_MATCH_LOCAL | NETACCT_WL_MATCH_REMOTE);
  check_traffic(fx, {
                        {"10.9.0.1", "10.8.0.1", true},
                        {"10.8.0.1", "10.9.0.1", true},
                        {"10.8.0.1", "10.7.0.1", false},
                    });
}

TEST_CASE("Whitelisted fragments and extension-header packets also skip flows") {
  BpfFixture fx;
  fx.whitelist("2001:db8:5::/48", NETACCT_WL_MATCH_REMOTE);
  fx.whitelist("198.51.100.0/24", NETACCT_WL_MATCH_REMOTE);
  Packet v6 = build_packet({.src = "2001:db8:5::2",
                            .dst = "fd00::1",
                            .protocol = IPPROTO_TCP,
                            .payload = 10,
                            .ipv6_ext = {{IPPROTO_HOPOPTS, 8}, {IPPROTO_FRAGMENT, 8, 9}}});
  Packet v4 = build_packet({.src = "10.0.0.1",
                            .dst = "198.51.100.2",
                            .protocol = IPPROTO_UDP,
                            .payload = 10,
                            .vlans = {0x8100},
                            .ipv4_frag_offset = 3});
  send(fx, Hook::XdpIngress, v6.frame, 4);
  send(fx, Hook::TcEgress, v4.frame, 5);
  Expected want;
  with_bucket(want, NETACCT_BUCKET_WHITELISTED, rx(4, 4 * v6.ip_bytes) + tx(5, 5 * 30));
  want.packets_sent = 9;
  check_delta(fx.harvest(), want);
}
