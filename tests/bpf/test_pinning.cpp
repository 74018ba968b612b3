// SPDX-License-Identifier: GPL-2.0-only
// Pinned maps outlive a Datapath: a second one adopts them and harvests what
// the first counted; an incompatible pin directory is refused with the
// cleanup instruction; an existing directory's capacities win.
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "daemon/common/unique_fd.hpp"
#include "tests/bpf/expect.hpp"
#include "tests/support/packet.hpp"

using namespace netacct;
using namespace netacct::test;

namespace {

// A private pin base under the real bpffs, removed on scope exit even when
// a REQUIRE throws. Never the daemon's /sys/fs/bpf/netacct.
class PinBase {
 public:
  PinBase() {
    static int counter = 0;
    path_ =
        "/sys/fs/bpf/netacct-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ~PinBase() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  PinBase(const PinBase&) = delete;
  PinBase& operator=(const PinBase&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

DatapathOptions pinned(const PinBase& base, uint32_t flows = 64, uint32_t whitelist = 16) {
  DatapathOptions options;
  options.tag = "pin";
  options.pin_base = base.path();
  options.pin = true;
  options.flow_capacity = flows;
  options.whitelist_capacity = whitelist;
  return options;
}

std::unique_ptr<Datapath> open_ok(const DatapathOptions& options) {
  auto opened = Datapath::open(options);
  if (!opened) FAIL("Datapath::open: ", opened.error().message());
  return std::move(opened.value());
}

// Runs a frame through one of a Datapath's programs (no fixture: the
// Datapath here is pinned).
void run_xdp(Datapath& dp, const std::vector<uint8_t>& frame, uint32_t repeat) {
  std::vector<uint8_t> data = frame, out(frame.size() + 256);
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = data.data(), .data_out = out.data(),
              .data_size_in = static_cast<uint32_t>(data.size()),
              .data_size_out = static_cast<uint32_t>(out.size()),
              .repeat = static_cast<int>(repeat));
  REQUIRE(bpf_prog_test_run_opts(dp.xdp_ingress_fd(), &opts) == 0);
  CHECK(opts.retval == kXdpPass);
}

Delta harvest_ok(Harvester& harvester) {
  auto delta = harvester.harvest();
  if (!delta) FAIL("harvest: ", delta.error().message());
  return std::move(delta.value());
}

bpf_map_info map_info(int fd) {
  bpf_map_info info{};
  uint32_t len = sizeof info;
  REQUIRE(bpf_obj_get_info_by_fd(fd, &info, &len) == 0);
  return info;
}
uint32_t max_entries(int fd) {
  return map_info(fd).max_entries;
}

const Packet kPacket = build_packet({.src = "10.5.0.2",
                                     .dst = "10.5.0.1",
                                     .protocol = IPPROTO_TCP,
                                     .payload = 60});  // 100 IP bytes

}  // namespace

TEST_CASE("A second Datapath adopts the pinned maps and harvests the first one's counts") {
  PinBase base;
  auto first = open_ok(pinned(base));
  CHECK_FALSE(first->adopted());
  CHECK(first->pin_path() == base.path() + "/pin");
  for (const char* name : {"flows_a", "flows_b", "active_flows", "whitelist", "meta", "prog_xdp_in",
                           "prog_tc_in", "prog_tc_eg"})
    CHECK_MESSAGE(std::filesystem::exists(first->pin_path() + "/" + name), name);

  {
    Harvester harvester(*first);
    run_xdp(*first, kPacket.frame, 3);
    Expected want;
    want.flows = {{"10.5.0.1", "10.5.0.2", IPPROTO_TCP, rx(3, 300)}};
    want.packets_sent = 3;
    check_delta(harvest_ok(harvester), want);  // leaves flows_b active
  }
  run_xdp(*first, kPacket.frame, 7);  // counted, not yet harvested
  first.reset();                      // the "daemon" goes away; the pins stay

  auto second = open_ok(pinned(base));
  CHECK(second->adopted());
  run_xdp(*second, kPacket.frame, 2);
  Harvester harvester(*second);
  REQUIRE(harvester.active_index().value() == 1);
  Expected want;
  want.flows = {{"10.5.0.1", "10.5.0.2", IPPROTO_TCP, rx(9, 900)}};
  want.packets_sent = 9;
  check_delta(harvest_ok(harvester), want);
  CHECK(harvest_ok(harvester).empty());
}

TEST_CASE("Two live Datapaths on one tag count into the same maps") {
  PinBase base;
  auto first = open_ok(pinned(base));
  auto second = open_ok(pinned(base));
  CHECK(second->adopted());
  run_xdp(*first, kPacket.frame, 4);   // the old programs (still attached somewhere)
  run_xdp(*second, kPacket.frame, 5);  // the new ones
  Harvester harvester(*second);
  Expected want;
  want.flows = {{"10.5.0.1", "10.5.0.2", IPPROTO_TCP, rx(9, 900)}};
  want.packets_sent = 9;
  check_delta(harvest_ok(harvester), want);
}

TEST_CASE("A pin directory of another layout version is refused with the cleanup command") {
  PinBase base;
  {
    auto first = open_ok(pinned(base));
    netacct_meta meta{};
    uint32_t zero = 0;
    REQUIRE(bpf_map_lookup_elem(first->meta_fd(), &zero, &meta) == 0);
    CHECK(meta.layout_version == NETACCT_LAYOUT_VERSION);
    meta.layout_version = NETACCT_LAYOUT_VERSION + 1;
    REQUIRE(bpf_map_update_elem(first->meta_fd(), &zero, &meta, BPF_ANY) == 0);
  }
  auto second = Datapath::open(pinned(base));
  REQUIRE_FALSE(second);
  std::string message = second.error().message();
  INFO(message);
  CHECK(message.find("netacct-cleanup") != std::string::npos);
  CHECK(message.find("layout v" + std::to_string(NETACCT_LAYOUT_VERSION + 1)) != std::string::npos);
  // Refusing must not have touched the pins.
  CHECK(std::filesystem::exists(base.path() + "/pin/flows_a"));
}

TEST_CASE("A pin directory with maps but no meta is refused with the cleanup command") {
  PinBase base;
  open_ok(pinned(base)).reset();
  REQUIRE(std::filesystem::remove(base.path() + "/pin/meta"));
  auto again = Datapath::open(pinned(base));
  REQUIRE_FALSE(again);
  INFO(again.error().message());
  CHECK(again.error().message().find("netacct-cleanup") != std::string::npos);
}

TEST_CASE("The capacities of an existing pin directory win over requested ones") {
  PinBase base;
  DatapathOptions small = pinned(base, 32, 8);
  small.prefix_capacity = 4;
  auto first = open_ok(small);
  DatapathOptions large = pinned(base, 64, 16);
  large.prefix_capacity = 16;
  auto second = open_ok(large);
  CHECK(second->adopted());
  CHECK(second->flow_capacity() == 32);
  CHECK(second->whitelist_capacity() == 8);
  CHECK(second->prefix_capacity() == 4);
  CHECK(max_entries(second->prefix_fd(1)) == 4);
  CHECK(map_info(second->prefix_fd(1)).id == map_info(first->prefix_fd(1)).id);
  CHECK(max_entries(second->flows_fd(0)) == 32 + NETACCT_BUCKET_COUNT);
  CHECK(max_entries(second->flows_fd(1)) == 32 + NETACCT_BUCKET_COUNT);
  // The whitelist's size is the engine's business (it may keep headroom for
  // reloads); what matters is that the pinned trie itself was adopted.
  CHECK(map_info(second->whitelist_fd()).id == map_info(first->whitelist_fd()).id);
  CHECK(map_info(second->flows_fd(0)).id == map_info(first->flows_fd(0)).id);
  // And the datapath really holds 32 flows, not 64, and 4 prefix rows:
  // 8 more flows of 10.6.0.0/24 make one prefix row, 5 other /24s four
  // more rows, of which the fifth does not fit.
  for (uint32_t i = 0; i < 40; i++) {
    Packet p = build_packet({.src = "10.6.0." + std::to_string(i + 1),
                             .dst = "10.5.0.1",
                             .protocol = IPPROTO_UDP,
                             .payload = 12});  // 40 IP bytes
    run_xdp(*second, p.frame, 1);
  }
  for (uint32_t net = 0; net < 4; net++) {
    Packet p = build_packet({.src = "10.7." + std::to_string(net) + ".1",
                             .dst = "10.5.0.1",
                             .protocol = IPPROTO_UDP,
                             .payload = 12});
    run_xdp(*second, p.frame, 1);
  }
  Harvester harvester(*second);
  Delta delta = harvest_ok(harvester);
  CHECK(delta.flows.size() == 32 + 4);
  const FlowDelta* row = find_flow(delta, "10.5.0.1", "10.6.0.0", IPPROTO_UDP, 24);
  REQUIRE(row != nullptr);
  CHECK(row->counters == rx(8, 8 * 40));
  CHECK(delta.buckets[NETACCT_BUCKET_OVERFLOW_V4] == rx(1, 40));
  CHECK(packets_of(delta.flow_total()) + packets_of(delta.bucket_total()) == 44);
}

TEST_CASE("Pins of a build without prefix buffers are adopted; the buffers are added") {
  // Simulated by unpinning the three prefix maps of an existing directory.
  PinBase base;
  DatapathOptions options = pinned(base);
  auto first = Datapath::open(options);
  REQUIRE(first);
  for (const char* name : {"prefix_a", "prefix_b", "active_prefix"})
    REQUIRE(::unlink((first.value()->pin_path() + "/" + name).c_str()) == 0);
  auto second = Datapath::open(options);
  REQUIRE(second);
  CHECK(second.value()->adopted());
  for (const char* name : {"prefix_a", "prefix_b", "active_prefix"})
    CHECK(::access((second.value()->pin_path() + "/" + name).c_str(), F_OK) == 0);
}

TEST_CASE("A drained buffer that held many flows is renewed under its pin, exact across it") {
  // 64 flows of capacity: 8 or more (1/8) in a harvest renews the buffer.
  PinBase base;
  auto dp = open_ok(pinned(base));
  Harvester harvester(*dp);
  const uint32_t pinned_before = map_info(dp->flows_fd(1)).id;
  auto send_flows = [&](int flows, uint32_t repeat) {
    Expected want;
    for (int i = 0; i < flows; i++) {
      std::string remote = "10.6.0." + std::to_string(i + 1);
      Packet packet =
          build_packet({.src = remote, .dst = "10.5.0.1", .protocol = IPPROTO_UDP, .payload = 72});
      run_xdp(*dp, packet.frame, repeat);
      want.flows.push_back({"10.5.0.1", remote, IPPROTO_UDP, rx(repeat, repeat * 100ull)});
    }
    want.packets_sent = static_cast<uint64_t>(flows) * repeat;
    return want;
  };

  // Flows go to flows_a; the harvest swaps to flows_b, then drains flows_a.
  Expected many = send_flows(20, 2);
  const uint32_t a_before = map_info(dp->flows_fd(0)).id;
  check_delta(harvest_ok(harvester), many);
  const uint32_t a_after = map_info(dp->flows_fd(0)).id;
  CHECK(a_after != a_before);  // renewed, not emptied key by key
  // The pin names the new buffer, and it holds the bucket keys and nothing else.
  UniqueFd pinned_a(bpf_obj_get((dp->pin_path() + "/flows_a").c_str()));
  REQUIRE(pinned_a);
  CHECK(map_info(pinned_a.get()).id == a_after);
  CHECK(map_info(pinned_a.get()).max_entries == map_info(dp->flows_fd(0)).max_entries);
  CHECK_FALSE(std::filesystem::exists(dp->pin_path() + "/flows_a_renew"));
  CHECK(map_info(dp->flows_fd(1)).id == pinned_before);  // the active one is untouched

  // Counting goes on exactly through the renewed buffer, after the next swap.
  Expected few = send_flows(3, 5);
  check_delta(harvest_ok(harvester), few);  // 3 < 8: flows_b emptied by deletes
  CHECK(map_info(dp->flows_fd(1)).id == pinned_before);
  Expected again = send_flows(10, 1);  // into the renewed flows_a
  check_delta(harvest_ok(harvester), again);

  // A restarted Datapath adopts the renewed pins, buckets and all; a
  // renewal a crash cut short (its temporary pin left) is dropped.
  Expected last = send_flows(2, 3);
  const std::string stale = dp->pin_path() + "/flows_a_renew";
  REQUIRE(bpf_obj_pin(dp->flows_fd(0), stale.c_str()) == 0);
  dp.reset();
  auto second = open_ok(pinned(base));
  CHECK(second->adopted());
  CHECK_FALSE(std::filesystem::exists(stale));
  Harvester adopted(*second);
  check_delta(harvest_ok(adopted), last);
}

TEST_CASE("An adopted buffer's remembered whitelist answers are not reused by the next process") {
  // A process remembers per flow row whether the trie whitelisted it, under
  // a generation number. The next process starts above every generation in
  // the buffers it adopts, so a whitelist changed while no daemon ran is
  // asked anew, not answered from a row that happens to share a number.
  PinBase base;
  const Packet from_listed = build_packet(
      {.src = "198.51.100.7", .dst = "10.5.0.1", .protocol = IPPROTO_UDP, .payload = 72});
  auto insert = [](Datapath& dp, const char* address) {
    netacct_wl_key key{};
    key.prefixlen = NETACCT_WL_KEY_PREFIX_BITS + 32;
    key.family = NETACCT_FAMILY_IPV4;
    REQUIRE(inet_pton(AF_INET, address, key.addr) == 1);
    netacct_wl_value value{NETACCT_WL_MATCH_REMOTE, 0};
    REQUIRE(bpf_map_update_elem(dp.whitelist_fd(), &key, &value, BPF_ANY) == 0);
    return key;
  };
  {
    auto first = open_ok(pinned(base));
    netacct_wl_key listed = insert(*first, "198.51.100.7");
    insert(*first, "192.0.2.1");
    first->runtime().whitelist_entries = 2;
    first->next_key_generation();
    run_xdp(*first, from_listed.frame, 2);  // remembered as whitelisted
    // The whitelist changes while no process runs: 198.51.100.7 is out.
    REQUIRE(bpf_map_delete_elem(first->whitelist_fd(), &listed) == 0);
  }
  auto second = open_ok(pinned(base));
  second->runtime().whitelist_entries = 1;
  second->next_key_generation();  // as a whitelist load does
  run_xdp(*second, from_listed.frame, 3);
  Harvester harvester(*second);
  Expected want;
  want.flows = {{"10.5.0.1", "198.51.100.7", IPPROTO_UDP, rx(3, 300)}};
  with_bucket(want, NETACCT_BUCKET_WHITELISTED, rx(2, 200));
  want.packets_sent = 5;
  check_delta(harvest_ok(harvester), want);
}
