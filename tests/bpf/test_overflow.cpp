// SPDX-License-Identifier: GPL-2.0-only
// A full flow buffer: exactly `capacity` flows fit (the 5 bucket keys have
// their own reserved entries), new flows then go to prefix rows (local,
// remote prefix, protocol) in the prefix buffer, and only when that is full
// too to the overflow bucket of their family; known flows and rows keep
// counting, and a harvest makes room in both again.
#include <bpf/bpf.h>
#include <doctest/doctest.h>
#include <netinet/in.h>

#include <string>

#include "tests/bpf/expect.hpp"
#include "tests/support/packet.hpp"

using namespace netacct;
using namespace netacct::test;

namespace {

constexpr uint32_t kCapacity = 16;

std::string remote4(uint32_t i) {
  return "10.77." + std::to_string(i / 256) + "." + std::to_string(i % 256);
}
std::string remote6(uint32_t i) {
  return "fd77::" + std::to_string(i + 1);
}

// One ingress UDP frame from remote number `i` of the family.
Packet from_remote(bool v6, uint32_t i, uint32_t payload = 20) {
  return build_packet({.src = v6 ? remote6(i) : remote4(i),
                       .dst = v6 ? "fd00::1" : "10.0.0.1",
                       .protocol = IPPROTO_UDP,
                       .payload = payload});
}
const char* local_of(bool v6) {
  return v6 ? "fd00::1" : "10.0.0.1";
}
std::string remote_of(bool v6, uint32_t i) {
  return v6 ? remote6(i) : remote4(i);
}
DatapathOptions with_prefix_rows(uint32_t rows) {
  DatapathOptions options;
  options.flow_capacity = kCapacity;
  options.prefix_capacity = rows;
  return options;
}

}  // namespace

TEST_CASE("A full buffer sends new flows to prefix rows, and a full prefix buffer to the bucket") {
  BpfFixture fx(with_prefix_rows(4));
  REQUIRE(fx.datapath().flow_capacity() == kCapacity);
  REQUIRE(fx.datapath().prefix_capacity() == 4);
  Expected want;
  // 10 IPv4 and 6 IPv6 flows fill the buffer exactly.
  for (uint32_t i = 0; i < 10; i++) {
    Packet p = from_remote(false, i);
    send(fx, Hook::XdpIngress, p.frame, 2);
    want.flows.push_back({local_of(false), remote_of(false, i), IPPROTO_UDP, rx(2, 2 * 48)});
  }
  for (uint32_t i = 0; i < 6; i++) {
    Packet p = from_remote(true, i);
    send(fx, Hook::TcIngress, p.frame, 2);
    want.flows.push_back({local_of(true), remote_of(true, i), IPPROTO_UDP, rx(2, 2 * 68)});
  }
  // New flows now count per (local, remote /24 or /48, protocol).
  for (uint32_t i = 100; i < 105; i++)  // 10.77.0.100 .. 10.77.0.104
    send(fx, Hook::XdpIngress, from_remote(false, i, 100).frame, 3);
  want.flows.push_back({"10.0.0.1", "10.77.0.0", IPPROTO_UDP, rx(15, 15 * 128), 24});
  for (uint32_t i = 100; i < 103; i++)  // fd77::101 .. fd77::103
    send(fx, Hook::TcIngress, from_remote(true, i, 100).frame, 1);
  want.flows.push_back({"fd00::1", "fd77::", IPPROTO_UDP, rx(3, 3 * 148), 48});
  Packet egress6 =
      build_packet({.src = "fd00::1", .dst = "fd77::999", .protocol = IPPROTO_TCP, .payload = 0});
  send(fx, Hook::TcEgress, egress6.frame, 4);
  want.flows.push_back({"fd00::1", "fd77::", IPPROTO_TCP, tx(4, 4 * 60), 48});
  Packet other24 =
      build_packet({.src = "10.78.5.5", .dst = "10.0.0.1", .protocol = IPPROTO_UDP, .payload = 20});
  send(fx, Hook::TcIngress, other24.frame, 1);
  want.flows.push_back({"10.0.0.1", "10.78.5.0", IPPROTO_UDP, rx(1, 48), 24});
  // The prefix buffer holds 4 rows: a fifth prefix goes to the bucket.
  Packet bucket4 =
      build_packet({.src = "10.79.0.1", .dst = "10.0.0.1", .protocol = IPPROTO_UDP, .payload = 20});
  send(fx, Hook::XdpIngress, bucket4.frame, 2);
  with_bucket(want, NETACCT_BUCKET_OVERFLOW_V4, rx(2, 2 * 48));
  Packet bucket6 =
      build_packet({.src = "fd00::1", .dst = "fd78::1", .protocol = IPPROTO_UDP, .payload = 20});
  send(fx, Hook::TcEgress, bucket6.frame, 1);
  with_bucket(want, NETACCT_BUCKET_OVERFLOW_V6, tx(1, 68));
  // Known prefix rows still count, so do known flows, in both directions.
  send(fx, Hook::XdpIngress, from_remote(false, 250).frame, 1);  // 10.77.0.250
  want.flows[16].counters += rx(1, 48);
  send(fx, Hook::XdpIngress, from_remote(false, 0).frame, 10);
  want.flows[0].counters += rx(10, 10 * 48);
  Packet back =
      build_packet({.src = "fd00::1", .dst = remote6(5), .protocol = IPPROTO_UDP, .payload = 0});
  send(fx, Hook::TcEgress, back.frame, 2);
  want.flows[15].counters += tx(2, 2 * 48);
  // The other buckets still work: they have reserved keys.
  send(fx, Hook::XdpIngress, build_non_ip(0x0806, 42), 1);
  with_bucket(want, NETACCT_BUCKET_NON_IP, rx(1, 42));
  want.packets_sent = 20 + 12 + 15 + 3 + 4 + 1 + 2 + 1 + 1 + 10 + 2 + 1;
  Delta delta = fx.harvest();
  check_delta(delta, want);
  // The ledger and the JSON name a prefix row's remote with its length.
  const FlowDelta* row = find_flow(delta, "10.0.0.1", "10.77.0.0", IPPROTO_UDP, 24);
  REQUIRE(row != nullptr);
  CHECK(remote_string(row->key) == "10.77.0.0/24");
  row = find_flow(delta, "fd00::1", "fd77::", IPPROTO_TCP, 48);
  REQUIRE(row != nullptr);
  CHECK(remote_string(row->key) == "fd77::/48");
}

TEST_CASE("Prefix lengths are configurable, down to single bits") {
  DatapathOptions options = with_prefix_rows(8);
  options.prefix_len_v4 = 20;
  options.prefix_len_v6 = 50;
  BpfFixture fx(options);
  Expected want;
  for (uint32_t i = 0; i < kCapacity; i++) {
    send(fx, Hook::XdpIngress, from_remote(false, i).frame, 1);
    want.flows.push_back({local_of(false), remote_of(false, i), IPPROTO_UDP, rx(1, 48)});
  }
  // 10.77.0.100 and 10.77.15.255 share 10.77.0.0/20; 10.77.31.5 is in .16.0/20.
  for (const char* remote : {"10.77.0.100", "10.77.15.255", "10.77.31.5"}) {
    Packet p =
        build_packet({.src = remote, .dst = "10.0.0.1", .protocol = IPPROTO_UDP, .payload = 20});
    send(fx, Hook::TcIngress, p.frame, 1);
  }
  want.flows.push_back({"10.0.0.1", "10.77.0.0", IPPROTO_UDP, rx(2, 2 * 48), 20});
  want.flows.push_back({"10.0.0.1", "10.77.16.0", IPPROTO_UDP, rx(1, 48), 20});
  // /50 keeps the top two bits of the fourth group: ffff -> c000, 3fff -> 0.
  for (const char* remote : {"fd77:0:0:ffff::1", "fd77:0:0:c001::2", "fd77:0:0:3fff::3"}) {
    Packet p =
        build_packet({.src = "fd00::1", .dst = remote, .protocol = IPPROTO_UDP, .payload = 20});
    send(fx, Hook::TcEgress, p.frame, 1);
  }
  want.flows.push_back({"fd00::1", "fd77:0:0:c000::", IPPROTO_UDP, tx(2, 2 * 68), 50});
  want.flows.push_back({"fd00::1", "fd77::", IPPROTO_UDP, tx(1, 68), 50});
  want.packets_sent = kCapacity + 6;
  check_delta(fx.harvest(), want);
}

TEST_CASE("After a harvest clears both buffers, new flows and prefixes fit in them again") {
  BpfFixture fx(with_prefix_rows(4));
  // Fill and overflow both pairs of buffers in turn: each harvest swaps, so
  // the third round writes into the buffers the first harvest cleared.
  for (int round = 0; round < 4; round++) {
    INFO("round ", round);
    Expected want;
    uint32_t base = 1000 * static_cast<uint32_t>(round);
    for (uint32_t i = 0; i < kCapacity; i++) {
      bool v6 = i % 2 == 1;
      send(fx, Hook::XdpIngress, from_remote(v6, base + i).frame, 1);
      want.flows.push_back(
          {local_of(v6), remote_of(v6, base + i), IPPROTO_UDP, rx(1, v6 ? 68 : 48)});
    }
    // Four prefix rows of other /24s fill the prefix buffer; a fifth overflows.
    for (uint32_t k = 0; k < 5; k++) {
      std::string net = "10." + std::to_string(100 + round) + "." + std::to_string(k) + ".";
      Packet p = build_packet(
          {.src = net + "7", .dst = "10.0.0.1", .protocol = IPPROTO_UDP, .payload = 20});
      send(fx, Hook::XdpIngress, p.frame, 2);
      if (k < 4)
        want.flows.push_back({"10.0.0.1", net + "0", IPPROTO_UDP, rx(2, 2 * 48), 24});
      else
        with_bucket(want, NETACCT_BUCKET_OVERFLOW_V4, rx(2, 2 * 48));
    }
    // The prefix buffer is full for IPv6 too.
    send(fx, Hook::XdpIngress, from_remote(true, base + 500).frame, 3);
    with_bucket(want, NETACCT_BUCKET_OVERFLOW_V6, rx(3, 3 * 68));
    want.packets_sent = kCapacity + 10 + 3;
    check_delta(fx.harvest(), want);
  }
}

TEST_CASE("Whitelisted packets never take a flow slot, even when the buffer is full") {
  BpfFixture fx(kCapacity);
  fx.whitelist("10.66.0.0/16", NETACCT_WL_MATCH_REMOTE);
  Expected want;
  for (uint32_t i = 0; i < kCapacity; i++) {
    send(fx, Hook::XdpIngress, from_remote(false, i).frame, 1);
    want.flows.push_back({local_of(false), remote_of(false, i), IPPROTO_UDP, rx(1, 48)});
  }
  Packet wl =
      build_packet({.src = "10.66.1.1", .dst = "10.0.0.1", .protocol = IPPROTO_UDP, .payload = 20});
  send(fx, Hook::XdpIngress, wl.frame, 5);
  with_bucket(want, NETACCT_BUCKET_WHITELISTED, rx(5, 5 * 48));
  send(fx, Hook::XdpIngress, from_remote(false, 999).frame, 1);  // 10.77.3.231
  want.flows.push_back({"10.0.0.1", "10.77.3.0", IPPROTO_UDP, rx(1, 48), 24});
  want.packets_sent = kCapacity + 6;
  check_delta(fx.harvest(), want);
}

TEST_CASE("A crash between the two slot updates of a swap loses and duplicates nothing") {
  // The harvest swaps active_flows, then active_prefix. Killed in between,
  // the flow slot names flows_b while the prefix slot still names prefix_a.
  // The next harvester (a restarted daemon redoing the drain) must first
  // move the prefix slot along, then drain flows_a and prefix_a together.
  BpfFixture fx(with_prefix_rows(4));
  auto udp_from = [](const std::string& remote) {
    return build_packet({.src = remote, .dst = "10.0.0.1", .protocol = IPPROTO_UDP, .payload = 20})
        .frame;
  };
  for (uint32_t i = 0; i < kCapacity + 1; i++)  // 16 flows, 1 prefix row
    send(fx, Hook::XdpIngress, udp_from(remote4(i)), 1);
  int flows_b = fx.datapath().flows_fd(1);
  uint32_t zero = 0;
  REQUIRE(bpf_map_update_elem(fx.datapath().active_slot_fd(), &zero, &flows_b, BPF_ANY) == 0);
  // "After the crash": new flows fill flows_b; its overflow lands in prefix_a.
  for (uint32_t i = 0; i < kCapacity + 2; i++)
    send(fx, Hook::XdpIngress, udp_from("10.88.0." + std::to_string(i + 1)), 1);

  Harvester recovering(fx.datapath());
  auto drained = recovering.read_idle();
  REQUIRE(drained);
  Expected want;
  for (uint32_t i = 0; i < kCapacity; i++)
    want.flows.push_back({"10.0.0.1", remote4(i), IPPROTO_UDP, rx(1, 48)});
  want.flows.push_back({"10.0.0.1", "10.77.0.0", IPPROTO_UDP, rx(1, 48), 24});
  want.flows.push_back({"10.0.0.1", "10.88.0.0", IPPROTO_UDP, rx(2, 2 * 48), 24});
  want.packets_sent = kCapacity + 3;
  check_delta(drained.value(), want);
  REQUIRE(recovering.clear_idle(drained.value()));
  // The next harvest takes flows_b and the (empty) prefix_b.
  auto next = recovering.harvest();
  REQUIRE(next);
  Expected after;
  for (uint32_t i = 0; i < kCapacity; i++)
    after.flows.push_back({"10.0.0.1", "10.88.0." + std::to_string(i + 1), IPPROTO_UDP, rx(1, 48)});
  after.packets_sent = kCapacity;
  check_delta(next.value(), after);
}
