// SPDX-License-Identifier: GPL-2.0-only
// L3 devices (tun, WireGuard, ipip, GRE, sit): no link-layer header, the
// frame starts with the IP header. The programs are loaded with
// NETACCT_LINK_IP and must count such frames as flows with exact IP bytes.
//
// Only the XDP hook can be test-run on a frame without an Ethernet header:
// BPF_PROG_TEST_RUN always gives a TC program a 14-byte Ethernet header in
// front of the data. The TC path (skb->protocol + the same parser) is
// checked on a real tun device by the integration suite (test_link_types).
#include <doctest/doctest.h>
#include <netinet/in.h>

#include "tests/bpf/expect.hpp"
#include "tests/support/packet.hpp"

using namespace netacct;
using namespace netacct::test;

namespace {

// The IP packet of a built frame: what an L3 device carries.
std::vector<uint8_t> l3_of(const Packet& packet) {
  return std::vector<uint8_t>(packet.frame.begin() + packet.l3_offset, packet.frame.end());
}

struct L3Row {
  const char* description;
  PacketSpec spec;
};

}  // namespace

TEST_CASE("L3 framing: IPv4 and IPv6 packets without an Ethernet header count as flows") {
  // 8.0.x.x and 134.221.x.x: the first two source bytes sit where an Ethernet
  // parser reads the EtherType (0x0800 IPv4, 0x86dd IPv6).
  const L3Row rows[] = {
      {"IPv4 UDP from 8.0.", {.src = "8.0.3.4", .dst = "10.1.0.1", .protocol = IPPROTO_UDP}},
      {"IPv4 TCP from 134.221.",
       {.src = "134.221.7.9", .dst = "10.1.0.1", .protocol = IPPROTO_TCP, .payload = 1000}},
      {"IPv4 ICMP",
       {.src = "10.1.0.2", .dst = "10.1.0.1", .protocol = IPPROTO_ICMP, .payload = 56}},
      {"IPv4 with options",
       {.src = "10.1.0.2", .dst = "10.1.0.1", .protocol = IPPROTO_UDP, .ipv4_options = 12}},
      {"IPv4 later fragment",
       {.src = "8.0.0.8", .dst = "10.1.0.1", .protocol = IPPROTO_UDP, .ipv4_frag_offset = 185}},
      {"IPv6 UDP", {.src = "fd00:1::2", .dst = "fd00:1::1", .protocol = IPPROTO_UDP}},
      {"IPv6 TCP",
       {.src = "2001:db8::2", .dst = "fd00:1::1", .protocol = IPPROTO_TCP, .payload = 1200}},
      {"IPv6 with extension headers",
       {.src = "fd00:1::2",
        .dst = "fd00:1::1",
        .protocol = IPPROTO_UDP,
        .ipv6_ext = {{IPPROTO_HOPOPTS, 8}, {IPPROTO_DSTOPTS, 16}}}},
  };
  BpfFixture fx(1024, 1024, NETACCT_LINK_IP);
  for (const L3Row& row : rows) {
    INFO(row.description);
    Packet packet = build_packet(row.spec);
    std::vector<uint8_t> frame = l3_of(packet);
    REQUIRE(frame.size() == packet.ip_bytes);  // nothing but the IP packet
    send(fx, Hook::XdpIngress, frame, 7);
    Expected want;
    want.flows = {{row.spec.dst, row.spec.src, row.spec.protocol, rx(7, 7 * packet.ip_bytes)}};
    want.packets_sent = 7;
    check_delta(fx.harvest(), want);
  }
}

TEST_CASE("L3 framing: these frames were miscounted by the Ethernet parser") {
  // The same frames through the Ethernet-framed programs: no flow is found
  // (this is what the L3 framing fixes; it also shows the test above can fail).
  BpfFixture fx;
  for (const char* source : {"8.0.3.4", "134.221.7.9"}) {
    INFO(source);
    Packet packet = build_packet({.src = source, .dst = "10.1.0.1", .protocol = IPPROTO_UDP});
    send(fx, Hook::XdpIngress, l3_of(packet), 3);
    Delta delta = fx.harvest();
    CHECK(find_flow(delta, "10.1.0.1", source, IPPROTO_UDP) == nullptr);
    CHECK(packets_of(delta.flow_total()) + packets_of(delta.bucket_total()) == 3);
  }
}

TEST_CASE("L3 framing: not IP, truncated and cut-short packets go to their buckets") {
  BpfFixture fx(1024, 1024, NETACCT_LINK_IP);
  Packet v4 = build_packet({.src = "10.1.0.2", .dst = "10.1.0.1", .protocol = IPPROTO_UDP});
  std::vector<uint8_t> ip = l3_of(v4);

  std::vector<uint8_t> not_ip = ip;
  not_ip[0] = 0x15;  // version 1: neither IPv4 nor IPv6
  send(fx, Hook::XdpIngress, not_ip, 2);

  std::vector<uint8_t> truncated = ip;
  truncated.resize(truncated.size() - 4);  // tot_len claims 4 bytes more
  send(fx, Hook::XdpIngress, truncated, 3);

  Packet v6 = build_packet({.src = "fd00:1::2", .dst = "fd00:1::1", .protocol = IPPROTO_UDP});
  std::vector<uint8_t> short6(v6.frame.begin() + v6.l3_offset,
                              v6.frame.begin() + v6.l3_offset + 20);  // half an IPv6 header
  send(fx, Hook::XdpIngress, short6, 5);

  Expected want;
  with_bucket(want, NETACCT_BUCKET_NON_IP, rx(2, 2 * not_ip.size()));
  with_bucket(want, NETACCT_BUCKET_MALFORMED,
              rx(3, 3 * truncated.size()) + rx(5, 5 * short6.size()));
  want.packets_sent = 10;
  check_delta(fx.harvest(), want);
}

TEST_CASE("Ethernet framing is the default and still counts Ethernet frames") {
  BpfFixture eth;
  CHECK(eth.datapath().link_framing() == NETACCT_LINK_ETHERNET);
  Packet packet =
      build_packet({.src = "8.0.3.4", .dst = "10.1.0.1", .protocol = IPPROTO_UDP, .payload = 10});
  send(eth, Hook::XdpIngress, packet.frame, 2);
  send(eth, Hook::TcIngress, packet.frame, 2);
  Expected want;
  want.flows = {{"10.1.0.1", "8.0.3.4", IPPROTO_UDP, rx(4, 4 * packet.ip_bytes)}};
  want.packets_sent = 4;
  check_delta(eth.harvest(), want);
}
