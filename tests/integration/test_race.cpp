// SPDX-License-Identifier: GPL-2.0-only
// Swap and harvest every 2-5 ms while UDP flows in both directions through
// one veth: the sum of all deltas must equal the traffic exactly. A swap
// that lost an update (or let a program write the buffer being drained)
// shows up here as a missing or doubled packet.
#include <netinet/in.h>

#include <random>

#include "it_common.hpp"

namespace netacct::test {

namespace {

void race(const Topology& topo, IngressMode mode, bool v6, const std::string& suffix,
          uint16_t port) {
  TagGuard tag(suffix);
  auto datapath = open_datapath(tag.tag());
  IT_REQUIRE_OK(attach_all(*datapath, iface_a(topo), mode));
  Harvester harvester(*datapath);
  (void)harvest(harvester);

  const std::string a = v6 ? topo.a().ipv6 : topo.a().ipv4;
  const std::string b = v6 ? topo.b().ipv6 : topo.b().ipv4;
  netacct_counters sum{};
  uint64_t harvests = 0;
  uint64_t swap_ns_max = 0;
  std::mt19937 random(static_cast<unsigned>(port));
  std::uniform_int_distribution<int> interval_us(2000, 5000);
  auto next = std::chrono::steady_clock::now();
  auto tick = [&] {
    if (std::chrono::steady_clock::now() < next) return;
    Delta delta = harvest(harvester);
    sum += flow_of(delta, a, b, IPPROTO_UDP);
    swap_ns_max = std::max(swap_ns_max, delta.swap_ns);
    harvests++;
    next = std::chrono::steady_clock::now() + std::chrono::microseconds(interval_us(random));
  };

  struct Leg {
    const Endpoint* from;
    const Endpoint* to;
    std::string to_address;
    uint32_t count;
    uint32_t payload;
  };
  const Leg legs[] = {{&topo.a(), &topo.b(), b, 60000, 200}, {&topo.b(), &topo.a(), a, 40000, 64}};
  for (const Leg& leg : legs) {
    UdpSpec spec;
    spec.from_netns = leg.from->netns;
    spec.to_netns = leg.to->netns;
    spec.to_address = leg.to_address;
    spec.port = port;
    spec.count = leg.count;
    spec.payload = leg.payload;
    spec.pause = std::chrono::microseconds(300);
    UdpResult result = udp_transfer(spec, tick, std::chrono::microseconds(500));
    REQUIRE(result.sent == leg.count);
    REQUIRE(result.received == leg.count);
  }
  sum += flow_of(harvest(harvester), a, b, IPPROTO_UDP);
  harvests++;

  MESSAGE((v6 ? "IPv6 " : "IPv4 ")
          << std::string(mode == IngressMode::Xdp ? "XDP" : "TC") << ": " << harvests
          << " harvests, longest swap " << swap_ns_max / 1000 << " us; sum " << describe(sum));
  CHECK(harvests > 50);
  CHECK(sum == udp_expect(a, legs[0].count, legs[0].payload, legs[1].count, legs[1].payload));
  IT_REQUIRE_OK(detach_all(datapath->pin_path(), iface_a(topo)));
}

}  // namespace

TEST_CASE("harvesting every 2-5 ms during traffic is exact") {
  Topology topo;
  SUBCASE("TC, IPv4") {
    race(topo, IngressMode::Tc, false, "race-tc", 42000);
  }
  SUBCASE("XDP, IPv6") {
    race(topo, IngressMode::Xdp, true, "race-xdp", 42001);
  }
}

}  // namespace netacct::test
