// SPDX-License-Identifier: GPL-2.0-only
// netacctd@.service under a real systemd (PID 1 in a systemd-nspawn
// container of this machine, tests/support/container.hpp), on a veth in
// this test's own namespace: Type=notify start, exact counts, reload with a
// whitelist, stop/start adopting the pins, kill -9 and the automatic
// restart, the journal, the shipped logrotate snippet, and the watchdog
// restarting a stopped loop. Skipped, with the reason, where nspawn cannot
// boot.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>

#include "tests/integration/systemd_common.hpp"

using namespace netacct;
using namespace netacct::test;

namespace {

// `make install` into a staging tree, copied into the container's /.
void install_build(const Container& box) {
  std::string stage = make_temp_dir("netacct-stage");
  run_ok("make --no-print-directory -s BUILD=" + build_dir() + " DESTDIR=" + stage +
         " PREFIX=/usr/local install");
  run_ok("cp -a " + stage + "/. " + box.root() + "/");
  run("rm -rf " + stage);
}

netacct_counters whitelisted(const boost::json::value& source) {
  netacct_counters c{};
  if (!source.is_object()) return c;
  const auto* buckets = source.as_object().if_contains("buckets");
  if (!buckets) return c;
  const auto& w = buckets->as_object().at("whitelisted").as_object();
  c.rx_bytes = w.at("rx_bytes").to_number<uint64_t>();
  c.rx_packets = w.at("rx_packets").to_number<uint64_t>();
  c.tx_bytes = w.at("tx_bytes").to_number<uint64_t>();
  c.tx_packets = w.at("tx_packets").to_number<uint64_t>();
  return c;
}

}  // namespace

TEST_CASE(
    "systemd: netacctd@TAG under a real systemd (nspawn): notify, reload, stop, kill, "
    "journal, logrotate, watchdog") {
  auto begun = std::chrono::steady_clock::now();
  Topology topo;  // before the boot: the container sees /run/netns as it is
  TagGuard tag("sd");
  std::string why;
  auto box = Container::boot(&why);
  if (!box) {
    MESSAGE("skipped: " << why);
    return;
  }
  INFO("console: " << box->console());
  const std::string t = tag.tag(), unit = "netacctd@" + t + ".service";
  install_build(*box);
  const std::string etc = box->root() + "/etc/netacct", lib = box->root() + "/var/lib/netacct";
  // The instance config the unit names (/etc/netacct/TAG.json), on veth-a
  // of this test's namespace A. An empty whitelist group to begin with,
  // and no auto_reload: only `systemctl reload` may apply a change.
  const std::string no_auto = R"({"metadata": {"auto_reload": false}, )";
  write_file(etc + "/" + t + "-whitelist.json",
             no_auto + R"("whitelist": {"test": {"enabled": true, "ips": [], "cidrs": []}}})");
  write_file(etc + "/" + t + ".json",
             "{\"tag\": \"" + t + "\", \"namespace\": \"" + topo.a().netns +
                 "\", \"interface\": \"" + topo.a().ifname + "\", \"output_file\": \"" + t +
                 ".json\", \"whitelist_file\": \"" + t +
                 "-whitelist.json\", \"interval\": 1, \"metrics\": false}");
  // A short watchdog so the SIGSTOP check takes seconds, not the shipped 30.
  run_ok("mkdir -p " + box->root() + "/etc/systemd/system/" + unit + ".d");
  write_file(box->root() + "/etc/systemd/system/" + unit + ".d/test.conf",
             "[Service]\nWatchdogSec=3s\nTimeoutAbortSec=1s\nRestartSec=1s\n");
  box->exec_ok("systemctl daemon-reload");
  const std::string output = lib + "/" + t + ".json";
  ExactTraffic traffic(topo, output, t);
  auto send = [&](uint16_t port) { traffic.send(port); };
  auto counted_exactly = [&] {
    INFO("journal: " << box->exec_ok("journalctl -u " + unit + " --no-pager | tail -30"));
    return traffic.exact();
  };

  // Type=notify: start returns after READY=1, i.e. after the first harvest.
  box->exec_ok("systemctl start " + unit);
  CHECK(unit_property(*box, unit, "ActiveState") == "active");
  CHECK(unit_property(*box, unit, "StatusText").find("last harvest ") == 0);
  CHECK(unit_property(*box, unit, "WatchdogUSec") == "3s");
  send(7001);
  counted_exactly();

  // reload (SIGHUP) applies a whitelist: B's IPv6 address goes to the
  // whitelisted bucket, the IPv4 flow keeps counting.
  write_file(etc + "/" + t + "-whitelist.json",
             no_auto + R"("whitelist": {"test": {"enabled": true, "ips": [")" + topo.b().ipv6 +
                 R"("], "cidrs": []}}})");
  CHECK(wait_until(
      [&] {
        return box->exec("journalctl -u " + unit + " --no-pager | grep -q 'auto_reload is off'") ==
               0;
      },
      5000));
  box->exec_ok("systemctl reload " + unit);
  CHECK(wait_until(
      [&] {
        return box->exec("journalctl -u " + unit +
                         " --no-pager | grep -q 'whitelist reloaded (SIGHUP): 1 prefixes, +1'") ==
               0;
      },
      5000));
  udp_exact(topo.a().netns, topo.b().netns, topo.b().ipv6, 50, 100, 7002);
  CHECK(wait_until([&] { return whitelisted(source_in(output, t)).tx_packets == 50; }, 10000));
  CHECK(flow_counters(source_in(output, t), topo.a().ipv6, topo.b().ipv6, "UDP").tx_packets == 0);

  // stop: the programs keep counting; start adopts them.
  std::string first_pid = unit_property(*box, unit, "MainPID");
  box->exec_ok("systemctl stop " + unit);
  CHECK(unit_property(*box, unit, "ActiveState") == "inactive");
  send(7003);
  box->exec_ok("systemctl start " + unit);
  counted_exactly();

  // kill -9: Restart=on-failure brings it back, nothing is lost.
  std::string before_kill = unit_property(*box, unit, "MainPID");
  CHECK(before_kill != first_pid);
  box->exec_ok("systemctl kill -s KILL " + unit);
  send(7004);
  CHECK(restarted(*box, unit, before_kill, 15000));
  counted_exactly();

  // The shipped logrotate snippet: rotated + new = truth.
  box->exec_ok("logrotate -f /etc/logrotate.d/netacct");
  CHECK(::access((output + ".1").c_str(), F_OK) == 0);
  send(7005);
  CHECK(wait_until(
      [&] {
        netacct_counters rotated = traffic.counted(output + ".1"), now = traffic.counted();
        rotated += now;
        return rotated == traffic.expected && now.tx_packets > 0;
      },
      10000));
  {
    netacct_counters sum = traffic.counted(output + ".1");
    sum += traffic.counted();
    CHECK(sum == traffic.expected);
  }
  // From here the new file alone: what was sent after the rotation.
  traffic.expected = traffic.counted();

  // The watchdog: a stopped loop stops feeding it; systemd aborts and
  // restarts the daemon, which adopts its pins.
  std::string before_stop = unit_property(*box, unit, "MainPID");
  box->exec_ok("kill -STOP " + before_stop);
  send(7006);
  CHECK(restarted(*box, unit, before_stop, 20000));
  counted_exactly();
  std::string journal = box->exec_ok("journalctl -u " + unit + " --no-pager");
  INFO(journal);
  CHECK(journal.find("Watchdog timeout") != std::string::npos);

  box->exec_ok("systemctl stop " + unit);
  journal = box->exec_ok("journalctl -u " + unit + " --no-pager");
  // The journal has the start, harvest and stop lines.
  CHECK(journal.find("counting on " + topo.a().ifname) != std::string::npos);
  CHECK(journal.find("ready: first harvest done") != std::string::npos);
  CHECK(journal.find("final harvest: ") != std::string::npos);
  CHECK(journal.find("stopped after ") != std::string::npos);
  CHECK(journal.find("Started netacctd@" + t) != std::string::npos);
  MESSAGE("real-systemd test: " << std::chrono::duration_cast<std::chrono::milliseconds>(
                                       std::chrono::steady_clock::now() - begun)
                                           .count() /
                                       1000.0
                                << " s");
}
