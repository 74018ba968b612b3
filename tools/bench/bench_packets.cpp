// SPDX-License-Identifier: GPL-2.0-only
#include "bench_packets.hpp"

#include <arpa/inet.h>
#include <bpf/bpf.h>

#include <cstdio>
#include <random>
#include <set>
#include <stdexcept>

#include "bench_resident.hpp"
#include "tests/support/bpf_fixture.hpp"

namespace netacct::bench {
namespace {

using test::BpfFixture;
using test::Hook;

// One frame on one program, sampled once per round.
struct Case {
  double* result;
  int prog_fd;
  Frame frame;
  std::vector<double> samples;
};

constexpr const char* kLocal4 = "192.0.2.1";
constexpr const char* kRemote4 = "198.51.100.7";
constexpr const char* kWhitelistedRemote = "203.0.113.9";  // in 203.0.113.0/24, loaded below

// Creates the flow and brings code and data into the caches before timing.
void warm_up(int prog_fd, const Frame& frame) {
  test_run_ns(prog_fd, frame, 10000);
}

// Runs every case once per round; the order rotates so that no case always
// follows the same neighbour (cache and frequency effects spread evenly).
void run_rounds(std::vector<Case>& cases, int rounds) {
  for (Case& c : cases) warm_up(c.prog_fd, c.frame);
  for (int round = 0; round < rounds; round++) {
    for (size_t i = 0; i < cases.size(); i++) {
      Case& c = cases[(i + static_cast<size_t>(round)) % cases.size()];
      c.samples.push_back(test_run_ns(c.prog_fd, c.frame, kSingleRepeat));
    }
  }
  for (Case& c : cases) *c.result = median(c.samples);
}

std::string prefix_text(int family, const uint8_t* addr, int length) {
  char text[INET6_ADDRSTRLEN];
  inet_ntop(family, addr, text, sizeof text);
  return std::string(text) + "/" + std::to_string(length);
}

// kWhitelistPrefixes distinct prefixes, 70% IPv4 /16-/32 and 30% IPv6
// /32-/128, fixed seed so every run loads the same trie; one of them is the
// /24 that holds kWhitelistedRemote. None covers kRemote4.
void load_whitelist(BpfFixture& fx) {
  std::mt19937 random(42);
  std::set<std::string> prefixes{"203.0.113.0/24"};
  while (prefixes.size() < kWhitelistPrefixes) {
    uint8_t addr[16] = {};
    for (uint8_t& byte : addr) byte = static_cast<uint8_t>(random());
    bool v4 = random() % 10 < 7;
    int length =
        v4 ? 16 + static_cast<int>(random() % 17) : 32 + 8 * static_cast<int>(random() % 13);
    for (int bit = length; bit < 128; bit++)
      addr[bit / 8] &= static_cast<uint8_t>(~(0x80 >> (bit % 8)));
    if (v4 && addr[0] == 198) continue;  // keep kRemote4 (198.51.100.7) unlisted
    prefixes.insert(prefix_text(v4 ? AF_INET : AF_INET6, addr, length));
  }
  // BpfFixture::whitelist also sets runtime().whitelist_entries.
  for (const std::string& prefix : prefixes) fx.whitelist(prefix, NETACCT_WL_MATCH_REMOTE);
}

uint64_t overflow_count(BpfFixture& fx) {
  auto active = fx.harvester().active_index();
  if (!active) throw std::runtime_error(active.error().message());
  netacct_flow_key key{};
  key.family = NETACCT_FAMILY_BUCKET;
  key.protocol = NETACCT_BUCKET_OVERFLOW_V4;
  netacct_counters counters{};
  if (bpf_map_lookup_elem(fx.datapath().flows_fd(active.value()), &key, &counters) != 0)
    throw std::runtime_error("read overflow bucket");
  return counters.rx_packets;
}

void measure_single(const EmptyProgs& empty, XdpResident* resident, int rounds,
                    PacketFigures& out) {
  BpfFixture fx(1024, 1024);
  BpfFixture wl(1024, kWhitelistPrefixes + 1024);
  load_whitelist(wl);
  if (resident) {
    resident->keep(fx.prog_fd(Hook::XdpIngress));
    resident->keep(wl.prog_fd(Hook::XdpIngress));
  }
  Frame in4 = udp_frame(kRemote4, kLocal4);
  Frame out4 = udp_frame(kLocal4, kRemote4);  // egress: the same flow, other direction
  std::vector<Case> cases{
      {&out.empty_xdp, empty.xdp_fd(), in4, {}},
      {&out.empty_tc, empty.tc_fd(), in4, {}},
      {&out.xdp_1flow, fx.prog_fd(Hook::XdpIngress), in4, {}},
      {&out.tc_in_1flow, fx.prog_fd(Hook::TcIngress), in4, {}},
      {&out.tc_eg_1flow, fx.prog_fd(Hook::TcEgress), out4, {}},
      {&out.xdp_v6, fx.prog_fd(Hook::XdpIngress), udp_frame("2001:db8::7", "fd00::1"), {}},
      {&out.xdp_wl, wl.prog_fd(Hook::XdpIngress), udp_frame(kWhitelistedRemote, kLocal4), {}},
      {&out.xdp_wl_miss, wl.prog_fd(Hook::XdpIngress), in4, {}},
  };
  run_rounds(cases, rounds);
  // The whitelisted frame must have gone to the bucket, not to a flow.
  Delta delta = wl.harvest();
  if (delta.flows.size() != 1 || delta.buckets[NETACCT_BUCKET_WHITELISTED].rx_packets == 0)
    throw std::runtime_error("whitelist case did not hit the whitelist as intended");
}

void measure_mix(const EmptyProgs& empty, XdpResident* resident, int rounds, PacketFigures& out) {
  // Capacity exactly 65,536: the buffer is full, every measured packet a hit.
  BpfFixture fx(kMixFlows, 1024);
  std::vector<Frame> frames = mix_frames();
  int ours = fx.prog_fd(Hook::XdpIngress);
  if (resident) resident->keep(ours);
  const uint32_t repeat = resident ? kMixRepeat : 1;
  out.mix_repeat = repeat;
  for (const Frame& frame : frames) test_run_ns(ours, frame, 1);  // creates the flows
  if (overflow_count(fx) != 0) throw std::runtime_error("64k flows did not all fit");
  out.flow_buffer_memlock_64k = map_memlock(fx.datapath().flows_fd(0));

  std::vector<double> empty64, ours64, empty_r1, ours_r1, empty_one, ours_one;
  std::vector<Frame> one_flow(frames.size(), frames.front());
  for (int round = 0; round < rounds; round++) {
    // Alternate which program goes first, as the first pass of a round may
    // find the caches in another state.
    bool ours_first = round % 2;
    if (ours_first) ours64.push_back(mix_ns(ours, frames, repeat));
    empty64.push_back(mix_ns(empty.xdp_fd(), frames, repeat));
    if (!ours_first) ours64.push_back(mix_ns(ours, frames, repeat));
    empty_r1.push_back(mix_ns(empty.xdp_fd(), frames, 1));
    ours_r1.push_back(mix_ns(ours, frames, 1));
    empty_one.push_back(mix_ns(empty.xdp_fd(), one_flow, 1));
    ours_one.push_back(mix_ns(ours, one_flow, 1));
  }
  if (overflow_count(fx) != 0) throw std::runtime_error("64k measurement hit the overflow bucket");
  out.empty_xdp_64k = median(empty64);
  out.xdp_64k = median(ours64);
  out.empty_xdp_64k_r1 = median(empty_r1);
  out.xdp_64k_r1 = median(ours_r1);
  out.empty_xdp_1flow_r1 = median(empty_one);
  out.xdp_1flow_r1 = median(ours_one);
}

}  // namespace

std::vector<Frame> mix_frames() {
  std::vector<Frame> frames;
  frames.reserve(kMixFlows);
  for (uint32_t i = 0; i < kMixFlows; i++) {
    std::string remote = "10." + std::to_string(i >> 8) + "." + std::to_string(i & 0xff) + ".1";
    frames.push_back(udp_frame(remote, kLocal4));
  }
  return frames;
}

PacketFigures measure_packets(const EmptyProgs& empty, XdpResident* resident, int rounds) {
  PacketFigures out;
  if (resident) resident->keep(empty.xdp_fd());
  measure_single(empty, resident, rounds, out);
  measure_mix(empty, resident, rounds, out);
  return out;
}

}  // namespace netacct::bench
