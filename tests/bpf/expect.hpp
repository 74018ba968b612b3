// SPDX-License-Identifier: GPL-2.0-only
// Exact expectations on a harvested Delta, shared by the BPF suites: every
// flow and every bucket is compared, and packets sent == packets counted.
#pragma once

#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "daemon/common/flow.hpp"
#include "daemon/engine/harvester.hpp"
#include "tests/support/bpf_fixture.hpp"

// Global namespace, next to the struct, so doctest finds it to print values.
inline std::ostream& operator<<(std::ostream& out, const netacct_counters& c) {
  return out << "{rx " << c.rx_packets << " pkts/" << c.rx_bytes << " B, tx " << c.tx_packets
             << " pkts/" << c.tx_bytes << " B}";
}

namespace netacct::test {

inline constexpr int kXdpPass = 2;  // XDP_PASS; the programs never return anything else

inline netacct_counters rx(uint64_t packets, uint64_t bytes) {
  return {bytes, packets, 0, 0};
}
inline netacct_counters tx(uint64_t packets, uint64_t bytes) {
  return {0, 0, bytes, packets};
}
inline netacct_counters operator+(netacct_counters a, const netacct_counters& b) {
  return a += b;
}

// Ingress hooks fill rx, egress fills tx.
inline bool is_egress(Hook hook) {
  return hook == Hook::TcEgress;
}
inline netacct_counters on(Hook hook, uint64_t packets, uint64_t bytes) {
  return is_egress(hook) ? tx(packets, bytes) : rx(packets, bytes);
}
inline std::string hook_name(Hook hook) {
  switch (hook) {
    case Hook::XdpIngress: return "xdp-ingress";
    case Hook::TcIngress: return "tc-ingress";
    case Hook::TcEgress: return "tc-egress";
  }
  return "?";
}
inline constexpr std::array<Hook, 3> kAllHooks = {Hook::XdpIngress, Hook::TcIngress,
                                                  Hook::TcEgress};

// The return value every program must give for every frame.
inline int pass_code(Hook hook) {
  return hook == Hook::XdpIngress ? kXdpPass : -1;
}

struct ExpectedFlow {
  std::string local;
  std::string remote;
  uint8_t protocol;
  netacct_counters counters;
  uint16_t prefix = 0;  // non-zero: a prefix row, remote is its network
};

struct Expected {
  std::vector<ExpectedFlow> flows;
  // Indexed by NETACCT_BUCKET_*; buckets left zero must be zero.
  std::array<netacct_counters, NETACCT_BUCKET_LAST + 1> buckets{};
  uint64_t packets_sent = 0;  // rx + tx packets the test pushed through
};

inline Expected& with_bucket(Expected& e, uint8_t bucket, const netacct_counters& c) {
  e.buckets[bucket] += c;
  return e;
}

inline uint64_t packets_of(const netacct_counters& c) {
  return c.rx_packets + c.tx_packets;
}

// Compares everything: the flow set, each flow's counters, all buckets, and
// the invariant packets sent == packets in flows + buckets.
inline void check_delta(const Delta& delta, const Expected& want) {
  CHECK(delta.flows.size() == want.flows.size());
  for (const ExpectedFlow& flow : want.flows) {
    INFO("flow ", flow.local, " <- ", flow.remote, "/", flow.prefix, " proto ", int(flow.protocol));
    const FlowDelta* got = find_flow(delta, flow.local, flow.remote, flow.protocol, flow.prefix);
    REQUIRE(got != nullptr);
    CHECK(got->counters == flow.counters);
  }
  for (uint8_t bucket = NETACCT_BUCKET_FIRST; bucket <= NETACCT_BUCKET_LAST; bucket++) {
    INFO("bucket ", bucket_name(bucket));
    CHECK(delta.buckets[bucket] == want.buckets[bucket]);
  }
  CHECK(packets_of(delta.flow_total()) + packets_of(delta.bucket_total()) == want.packets_sent);
}

// Runs `frame` through `hook` and checks the return code (never a drop).
inline void send(BpfFixture& fx, Hook hook, const std::vector<uint8_t>& frame, uint32_t repeat = 1,
                 const SkbMeta* skb = nullptr) {
  INFO("hook ", hook_name(hook), ", frame of ", frame.size(), " bytes");
  CHECK(fx.run(hook, frame, repeat, skb) == pass_code(hook));
}

}  // namespace netacct::test
