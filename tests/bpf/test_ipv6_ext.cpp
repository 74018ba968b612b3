// SPDX-License-Identifier: GPL-2.0-only
// IPv6 extension headers: each kind, fragments, chains up to the walk limit
// of 8, and jumbograms. The flow's protocol is the upper layer after the
// chain; the bytes are the whole IPv6 packet, extension headers included.
#include <doctest/doctest.h>
#include <netinet/in.h>

#include "tests/bpf/expect.hpp"
#include "tests/support/packet.hpp"

using namespace netacct;
using namespace netacct::test;

namespace {

constexpr const char* kLocal = "2001:db8:6::1";
constexpr const char* kRemote = "2001:db8:6::2";

struct ExtRow {
  const char* description;
  std::vector<Ipv6Ext> ext;
  uint8_t protocol;
  uint32_t payload;
  uint32_t expected_ip_bytes;
};

}  // namespace

TEST_CASE("IPv6 extension headers are walked to the upper-layer protocol") {
  const ExtRow rows[] = {
      {"hop-by-hop", {{IPPROTO_HOPOPTS, 8}}, IPPROTO_TCP, 100, 40 + 8 + 20 + 100},
      {"hop-by-hop, 3 units", {{IPPROTO_HOPOPTS, 24}}, IPPROTO_UDP, 10, 40 + 24 + 8 + 10},
      {"routing", {{IPPROTO_ROUTING, 24}}, IPPROTO_UDP, 10, 40 + 24 + 8 + 10},
      {"destination options", {{IPPROTO_DSTOPTS, 16}}, IPPROTO_ICMPV6, 20, 40 + 16 + 8 + 20},
      {"first fragment", {{IPPROTO_FRAGMENT, 8, 0}}, IPPROTO_UDP, 1200, 40 + 8 + 8 + 1200},
      // A later fragment has no UDP header: only its data follows.
      {"later fragment", {{IPPROTO_FRAGMENT, 8, 150}}, IPPROTO_UDP, 333, 40 + 8 + 333},
      {"AH (hdrlen in 4-byte units)", {{IPPROTO_AH, 24}}, IPPROTO_TCP, 50, 40 + 24 + 20 + 50},
      {"AH, 12 bytes", {{IPPROTO_AH, 12}}, IPPROTO_UDP, 0, 40 + 12 + 8},
      {"chain HBH, DST, RH, FRAG, AH, DST",
       {{IPPROTO_HOPOPTS, 8},
        {IPPROTO_DSTOPTS, 16},
        {IPPROTO_ROUTING, 24},
        {IPPROTO_FRAGMENT, 8},
        {IPPROTO_AH, 16},
        {IPPROTO_DSTOPTS, 8}},
       IPPROTO_TCP,
       7,
       40 + 80 + 20 + 7},
      {"chain ending in a later fragment",
       {{IPPROTO_HOPOPTS, 8}, {IPPROTO_ROUTING, 24}, {IPPROTO_FRAGMENT, 8, 1}},
       IPPROTO_TCP,
       64,
       40 + 40 + 64},
      // The walk takes at most 8 headers (parse.h IPV6_EXT_MAX): 8 is fine,
      // 9 is malformed (see test_buckets.cpp).
      {"chain of exactly 8", std::vector<Ipv6Ext>(8, Ipv6Ext{IPPROTO_DSTOPTS, 8}), IPPROTO_UDP, 1,
       40 + 64 + 8 + 1},
  };
  BpfFixture fx;
  for (const ExtRow& row : rows) {
    for (Hook hook : kAllHooks) {
      INFO(std::string(row.description), " via ", hook_name(hook));
      PacketSpec spec{.protocol = row.protocol, .payload = row.payload, .ipv6_ext = row.ext};
      spec.src = is_egress(hook) ? kLocal : kRemote;
      spec.dst = is_egress(hook) ? kRemote : kLocal;
      Packet packet = build_packet(spec);
      REQUIRE(packet.ip_bytes == row.expected_ip_bytes);
      send(fx, hook, packet.frame, 6);
      Expected want;
      want.flows = {{kLocal, kRemote, row.protocol, on(hook, 6, 6 * row.expected_ip_bytes)}};
      want.packets_sent = 6;
      check_delta(fx.harvest(), want);
    }
  }
}

TEST_CASE("IPv6 fragments of one datagram add up in one flow") {
  BpfFixture fx;
  Packet first = build_packet({.src = kRemote,
                               .dst = kLocal,
                               .protocol = IPPROTO_UDP,
                               .payload = 1000,
                               .ipv6_ext = {{IPPROTO_FRAGMENT, 8, 0}}});
  Packet later = build_packet({.src = kRemote,
                               .dst = kLocal,
                               .protocol = IPPROTO_UDP,
                               .payload = 500,
                               .ipv6_ext = {{IPPROTO_FRAGMENT, 8, 126}}});
  send(fx, Hook::XdpIngress, first.frame, 10);
  send(fx, Hook::TcIngress, later.frame, 10);
  Expected want;
  want.flows = {{kLocal, kRemote, IPPROTO_UDP, rx(20, 10ull * (1056 + 548))}};
  want.packets_sent = 20;
  check_delta(fx.harvest(), want);
}

TEST_CASE("A later IPv6 fragment's data is not parsed as extension headers") {
  // The fragment header names the first header of the fragmentable part,
  // here destination options; in a later fragment that header is in the
  // first fragment only and what follows is data. Walking on would read data
  // bytes (0xcd: hdrlen 205) as a header and call the packet malformed. The
  // flow gets the protocol the fragment header names, as an IPv4 later
  // fragment keeps its protocol field.
  BpfFixture fx;
  for (Hook hook : kAllHooks) {
    INFO("via ", hook_name(hook));
    PacketSpec spec{.protocol = IPPROTO_UDP,
                    .payload = 333,
                    .ipv6_ext = {{IPPROTO_HOPOPTS, 8}, {IPPROTO_FRAGMENT, 8, 100}}};
    spec.src = is_egress(hook) ? kLocal : kRemote;
    spec.dst = is_egress(hook) ? kRemote : kLocal;
    Packet packet = build_packet(spec);
    const size_t frag_header = packet.l3_offset + 40 + 8;
    REQUIRE(packet.frame[frag_header] == IPPROTO_UDP);
    packet.frame[frag_header] = IPPROTO_DSTOPTS;
    send(fx, hook, packet.frame, 3);
    Expected want;
    want.flows = {{kLocal, kRemote, IPPROTO_DSTOPTS, on(hook, 3, 3 * (40 + 16 + 333))}};
    want.packets_sent = 3;
    check_delta(fx.harvest(), want);
  }
}

TEST_CASE("Every IPv6 fragment is keyed by the Fragment header's next header, never split") {
  // The common case: the fragmentable part starts with UDP, so first and
  // later fragments share the key of an unfragmented UDP datagram.
  // With destination options after the Fragment header, the first fragment
  // must not walk on to UDP: its later fragments cannot (they carry data
  // only), so all fragments of that datagram are keyed by 60 (DSTOPTS).
  BpfFixture fx;
  for (Hook hook : kAllHooks) {
    INFO("via ", hook_name(hook));
    auto spec = [&](uint32_t payload, std::vector<Ipv6Ext> ext) {
      PacketSpec s{.protocol = IPPROTO_UDP, .payload = payload, .ipv6_ext = std::move(ext)};
      s.src = is_egress(hook) ? kLocal : kRemote;
      s.dst = is_egress(hook) ? kRemote : kLocal;
      return s;
    };
    Packet whole = build_packet(spec(100, {}));
    Packet first = build_packet(spec(1000, {{IPPROTO_FRAGMENT, 8, 0, true}}));
    Packet later = build_packet(spec(500, {{IPPROTO_FRAGMENT, 8, 126}}));
    Packet first_dst =
        build_packet(spec(1000, {{IPPROTO_FRAGMENT, 8, 0, true}, {IPPROTO_DSTOPTS, 16}}));
    Packet later_dst = build_packet(spec(504, {{IPPROTO_FRAGMENT, 8, 128}}));
    const size_t frag_header = later_dst.l3_offset + 40;
    REQUIRE(later_dst.frame[frag_header] == IPPROTO_UDP);
    later_dst.frame[frag_header] = IPPROTO_DSTOPTS;
    REQUIRE(first_dst.frame[first_dst.l3_offset + 40] == IPPROTO_DSTOPTS);
    REQUIRE(first.ip_bytes == 40 + 8 + 8 + 1000);
    REQUIRE(first_dst.ip_bytes == 40 + 8 + 16 + 8 + 1000);
    for (const Packet* p : {&whole, &first, &later, &first_dst, &later_dst})
      send(fx, hook, p->frame, 2);
    Expected want;
    want.flows = {
        {kLocal, kRemote, IPPROTO_UDP, on(hook, 6, 2 * (148 + 1056 + 548))},
        {kLocal, kRemote, IPPROTO_DSTOPTS, on(hook, 4, 2 * (1072 + 552))},
    };
    want.packets_sent = 10;
    check_delta(fx.harvest(), want);
  }
}

TEST_CASE("An IPv6 jumbogram (payload_len 0 after hop-by-hop) counts the frame's IP bytes") {
  // RFC 2675: the real length is in the jumbo option; parse.h takes the
  // frame's length instead, which is the same for an unpadded frame.
  BpfFixture fx;
  for (Hook hook : kAllHooks) {
    INFO("via ", hook_name(hook));
    PacketSpec spec{.protocol = IPPROTO_TCP, .payload = 900, .ipv6_ext = {{IPPROTO_HOPOPTS, 8}}};
    spec.src = is_egress(hook) ? kLocal : kRemote;
    spec.dst = is_egress(hook) ? kRemote : kLocal;
    Packet packet = build_packet(spec);
    packet.frame[packet.l3_offset + 4] = 0;
    packet.frame[packet.l3_offset + 5] = 0;
    send(fx, hook, packet.frame, 2);
    Expected want;
    want.flows = {{kLocal, kRemote, IPPROTO_TCP, on(hook, 2, 2 * (40 + 8 + 20 + 900))}};
    want.packets_sent = 2;
    check_delta(fx.harvest(), want);
  }
}
