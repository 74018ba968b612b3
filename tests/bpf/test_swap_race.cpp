// SPDX-License-Identifier: GPL-2.0-only
// Harvests racing with packets: threads run BPF_PROG_TEST_RUN in a loop while
// the main thread harvests every millisecond. The swap waits an RCU grace
// period, so the harvested deltas must add up to exactly what was sent: no
// packet lost in a buffer after it went idle, none counted twice.
#include <doctest/doctest.h>
#include <netinet/in.h>

#include <array>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "tests/bpf/expect.hpp"
#include "tests/support/packet.hpp"

using namespace netacct;
using namespace netacct::test;

namespace {

constexpr uint32_t kRuns = 200;
constexpr uint32_t kRepeat = 1000;
// The kernel runs a whole repeat loop inside one RCU read-side section, so a
// swap never lands inside it: the kRepeat threads race per run. A third
// thread sends single packets, one syscall each, so swaps also fall between
// any two packets.
constexpr uint32_t kSingleRuns = 20000;

struct Sender {
  Hook hook;
  std::vector<uint8_t> frame;
  uint32_t repeat = kRepeat;
  uint32_t every = 1;  // sends only every n-th round, to mix rates
};

struct Plan {
  uint32_t rounds;
  std::vector<Sender> senders;
};

// Sums the flows and buckets of every delta.
struct Sum {
  std::vector<FlowDelta> flows;  // summed by key
  std::array<netacct_counters, NETACCT_BUCKET_LAST + 1> buckets{};
  size_t harvests = 0, non_empty = 0;

  void add(const Delta& delta) {
    harvests++;
    if (!delta.empty()) non_empty++;
    for (const FlowDelta& flow : delta.flows) {
      bool found = false;
      for (FlowDelta& known : flows) {
        if (known.key == flow.key) {
          known.counters += flow.counters;
          found = true;
        }
      }
      if (!found) flows.push_back(flow);
    }
    for (uint8_t bucket = NETACCT_BUCKET_FIRST; bucket <= NETACCT_BUCKET_LAST; bucket++)
      buckets[bucket] += delta.buckets[bucket];
  }
  Delta as_delta() const {
    Delta delta;
    delta.flows = flows;
    delta.buckets = buckets;
    return delta;
  }
};

}  // namespace

TEST_CASE("Harvesting every millisecond while threads send loses and duplicates nothing") {
  BpfFixture fx;
  Packet v4 = build_packet({.src = "10.3.0.2",
                            .dst = "10.3.0.1",
                            .protocol = IPPROTO_UDP,
                            .payload = 72});  // 100 IP bytes
  Packet v6 = build_packet({.src = "fd03::1",
                            .dst = "fd03::2",
                            .protocol = IPPROTO_TCP,
                            .payload = 40});  // 100 IP bytes
  Packet single = build_packet({.src = "10.3.0.9",
                                .dst = "10.3.0.1",
                                .protocol = IPPROTO_ICMP,
                                .payload = 0});  // 28 IP bytes
  std::vector<uint8_t> arp = build_non_ip(0x0806, 60);

  // XDP ingress IPv4; TC egress IPv6 plus ARP through TC ingress every 10th
  // round, so a bucket races too; single packets through TC ingress.
  const std::vector<Plan> plans = {
      {kRuns, {{Hook::XdpIngress, v4.frame}}},
      {kRuns, {{Hook::TcEgress, v6.frame}, {Hook::TcIngress, arp, kRepeat, 10}}},
      {kSingleRuns, {{Hook::TcIngress, single.frame, 1}}},
  };
  std::atomic<int> running{static_cast<int>(plans.size())};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (const Plan& plan : plans) {
    threads.emplace_back([&fx, &running, &failures, &plan] {
      for (uint32_t round = 0; round < plan.rounds; round++) {
        for (const Sender& sender : plan.senders) {
          if (round % sender.every != 0) continue;
          int retval = 0;
          if (fx.try_run(sender.hook, sender.frame, sender.repeat, nullptr, &retval) != 0 ||
              retval != pass_code(sender.hook))
            failures++;
        }
      }
      running--;
    });
  }

  Sum sum;
  while (running.load() > 0) {
    sum.add(fx.harvest());
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  for (std::thread& thread : threads) thread.join();
  sum.add(fx.harvest());  // what came after the last swap in the loop

  REQUIRE(failures.load() == 0);
  const uint64_t sent = uint64_t{kRuns} * kRepeat;
  const uint64_t arp_sent = uint64_t{kRuns / 10} * kRepeat;
  Expected want;
  want.flows = {
      {"10.3.0.1", "10.3.0.2", IPPROTO_UDP, rx(sent, sent * 100)},
      {"fd03::1", "fd03::2", IPPROTO_TCP, tx(sent, sent * 100)},
      {"10.3.0.1", "10.3.0.9", IPPROTO_ICMP, rx(kSingleRuns, kSingleRuns * 28)},
  };
  with_bucket(want, NETACCT_BUCKET_NON_IP, rx(arp_sent, arp_sent * 60));
  want.packets_sent = 2 * sent + arp_sent + kSingleRuns;
  check_delta(sum.as_delta(), want);
  // The race was real: the counts were split over many harvests.
  MESSAGE(sum.harvests, " harvests, ", sum.non_empty, " with counts");
  CHECK(sum.non_empty >= 3);
}

TEST_CASE("Prefix rows and the overflow bucket race with harvests exactly like flows") {
  // One flow slot and two prefix rows for three senders: which sender gets
  // the flow slot, which get a prefix row and which the bucket changes from
  // harvest to harvest, yet per family flow + prefix rows + bucket = sent.
  DatapathOptions options;
  options.flow_capacity = 1;
  options.prefix_capacity = 2;
  BpfFixture fx(options);
  Packet udp4 = build_packet(
      {.src = "10.3.0.2", .dst = "10.3.0.1", .protocol = IPPROTO_UDP, .payload = 72});  // 100 B
  Packet icmp4 = build_packet(
      {.src = "10.3.0.9", .dst = "10.3.0.1", .protocol = IPPROTO_ICMP, .payload = 0});  // 28 B
  Packet tcp6 = build_packet(
      {.src = "fd03::1", .dst = "fd03::2", .protocol = IPPROTO_TCP, .payload = 40});  // 100 B
  const std::vector<Plan> plans = {
      {kRuns, {{Hook::XdpIngress, udp4.frame}}},
      {kRuns, {{Hook::TcEgress, tcp6.frame}}},
      {kSingleRuns / 2, {{Hook::TcIngress, icmp4.frame, 1}}},
  };
  std::atomic<int> running{static_cast<int>(plans.size())};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (const Plan& plan : plans) {
    threads.emplace_back([&fx, &running, &failures, &plan] {
      for (uint32_t round = 0; round < plan.rounds; round++) {
        for (const Sender& sender : plan.senders) {
          int retval = 0;
          if (fx.try_run(sender.hook, sender.frame, sender.repeat, nullptr, &retval) != 0 ||
              retval != pass_code(sender.hook))
            failures++;
        }
      }
      running--;
    });
  }
  Sum sum;
  while (running.load() > 0) {
    sum.add(fx.harvest());
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  for (std::thread& thread : threads) thread.join();
  sum.add(fx.harvest());
  REQUIRE(failures.load() == 0);

  const uint64_t sent = uint64_t{kRuns} * kRepeat;
  const uint64_t icmp_sent = kSingleRuns / 2;
  netacct_counters v4{}, v6{}, udp{}, icmp{};
  size_t prefix_rows = 0;
  for (const FlowDelta& flow : sum.flows) {
    (flow.key.family == NETACCT_FAMILY_IPV4 ? v4 : v6) += flow.counters;
    if (flow.key.protocol == IPPROTO_UDP) udp += flow.counters;
    if (flow.key.protocol == IPPROTO_ICMP) icmp += flow.counters;
    if (flow.key.pad != 0) prefix_rows++;
  }
  v4 += sum.buckets[NETACCT_BUCKET_OVERFLOW_V4];
  v6 += sum.buckets[NETACCT_BUCKET_OVERFLOW_V6];
  CHECK(v4 == rx(sent + icmp_sent, sent * 100 + icmp_sent * 28));
  CHECK(v6 == tx(sent, sent * 100));
  // Nothing else anywhere: no other bucket, no other key.
  for (uint8_t bucket :
       {NETACCT_BUCKET_WHITELISTED, NETACCT_BUCKET_NON_IP, NETACCT_BUCKET_MALFORMED})
    CHECK(sum.buckets[bucket] == netacct_counters{});
  CHECK(sum.flows.size() <= 6);  // 3 flows + 3 prefix rows at most
  // Where no bucket took IPv4 packets, each protocol is whole in its keys.
  if (sum.buckets[NETACCT_BUCKET_OVERFLOW_V4] == netacct_counters{}) {
    CHECK(udp == rx(sent, sent * 100));
    CHECK(icmp == rx(icmp_sent, icmp_sent * 28));
  }
  MESSAGE(sum.harvests, " harvests, ", prefix_rows, " prefix rows, overflow v4 ",
          sum.buckets[NETACCT_BUCKET_OVERFLOW_V4]);
  CHECK(prefix_rows >= 1);
}
