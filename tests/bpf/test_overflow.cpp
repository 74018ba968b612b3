// SPDX-License-Identifier: GPL-2.0-only
// A full flow buffer: exactly `capacity` flows fit (the 5 bucket keys have
// their own reserved entries), new flows then go to the overflow bucket of
// their family, known flows keep counting, and a harvest makes room again.
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

}  // namespace

TEST_CASE("A full buffer sends new flows to the overflow bucket of their family") {
  BpfFixture fx(kCapacity);
  REQUIRE(fx.datapath().flow_capacity() == kCapacity);
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
  // Every new flow from now on overflows, by family and by direction.
  for (uint32_t i = 100; i < 105; i++)
    send(fx, Hook::XdpIngress, from_remote(false, i, 100).frame, 3);
  with_bucket(want, NETACCT_BUCKET_OVERFLOW_V4, rx(15, 15 * 128));
  for (uint32_t i = 100; i < 103; i++)
    send(fx, Hook::TcIngress, from_remote(true, i, 100).frame, 1);
  with_bucket(want, NETACCT_BUCKET_OVERFLOW_V6, rx(3, 3 * 148));
  Packet egress6 =
      build_packet({.src = "fd00::1", .dst = "fd77::999", .protocol = IPPROTO_TCP, .payload = 0});
  send(fx, Hook::TcEgress, egress6.frame, 4);
  with_bucket(want, NETACCT_BUCKET_OVERFLOW_V6, tx(4, 4 * 60));
  // Known flows still count, in both directions.
  send(fx, Hook::XdpIngress, from_remote(false, 0).frame, 10);
  want.flows[0].counters += rx(10, 10 * 48);
  Packet back =
      build_packet({.src = "fd00::1", .dst = remote6(5), .protocol = IPPROTO_UDP, .payload = 0});
  send(fx, Hook::TcEgress, back.frame, 2);
  want.flows[15].counters += tx(2, 2 * 48);
  // The other buckets still work: they have reserved keys.
  send(fx, Hook::XdpIngress, build_non_ip(0x0806, 42), 1);
  with_bucket(want, NETACCT_BUCKET_NON_IP, rx(1, 42));
  want.packets_sent = 20 + 12 + 15 + 3 + 4 + 10 + 2 + 1;
  check_delta(fx.harvest(), want);
}

TEST_CASE("After a harvest clears a buffer, new flows fit in it again") {
  BpfFixture fx(kCapacity);
  // Fill and overflow both buffers in turn: each harvest swaps, so the
  // third round writes into the buffer the first harvest cleared.
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
    send(fx, Hook::XdpIngress, from_remote(false, base + 500).frame, 2);
    send(fx, Hook::XdpIngress, from_remote(true, base + 500).frame, 3);
    with_bucket(want, NETACCT_BUCKET_OVERFLOW_V4, rx(2, 2 * 48));
    with_bucket(want, NETACCT_BUCKET_OVERFLOW_V6, rx(3, 3 * 68));
    want.packets_sent = kCapacity + 5;
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
  send(fx, Hook::XdpIngress, from_remote(false, 999).frame, 1);
  with_bucket(want, NETACCT_BUCKET_OVERFLOW_V4, rx(1, 48));
  want.packets_sent = kCapacity + 6;
  check_delta(fx.harvest(), want);
}
