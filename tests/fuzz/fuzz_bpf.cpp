// SPDX-License-Identifier: GPL-2.0-only
// The kernel parser: fuzzed frames through the three programs with
// BPF_PROG_TEST_RUN (needs root). After each input the buffers are
// harvested and two invariants checked: packets seen == packets in flows +
// buckets (every run counted exactly once, somewhere), and no frame counted
// as more bytes than it has. The first byte picks the link framing of one
// of two datapaths (Ethernet, or none as on tun), the rest is the frame.
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "tests/fuzz/fuzz_common.hpp"
#include "tests/support/bpf_fixture.hpp"

using netacct::test::BpfFixture;
using netacct::test::Hook;

namespace {

BpfFixture& fixture(bool l3) {
  static std::unique_ptr<BpfFixture> ethernet, none;
  std::unique_ptr<BpfFixture>& slot = l3 ? none : ethernet;
  if (!slot) {
    slot = std::make_unique<BpfFixture>(1024, 64, l3 ? NETACCT_LINK_IP : NETACCT_LINK_ETHERNET);
    // Whitelisted remotes exercise the trie path.
    slot->whitelist("10.0.0.0/8", NETACCT_WL_MATCH_REMOTE);
    slot->whitelist("2001:db8::/32", NETACCT_WL_MATCH_REMOTE | NETACCT_WL_MATCH_LOCAL);
  }
  return *slot;
}

uint64_t packets(const netacct_counters& c) {
  return c.rx_packets + c.tx_packets;
}
uint64_t bytes(const netacct_counters& c) {
  return c.rx_bytes + c.tx_bytes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 4096) return 0;
  netacct::fuzz::quiet();
  bool l3 = data[0] & 1;
  BpfFixture& fx = fixture(l3);
  std::vector<uint8_t> frame(data + 1, data + size);
  uint64_t runs = 0;
  for (Hook hook : {Hook::XdpIngress, Hook::TcIngress, Hook::TcEgress}) {
    int retval = 0;
    // The kernel refuses frames shorter than an Ethernet header for TC.
    if (fx.try_run(hook, frame, 1, nullptr, &retval) == 0) runs++;
  }
  netacct::Delta delta = fx.harvest();
  uint64_t seen = packets(delta.flow_total()) + packets(delta.bucket_total());
  uint64_t counted = bytes(delta.flow_total()) + bytes(delta.bucket_total());
  if (seen != runs) {
    std::fprintf(stderr, "packets seen %llu != runs %llu\n", (unsigned long long)seen,
                 (unsigned long long)runs);
    std::abort();
  }
  // TC test runs see the frame with its Ethernet header (14 bytes put in
  // front for L3 framing); nothing may count more than that per run.
  if (counted > runs * (frame.size() + 14)) {
    std::fprintf(stderr, "counted %llu bytes for %llu runs of a %zu-byte frame\n",
                 (unsigned long long)counted, (unsigned long long)runs, frame.size());
    std::abort();
  }
  return 0;
}
