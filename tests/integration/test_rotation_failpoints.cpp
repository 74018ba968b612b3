// SPDX-License-Identifier: GPL-2.0-only
// The ledger's promises under the two things that break file-based
// accounting: a crash at any step of a harvest (failpoints), and a rotation
// whose signal comes late or never. Traffic flows both ways, IPv4 and IPv6;
// every total is compared with what the receivers counted.
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/daemon_process.hpp"
#include "tests/support/topology.hpp"
#include "tests/support/traffic.hpp"

using namespace netacct;
using namespace netacct::test;

namespace {

std::vector<std::string> daemon_args(const Topology& topo, const std::string& tag,
                                     const std::string& output) {
  return {"--namespace", topo.a().netns, "--tag",         tag,   "--interval",
          "0.1",         "--debug",      topo.a().ifname, output};
}

UdpSpec paced(const Endpoint& from, const Endpoint& to, const std::string& address, uint32_t count,
              uint16_t port) {
  return paced_udp(from.netns, to.netns, address, count, 120, port);
}

// What A's entry in `output` says about its UDP flows with B.
struct Seen {
  netacct_counters ipv4, ipv6;
};
Seen seen(const Topology& topo, const std::string& output, const std::string& tag) {
  boost::json::value source = read_source(output, tag);
  return {flow_counters(source, topo.a().ipv4, topo.b().ipv4, "UDP"),
          flow_counters(source, topo.a().ipv6, topo.b().ipv6, "UDP")};
}

}  // namespace

TEST_CASE("daemon: a crash at every harvest step (failpoints) during traffic is exact") {
  Topology topo;
  TagGuard tag("fp");
  std::string dir = make_temp_dir("netacct-fp");
  std::string output = dir + "/out.json", log = dir + "/daemon.log";
  const std::vector<std::string> steps = {"after-meta",    "after-swap",   "mid-read",
                                          "before-commit", "after-commit", "mid-clear",
                                          "before-idle"};
  size_t next = 0;
  std::vector<std::string> reached;
  // Each daemon is armed to abort at its second harvest reaching the step:
  // the first one (after the attach) leaves traffic in the maps to drain.
  auto start_armed = [&](DaemonProcess& daemon) {
    daemon.set_env("NETACCT_FAILPOINT", steps[next] + ":2");
    daemon.start(daemon_args(topo, tag.tag(), output), log);
  };
  auto daemon = std::make_unique<DaemonProcess>();
  start_armed(*daemon);
  REQUIRE(wait_until([&] { return !read_source(output, tag.tag()).is_null(); }, 15000));

  auto cycle = [&] {
    if (next >= steps.size() || daemon->running()) return;
    if (daemon->exit_signal() == SIGABRT &&
        read_text(log).find("failpoint " + steps[next] + " reached") != std::string::npos)
      reached.push_back(steps[next]);
    next++;
    daemon = std::make_unique<DaemonProcess>();
    if (next < steps.size())
      start_armed(*daemon);
    else
      daemon->start(daemon_args(topo, tag.tag(), output), log);
  };
  // A -> B over IPv6 on a thread; B -> A over IPv4 here, driving the crashes.
  UdpSpec out6 = paced(topo.a(), topo.b(), topo.b().ipv6, 9000, 40301);
  UdpResult sent6;
  std::thread sender([&] { sent6 = udp_transfer(out6); });
  UdpSpec in4 = paced(topo.b(), topo.a(), topo.a().ipv4, 12000, 40302);
  UdpResult received4 = udp_transfer(in4, cycle, std::chrono::milliseconds(5));
  sender.join();
  REQUIRE(received4.received == in4.count);
  REQUIRE(sent6.received == out6.count);
  // Steps the traffic outlived are still crash points; finish them.
  for (int waited = 0; next < steps.size() && waited < 30000; waited += 10) {
    cycle();
    ::usleep(10000);
  }
  ::usleep(300000);
  daemon->signal(SIGTERM);
  INFO(read_text(log));
  REQUIRE(daemon->wait(15000) == 0);

  CHECK(reached == steps);  // every step was reached, and aborted there
  Seen totals = seen(topo, output, tag.tag());
  CHECK(totals.ipv4.rx_packets == in4.count);
  CHECK(totals.ipv4.rx_bytes == in4.count * udp_ip_bytes(topo.a().ipv4, in4.payload));
  CHECK(totals.ipv6.tx_packets == out6.count);
  CHECK(totals.ipv6.tx_bytes == out6.count * udp_ip_bytes(topo.b().ipv6, out6.payload));
  if (reached == steps) run("rm -rf " + dir);
}

namespace {

// Traffic in three phases around a rename of the output: before (v4 in),
// between the rename and the signal (v6 out), after (v4 in). `signal_after`
// says whether SIGUSR1 comes at all; when it does, three harvests (or
// more) run between the rename and the signal.
void rotation_case(bool signal_after) {
  Topology topo;
  TagGuard tag(signal_after ? "rlate" : "rnever");
  std::string dir = make_temp_dir("netacct-rot");
  std::string output = dir + "/out.json", rotated = output + ".1", log = dir + "/daemon.log";
  DaemonProcess daemon;
  std::vector<std::string> args = daemon_args(topo, tag.tag(), output);
  args[5] = "0.3";  // --interval
  daemon.start(args, log);
  REQUIRE(wait_until([&] { return !read_source(output, tag.tag()).is_null(); }, 15000));

  UdpSpec before = paced(topo.b(), topo.a(), topo.a().ipv4, 1000, 40311);
  REQUIRE(udp_transfer(before).received == before.count);
  REQUIRE(wait_until([&] { return seen(topo, output, tag.tag()).ipv4.rx_packets == 1000; }, 5000));
  REQUIRE(std::rename(output.c_str(), rotated.c_str()) == 0);

  UdpSpec between = paced(topo.a(), topo.b(), topo.b().ipv6, 700, 40312);
  REQUIRE(udp_transfer(between).received == between.count);
  ::usleep(1200000);  // >= 3 harvests at 0.3 s with the file renamed
  if (signal_after) daemon.signal(SIGUSR1);

  UdpSpec after = paced(topo.b(), topo.a(), topo.a().ipv4, 400, 40313);
  REQUIRE(udp_transfer(after).received == after.count);
  ::usleep(700000);
  daemon.signal(SIGTERM);
  INFO(read_text(log));
  REQUIRE(daemon.wait(15000) == 0);

  // The rotated file holds exactly the period before the rename; the new
  // one exactly what came after; together, the truth, nothing twice.
  Seen old_period = seen(topo, rotated, tag.tag());
  Seen new_period = seen(topo, output, tag.tag());
  const uint64_t v4 = udp_ip_bytes(topo.a().ipv4, 120), v6 = udp_ip_bytes(topo.a().ipv6, 120);
  CHECK(old_period.ipv4.rx_packets == 1000);
  CHECK(old_period.ipv4.rx_bytes == 1000 * v4);
  CHECK(old_period.ipv6.tx_packets == 0);
  CHECK(new_period.ipv6.tx_packets == 700);
  CHECK(new_period.ipv6.tx_bytes == 700 * v6);
  CHECK(new_period.ipv4.rx_packets == 400);
  CHECK(new_period.ipv4.rx_bytes == 400 * v4);
  CHECK(old_period.ipv4.rx_bytes + new_period.ipv4.rx_bytes == 1400 * v4);
  run("rm -rf " + dir);
}

}  // namespace

TEST_CASE("rotation: rename, three harvests, then SIGUSR1: rotated + new = truth") {
  rotation_case(true);
}

TEST_CASE("rotation: rename and no signal at all: rotated + new = truth") {
  rotation_case(false);
}
