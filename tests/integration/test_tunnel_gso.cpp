// SPDX-License-Identifier: GPL-2.0-only
// TCP with TSO over a real VXLAN device whose underlay is the test
// veth. The tunnel hands the veth GSO super-packets that carry outer and
// inner headers; on the wire every segment repeats all of them. netacct on
// the underlay must count each segment: packets exactly as the sender's
// TCP_INFO counts them, bytes exactly as the segment arithmetic of the wire
// gives them. TCP options are fixed (no timestamps, SACK or window scaling),
// so every segment's TCP header is 20 bytes and SYN/SYN-ACK carry MSS only.
// The test also checks that super-packets really crossed the hook: the
// veth's own packet counter (one per skb) stays below the segment count.
#include <netinet/in.h>

#include "it_common.hpp"

namespace netacct::test {

namespace {

// Outer IPv4 + UDP + tunnel header (VXLAN, or Geneve without options) +
// inner Ethernet + inner IPv4 + TCP: what every segment repeats.
constexpr uint64_t kSegmentHeaders = 20 + 8 + 8 + 14 + 20 + 20;
constexpr uint64_t kSynOptions = 4;  // MSS: the only option left on SYN and SYN-ACK

struct TunnelPair {
  std::string inner_a;
  std::string inner_b;
};

std::string netns_exec(const std::string& netns) {
  return "ip netns exec " + netns + " ";
}

// A VXLAN device "tn0" in each namespace over the veth, with static
// neighbours and no IPv6, so nothing but the test's TCP crosses it.
TunnelPair make_tunnel(const Topology& topo) {
  const int n = topo.index() % 250;
  TunnelPair pair{"10.201." + std::to_string(n) + ".1", "10.201." + std::to_string(n) + ".2"};
  const Endpoint* ends[2] = {&topo.a(), &topo.b()};
  const std::string inner[2] = {pair.inner_a, pair.inner_b};
  const std::string mac[2] = {"02:00:00:00:5a:01", "02:00:00:00:5a:02"};
  for (int i = 0; i < 2; ++i) {
    const Endpoint& self = *ends[i];
    const Endpoint& peer = *ends[1 - i];
    const std::string ns = "ip -n " + self.netns + " ";
    run_ok(ns + "link add tn0 type vxlan id 42 dstport 4789 nolearning local " + self.ipv4 +
           " remote " + peer.ipv4 + " dev " + self.ifname);
    run_ok(ns + "link set tn0 address " + mac[i]);
    run_ok(netns_exec(self.netns) + "sysctl -qw net.ipv6.conf.tn0.disable_ipv6=1");
    run_ok(ns + "addr add " + inner[i] + "/24 dev tn0");
    run_ok(ns + "link set tn0 up");
    run_ok(ns + "neigh replace " + inner[1 - i] + " lladdr " + mac[1 - i] +
           " dev tn0 nud permanent");
    // Fixed TCP header lengths make the wire's byte count computable.
    for (const char* knob : {"tcp_timestamps", "tcp_sack", "tcp_window_scaling"})
      run_ok(netns_exec(self.netns) + "sysctl -qw net.ipv4." + knob + "=0");
  }
  std::string features = run_ok(netns_exec(topo.a().netns) + "ethtool -k tn0");
  REQUIRE_MESSAGE(features.find("tcp-segmentation-offload: on") != std::string::npos,
                  "tunnel device has no TSO: " << features);
  return pair;
}

uint64_t tx_skbs(const Endpoint& end) {
  return std::stoull(run_ok(netns_exec(end.netns) + "cat /sys/class/net/" + end.ifname +
                            "/statistics/tx_packets"));
}

// One TCP connection from `from` to `to` over the tunnel; returns the
// sender's TCP_INFO. The flow on veth-a is checked by the caller.
TcpResult transfer(const Endpoint& from, const Endpoint& to, const std::string& to_inner,
                   uint16_t port) {
  TcpSpec spec;
  spec.from_netns = from.netns;
  spec.to_netns = to.netns;
  spec.to_address = to_inner;
  spec.port = port;
  spec.bytes = 8u << 20;
  TcpResult result = tcp_transfer(spec);
  REQUIRE(result.sent == spec.bytes);
  REQUIRE(result.received == spec.bytes);
  return result;
}

// Bytes of `segments` segments on the underlay carrying `payload` bytes,
// one of them a SYN or SYN-ACK.
uint64_t wire_bytes(uint64_t segments, uint64_t payload) {
  return segments * kSegmentHeaders + kSynOptions + payload;
}

// tcpi_bytes_received counts the peer's FIN too: it takes a sequence
// number, but no byte on the wire.
uint64_t payload_received(const TcpResult& result) {
  return result.sender_bytes_received - 1;
}

}  // namespace

TEST_CASE("VXLAN with TSO: every segment counted with its outer and inner headers, exact") {
  const uint16_t port = 43100;
  Topology topo;
  TunnelPair inner = make_tunnel(topo);
  TagGuard tag("vxlan-gso");
  auto datapath = open_datapath(tag.tag());
  IT_REQUIRE_OK(attach_all(*datapath, iface_a(topo), IngressMode::Tc));
  Harvester harvester(*datapath);
  (void)harvest(harvester);
  const std::string a = topo.a().ipv4;
  const std::string b = topo.b().ipv4;

  SUBCASE("A sends: super-packets at veth-a's egress") {
    uint64_t skbs_before = tx_skbs(topo.a());
    TcpResult sent = transfer(topo.a(), topo.b(), inner.inner_b, port);
    uint64_t skbs = tx_skbs(topo.a()) - skbs_before;
    netacct_counters got = flow_of(harvest(harvester), a, b, IPPROTO_UDP);
    MESSAGE("A -> B: " << describe(got) << "; TCP_INFO segs_out " << sent.sender_segs_out
                       << ", segs_in " << sent.sender_segs_in << ", bytes_sent "
                       << sent.sender_bytes_sent << "; veth-a sent " << skbs << " skbs");
    CHECK(skbs < sent.sender_segs_out);  // GSO super-packets crossed the hook
    CHECK(got.tx_packets == sent.sender_segs_out);
    CHECK(got.tx_bytes == wire_bytes(sent.sender_segs_out, sent.sender_bytes_sent));
    CHECK(got.rx_packets == sent.sender_segs_in);
    CHECK(got.rx_bytes == wire_bytes(sent.sender_segs_in, payload_received(sent)));
  }
  SUBCASE("B sends: super-packets at veth-a's ingress") {
    uint64_t skbs_before = tx_skbs(topo.b());
    TcpResult sent = transfer(topo.b(), topo.a(), inner.inner_a, port);
    uint64_t skbs = tx_skbs(topo.b()) - skbs_before;
    netacct_counters got = flow_of(harvest(harvester), a, b, IPPROTO_UDP);
    MESSAGE("B -> A: " << describe(got) << "; TCP_INFO segs_out " << sent.sender_segs_out
                       << ", segs_in " << sent.sender_segs_in << ", bytes_sent "
                       << sent.sender_bytes_sent << "; veth-b sent " << skbs << " skbs");
    CHECK(skbs < sent.sender_segs_out);
    CHECK(got.rx_packets == sent.sender_segs_out);
    CHECK(got.rx_bytes == wire_bytes(sent.sender_segs_out, sent.sender_bytes_sent));
    CHECK(got.tx_packets == sent.sender_segs_in);
    CHECK(got.tx_bytes == wire_bytes(sent.sender_segs_in, payload_received(sent)));
  }
  IT_REQUIRE_OK(detach_all(datapath->pin_path(), iface_a(topo)));
}

// Geneve, GRE and IP-in-IP devices need modules this kernel does not have
// (only VXLAN is built in); their segment arithmetic is checked with crafted
// frames in the bpf suite (test_gso.cpp).

}  // namespace netacct::test
