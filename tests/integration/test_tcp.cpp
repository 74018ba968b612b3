// SPDX-License-Identifier: GPL-2.0-only
// TCP bulk transfer with segmentation offload on. The sender's egress hook
// sees GSO super-packets; the receiver's ingress hook sees the same skbs
// arrive through the veth. Two independent tags, one per veth end, must
// agree packet for packet and byte for byte in both directions, and the
// sender's own TCP segment counter (TCP_INFO) must match as well. XDP is not
// used here: XDP on a veth turns GSO off on its peer, which would hide the
// very case this test is about.
#include <netinet/in.h>

#include "it_common.hpp"

namespace netacct::test {

namespace {

void require_tso(const Endpoint& end) {
  const std::string ethtool = "ip netns exec " + end.netns + " ethtool ";
  std::string features = run_ok(ethtool + "-k " + end.ifname);
  if (features.find("tcp-segmentation-offload: on") == std::string::npos) {
    run_ok(ethtool + "-K " + end.ifname + " tso on gso on");
    features = run_ok(ethtool + "-k " + end.ifname);
  }
  REQUIRE_MESSAGE(features.find("tcp-segmentation-offload: on") != std::string::npos,
                  end.ifname << " has no TSO: " << features);
}

void bulk_transfer(const Topology& topo, bool v6, uint16_t port) {
  TagGuard tag_a(v6 ? "tcp6-a" : "tcp4-a");
  TagGuard tag_b(v6 ? "tcp6-b" : "tcp4-b");
  auto dp_a = open_datapath(tag_a.tag());
  auto dp_b = open_datapath(tag_b.tag());
  IT_REQUIRE_OK(attach_all(*dp_a, iface_a(topo), IngressMode::Tc));
  IT_REQUIRE_OK(attach_all(*dp_b, iface_b(topo), IngressMode::Tc));
  Harvester harvest_a(*dp_a);
  Harvester harvest_b(*dp_b);
  (void)harvest(harvest_a);
  (void)harvest(harvest_b);

  const std::string a = v6 ? topo.a().ipv6 : topo.a().ipv4;
  const std::string b = v6 ? topo.b().ipv6 : topo.b().ipv4;
  TcpSpec spec;
  spec.from_netns = topo.a().netns;
  spec.to_netns = topo.b().netns;
  spec.to_address = b;
  spec.port = port;
  spec.bytes = 20u << 20;
  TcpResult result = tcp_transfer(spec);
  REQUIRE(result.sent == spec.bytes);
  REQUIRE(result.received == spec.bytes);

  netacct_counters at_a = flow_of(harvest(harvest_a), a, b, IPPROTO_TCP);
  netacct_counters at_b = flow_of(harvest(harvest_b), b, a, IPPROTO_TCP);
  MESSAGE((v6 ? "TCP v6" : "TCP v4")
          << " sender veth-a: " << describe(at_a) << "; receiver veth-b: " << describe(at_b)
          << "; sender TCP_INFO segs_out " << result.sender_segs_out << ", segs_in "
          << result.sender_segs_in);
  // Data direction: sender egress == receiver ingress; ACKs the other way.
  CHECK(at_a.tx_packets == at_b.rx_packets);
  CHECK(at_a.tx_bytes == at_b.rx_bytes);
  CHECK(at_b.tx_packets == at_a.rx_packets);
  CHECK(at_b.tx_bytes == at_a.rx_bytes);
  // The socket's own count of segments (GSO segments counted one by one).
  CHECK(at_a.tx_packets == result.sender_segs_out);
  CHECK(at_a.rx_packets == result.sender_segs_in);
  // Had GSO super-packets been counted as one packet each, there would be
  // about 20 MB / 64 KB = 320; each real segment carries at most one MSS.
  const uint64_t max_payload = 1500 - (v6 ? 40 : 20) - 20;
  CHECK(at_a.tx_packets >= spec.bytes / max_payload);
  // Every segment carries at least the IP and TCP base headers.
  CHECK(at_a.tx_bytes >= spec.bytes + at_a.tx_packets * ((v6 ? 40 : 20) + 20));
  // No segment on the wire exceeds the MTU (retransmissions may add payload
  // beyond spec.bytes, so the payload sum is no upper bound).
  CHECK(at_a.tx_bytes <= at_a.tx_packets * 1500);

  IT_REQUIRE_OK(detach_all(dp_a->pin_path(), iface_a(topo)));
  IT_REQUIRE_OK(detach_all(dp_b->pin_path(), iface_b(topo)));
}

}  // namespace

TEST_CASE("TCP bulk with TSO: sender egress equals receiver ingress, both ways") {
  Topology topo;
  require_tso(topo.a());
  require_tso(topo.b());
  SUBCASE("IPv4") {
    bulk_transfer(topo, false, 41000);
  }
  SUBCASE("IPv6") {
    bulk_transfer(topo, true, 41001);
  }
}

}  // namespace netacct::test
