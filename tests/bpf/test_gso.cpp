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

#include <algorithm>

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

// Tunnels: a GSO super-packet of a VXLAN, Geneve, GRE or IP-in-IP device
// leaves as segments that each repeat the outer headers, the tunnel header
// and the inner headers (skb_udp_tunnel_segment, gre_gso_segment,
// ipip_gso_segment). The frames are crafted: outer packet + tunnel header +
// inner Ethernet frame or inner IP packet, as the tunnel device builds them.
namespace {

struct TunnelRow {
  const char* description;
  bool outer_v6;
  uint8_t outer_protocol;  // UDP, GRE, IPIP (4), IPv6 (41)
  uint16_t udp_port;       // UDP only
  std::vector<uint8_t> tunnel_header;
  bool inner_ethernet;  // an Ethernet frame inside (VXLAN, Geneve TEB, GRETAP)
  bool inner_v6;
  uint8_t inner_protocol;
  uint8_t inner_tcp_options;
  uint32_t inner_payload;
  SkbMeta gso;
  uint32_t headers;  // written out: what every segment repeats
};

// The inner packet as the tunnel carries it (without Ethernet unless asked).
std::vector<uint8_t> inner_bytes(const TunnelRow& row) {
  PacketSpec spec{.protocol = row.inner_protocol,
                  .payload = row.inner_payload,
                  .tcp_options = row.inner_tcp_options};
  spec.src = row.inner_v6 ? "fd00:77::1" : "10.77.0.1";
  spec.dst = row.inner_v6 ? "fd00:77::2" : "10.77.0.2";
  Packet inner = build_packet(spec);
  return row.inner_ethernet
             ? inner.frame
             : std::vector<uint8_t>(inner.frame.begin() + inner.l3_offset, inner.frame.end());
}

Packet tunnel_packet(const TunnelRow& row, bool egress) {
  std::vector<uint8_t> carried = row.tunnel_header;
  std::vector<uint8_t> inner = inner_bytes(row);
  carried.insert(carried.end(), inner.begin(), inner.end());
  const char* local = row.outer_v6 ? kLocal6 : kLocal4;
  const char* remote = row.outer_v6 ? kRemote6 : kRemote4;
  PacketSpec outer{.protocol = row.outer_protocol,
                   .payload = static_cast<uint32_t>(carried.size())};
  outer.src = egress ? local : remote;
  outer.dst = egress ? remote : local;
  Packet packet = build_packet(outer);
  const uint32_t transport = row.outer_protocol == IPPROTO_UDP ? 8 : 0;
  std::copy(carried.begin(), carried.end(), packet.frame.begin() + packet.l4_offset + transport);
  if (row.outer_protocol == IPPROTO_UDP) {
    packet.frame[packet.l4_offset + 2] = static_cast<uint8_t>(row.udp_port >> 8);
    packet.frame[packet.l4_offset + 3] = static_cast<uint8_t>(row.udp_port);
  }
  return packet;
}

const std::vector<uint8_t> kVxlan = {0x08, 0, 0, 0, 0, 0, 42, 0};
// Geneve: 8 option bytes (opt_len 2), protocol type TEB, then the options.
const std::vector<uint8_t> kGeneveTeb = {0x02, 0, 0x65, 0x58, 0, 0, 42, 0, 0, 1, 2, 3, 4, 5, 6, 7};
const std::vector<uint8_t> kGeneveIpv6 = {0x00, 0, 0x86, 0xdd, 0, 0, 42, 0};
const std::vector<uint8_t> kGreIpv4 = {0, 0, 0x08, 0x00};
// GRE with key and sequence number (RFC 2890): 4 + 4 + 4 bytes.
const std::vector<uint8_t> kGreKeySeqIpv6 = {0x30, 0, 0x86, 0xdd, 0, 0, 0, 7, 0, 0, 0, 1};
// GRETAP with checksum and key: 4 + 4 + 4, an Ethernet frame inside.
const std::vector<uint8_t> kGretap = {0xa0, 0, 0x65, 0x58, 0, 0, 0, 0, 0, 0, 0, 9};

}  // namespace

TEST_CASE("A tunnel's GSO super-packet counts outer and inner headers in every segment") {
  constexpr uint8_t kIpip = 4;
  constexpr uint8_t kIp6 = 41;
  constexpr uint8_t kGre = 47;
  const TunnelRow rows[] = {
      {"VXLAN (4789), IPv4 in IPv4",
       false,
       IPPROTO_UDP,
       4789,
       kVxlan,
       true,
       false,
       IPPROTO_TCP,
       0,
       2800,
       {4, 700},
       20 + 8 + 8 + 14 + 20 + 20},
      {"VXLAN (Linux port 8472), IPv6 TCP with options in IPv6",
       true,
       IPPROTO_UDP,
       8472,
       kVxlan,
       true,
       true,
       IPPROTO_TCP,
       12,
       2400,
       {3, 800},
       40 + 8 + 8 + 14 + 40 + 32},
      {"VXLAN, segments derived from gso_size",
       false,
       IPPROTO_UDP,
       4789,
       kVxlan,
       true,
       false,
       IPPROTO_TCP,
       0,
       2001,
       {0, 500},
       20 + 8 + 8 + 14 + 20 + 20},
      {"Geneve with options, Ethernet inside",
       false,
       IPPROTO_UDP,
       6081,
       kGeneveTeb,
       true,
       false,
       IPPROTO_TCP,
       0,
       1800,
       {3, 600},
       20 + 8 + 16 + 14 + 20 + 20},
      {"Geneve, IPv6 UDP inside without Ethernet",
       true,
       IPPROTO_UDP,
       6081,
       kGeneveIpv6,
       false,
       true,
       IPPROTO_UDP,
       0,
       1500,
       {5, 300},
       40 + 8 + 8 + 40 + 8},
      {"GRE, IPv4 inside",
       false,
       kGre,
       0,
       kGreIpv4,
       false,
       false,
       IPPROTO_TCP,
       0,
       2000,
       {4, 500},
       20 + 4 + 20 + 20},
      {"GRE with key and sequence, IPv6 inside",
       true,
       kGre,
       0,
       kGreKeySeqIpv6,
       false,
       true,
       IPPROTO_TCP,
       0,
       2000,
       {2, 1000},
       40 + 12 + 40 + 20},
      {"GRETAP with checksum and key",
       false,
       kGre,
       0,
       kGretap,
       true,
       false,
       IPPROTO_TCP,
       8,
       1200,
       {2, 600},
       20 + 12 + 14 + 20 + 28},
      {"IPIP", false, kIpip, 0, {}, false, false, IPPROTO_TCP, 0, 2100, {3, 700}, 20 + 20 + 20},
      {"IPv6 in IPv6", true, kIp6, 0, {}, false, true, IPPROTO_UDP, 0, 1200, {3, 400}, 40 + 40 + 8},
      // UDP on another port is plain UDP GSO: only its own headers repeat.
      {"UDP to port 4790 is not a tunnel",
       false,
       IPPROTO_UDP,
       4790,
       kVxlan,
       true,
       false,
       IPPROTO_TCP,
       0,
       2800,
       {4, 700},
       20 + 8},
  };
  BpfFixture fx;
  for (const TunnelRow& row : rows) {
    for (Hook hook : {Hook::TcEgress, Hook::TcIngress}) {
      INFO(std::string(row.description), " via ", hook_name(hook));
      Packet packet = tunnel_packet(row, is_egress(hook));
      uint64_t segments = row.gso.gso_segs;
      if (segments == 0) {
        // What the kernel would have set: the inner payload in gso_size pieces.
        const uint64_t payload = packet.ip_bytes - row.headers;
        segments = (payload + row.gso.gso_size - 1) / row.gso.gso_size;
      }
      const uint64_t bytes = packet.ip_bytes + (segments - 1) * uint64_t{row.headers};
      send(fx, hook, packet.frame, 3, &row.gso);
      Expected want;
      const char* local = row.outer_v6 ? kLocal6 : kLocal4;
      const char* remote = row.outer_v6 ? kRemote6 : kRemote4;
      want.flows = {{local, remote, row.outer_protocol, on(hook, 3 * segments, 3 * bytes)}};
      want.packets_sent = 3 * segments;
      check_delta(fx.harvest(), want);
    }
  }
}
