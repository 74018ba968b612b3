// SPDX-License-Identifier: GPL-2.0-only
// netacctd end to end, in private namespaces: the JSON file must equal the
// ground truth the sockets counted, in both directions, IPv4 and IPv6, in
// TC and XDP mode, across a graceful restart, and with two instances
// sharing one file. Bad input must fail with one clear line and leave an
// existing file untouched.
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "pin/pin_dir.hpp"
#include "tests/integration/it_common.hpp"
#include "tests/support/daemon_process.hpp"
#include "tests/support/topology.hpp"
#include "tests/support/traffic.hpp"

using namespace netacct::test;

namespace {

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) n++;
  return n;
}

// Starts netacctd on A's end and waits until it is attached and its first
// harvest wrote OUTPUT (the file may exist from an earlier run).
void start_daemon(DaemonProcess& daemon, const Topology& topo, const std::string& tag,
                  const std::string& output, const std::string& log, bool xdp) {
  std::vector<std::string> args = {"--namespace", topo.a().netns, "--tag",  tag,
                                   "--interval",  "0.5",          "--debug"};
  if (xdp) args.push_back("--xdp");
  args.push_back(topo.a().ifname);
  args.push_back(output);
  size_t attached_before = count_of(read_text(log), "counting on");
  daemon.start(args, log);
  bool ready = wait_until(
      [&] {
        return (count_of(read_text(log), "counting on") > attached_before &&
                !read_source(output, tag).is_null()) ||
               !daemon.running();
      },
      15000);
  INFO("daemon log:\n" << read_text(log));
  REQUIRE(ready);
  REQUIRE(daemon.running());
}

void stop_daemon(DaemonProcess& daemon, const std::string& log) {
  daemon.signal(SIGTERM);
  int code = daemon.wait(15000);
  INFO("daemon log:\n" << read_text(log));
  CHECK(code == 0);
}

void both_directions_exact(bool xdp) {
  Topology topo;
  TagGuard tag(xdp ? "dx" : "dt");
  std::string dir = make_temp_dir("netacct-it");
  std::string output = dir + "/out.json", log = dir + "/daemon.log";
  DaemonProcess daemon;
  start_daemon(daemon, topo, tag.tag(), output, log, xdp);

  const uint32_t n4 = 700, p4 = 300, n6 = 500, p6 = 1000;
  udp_exact(topo.a().netns, topo.b().netns, topo.b().ipv4, n4, p4, 40101);          // tx v4
  udp_exact(topo.b().netns, topo.a().netns, topo.a().ipv4, n4 + 1, p4 + 1, 40102);  // rx v4
  udp_exact(topo.a().netns, topo.b().netns, topo.b().ipv6, n6, p6, 40103);          // tx v6
  udp_exact(topo.b().netns, topo.a().netns, topo.a().ipv6, n6 + 1, p6 + 1, 40104);  // rx v6
  stop_daemon(daemon, log);

  boost::json::value source = read_source(output, tag.tag());
  REQUIRE(source.is_object());
  CHECK(source.at("metadata").at("ingress_mode") == (xdp ? "xdp" : "tc"));
  netacct_counters v4 = flow_counters(source, topo.a().ipv4, topo.b().ipv4, "UDP");
  CHECK(v4.tx_packets == n4);
  CHECK(v4.tx_bytes == n4 * udp_ip_bytes(topo.b().ipv4, p4));
  CHECK(v4.rx_packets == n4 + 1);
  CHECK(v4.rx_bytes == (n4 + 1) * udp_ip_bytes(topo.b().ipv4, p4 + 1));
  netacct_counters v6 = flow_counters(source, topo.a().ipv6, topo.b().ipv6, "UDP");
  CHECK(v6.tx_packets == n6);
  CHECK(v6.tx_bytes == n6 * udp_ip_bytes(topo.b().ipv6, p6));
  CHECK(v6.rx_packets == n6 + 1);
  CHECK(v6.rx_bytes == (n6 + 1) * udp_ip_bytes(topo.b().ipv6, p6 + 1));
  run("rm -rf " + dir);
}

}  // namespace

TEST_CASE("daemon: IPv4 and IPv6 both directions are exact in TC mode") {
  both_directions_exact(false);
}

TEST_CASE("daemon: IPv4 and IPv6 both directions are exact in XDP mode") {
  both_directions_exact(true);
}

TEST_CASE("daemon: a graceful restart during traffic loses and doubles nothing") {
  Topology topo;
  TagGuard tag("dr");
  std::string dir = make_temp_dir("netacct-it");
  std::string output = dir + "/out.json", log = dir + "/daemon.log";
  DaemonProcess daemon;
  start_daemon(daemon, topo, tag.tag(), output, log, false);

  UdpSpec spec;
  spec.from_netns = topo.b().netns;
  spec.to_netns = topo.a().netns;
  spec.to_address = topo.a().ipv4;
  spec.count = 6000;
  spec.payload = 200;
  spec.burst = 20;
  spec.pause = std::chrono::milliseconds(2);
  spec.port = 40111;
  // Stop the daemon a third of the way in, start it again at two thirds:
  // the packets in between are counted by the pinned programs alone.
  auto started = std::chrono::steady_clock::now();
  int phase = 0;
  UdpResult result = udp_transfer(spec, [&] {
    auto elapsed = std::chrono::steady_clock::now() - started;
    if (phase == 0 && elapsed > std::chrono::milliseconds(250)) {
      daemon.signal(SIGTERM);
      daemon.wait(10000);
      phase = 1;
    } else if (phase == 1 && elapsed > std::chrono::milliseconds(500)) {
      daemon.start({"--namespace", topo.a().netns, "--tag", tag.tag(), "--interval", "0.5",
                    topo.a().ifname, output},
                   log);
      phase = 2;
    }
  });
  REQUIRE(result.received == spec.count);
  if (phase < 2) {
    // The transfer ended early (fast machine): restart now, still exact.
    daemon.start({"--namespace", topo.a().netns, "--tag", tag.tag(), "--interval", "0.5",
                  topo.a().ifname, output},
                 log);
  }
  REQUIRE(wait_until([&] { return daemon.running(); }, 2000));
  ::usleep(700000);
  stop_daemon(daemon, log);
  netacct_counters udp =
      flow_counters(read_source(output, tag.tag()), topo.a().ipv4, topo.b().ipv4, "UDP");
  CHECK(udp.rx_packets == spec.count);
  CHECK(udp.rx_bytes == spec.count * udp_ip_bytes(topo.a().ipv4, spec.payload));
  run("rm -rf " + dir);
}

TEST_CASE("daemon: two tags on two interfaces share one file, each entry exact") {
  Topology topo;
  TagGuard tag_a("sa"), tag_b("sb");
  std::string dir = make_temp_dir("netacct-it");
  std::string output = dir + "/shared.json";
  DaemonProcess da, db;
  da.start({"--namespace", topo.a().netns, "--tag", tag_a.tag(), "--interval", "0.3",
            topo.a().ifname, output},
           dir + "/a.log");
  db.start({"--namespace", topo.b().netns, "--tag", tag_b.tag(), "--interval", "0.3",
            topo.b().ifname, output},
           dir + "/b.log");
  REQUIRE(wait_until(
      [&] {
        return !read_source(output, tag_a.tag()).is_null() &&
               !read_source(output, tag_b.tag()).is_null();
      },
      15000));
  const uint32_t n = 3000, p = 400;
  udp_exact(topo.a().netns, topo.b().netns, topo.b().ipv4, n, p, 40121);
  udp_exact(topo.b().netns, topo.a().netns, topo.a().ipv6, n, p, 40122);
  stop_daemon(da, dir + "/a.log");
  stop_daemon(db, dir + "/b.log");

  uint64_t v4 = udp_ip_bytes(topo.a().ipv4, p), v6 = udp_ip_bytes(topo.a().ipv6, p);
  netacct_counters a4 =
      flow_counters(read_source(output, tag_a.tag()), topo.a().ipv4, topo.b().ipv4, "UDP");
  netacct_counters b4 =
      flow_counters(read_source(output, tag_b.tag()), topo.b().ipv4, topo.a().ipv4, "UDP");
  netacct_counters a6 =
      flow_counters(read_source(output, tag_a.tag()), topo.a().ipv6, topo.b().ipv6, "UDP");
  netacct_counters b6 =
      flow_counters(read_source(output, tag_b.tag()), topo.b().ipv6, topo.a().ipv6, "UDP");
  CHECK(a4.tx_packets == n);
  CHECK(a4.tx_bytes == n * v4);
  CHECK(b4.rx_packets == n);
  CHECK(b4.rx_bytes == n * v4);
  CHECK(b6.tx_packets == n);
  CHECK(b6.tx_bytes == n * v6);
  CHECK(a6.rx_packets == n);
  CHECK(a6.rx_bytes == n * v6);
  run("rm -rf " + dir);
}

TEST_CASE("daemon: bad input gives one clear line, a non-zero exit, and keeps totals") {
  Topology topo;
  TagGuard tag("bad");
  std::string dir = make_temp_dir("netacct-it");
  std::string output = dir + "/keep.json";
  const std::string kept =
      "{\"sources\": [{\"id\": \"" + tag.tag() + "\", \"traffic_data\": []}]}\n";
  { std::ofstream(output) << kept; }
  std::string broken = dir + "/broken.json";
  { std::ofstream(broken) << "{\n  \"interface\": \"x\",\n  oops\n}\n"; }

  struct Case {
    std::vector<std::string> args;
    int exit_code;
    std::string must_mention;
  };
  std::vector<Case> cases = {
      {{"--frobnicate", "veth0"}, 2, "--frobnicate"},
      {{"--interval", "-3", "veth0"}, 2, "-3"},
      {{"--tag", tag.tag(), "--namespace", topo.a().netns, "no-such-if0", output},
       1,
       "no-such-if0"},
      {{"--tag", tag.tag(), "--namespace", "no-such-ns-xyz", "eth9", output}, 1, "no-such-ns-xyz"},
      {{"--config", broken}, 2, broken + ":3:"},
      {{"--tag", tag.tag(), "--namespace", topo.a().netns, topo.a().ifname,
        "/nonexistent-dir/out.json"},
       1,
       "/nonexistent-dir/out.json"},
      {{"--tag", tag.tag(), "--pin-base", dir, "--namespace", topo.a().netns, topo.a().ifname,
        output},
       1,
       "bpf filesystem"},
  };
  for (const Case& c : cases) {
    RunResult result = run_netacctd(c.args);
    std::string joined;
    for (const std::string& arg : c.args) joined += arg + " ";
    INFO("args: " << joined << "\noutput: " << result.output);
    CHECK(result.exit_code == c.exit_code);
    CHECK(result.output.find(c.must_mention) != std::string::npos);
    // One error line (usage errors add one "Try --help" line).
    size_t lines =
        static_cast<size_t>(std::count(result.output.begin(), result.output.end(), '\n'));
    CHECK(lines <= 2);
    CHECK(read_text(output) == kept);
  }
  // A malformed output file is refused (naming it) and left as it was.
  std::string bad_output = dir + "/bad_output.json";
  { std::ofstream(bad_output) << "{\"sources\": [\n"; }
  RunResult result = run_netacctd(
      {"--tag", tag.tag(), "--namespace", topo.a().netns, topo.a().ifname, bad_output});
  INFO(result.output);
  CHECK(result.exit_code == 1);
  CHECK(result.output.find(bad_output) != std::string::npos);
  CHECK(read_text(bad_output) == "{\"sources\": [\n");
  run("rm -rf " + dir);
}

TEST_CASE("daemon: SIGHUP reloads the configuration: interval, whitelist file; names the rest") {
  Topology topo;
  TagGuard tag("hup");
  std::string dir = make_temp_dir("netacct-it");
  std::string config = dir + "/instance.json", output = dir + "/out.json", log = dir + "/d.log";
  auto write_config = [&](const std::string& interface, double interval, const std::string& wl) {
    std::ofstream(config + ".new")
        << "{\"tag\": \"" << tag.tag() << "\", \"namespace\": \"" << topo.a().netns
        << "\", \"interface\": \"" << interface << "\", \"output_file\": \"" << output
        << "\", \"whitelist_file\": \"" << wl << "\", \"interval\": " << interval << "}";
    REQUIRE(::rename((config + ".new").c_str(), config.c_str()) == 0);
  };
  auto whitelist = [&](const std::string& path, const std::string& ip) {
    std::ofstream(path) << "{\"whitelist\": {\"g\": {\"ips\": [\"" << ip << "\"]}}}";
  };
  whitelist(dir + "/wl1.json", "192.0.2.1");
  whitelist(dir + "/wl2.json", "192.0.2.2");
  write_config(topo.a().ifname, 30, dir + "/wl1.json");
  DaemonProcess daemon;
  daemon.start({"--config", config}, log);
  REQUIRE(wait_until([&] { return !read_source(output, tag.tag()).is_null(); }, 15000));
  uint64_t generation = source_generation(read_source(output, tag.tag()));

  // A 30 s interval: no second harvest soon. After the reload, 0.2 s.
  write_config("other0", 0.2, dir + "/wl2.json");
  daemon.signal(SIGHUP);
  bool fast = wait_until(
      [&] { return source_generation(read_source(output, tag.tag())) >= generation + 3; }, 5000);
  INFO(read_text(log));
  CHECK(fast);
  boost::json::value source = read_source(output, tag.tag());
  CHECK(source.at("whitelist_info").at("sample_ips").at(0) == "192.0.2.2");
  CHECK(read_text(log).find("'interface' changed") != std::string::npos);
  stop_daemon(daemon, log);
  run("rm -rf " + dir);
}

TEST_CASE("daemon: new pinned maps (as after a reboot) continue the file's totals") {
  Topology topo;
  TagGuard tag("boot");
  std::string dir = make_temp_dir("netacct-it");
  std::string output = dir + "/out.json", log = dir + "/daemon.log";
  DaemonProcess daemon;
  start_daemon(daemon, topo, tag.tag(), output, log, false);
  udp_exact(topo.b().netns, topo.a().netns, topo.a().ipv4, 800, 100, 40131);
  stop_daemon(daemon, log);
  std::string first_instance =
      std::string(read_source(output, tag.tag()).at("metadata").at("pin_instance").as_string());

  // A reboot empties bpffs: the programs, filters and maps are gone. tcx
  // links go with their pins (nothing else holds them); clsact filters,
  // where the kernel has no tcx, with the qdisc.
  const std::string qdisc = "ip netns exec " + topo.a().netns + " tc qdisc ";
  if (run_ok(qdisc + "show dev " + topo.a().ifname).find("clsact") != std::string::npos)
    run_ok(qdisc + "del dev " + topo.a().ifname + " clsact");
  auto dir_of_pins = netacct::pin::PinDir::open_existing(tag.tag());
  REQUIRE(dir_of_pins.ok());
  REQUIRE(dir_of_pins->remove_all().ok());

  start_daemon(daemon, topo, tag.tag(), output, log, false);
  udp_exact(topo.b().netns, topo.a().netns, topo.a().ipv4, 300, 100, 40132);
  stop_daemon(daemon, log);
  boost::json::value source = read_source(output, tag.tag());
  CHECK(source.at("metadata").at("pin_instance").as_string() != first_instance);
  netacct_counters udp = flow_counters(source, topo.a().ipv4, topo.b().ipv4, "UDP");
  CHECK(udp.rx_packets == 1100);
  CHECK(udp.rx_bytes == 1100 * udp_ip_bytes(topo.a().ipv4, 100));
  run("rm -rf " + dir);
}
