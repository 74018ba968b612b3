// SPDX-License-Identifier: GPL-2.0-only
// GSO/GRO super-packets through TC: one skb that leaves (or arrived) as N
// segments counts N packets, and every segment repeats the IP + transport
// headers.
//
// The kernel's TC test run copies __sk_buff.gso_segs and .gso_size from
// ctx_in into skb_shinfo (net/bpf/test_run.c, convert___skb_to_skb; the
// selftest prog_tests/skb_helpers.c passes both), and the programs read them
// back through __sk_buff, so this is the real path, not a simulation. The
// data is limited to about one page, so super-packets here are a few KB.
#include <doctest/doctest.h>
#include <netinet/in.h>

#include "tests/bpf/expect.hpp"
#include "tests/support/packet.hpp"

using namespace netacct;
using namespace netacct::test;

namespace {

constexpr const char* kLocal4 = "192.0.2.1";
constexpr const char* kRemote4 = "192.0.2.2";
constexpr const char* kLocal6 = "2001:db8:9::1";
constexpr const char* kRemote6 = "2001:db8:9::2";

struct GsoRow {
  const char* description;
  bool v6;
  uint8_t protocol;
  uint8_t tcp_options;
  std::vector<Ipv6Ext> ext;
  uint32_t payload;
  SkbMeta gso;
  uint32_t headers;  // IP + extension + transport header bytes, per segment
  uint64_t want_packets;
  uint64_t want_bytes;  // written out: total + (N - 1) * headers
};

}  // namespace

TEST_CASE("A GSO super-packet counts its segments and their repeated headers") {
  const GsoRow rows[] = {
      {"IPv4 TCP, 4 segments", false, IPPROTO_TCP, 0, {}, 2000, {4, 500}, 40, 4, 2040 + 3 * 40},
      {"IPv4 TCP with 12 option bytes (doff 8)",
       false,
       IPPROTO_TCP,
       12,
       {},
       1800,
       {3, 600},
       52,
       3,
       1852 + 2 * 52},
      {"IPv4 TCP, full-size options (doff 15)",
       false,
       IPPROTO_TCP,
       40,
       {},
       1000,
       {2, 500},
       80,
       2,
       1080 + 80},
      {"IPv6 TCP, 3 segments", true, IPPROTO_TCP, 0, {}, 2400, {3, 800}, 60, 3, 2460 + 2 * 60},
      {"IPv6 TCP with options", true, IPPROTO_TCP, 12, {}, 2400, {3, 800}, 72, 3, 2472 + 2 * 72},
      {"IPv6 TCP after a hop-by-hop header",
       true,
       IPPROTO_TCP,
       0,
       {{IPPROTO_HOPOPTS, 8}},
       1200,
       {2, 600},
       68,
       2,
       1268 + 68},
      {"IPv4 UDP GSO", false, IPPROTO_UDP, 0, {}, 1500, {3, 500}, 28, 3, 1528 + 2 * 28},
      {"IPv6 UDP GSO", true, IPPROTO_UDP, 0, {}, 1400, {5, 280}, 48, 5, 1448 + 4 * 48},
      // gso_segs 0: the programs derive ceil(payload / gso_size).
      {"IPv4 TCP, segs derived (exact)",
       false,
       IPPROTO_TCP,
       0,
       {},
       2100,
       {0, 700},
       40,
       3,
       2140 + 2 * 40},
      {"IPv4 TCP, segs derived (short last)",
       false,
       IPPROTO_TCP,
       0,
       {},
       2001,
       {0, 500},
       40,
       5,
       2041 + 4 * 40},
      {"IPv6 TCP options, segs derived",
       true,
       IPPROTO_TCP,
       20,
       {},
       1000,
       {0, 300},
       80,
       4,
       1080 + 3 * 80},
      {"IPv6 UDP, segs derived", true, IPPROTO_UDP, 0, {}, 999, {0, 333}, 48, 3, 1047 + 2 * 48},
      // Degenerate: one segment is one plain packet.
      {"gso_segs 1", false, IPPROTO_TCP, 0, {}, 700, {1, 1448}, 40, 1, 740},
      {"payload below gso_size, segs derived",
       true,
       IPPROTO_UDP,
       0,
       {},
       100,
       {0, 1400},
       48,
       1,
       148},
      // gso_segs without gso_size is not GSO (the kernel's skb_is_gso tests
      // gso_size): one packet.
      {"gso_segs without gso_size", false, IPPROTO_TCP, 0, {}, 900, {6, 0}, 40, 1, 940},
  };
  BpfFixture fx;
  for (const GsoRow& row : rows) {
    for (Hook hook : {Hook::TcEgress, Hook::TcIngress}) {
      INFO(std::string(row.description), " via ", hook_name(hook));
      const char* local = row.v6 ? kLocal6 : kLocal4;
      const char* remote = row.v6 ? kRemote6 : kRemote4;
      PacketSpec spec{.protocol = row.protocol,
                      .payload = row.payload,
                      .ipv6_ext = row.ext,
                      .tcp_options = row.tcp_options};
      spec.src = is_egress(hook) ? local : remote;
      spec.dst = is_egress(hook) ? remote : local;
      Packet packet = build_packet(spec);
      REQUIRE(packet.l4_offset - packet.l3_offset +
                  (row.protocol == IPPROTO_UDP ? 8u : 20u + row.tcp_options) ==
              row.headers);
      REQUIRE(row.want_bytes ==
              packet.ip_bytes + (row.want_packets - 1) * static_cast<uint64_t>(row.headers));
      send(fx, hook, packet.frame, 7, &row.gso);
      Expected want;
      want.flows = {
          {local, remote, row.protocol, on(hook, 7 * row.want_packets, 7 * row.want_bytes)}};
      want.packets_sent = 7 * row.want_packets;  // segments are the packets on the wire
      check_delta(fx.harvest(), want);
    }
  }
}

TEST_CASE("A GSO super-packet to a whitelisted peer counts its segments in the bucket") {
  BpfFixture fx;
  fx.whitelist("192.0.2.0/24", NETACCT_WL_MATCH_REMOTE);
  Packet packet =
      build_packet({.src = kLocal4, .dst = kRemote4, .protocol = IPPROTO_TCP, .payload = 3000});
  SkbMeta gso{.gso_segs = 3, .gso_size = 1000};
  send(fx, Hook::TcEgress, packet.frame, 2, &gso);
  Expected want;
  with_bucket(want, NETACCT_BUCKET_WHITELISTED, tx(6, 2 * (3040 + 2 * 40)));
  want.packets_sent = 6;
  check_delta(fx.harvest(), want);
}

TEST_CASE("The same frame without GSO metadata is one packet") {
  // Guards the GSO rows above: the segment counts come from the ctx, not
  // from the frame.
  BpfFixture fx;
  Packet packet =
      build_packet({.src = kRemote4, .dst = kLocal4, .protocol = IPPROTO_TCP, .payload = 2000});
  SkbMeta none{};
  send(fx, Hook::TcIngress, packet.frame, 1, &none);
  send(fx, Hook::TcIngress, packet.frame, 1);
  Expected want;
  want.flows = {{kLocal4, kRemote4, IPPROTO_TCP, rx(2, 2 * 2040)}};
  want.packets_sent = 2;
  check_delta(fx.harvest(), want);
}

TEST_CASE("A BIG TCP super-packet (length field 0) counts from the skb length") {
  // Above 64 KiB, IPv4 BIG TCP (Linux 6.3+) leaves tot_len 0 and IPv6 BIG
  // TCP payload_len 0; the kernel then takes the length from the skb
  // (iph_totlen, ipv6_payload_len). The test run's data is limited to a
  // page, so a small super-packet with the length field zeroed stands in.
  BpfFixture fx;
  for (bool v6 : {false, true}) {
    for (Hook hook : {Hook::TcEgress, Hook::TcIngress}) {
      INFO(std::string(v6 ? "IPv6" : "IPv4"), " via ", hook_name(hook));
      const char* local = v6 ? kLocal6 : kLocal4;
      const char* remote = v6 ? kRemote6 : kRemote4;
      PacketSpec spec{.protocol = IPPROTO_TCP, .payload = 3000};
      spec.src = is_egress(hook) ? local : remote;
      spec.dst = is_egress(hook) ? remote : local;
      Packet packet = build_packet(spec);
      const size_t length_field = packet.l3_offset + (v6 ? 4 : 2);
      packet.frame[length_field] = 0;
      packet.frame[length_field + 1] = 0;
      const uint32_t headers = v6 ? 60 : 40;
      SkbMeta gso{.gso_segs = 4, .gso_size = 750};
      send(fx, hook, packet.frame, 2, &gso);
      Expected want;
      uint64_t bytes = packet.ip_bytes + 3ull * headers;  // 4 x (headers + 750)
      want.flows = {{local, remote, IPPROTO_TCP, on(hook, 8, 2 * bytes)}};
      want.packets_sent = 8;
      check_delta(fx.harvest(), want);
    }
  }
}
