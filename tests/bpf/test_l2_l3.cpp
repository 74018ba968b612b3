// SPDX-License-Identifier: GPL-2.0-only
// L2/L3 parsing through the real programs: protocols on every hook, VLAN and
// QinQ tags, IPv4 options and fragments, Ethernet padding.
#include <doctest/doctest.h>
#include <netinet/in.h>

#include "tests/bpf/expect.hpp"
#include "tests/support/packet.hpp"

using namespace netacct;
using namespace netacct::test;

namespace {

constexpr const char* kLocal4 = "10.1.0.1";
constexpr const char* kRemote4 = "10.1.0.2";
constexpr const char* kLocal6 = "fd00:1::1";
constexpr const char* kRemote6 = "fd00:1::2";

// A spec's addresses as seen on `hook`: ingress frames come from the remote
// host, egress frames go to it.
PacketSpec oriented(PacketSpec spec, Hook hook, const std::string& local,
                    const std::string& remote) {
  spec.src = is_egress(hook) ? local : remote;
  spec.dst = is_egress(hook) ? remote : local;
  return spec;
}

struct ProtocolRow {
  const char* description;
  bool v6;
  uint8_t protocol;
  uint32_t payload;
  uint32_t expected_ip_bytes;  // written out, so the builder is checked too
};

}  // namespace

TEST_CASE("TCP, UDP and ICMP over IPv4 and IPv6 count IP bytes on every hook") {
  const ProtocolRow rows[] = {
      {"IPv4 TCP", false, IPPROTO_TCP, 100, 20 + 20 + 100},
      {"IPv4 UDP", false, IPPROTO_UDP, 0, 20 + 8},
      {"IPv4 ICMP", false, IPPROTO_ICMP, 56, 20 + 8 + 56},
      {"IPv6 TCP", true, IPPROTO_TCP, 1000, 40 + 20 + 1000},
      {"IPv6 UDP", true, IPPROTO_UDP, 33, 40 + 8 + 33},
      {"IPv6 ICMPv6", true, IPPROTO_ICMPV6, 56, 40 + 8 + 56},
  };
  BpfFixture fx;
  for (const ProtocolRow& row : rows) {
    for (Hook hook : kAllHooks) {
      INFO(std::string(row.description), " via ", hook_name(hook));
      const char* local = row.v6 ? kLocal6 : kLocal4;
      const char* remote = row.v6 ? kRemote6 : kRemote4;
      Packet packet = build_packet(
          oriented({.protocol = row.protocol, .payload = row.payload}, hook, local, remote));
      REQUIRE(packet.ip_bytes == row.expected_ip_bytes);
      send(fx, hook, packet.frame, 5);
      Expected want;
      want.flows = {{local, remote, row.protocol, on(hook, 5, 5 * row.expected_ip_bytes)}};
      want.packets_sent = 5;
      check_delta(fx.harvest(), want);
    }
  }
}

TEST_CASE("XDP ingress and TC ingress count a frame identically; egress swaps the sides") {
  BpfFixture fx;
  Packet in4 =
      build_packet({.src = kRemote4, .dst = kLocal4, .protocol = IPPROTO_TCP, .payload = 300});
  Packet out4 =
      build_packet({.src = kLocal4, .dst = kRemote4, .protocol = IPPROTO_TCP, .payload = 10});
  Packet in6 =
      build_packet({.src = kRemote6, .dst = kLocal6, .protocol = IPPROTO_UDP, .payload = 200});
  send(fx, Hook::XdpIngress, in4.frame, 11);
  send(fx, Hook::TcIngress, in4.frame, 11);
  send(fx, Hook::TcEgress, out4.frame, 4);
  send(fx, Hook::XdpIngress, in6.frame, 3);
  send(fx, Hook::TcIngress, in6.frame, 3);

  Expected want;
  want.flows = {
      {kLocal4, kRemote4, IPPROTO_TCP, rx(22, 22 * 340) + tx(4, 4 * 50)},
      {kLocal6, kRemote6, IPPROTO_UDP, rx(6, 6 * 248)},
  };
  want.packets_sent = 22 + 4 + 6;
  check_delta(fx.harvest(), want);
}

TEST_CASE("Flows are keyed by protocol and by remote address") {
  BpfFixture fx;
  for (uint8_t protocol : {IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP})
    send(fx, Hook::XdpIngress,
         build_packet({.src = kRemote4, .dst = kLocal4, .protocol = protocol, .payload = 0}).frame);
  send(fx, Hook::XdpIngress,
       build_packet({.src = "10.1.0.3", .dst = kLocal4, .protocol = IPPROTO_TCP, .payload = 0})
           .frame);
  Expected want;
  want.flows = {
      {kLocal4, kRemote4, IPPROTO_TCP, rx(1, 40)},
      {kLocal4, kRemote4, IPPROTO_UDP, rx(1, 28)},
      {kLocal4, kRemote4, IPPROTO_ICMP, rx(1, 28)},
      {kLocal4, "10.1.0.3", IPPROTO_TCP, rx(1, 40)},
  };
  want.packets_sent = 4;
  check_delta(fx.harvest(), want);
}

TEST_CASE("802.1Q, 802.1ad and QinQ tags are skipped; a third tag is not IP") {
  struct Row {
    const char* description;
    std::vector<uint16_t> vlans;
    bool counted_as_ip;
  };
  const Row rows[] = {
      {"802.1Q", {0x8100}, true},
      {"802.1ad alone", {0x88a8}, true},
      {"QinQ 802.1ad + 802.1Q", {0x88a8, 0x8100}, true},
      {"double 802.1Q", {0x8100, 0x8100}, true},
      // Documented limit (parse.h VLAN_MAX_DEPTH = 2): the third tag's TPID
      // is read as the EtherType, which is not IP.
      {"three tags", {0x88a8, 0x8100, 0x8100}, false},
  };
  BpfFixture fx;
  for (const Row& row : rows) {
    for (bool v6 : {false, true}) {
      for (Hook hook : kAllHooks) {
        INFO(std::string(row.description), std::string(v6 ? " IPv6" : " IPv4"), " via ",
             hook_name(hook));
        const char* local = v6 ? kLocal6 : kLocal4;
        const char* remote = v6 ? kRemote6 : kRemote4;
        Packet packet = build_packet(oriented(
            {.protocol = IPPROTO_UDP, .payload = 70, .vlans = row.vlans}, hook, local, remote));
        REQUIRE(packet.l3_offset == 14 + 4 * row.vlans.size());
        send(fx, hook, packet.frame, 3);
        Expected want;
        if (row.counted_as_ip) {
          want.flows = {{local, remote, IPPROTO_UDP, on(hook, 3, 3 * packet.ip_bytes)}};
        } else {
          with_bucket(want, NETACCT_BUCKET_NON_IP, on(hook, 3, 3 * packet.frame.size()));
        }
        want.packets_sent = 3;
        check_delta(fx.harvest(), want);
      }
    }
  }
}

TEST_CASE("IPv4 options are part of the counted header") {
  BpfFixture fx;
  for (uint8_t options : {4, 8, 20, 40}) {
    for (Hook hook : kAllHooks) {
      INFO(int(options), " option bytes via ", hook_name(hook));
      Packet packet =
          build_packet(oriented({.protocol = IPPROTO_TCP, .payload = 50, .ipv4_options = options},
                                hook, kLocal4, kRemote4));
      REQUIRE(packet.frame[packet.l3_offset] == (0x40 | (5 + options / 4)));  // IHL > 5
      REQUIRE(packet.ip_bytes == 20u + options + 20 + 50);
      send(fx, hook, packet.frame, 2);
      Expected want;
      want.flows = {{kLocal4, kRemote4, IPPROTO_TCP, on(hook, 2, 2 * packet.ip_bytes)}};
      want.packets_sent = 2;
      check_delta(fx.harvest(), want);
    }
  }
}

TEST_CASE("IPv4 fragments count in their flow with their own tot_len") {
  BpfFixture fx;
  for (uint8_t protocol : {IPPROTO_UDP, IPPROTO_TCP}) {
    for (Hook hook : kAllHooks) {
      INFO("protocol ", int(protocol), " via ", hook_name(hook));
      // A datagram cut in three: first (MF, offset 0), middle (MF), last.
      Packet first = build_packet(
          oriented({.protocol = protocol, .payload = 1000, .ipv4_more_fragments = true}, hook,
                   kLocal4, kRemote4));
      Packet middle = build_packet(oriented({.protocol = protocol,
                                             .payload = 1024,
                                             .ipv4_frag_offset = 128,
                                             .ipv4_more_fragments = true},
                                            hook, kLocal4, kRemote4));
      Packet last = build_packet(oriented(
          {.protocol = protocol, .payload = 77, .ipv4_frag_offset = 256}, hook, kLocal4, kRemote4));
      REQUIRE(middle.ip_bytes == 20 + 1024);  // no L4 header in a later fragment
      send(fx, hook, first.frame, 1);
      send(fx, hook, middle.frame, 2);
      send(fx, hook, last.frame, 1);
      Expected want;
      uint64_t bytes = first.ip_bytes + 2ull * middle.ip_bytes + last.ip_bytes;
      want.flows = {{kLocal4, kRemote4, protocol, on(hook, 4, bytes)}};
      want.packets_sent = 4;
      check_delta(fx.harvest(), want);
    }
  }
}

TEST_CASE("Ethernet padding after the IP packet is not counted") {
  BpfFixture fx;
  for (bool v6 : {false, true}) {
    for (Hook hook : kAllHooks) {
      INFO(std::string(v6 ? "IPv6" : "IPv4"), " via ", hook_name(hook));
      const char* local = v6 ? kLocal6 : kLocal4;
      const char* remote = v6 ? kRemote6 : kRemote4;
      Packet packet =
          build_packet(oriented({.protocol = IPPROTO_UDP, .payload = 0}, hook, local, remote));
      std::vector<uint8_t> frame = packet.frame;
      frame.resize(frame.size() < 60 ? 60 : frame.size() + 6, 0);  // NIC minimum-size padding
      send(fx, hook, frame, 4);
      Expected want;
      want.flows = {{local, remote, IPPROTO_UDP, on(hook, 4, 4 * packet.ip_bytes)}};
      want.packets_sent = 4;
      check_delta(fx.harvest(), want);
    }
  }
}
