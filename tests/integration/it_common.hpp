// SPDX-License-Identifier: GPL-2.0-only
// Shared pieces of the integration tests: open a pinned datapath for a test
// tag, harvest, look up one flow's counters, and the exact byte counts the
// ground truth implies.
#pragma once

#include <bpf/bpf.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <memory>
#include <set>
#include <string>

#include "daemon/common/flow.hpp"
#include "daemon/config/whitelist.hpp"
#include "daemon/engine/attach.hpp"
#include "daemon/engine/datapath.hpp"
#include "daemon/engine/harvester.hpp"
#include "tc_programs.hpp"
#include "tests/support/bpf_fixture.hpp"
#include "tests/support/topology.hpp"
#include "tests/support/traffic.hpp"

namespace netacct::test {

inline std::string describe(const netacct_counters& c) {
  return "rx " + std::to_string(c.rx_packets) + " pkts / " + std::to_string(c.rx_bytes) +
         " B, tx " + std::to_string(c.tx_packets) + " pkts / " + std::to_string(c.tx_bytes) + " B";
}

}  // namespace netacct::test

namespace doctest {
template <>
struct StringMaker<netacct_counters> {
  static String convert(const netacct_counters& c) { return netacct::test::describe(c).c_str(); }
};
}  // namespace doctest

namespace netacct::test {

// Fails the test (not the process) when a Result carries an error.
#define IT_REQUIRE_OK(expr)                                                            \
  do {                                                                                 \
    auto&& it_result_ = (expr);                                                        \
    INFO(#expr);                                                                       \
    REQUIRE_MESSAGE(it_result_.ok(),                                                   \
                    (it_result_.ok() ? std::string() : it_result_.error().message())); \
  } while (0)

inline std::unique_ptr<Datapath> open_datapath(const std::string& tag) {
  DatapathOptions options;
  options.tag = tag;
  options.flow_capacity = 4096;
  options.whitelist_capacity = 64;
  auto opened = Datapath::open(options);
  REQUIRE_MESSAGE(opened.ok(), (opened.ok() ? std::string() : opened.error().message()));
  return std::move(opened.value());
}

inline Delta harvest(Harvester& harvester) {
  auto delta = harvester.harvest();
  REQUIRE_MESSAGE(delta.ok(), (delta.ok() ? std::string() : delta.error().message()));
  return std::move(delta.value());
}

// The counters of one flow in a delta; zero when the flow is absent.
inline netacct_counters flow_of(const Delta& delta, const std::string& local,
                                const std::string& remote, uint8_t protocol) {
  const FlowDelta* flow = find_flow(delta, local, remote, protocol);
  return flow ? flow->counters : netacct_counters{};
}

inline Interface iface_a(const Topology& topo) {
  return {topo.a().ifname, topo.a().netns};
}
inline Interface iface_b(const Topology& topo) {
  return {topo.b().ifname, topo.b().netns};
}

// Sends `count` datagrams and requires that every one arrived: exact
// accounting can only be checked against a lossless ground truth.
inline UdpResult udp_exact(const std::string& from_netns, const std::string& to_netns,
                           const std::string& to_address, uint32_t count, uint32_t payload,
                           uint16_t port, const std::function<void()>& tick = {}) {
  UdpSpec spec;
  spec.from_netns = from_netns;
  spec.to_netns = to_netns;
  spec.to_address = to_address;
  spec.count = count;
  spec.payload = payload;
  spec.port = port;
  UdpResult result = udp_transfer(spec, tick);
  REQUIRE(result.sent == count);
  REQUIRE(result.received == count);
  REQUIRE(result.received_bytes == uint64_t{count} * payload);
  return result;
}

// Expected counters of a flow: `tx` datagrams sent from local, `rx` received.
inline netacct_counters udp_expect(const std::string& address, uint32_t tx, uint32_t tx_payload,
                                   uint32_t rx, uint32_t rx_payload) {
  netacct_counters c{};
  c.tx_packets = tx;
  c.tx_bytes = uint64_t{tx} * udp_ip_bytes(address, tx_payload);
  c.rx_packets = rx;
  c.rx_bytes = uint64_t{rx} * udp_ip_bytes(address, rx_payload);
  return c;
}

// Exchanges UDP both ways between A and B over one family (A->B: 1000 x
// 100 B, B->A: 600 x 1000 B), harvests, and checks the flow as the tag on
// veth-a sees it. Returns the flow's counters for reporting.
inline netacct_counters exchange_and_check(const Topology& topo, Harvester& harvester, bool v6,
                                           uint16_t port) {
  const std::string a = v6 ? topo.a().ipv6 : topo.a().ipv4;
  const std::string b = v6 ? topo.b().ipv6 : topo.b().ipv4;
  (void)harvest(harvester);  // start from empty buffers
  udp_exact(topo.a().netns, topo.b().netns, b, 1000, 100, port);
  udp_exact(topo.b().netns, topo.a().netns, a, 600, 1000, port);
  Delta delta = harvest(harvester);
  netacct_counters got = flow_of(delta, a, b, IPPROTO_UDP);
  CHECK(got == udp_expect(a, 1000, 100, 600, 1000));
  return got;
}

// The kernel id of a loaded program.
inline uint32_t prog_id(int fd) {
  bpf_prog_info info{};
  uint32_t len = sizeof info;
  REQUIRE(bpf_obj_get_info_by_fd(fd, &info, &len) == 0);
  return info.id;
}

// A pinned bpf_link's id and the id of the program it runs.
struct LinkIds {
  uint32_t link = 0;
  uint32_t prog = 0;
};

// The prefixes the pinned trie holds right now, as "addr/len" text.
inline std::set<std::string> pinned_prefixes(const std::string& pin_path) {
  std::set<std::string> out;
  int fd = bpf_obj_get((pin_path + "/whitelist").c_str());
  if (fd < 0) return out;
  netacct_wl_key key{}, next{};
  netacct_wl_key* previous = nullptr;
  while (bpf_map_get_next_key(fd, previous, &next) == 0) {
    Prefix prefix;
    prefix.family = next.family;
    prefix.length = static_cast<uint8_t>(next.prefixlen - NETACCT_WL_KEY_PREFIX_BITS);
    std::memcpy(prefix.addr, next.addr, 16);
    out.insert(prefix.to_string());
    key = next;
    previous = &key;
  }
  ::close(fd);
  return out;
}

}  // namespace netacct::test
