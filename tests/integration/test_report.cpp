// SPDX-License-Identifier: GPL-2.0-only
// `netacct report` and `netacct tags` over a real daemon's ledger: the
// figures of each format equal what the sockets counted; errors are one
// line with the documented exit codes. (Several periods with a controlled
// clock: tests/unit/test_history.cpp.)
#include <doctest/doctest.h>
#include <signal.h>

#include <algorithm>
#include <boost/json.hpp>
#include <sstream>
#include <string>

#include "tests/integration/metrics_common.hpp"
#include "tests/support/daemon_process.hpp"
#include "tests/support/topology.hpp"
#include "tests/support/traffic.hpp"

using namespace netacct;
using namespace netacct::test;

namespace {

std::string netacct_bin() {
  const char* build = std::getenv("BUILD");
  return std::string(build && *build ? build : "build") + "/bin/netacct";
}

}  // namespace

TEST_CASE("report: a real ledger's hour, day and month in json, csv and table equal the truth") {
  Topology topo;
  TagGuard tag("rep");
  std::string dir = make_temp_dir("netacct-report");
  DaemonProcess daemon;
  std::string output = dir + "/out.json";
  daemon.start({"--tag", tag.tag(), "--namespace", topo.a().netns, "--interval", "0.3",
                "--no-metrics", topo.a().ifname, output},
               dir + "/d.log");
  REQUIRE(wait_until([&] { return !read_source(output, tag.tag()).is_null(); }, 15000));
  UdpSpec in = paced_udp(topo.b().netns, topo.a().netns, topo.a().ipv4, 700, 300, 40701);
  REQUIRE(udp_transfer(in).received == in.count);
  UdpSpec out6 = paced_udp(topo.a().netns, topo.b().netns, topo.b().ipv6, 500, 100, 40702);
  REQUIRE(udp_transfer(out6).received == out6.count);
  daemon.signal(SIGTERM);
  REQUIRE(daemon.wait(15000) == 0);
  const uint64_t rx4 = in.count * udp_ip_bytes(topo.a().ipv4, in.payload);
  const uint64_t tx6 = out6.count * udp_ip_bytes(topo.b().ipv6, out6.payload);
  const std::string base = netacct_bin() + " report --tag " + tag.tag();
  std::string said;

  for (const char* period : {"hour", "day", "month"}) {
    INFO(period);
    std::string text;
    REQUIRE(run(base + " --by flow --format json --period " + period, &text) == 0);
    INFO(text);
    boost::json::value report = boost::json::parse(text);
    uint64_t got_rx4 = 0, got_tx6 = 0, got_rx4_packets = 0, got_tx6_packets = 0;
    for (const boost::json::value& row : report.at("rows").as_array()) {
      if (row.at("remote") == topo.b().ipv4.c_str() && row.at("protocol") == "UDP") {
        got_rx4 += row.at("rx_bytes").to_number<uint64_t>();
        got_rx4_packets += row.at("rx_packets").to_number<uint64_t>();
      }
      if (row.at("remote") == topo.b().ipv6.c_str() && row.at("protocol") == "UDP") {
        got_tx6 += row.at("tx_bytes").to_number<uint64_t>();
        got_tx6_packets += row.at("tx_packets").to_number<uint64_t>();
      }
    }
    CHECK(got_rx4 == rx4);
    CHECK(got_rx4_packets == in.count);
    CHECK(got_tx6 == tx6);
    CHECK(got_tx6_packets == out6.count);
  }
  // CSV, by remote: the same figures as integers.
  std::string csv;
  REQUIRE(run(base + " --by remote --period day --format csv", &csv) == 0);
  INFO(csv);
  CHECK(csv.rfind("start,start_utc,local,remote,protocol,rx_bytes,tx_bytes,rx_packets,tx_packets\n",
                  0) == 0);
  uint64_t csv_rx4 = 0;
  std::istringstream lines(csv);
  std::string line;
  while (std::getline(lines, line)) {
    std::vector<std::string> f;
    std::istringstream cells(line);
    std::string cell;
    while (std::getline(cells, cell, ',')) f.push_back(cell);
    if (f.size() == 9 && f[3] == topo.b().ipv4) csv_rx4 += std::stoull(f[5]);
  }
  CHECK(csv_rx4 == rx4);
  // The table: a header, units, a total; --top 1 keeps the busiest row.
  std::string table;
  REQUIRE(run(base + " --by remote --period month --top 1", &table) == 0);
  INFO(table);
  CHECK(table.find("PERIOD") != std::string::npos);
  CHECK(table.find(topo.b().ipv4) != std::string::npos);  // 700 x 328 B beats 500 x 148 B
  CHECK(table.find(topo.b().ipv6) == std::string::npos);
  CHECK(table.find("KiB") != std::string::npos);

  // The 99.9th percentile of the last 24 h (288-289 intervals, none dropped) is
  // the busiest interval: all of the IPv4 traffic, or at least half of it
  // if it straddled two intervals.
  std::string p999;
  REQUIRE(run(base + " --percentile 99.9 --format json", &p999) == 0);
  INFO(p999);
  bool seen_local = false;
  boost::json::value percentiles = boost::json::parse(p999);
  for (const boost::json::value& row : percentiles.at("rows").as_array()) {
    if (row.at("local") != topo.a().ipv4.c_str()) continue;
    seen_local = true;
    double busiest = row.at("rx_bytes_per_s").to_number<double>() * 300;
    CHECK(row.at("intervals").to_number<int>() >= 288);  // and the current, partial one
    CHECK(row.at("intervals").to_number<int>() <= 289);
    CHECK(busiest <= static_cast<double>(rx4));
    CHECK(busiest >= static_cast<double>(rx4) / 2);
  }
  CHECK(seen_local);
  std::string p95;
  REQUIRE(run(base + " --percentile 95", &p95) == 0);
  CHECK(p95.find("RX p95") != std::string::npos);
  CHECK(p95.find(topo.a().ipv4) != std::string::npos);
  CHECK(run(base + " --percentile 95 --by remote", &said) == 2);

  // tags: lifetime totals include our flows.
  std::string tags;
  REQUIRE(run(netacct_bin() + " tags --json", &tags) == 0);
  boost::json::value listed = boost::json::parse(tags);
  bool found = false;
  for (const boost::json::value& row : listed.at("tags").as_array())
    if (row.at("tag") == tag.tag().c_str()) {
      found = true;
      CHECK(row.at("rx_bytes").to_number<uint64_t>() >= rx4);
      CHECK(row.at("interface") == topo.a().ifname.c_str());
    }
  CHECK(found);

  // Errors: one line each, 1 for a missing ledger, 2 for usage.
  CHECK(run(netacct_bin() + " report --tag no-such-tag", &said) == 1);
  CHECK(said.find("no ledger for tag 'no-such-tag'") != std::string::npos);
  CHECK(run(base + " --since 2026-13-01", &said) == 2);
  CHECK(said.find("--since: '2026-13-01'") != std::string::npos);
  CHECK(run(base + " --since 2026-12-02 --until 2026-12-01", &said) == 2);
  CHECK(said.find("the range is empty") != std::string::npos);
  CHECK(run(base + " --period 5min --by remote", &said) == 2);
  CHECK(said.find("5-minute history holds totals per tag and per local address only") !=
        std::string::npos);
  run("rm -rf " + dir);
}

TEST_CASE("quota: crossing a daily quota logs, shows in /metrics and runs the command, once") {
  Topology topo;
  TagGuard tag("quota");
  std::string dir = make_temp_dir("netacct-quota");
  std::string output = dir + "/out.json", log = dir + "/d.log", fired = dir + "/fired";
  const std::string quota = topo.a().ipv4 + ":day:100000";
  auto start = [&](DaemonProcess& daemon) {
    daemon.start({"--tag", tag.tag(), "--namespace", topo.a().netns, "--interval", "0.3", "--quota",
                  quota, "--quota-command", "echo \"$@\" >> " + fired, topo.a().ifname, output},
                 log, topo.a().netns);
    REQUIRE(wait_until([&] { return !read_source(output, tag.tag()).is_null(); }, 15000));
  };
  DaemonProcess daemon;
  start(daemon);
  UdpSpec in = paced_udp(topo.b().netns, topo.a().netns, topo.a().ipv4, 700, 300, 40711);
  REQUIRE(udp_transfer(in).received == in.count);  // 229,600 B > 100,000
  REQUIRE(wait_until([&] { return read_text(fired).find('\n') != std::string::npos; }, 10000));
  std::string metrics = scrape(topo.a().netns);
  INFO(metrics.substr(0, 200));
  CHECK(metrics.find("netacct_quota_exceeded{interface=\"" + topo.a().ifname) != std::string::npos);
  CHECK(metrics.find("local=\"" + topo.a().ipv4 + "\",period=\"day\"} 1") != std::string::npos);

  // More traffic, more harvests, a restart: still one crossing per period.
  in.port = 40712;
  REQUIRE(udp_transfer(in).received == in.count);
  ::usleep(1000000);
  daemon.signal(SIGTERM);
  REQUIRE(daemon.wait(15000) == 0);
  DaemonProcess again;
  start(again);
  ::usleep(1000000);
  again.signal(SIGTERM);
  REQUIRE(again.wait(15000) == 0);

  std::string said = read_text(log), lines = read_text(fired);
  INFO(said);
  INFO(lines);
  size_t logged = 0;
  for (size_t at = said.find("quota exceeded: " + topo.a().ipv4); at != std::string::npos;
       at = said.find("quota exceeded: " + topo.a().ipv4, at + 1))
    logged++;
  CHECK(logged == 1);
  CHECK(std::count(lines.begin(), lines.end(), '\n') == 1);
  std::istringstream fields(lines);
  std::string local, period, period_start;
  uint64_t used = 0, limit = 0;
  fields >> local >> period >> period_start >> used >> limit;
  CHECK(local == topo.a().ipv4);
  CHECK(period == "day");
  CHECK(period_start.ends_with("Z"));
  CHECK(limit == 100000);
  CHECK(used > 100000);
  CHECK(used <= in.count * udp_ip_bytes(topo.a().ipv4, in.payload) * 2);
  run("rm -rf " + dir);
}
