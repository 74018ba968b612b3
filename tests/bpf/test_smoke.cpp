// SPDX-License-Identifier: GPL-2.0-only
#include <doctest/doctest.h>
#include <linux/pkt_cls.h>
#include <netinet/in.h>

#include "tests/support/bpf_fixture.hpp"
#include "tests/support/packet.hpp"

using namespace netacct;
using namespace netacct::test;

TEST_CASE("IPv4 UDP through XDP and TC egress is counted exactly") {
  BpfFixture fx;
  Packet in =
      build_packet({.src = "10.1.0.2", .dst = "10.1.0.1", .protocol = IPPROTO_UDP, .payload = 100});
  Packet out =
      build_packet({.src = "10.1.0.1", .dst = "10.1.0.2", .protocol = IPPROTO_UDP, .payload = 30});
  CHECK(in.ip_bytes == 128);
  CHECK(fx.run(Hook::XdpIngress, in.frame, 7) == 2 /* XDP_PASS */);
  CHECK(fx.run(Hook::TcEgress, out.frame, 3) == TC_ACT_UNSPEC);
  Delta delta = fx.harvest();
  REQUIRE(delta.flows.size() == 1);
  const FlowDelta* flow = find_flow(delta, "10.1.0.1", "10.1.0.2", IPPROTO_UDP);
  REQUIRE(flow);
  CHECK(flow->counters.rx_packets == 7);
  CHECK(flow->counters.rx_bytes == 7 * 128);
  CHECK(flow->counters.tx_packets == 3);
  CHECK(flow->counters.tx_bytes == 3 * 58);
  CHECK(delta.bucket_total().rx_packets == 0);
  // The next harvest starts from zero.
  CHECK(fx.harvest().empty());
}
