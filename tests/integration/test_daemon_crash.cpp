// SPDX-License-Identifier: GPL-2.0-only
// netacctd under abuse, in private namespaces: kill -9 at random instants
// with restarts, logrotate rotation with SIGUSR1, the interface deleted and
// re-created. In each case the JSON files must add up to exactly what the
// sockets counted.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <sstream>

#include "daemon/engine/datapath.hpp"
#include "tc_programs.hpp"
#include "tests/support/daemon_process.hpp"
#include "tests/support/topology.hpp"
#include "tests/support/traffic.hpp"

using namespace netacct;
using namespace netacct::test;

namespace {

std::vector<std::string> daemon_args(const Topology& topo, const std::string& tag,
                                     const std::string& output, const char* interval) {
  return {"--namespace", topo.a().netns, "--tag",         tag,   "--interval",
          interval,      "--debug",      topo.a().ifname, output};
}

// Starts the daemon and waits until it is attached: its first harvest
// writes the output after the attach.
void start_attached(DaemonProcess& daemon, const Topology& topo, const std::string& tag,
                    const std::string& output, const std::string& log, const char* interval) {
  daemon.start(daemon_args(topo, tag, output, interval), log);
  REQUIRE(wait_until([&] { return !read_source(output, tag).is_null(); }, 15000));
}

// Starts the daemon, waits for a harvest newer than `after` and stops it.
void final_harvest(const Topology& topo, const std::string& tag, const std::string& output,
                   const std::string& log) {
  DaemonProcess daemon;
  daemon.start(daemon_args(topo, tag, output, "0.2"), log);
  uint64_t before = source_generation(read_source(output, tag));
  REQUIRE(wait_until([&] { return source_generation(read_source(output, tag)) > before; }, 15000));
  daemon.signal(SIGTERM);
  INFO(read_text(log));
  REQUIRE(daemon.wait(15000) == 0);
}

UdpSpec paced_udp(const Topology& topo, uint32_t count, uint16_t port) {
  return netacct::test::paced_udp(topo.b().netns, topo.a().netns, topo.a().ipv4, count, 120, port);
}

}  // namespace

TEST_CASE("daemon: kill -9 at 20 random instants during traffic, with restarts, is exact") {
  Topology topo;
  TagGuard tag("k9");
  std::string dir = make_temp_dir("netacct-crash");
  std::string output = dir + "/out.json", log = dir + "/daemon.log";
  std::mt19937 random(static_cast<unsigned>(::getpid()));
  std::uniform_int_distribution<int> lifetime_ms(20, 700);

  const int kKills = 20;
  int kills = 0, draining_at_kill = 0;
  auto daemon = std::make_unique<DaemonProcess>();
  daemon->start(daemon_args(topo, tag.tag(), output, "0.1"), log);
  // Traffic starts once the programs are attached (the first file is written
  // after the attach); what crosses the wire before that is nobody's count.
  REQUIRE(wait_until([&] { return !read_source(output, tag.tag()).is_null(); }, 15000));
  auto started = std::chrono::steady_clock::now();
  auto lifetime = std::chrono::milliseconds(lifetime_ms(random));

  auto kill_cycle = [&] {
    if (kills >= kKills || std::chrono::steady_clock::now() - started < lifetime) return;
    daemon->signal(SIGKILL);
    daemon->wait(5000);
    kills++;
    // Where did the kill land? DRAINING = between the swap and the end of
    // the commit (the interesting case for exactly-once).
    if (auto meta = read_pinned_meta(tag.pin_path()); meta && meta->phase == NETACCT_PHASE_DRAINING)
      draining_at_kill++;
    daemon = std::make_unique<DaemonProcess>();
    daemon->start(daemon_args(topo, tag.tag(), output, "0.1"), log);
    started = std::chrono::steady_clock::now();
    lifetime = std::chrono::milliseconds(lifetime_ms(random));
  };
  UdpSpec spec = paced_udp(topo, 30000, 40201);
  UdpResult result = udp_transfer(spec, kill_cycle, std::chrono::milliseconds(5));
  REQUIRE(result.received == spec.count);
  // Finish the kills if the traffic ended first: still valid crash points.
  while (kills < kKills) {
    kill_cycle();
    ::usleep(5000);
  }
  daemon->signal(SIGKILL);
  daemon->wait(5000);
  final_harvest(topo, tag.tag(), output, log);

  MESSAGE("kill -9 x" << kills << ", " << draining_at_kill << " of them mid-harvest (DRAINING)");
  netacct_counters udp =
      flow_counters(read_source(output, tag.tag()), topo.a().ipv4, topo.b().ipv4, "UDP");
  CHECK(udp.rx_packets == spec.count);
  CHECK(udp.rx_bytes == spec.count * udp_ip_bytes(topo.a().ipv4, spec.payload));
  if (udp.rx_packets == spec.count) run("rm -rf " + dir);  // kept for a post-mortem otherwise
}

TEST_CASE("daemon: logrotate + SIGUSR1 starts a fresh file; old + new add up exactly") {
  Topology topo;
  TagGuard tag("rot");
  std::string dir = make_temp_dir("netacct-crash");
  std::string output = dir + "/out.json", log = dir + "/daemon.log";
  DaemonProcess daemon;
  start_attached(daemon, topo, tag.tag(), output, log, "0.2");

  std::string conf = dir + "/logrotate.conf";
  {
    std::ofstream out(conf);
    out << output << " {\n  rotate 3\n  create 0644 root root\n  missingok\n  nocompress\n"
        << "  postrotate\n    kill -USR1 " << daemon.pid() << "\n  endscript\n}\n";
  }
  UdpSpec spec = paced_udp(topo, 6000, 40211);
  auto begun = std::chrono::steady_clock::now();
  bool rotated = false;
  std::string rotate_output;
  UdpResult result = udp_transfer(spec, [&] {
    if (!rotated && std::chrono::steady_clock::now() - begun > std::chrono::milliseconds(800)) {
      rotated = true;
      run("logrotate -f -s " + dir + "/logrotate.state " + conf, &rotate_output);
    }
  });
  REQUIRE(result.received == spec.count);
  REQUIRE(rotated);
  ::usleep(500000);
  daemon.signal(SIGTERM);
  INFO(read_text(log) << "\nlogrotate: " << rotate_output);
  REQUIRE(daemon.wait(15000) == 0);

  netacct_counters old_part =
      flow_counters(read_source(output + ".1", tag.tag()), topo.a().ipv4, topo.b().ipv4, "UDP");
  netacct_counters new_part =
      flow_counters(read_source(output, tag.tag()), topo.a().ipv4, topo.b().ipv4, "UDP");
  CHECK(old_part.rx_packets > 0);  // the rotation happened mid-transfer
  CHECK(new_part.rx_packets > 0);
  CHECK(old_part.rx_packets + new_part.rx_packets == spec.count);
  CHECK(old_part.rx_bytes + new_part.rx_bytes ==
        spec.count * udp_ip_bytes(topo.a().ipv4, spec.payload));
  run("rm -rf " + dir);
}

TEST_CASE("daemon: interface deleted and re-created: totals kept, counting resumes") {
  Topology topo;
  TagGuard tag("ifre");
  std::string dir = make_temp_dir("netacct-crash");
  std::string output = dir + "/out.json", log = dir + "/daemon.log";
  DaemonProcess daemon;
  start_attached(daemon, topo, tag.tag(), output, log, "0.3");

  UdpResult first = udp_transfer(paced_udp(topo, 1000, 40221));
  REQUIRE(first.received == 1000);
  ::usleep(800000);  // let a harvest take the first batch

  run_ok("ip -n " + topo.a().netns + " link del " + topo.a().ifname);
  REQUIRE(wait_until(
      [&] {
        return read_text(log).find("gone") != std::string::npos ||
               read_text(log).find("removed") != std::string::npos;
      },
      10000));
  CHECK(daemon.running());

  topo.recreate_link();
  REQUIRE(wait_until(
      [&] {
        std::string filters = tc_programs_text(topo.a().netns, topo.a().ifname, "ingress");
        return filters.find("netacct_tc_in") != std::string::npos;
      },
      10000));

  UdpResult second = udp_transfer(paced_udp(topo, 1500, 40222));
  REQUIRE(second.received == 1500);
  ::usleep(800000);
  daemon.signal(SIGTERM);
  INFO(read_text(log));
  REQUIRE(daemon.wait(15000) == 0);
  netacct_counters udp =
      flow_counters(read_source(output, tag.tag()), topo.a().ipv4, topo.b().ipv4, "UDP");
  CHECK(udp.rx_packets == 2500);
  CHECK(udp.rx_bytes == 2500 * udp_ip_bytes(topo.a().ipv4, 120));
  run("rm -rf " + dir);
}

TEST_CASE("daemon: an output that cannot be written loses nothing; the next write catches up") {
  Topology topo;
  TagGuard tag("wfail");
  std::string dir = make_temp_dir("netacct-crash");
  std::string output = dir + "/out.json", log = dir + "/daemon.log";
  DaemonProcess daemon;
  start_attached(daemon, topo, tag.tag(), output, log, "0.2");

  // Root ignores permissions: block the export's temporary file with a
  // directory. Harvests still commit to the ledger; only the file waits.
  std::string blocker = output + ".netacct-tmp";
  REQUIRE(::mkdir(blocker.c_str(), 0700) == 0);
  UdpResult first = udp_transfer(paced_udp(topo, 1500, 40231));
  REQUIRE(first.received == 1500);
  REQUIRE(wait_until(
      [&] {
        return read_text(log).find("failed, will retry (the ledger has every count)") !=
               std::string::npos;
      },
      5000));
  ::usleep(600000);  // several failed exports while more traffic is counted
  UdpResult second = udp_transfer(paced_udp(topo, 700, 40232));
  REQUIRE(second.received == 700);
  REQUIRE(::rmdir(blocker.c_str()) == 0);

  ::usleep(800000);
  daemon.signal(SIGTERM);
  INFO(read_text(log));
  REQUIRE(daemon.wait(15000) == 0);
  netacct_counters udp =
      flow_counters(read_source(output, tag.tag()), topo.a().ipv4, topo.b().ipv4, "UDP");
  CHECK(udp.rx_packets == 2200);
  CHECK(udp.rx_bytes == 2200 * udp_ip_bytes(topo.a().ipv4, 120));
  run("rm -rf " + dir);
}

TEST_CASE("daemon: a ledger locked by another process keeps counts in the kernel; exact after") {
  Topology topo;
  TagGuard tag("lock");
  std::string dir = make_temp_dir("netacct-crash");
  std::string output = dir + "/out.json", log = dir + "/daemon.log", ledger = dir + "/l.db";
  DaemonProcess daemon;
  std::vector<std::string> args = daemon_args(topo, tag.tag(), output, "0.2");
  args.insert(args.begin(), {"--ledger", ledger});
  daemon.start(args, log);
  REQUIRE(wait_until([&] { return !read_source(output, tag.tag()).is_null(); }, 15000));

  // The sqlite3 shell holds the write lock for 4 s (bounded), while traffic
  // flows: every harvest in between fails and leaves its delta in the kernel.
  std::string locker =
      "(echo 'BEGIN EXCLUSIVE; SELECT count(*) FROM flows;'; sleep 4; "
      "echo 'COMMIT;') | sqlite3 " +
      ledger + " >/dev/null 2>&1 &";
  REQUIRE(run(locker) == 0);
  UdpResult first = udp_transfer(paced_udp(topo, 1200, 40233));
  REQUIRE(first.received == 1200);
  REQUIRE(wait_until(
      [&] { return read_text(log).find("harvest failed, will retry") != std::string::npos; },
      5000));
  UdpResult second = udp_transfer(paced_udp(topo, 300, 40234));
  REQUIRE(second.received == 300);
  // The lock ends; the next harvest commits everything the kernel kept.
  REQUIRE(wait_until(
      [&] {
        return flow_counters(read_source(output, tag.tag()), topo.a().ipv4, topo.b().ipv4, "UDP")
                   .rx_packets == 1500;
      },
      10000));
  daemon.signal(SIGTERM);
  INFO(read_text(log));
  REQUIRE(daemon.wait(15000) == 0);
  netacct_counters udp =
      flow_counters(read_source(output, tag.tag()), topo.a().ipv4, topo.b().ipv4, "UDP");
  CHECK(udp.rx_packets == 1500);
  CHECK(udp.rx_bytes == 1500 * udp_ip_bytes(topo.a().ipv4, 120));
  run("rm -rf " + dir);
}
