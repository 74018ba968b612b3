// SPDX-License-Identifier: GPL-2.0-only
// The whitelist in a running netacctd, in private namespaces: exact counts
// in flows and in the whitelisted bucket, every way an editor saves a file,
// broken edits, 200 reloads under traffic, and a 16,384-prefix list.
#include <bpf/bpf.h>
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <set>
#include <sstream>

#include "daemon/config/whitelist.hpp"
#include "tests/integration/it_common.hpp"
#include "tests/support/daemon_process.hpp"
#include "tests/support/topology.hpp"
#include "tests/support/traffic.hpp"

using namespace netacct;
using namespace netacct::test;
namespace json = boost::json;

namespace {

void write_atomic(const std::string& path, const std::string& text) {
  std::string temp = path + ".new";
  { std::ofstream(temp) << text; }
  REQUIRE(::rename(temp.c_str(), path.c_str()) == 0);
}

std::string whitelist_json(const std::vector<std::string>& ips,
                           const std::vector<std::string>& cidrs, bool auto_reload = true) {
  json::array ip_array(ips.begin(), ips.end()), cidr_array(cidrs.begin(), cidrs.end());
  return json::serialize(
      json::object{{"metadata", {{"description", "test"}, {"auto_reload", auto_reload}}},
                   {"whitelist",
                    {{"peers",
                      {{"description", "test peers"},
                       {"enabled", true},
                       {"ips", ip_array},
                       {"cidrs", cidr_array}}}}}});
}

// A second address on B (same MAC, static neighbour on A: no ARP/NDP that
// would land in the whitelisted bucket and blur its exact count).
struct SecondPeer {
  std::string ipv4, ipv6;
  SecondPeer(const Topology& topo, int host) {
    std::string n = std::to_string(topo.index());
    ipv4 = "10.200." + n + "." + std::to_string(host);
    ipv6 = "fd00:200:" + n + "::" + std::to_string(host);
    std::string ip_b = "ip -n " + topo.b().netns + " ", ip_a = "ip -n " + topo.a().netns + " ";
    run_ok(ip_b + "addr add " + ipv4 + "/24 dev " + topo.b().ifname + " && " + ip_b + "addr add " +
           ipv6 + "/64 dev " + topo.b().ifname + " nodad && " + ip_a + "neigh replace " + ipv4 +
           " lladdr " + topo.b().mac + " dev " + topo.a().ifname + " nud permanent && " + ip_a +
           "neigh replace " + ipv6 + " lladdr " + topo.b().mac + " dev " + topo.a().ifname +
           " nud permanent");
  }
};

struct RunningDaemon {
  DaemonProcess process;
  std::string output, log;
  RunningDaemon(const Topology& topo, const std::string& tag, const std::string& dir,
                const std::string& whitelist, std::vector<std::string> extra = {}) {
    output = dir + "/out.json";
    log = dir + "/daemon.log";
    std::vector<std::string> args = {"--namespace", topo.a().netns, "--tag",  tag,
                                     "--interval",  "0.3",          "--debug"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(topo.a().ifname);
    args.push_back(output);
    args.push_back(whitelist);
    process.start(args, log);
    bool ready = wait_until([&] { return !read_source(output, tag).is_null(); }, 20000);
    INFO(read_text(log));
    REQUIRE(ready);
  }
  void stop() {
    process.signal(SIGTERM);
    INFO(read_text(log));
    REQUIRE(process.wait(15000) == 0);
  }
};

netacct_counters bucket(const json::value& source, const char* name) {
  const json::object& b = source.at("buckets").at(name).as_object();
  return {b.at("rx_bytes").to_number<uint64_t>(), b.at("rx_packets").to_number<uint64_t>(),
          b.at("tx_bytes").to_number<uint64_t>(), b.at("tx_packets").to_number<uint64_t>()};
}

}  // namespace

TEST_CASE("whitelist: whitelisted peers go to the bucket, others to flows, v4 and v6 exact") {
  Topology topo;
  SecondPeer wl_peer(topo, 5);
  TagGuard tag("wl");
  std::string dir = make_temp_dir("netacct-wl");
  std::string file = dir + "/whitelist.json";
  std::string n = std::to_string(topo.index());
  // Exact IPv4 address and an IPv6 CIDR covering ::4-::7.
  write_atomic(file, whitelist_json({wl_peer.ipv4}, {"fd00:200:" + n + "::4/126"}));
  RunningDaemon daemon(topo, tag.tag(), dir, file);

  const std::string& a = topo.a().netns;
  const std::string& b = topo.b().netns;
  udp_exact(a, b, topo.b().ipv4, 500, 100, 40301);  // counted: flow .1 -> .2
  udp_exact(a, b, wl_peer.ipv4, 400, 200, 40302);   // whitelisted tx v4
  udp_exact(b, a, topo.a().ipv4, 300, 300, 40303);  // counted: rx .2 -> .1 (from B's primary)
  udp_exact(a, b, topo.b().ipv6, 200, 400, 40304);  // counted v6
  udp_exact(a, b, wl_peer.ipv6, 100, 500, 40305);   // whitelisted tx v6
  daemon.stop();

  json::value source = read_source(daemon.output, tag.tag());
  REQUIRE(source.is_object());
  netacct_counters v4 = flow_counters(source, topo.a().ipv4, topo.b().ipv4, "UDP");
  CHECK(v4.tx_packets == 500);
  CHECK(v4.tx_bytes == 500 * udp_ip_bytes(topo.b().ipv4, 100));
  CHECK(v4.rx_packets == 300);
  CHECK(v4.rx_bytes == 300 * udp_ip_bytes(topo.b().ipv4, 300));
  netacct_counters v6 = flow_counters(source, topo.a().ipv6, topo.b().ipv6, "UDP");
  CHECK(v6.tx_packets == 200);
  CHECK(v6.tx_bytes == 200 * udp_ip_bytes(topo.b().ipv6, 400));
  // Nothing to the whitelisted peers appears as a flow...
  CHECK(flow_counters(source, topo.a().ipv4, wl_peer.ipv4, "UDP").tx_packets == 0);
  CHECK(flow_counters(source, topo.a().ipv6, wl_peer.ipv6, "UDP").tx_packets == 0);
  // ...and all of it is in the whitelisted bucket.
  netacct_counters wl = bucket(source, "whitelisted");
  CHECK(wl.tx_packets == 500);
  CHECK(wl.tx_bytes ==
        400 * udp_ip_bytes(wl_peer.ipv4, 200) + 100 * udp_ip_bytes(wl_peer.ipv6, 500));
  CHECK(wl.rx_packets == 0);
  const json::object& info = source.at("whitelist_info").as_object();
  CHECK(info.at("enabled") == true);
  CHECK(info.at("count") == 2);
  CHECK(info.at("last_reload").at("ok") == true);
  run("rm -rf " + dir);
}

TEST_CASE(
    "whitelist: every editor save pattern is applied; broken or deleted keeps the last good") {
  Topology topo;
  TagGuard tag("wle");
  std::string dir = make_temp_dir("netacct-wl");
  std::string file = dir + "/whitelist.json";
  write_atomic(file, whitelist_json({"192.0.2.100"}, {}));
  RunningDaemon daemon(topo, tag.tag(), dir, file);
  REQUIRE(pinned_prefixes(tag.pin_path()) == std::set<std::string>{"192.0.2.100/32"});

  auto expect_applied = [&](const std::string& pattern, const std::string& prefix) {
    auto begun = std::chrono::steady_clock::now();
    bool seen =
        wait_until([&] { return pinned_prefixes(tag.pin_path()) == std::set{prefix}; }, 3000);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - begun);
    MESSAGE(pattern << ": applied after " << ms.count() << " ms");
    INFO(pattern << "\n" << read_text(daemon.log));
    CHECK_MESSAGE(seen, pattern);
  };
  // 1. Write a temporary file, rename it over (vim, most config tools).
  write_atomic(file, whitelist_json({"192.0.2.1"}, {}));
  expect_applied("rename over", "192.0.2.1/32");
  // 2. cp over the existing file (truncate + write in place).
  { std::ofstream(dir + "/other.json") << whitelist_json({"192.0.2.2"}, {}); }
  run_ok("cp " + dir + "/other.json " + file);
  expect_applied("cp", "192.0.2.2/32");
  // 3. mv from another directory.
  std::string elsewhere = make_temp_dir("netacct-wl");
  { std::ofstream(elsewhere + "/x.json") << whitelist_json({}, {"198.51.100.0/24"}); }
  run_ok("mv " + elsewhere + "/x.json " + file);
  expect_applied("mv", "198.51.100.0/24");
  // 4. Truncate and write through the same open file.
  { std::ofstream(file, std::ios::trunc) << whitelist_json({"fd00:99::1"}, {}); }
  expect_applied("truncate and write", "fd00:99::1/128");
  // 5. Delete, then create anew: the deletion alone keeps the last good list.
  run_ok("rm " + file);
  ::usleep(600000);
  CHECK(pinned_prefixes(tag.pin_path()) == std::set<std::string>{"fd00:99::1/128"});
  { std::ofstream(file) << whitelist_json({"192.0.2.5"}, {}); }
  expect_applied("delete then create", "192.0.2.5/32");

  // A broken edit is rejected and the last good list stays in force.
  {
    std::ofstream(file, std::ios::trunc)
        << "{\"whitelist\": {\"peers\": {\"ips\": [\"192.0.2.7\"\n";
  }
  ::usleep(700000);
  CHECK(pinned_prefixes(tag.pin_path()) == std::set<std::string>{"192.0.2.5/32"});
  write_atomic(file, whitelist_json({"192.0.2.999"}, {}));
  ::usleep(700000);
  CHECK(pinned_prefixes(tag.pin_path()) == std::set<std::string>{"192.0.2.5/32"});
  CHECK(read_text(daemon.log).find("'192.0.2.999'") != std::string::npos);
  ::usleep(400000);  // a harvest records the failed reload in the file
  json::value source = read_source(daemon.output, tag.tag());
  CHECK(source.at("whitelist_info").at("last_reload").at("ok") == false);
  daemon.stop();
  run("rm -rf " + dir + " " + elsewhere);
}

TEST_CASE("whitelist: 200 reloads while traffic flows leave totals exact") {
  Topology topo;
  SecondPeer wl_peer(topo, 5);
  TagGuard tag("wlr");
  std::string dir = make_temp_dir("netacct-wl");
  std::string file = dir + "/whitelist.json";
  std::string n = std::to_string(topo.index());
  // Two versions that both cover .5 and ::5 through different prefixes and
  // never cover .2 or ::2: each reload deletes and inserts covering prefixes.
  const std::string v1 =
      whitelist_json({}, {"10.200." + n + ".4/30", "fd00:200:" + n + "::4/126"}, false);
  const std::string v2 = whitelist_json(
      {wl_peer.ipv4, wl_peer.ipv6}, {"10.200." + n + ".4/31", "fd00:200:" + n + "::4/127"}, false);
  write_atomic(file, v1);
  RunningDaemon daemon(topo, tag.tag(), dir, file);

  // Signals of one kind do not queue: send the next SIGHUP only once the
  // daemon logged the previous reload, so every one of the 200 is real.
  int reloads = 0;
  auto applied_in_log = [&] {
    std::string text = read_text(daemon.log);
    size_t count = 0;
    for (size_t at = text.find("whitelist reloaded"); at != std::string::npos;
         at = text.find("whitelist reloaded", at + 1))
      count++;
    return static_cast<int>(count);
  };
  auto reload = [&] {
    if (reloads >= 200 || applied_in_log() < reloads) return;
    write_atomic(file, reloads % 2 == 0 ? v2 : v1);
    daemon.process.signal(SIGHUP);
    reloads++;
  };
  const std::string& a = topo.a().netns;
  const std::string& b = topo.b().netns;
  // Paced transfers (about half a second each) with reloads running throughout.
  auto paced = [&](const std::string& address, uint32_t payload, uint16_t port) {
    UdpSpec spec;
    spec.from_netns = a;
    spec.to_netns = b;
    spec.to_address = address;
    spec.count = 2000;
    spec.payload = payload;
    spec.port = port;
    spec.burst = 10;
    spec.pause = std::chrono::milliseconds(2);
    REQUIRE(udp_transfer(spec, reload).received == spec.count);
  };
  paced(topo.b().ipv4, 100, 40311);
  paced(wl_peer.ipv4, 150, 40312);
  paced(topo.b().ipv6, 200, 40313);
  paced(wl_peer.ipv6, 250, 40314);
  int during_traffic = reloads;
  while (reloads < 200) {
    reload();
    ::usleep(2000);
  }
  REQUIRE(wait_until([&] { return applied_in_log() >= 200; }, 10000));
  MESSAGE(during_traffic << " of the 200 reloads ran while traffic flowed");
  ::usleep(500000);
  daemon.stop();

  json::value source = read_source(daemon.output, tag.tag());
  REQUIRE(source.is_object());
  netacct_counters v4 = flow_counters(source, topo.a().ipv4, topo.b().ipv4, "UDP");
  netacct_counters v6 = flow_counters(source, topo.a().ipv6, topo.b().ipv6, "UDP");
  CHECK(v4.tx_packets == 2000);
  CHECK(v4.tx_bytes == 2000 * udp_ip_bytes(topo.b().ipv4, 100));
  CHECK(v6.tx_packets == 2000);
  CHECK(v6.tx_bytes == 2000 * udp_ip_bytes(topo.b().ipv6, 200));
  CHECK(flow_counters(source, topo.a().ipv4, wl_peer.ipv4, "UDP").tx_packets == 0);
  CHECK(flow_counters(source, topo.a().ipv6, wl_peer.ipv6, "UDP").tx_packets == 0);
  netacct_counters wl = bucket(source, "whitelisted");
  CHECK(wl.tx_packets == 4000);
  CHECK(wl.tx_bytes ==
        2000 * udp_ip_bytes(wl_peer.ipv4, 150) + 2000 * udp_ip_bytes(wl_peer.ipv6, 250));
  uint64_t applied = source.at("whitelist_info").at("reloads").to_number<uint64_t>();
  CHECK(applied >= 200);
  run("rm -rf " + dir);
}

TEST_CASE("whitelist: 16,384 prefixes load and reload; one more is refused") {
  Topology topo;
  TagGuard tag("wlb");
  std::string dir = make_temp_dir("netacct-wl");
  std::string file = dir + "/whitelist.json";
  auto make_list = [](int salt, int count) {
    std::vector<std::string> cidrs;
    for (int i = 0; i < count; i++) {
      if (i % 4 == 3) {
        char text[64];
        std::snprintf(text, sizeof text, "fd%02x:%x::/48", salt, i);
        cidrs.emplace_back(text);
      } else {
        cidrs.push_back("10." + std::to_string(salt) + "." + std::to_string(i / 256) + "." +
                        std::to_string(i % 256) + "/32");
      }
    }
    return cidrs;
  };
  write_atomic(file, whitelist_json({}, make_list(1, 16384), false));
  RunningDaemon daemon(topo, tag.tag(), dir, file, {"--max-whitelist", "16384"});
  CHECK(pinned_prefixes(tag.pin_path()).size() == 16384);

  write_atomic(file, whitelist_json({}, make_list(2, 16384), false));
  daemon.process.signal(SIGHUP);
  REQUIRE(wait_until(
      [&] { return read_text(daemon.log).find("whitelist reloaded") != std::string::npos; },
      20000));
  std::set<std::string> now = pinned_prefixes(tag.pin_path());
  CHECK(now.size() == 16384);
  CHECK(now.count("10.2.0.0/32") == 1);
  CHECK(now.count("10.1.0.0/32") == 0);

  write_atomic(file, whitelist_json({}, make_list(3, 16385), false));
  daemon.process.signal(SIGHUP);
  // Refused while parsing: more entries than --max-whitelist.
  REQUIRE(wait_until(
      [&] {
        return read_text(daemon.log).find("more than 16384 addresses and prefixes") !=
               std::string::npos;
      },
      20000));
  CHECK(pinned_prefixes(tag.pin_path()).count("10.2.0.0/32") == 1);
  std::string log = read_text(daemon.log);
  for (const char* marker : {"whitelist: 16384 prefixes", "whitelist reloaded"}) {
    auto at = log.find(marker);
    if (at != std::string::npos) MESSAGE(log.substr(at, log.find('\n', at) - at));
  }
  daemon.stop();
  run("rm -rf " + dir);
}
