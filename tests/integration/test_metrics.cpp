// SPDX-License-Identifier: GPL-2.0-only
// netacctd's /metrics end to end, in namespace A of a private topology:
// promtool accepts the output, a real Prometheus scrapes the exact byte
// total the test sent, the dashboard's metric names all exist, the endpoint
// survives malformed, oversized, slow and too many clients while harvests
// stay on time, and counters never go backwards across a restart or a
// rotation.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <atomic>
#include <cstdio>
#include <regex>
#include <set>

#include "it_common.hpp"
#include "metrics_common.hpp"
#include "tests/support/traffic.hpp"

using namespace netacct::test;

namespace {

// Every string under "expr" or "query"/"definition" keys of the dashboard.
void collect_queries(const boost::json::value& value, std::vector<std::string>& out) {
  if (value.is_object()) {
    for (const auto& member : value.as_object()) {
      std::string key(member.key());
      if ((key == "expr" || key == "definition" || key == "query") && member.value().is_string())
        out.emplace_back(member.value().as_string());
      collect_queries(member.value(), out);
    }
  } else if (value.is_array()) {
    for (const auto& item : value.as_array()) collect_queries(item, out);
  }
}

// Series whose values must never decrease across restarts and rotations:
// everything counted from the file's totals. (netacct_harvests_total,
// netacct_harvest_errors_total and the duration histogram count this
// process's harvests and start again with it, as process counters do.)
bool persistent_counter(const std::string& series) {
  for (const char* name : {"netacct_bytes_total{", "netacct_packets_total{",
                           "netacct_bucket_bytes_total{", "netacct_bucket_packets_total{",
                           "netacct_flows_dropped_total{", "netacct_flow_bytes_total{"})
    if (series.rfind(name, 0) == 0) return true;
  return false;
}

void check_not_backwards(const std::map<std::string, double>& before,
                         const std::map<std::string, double>& after, const char* when) {
  size_t compared = 0;
  for (const auto& [series, value] : before) {
    if (!persistent_counter(series)) continue;
    auto it = after.find(series);
    // netacct_flow_bytes_total follows the top N; others never disappear.
    if (series.rfind("netacct_flow_bytes_total{", 0) != 0) {
      INFO(when << ": " << series);
      CHECK(it != after.end());
    }
    if (it == after.end()) continue;
    INFO(when << ": " << series << " " << value << " -> " << it->second);
    CHECK(it->second >= value);
    compared++;
  }
  CHECK(compared > 20);
}

}  // namespace

TEST_CASE("metrics: promtool accepts the output; the dashboard's names all exist") {
  Topology topo;
  TagGuard tag("mp"), other("mq");
  std::string dir = make_temp_dir("netacct-metrics");
  std::string output = dir + "/out.json", log = dir + "/daemon.log";
  DaemonProcess daemon;
  start_metrics_daemon(daemon, topo, tag.tag(), output, log, {"--metrics-top-flows", "5"});
  udp_exact(topo.a().netns, topo.b().netns, topo.b().ipv4, 200, 100, 40601);
  udp_exact(topo.b().netns, topo.a().netns, topo.a().ipv6, 200, 100, 40602);
  REQUIRE(wait_until(
      [&] { return scrape(topo.a().netns).find("protocol=\"UDP\"") != std::string::npos; }, 5000));

  std::string checked;
  int rc = run("ip netns exec " + topo.a().netns + " sh -c 'curl -sf http://127.0.0.1:" +
                   std::to_string(kMetricsPort) + "/metrics | promtool check metrics'",
               &checked);
  INFO("promtool: " << checked);
  CHECK(rc == 0);
  CHECK(checked.empty());  // no lint findings either

  std::string text = scrape(topo.a().netns);
  std::set<std::string> names;
  for (const auto& [series, value] : metric_samples(text))
    names.insert(series.substr(0, series.find('{')));
  for (const char* name :
       {"netacct_bytes_total", "netacct_packets_total", "netacct_bucket_bytes_total",
        "netacct_bucket_packets_total", "netacct_flows_dropped_total", "netacct_active_flows",
        "netacct_flow_capacity", "netacct_whitelist_entries",
        "netacct_whitelist_last_reload_success", "netacct_whitelist_last_reload_timestamp_seconds",
        "netacct_harvest_duration_seconds_bucket", "netacct_last_harvest_timestamp_seconds",
        "netacct_harvests_total", "netacct_harvest_errors_total", "netacct_build_info",
        "netacct_flow_bytes_total"}) {
    INFO(name);
    CHECK(names.count(name) == 1);
  }

  boost::system::error_code ec;
  boost::json::value dashboard =
      boost::json::parse(read_text("config/grafana/netacct-dashboard.json"), ec);
  REQUIRE_FALSE(ec);
  std::vector<std::string> queries;
  collect_queries(dashboard, queries);
  CHECK(queries.size() > 15);
  std::regex metric("netacct_[a-z0-9_]+");
  std::set<std::string> used;
  for (const std::string& query : queries)
    for (std::sregex_iterator it(query.begin(), query.end(), metric), end; it != end; ++it)
      used.insert(it->str());
  CHECK(used.size() >= 15);
  for (const std::string& name : used) {
    INFO("dashboard uses " << name);
    CHECK(names.count(name) == 1);
  }

  // An explicitly given address that is taken stops a start with one line,
  // before any kernel state (no pin directory for that tag).
  DaemonProcess second;
  std::string second_log = dir + "/second.log";
  second.start({"--tag", other.tag(), "--metrics-listen", "127.0.0.1:9464", topo.a().ifname,
                dir + "/second.json"},
               second_log, topo.a().netns);
  CHECK(second.wait(10000) == 1);
  std::string said = read_text(second_log);
  INFO(said);
  CHECK(said.find("127.0.0.1:9464") != std::string::npos);
  CHECK(said.find("held by netacctd (tag " + tag.tag()) != std::string::npos);
  struct stat st {};
  CHECK(::stat(other.pin_path().c_str(), &st) != 0);

  // Without --metrics-listen a taken default port is no silent loss: the
  // next free port serves, and the log says whose the default one is and
  // in which namespace metrics are. (Another interface: the veth end is
  // counted by the first daemon.)
  run_ok("ip netns exec " + topo.a().netns + " ip link add vx0 type veth peer name vx1");
  run_ok("ip netns exec " + topo.a().netns + " ip link set vx0 up");
  run_ok("ip netns exec " + topo.a().netns + " ip link set vx1 up");
  DaemonProcess third;
  std::string third_log = dir + "/third.log";
  third.start({"--tag", other.tag(), "vx0", dir + "/third.json"}, third_log, topo.a().netns);
  CHECK(wait_until(
      [&] { return read_text(third_log).find("metrics on http://") != std::string::npos; }, 15000));
  std::string third_said = read_text(third_log);
  INFO(third_said);
  CHECK(third_said.find("127.0.0.1:9464 is taken by netacctd (tag " + tag.tag()) !=
        std::string::npos);
  CHECK(third_said.find("serving metrics on 127.0.0.1:9465 instead") != std::string::npos);
  CHECK(third_said.find("metrics on http://127.0.0.1:9465/metrics in network namespace " +
                        topo.a().netns) != std::string::npos);
  CHECK(scrape(topo.a().netns, 9465).find("tag=\"" + other.tag() + "\"") != std::string::npos);
  third.signal(SIGTERM);
  CHECK(third.wait(15000) == 0);
  RunResult bad = run_netacctd({"--metrics-listen", "nowhere:1", "veth0"});
  CHECK(bad.exit_code == 2);
  CHECK(bad.output.find("--metrics-listen") != std::string::npos);

  stop_metrics_daemon(daemon, log);
  run("rm -rf " + dir);
}

TEST_CASE("metrics: a real Prometheus scrapes the exact UDP byte total") {
  Topology topo;
  TagGuard tag("mprom");
  std::string dir = make_temp_dir("netacct-metrics");
  std::string output = dir + "/out.json", log = dir + "/daemon.log";
  DaemonProcess daemon;
  start_metrics_daemon(daemon, topo, tag.tag(), output, log);
  PrometheusServer prometheus(topo.a().netns, dir, kMetricsPort, 9090);

  const uint32_t n = 3000, payload = 300;
  udp_exact(topo.a().netns, topo.b().netns, topo.b().ipv4, n, payload, 40611);
  const double expected = static_cast<double>(n) * (20 + 8 + payload);
  const std::string promql =
      "sum(netacct_bytes_total{direction=\"tx\",protocol=\"UDP\",family=\"ipv4\"})";
  std::optional<double> got;
  bool exact = wait_until(
      [&] {
        got = prometheus.query(promql);
        return got && *got == expected;
      },
      45000);
  INFO("prometheus log:\n" << read_text(prometheus.log()));
  INFO("last query result: " << (got ? std::to_string(*got) : std::string("none")));
  CHECK(exact);
  CHECK(n * udp_ip_bytes(topo.b().ipv4, payload) == static_cast<uint64_t>(expected));
  // It stays exact: later scrapes see the same total (no double counting).
  ::usleep(2500000);
  got = prometheus.query(promql);
  REQUIRE(got);
  CHECK(*got == expected);
  auto packets = prometheus.query(
      "sum(netacct_packets_total{direction=\"tx\",protocol=\"UDP\",family=\"ipv4\"})");
  REQUIRE(packets);
  CHECK(*packets == n);
  auto up = prometheus.query("up{job=\"netacct\"}");
  REQUIRE(up);
  CHECK(*up == 1);
  stop_metrics_daemon(daemon, log);
  run("rm -rf " + dir);
}

TEST_CASE("metrics: the endpoint survives 1,000 bad requests, a slow client and a flood") {
  Topology topo;
  TagGuard tag("mrob");
  std::string dir = make_temp_dir("netacct-metrics");
  std::string output = dir + "/out.json", log = dir + "/daemon.log";
  DaemonProcess daemon;
  start_metrics_daemon(daemon, topo, tag.tag(), output, log);
  const std::string& ns = topo.a().netns;
  auto started = std::chrono::steady_clock::now();
  // Harvests are counted by /metrics: an idle harvest does not rewrite the file.
  double harvests0 = metric_value(scrape(ns), "netacct_harvests_total");
  REQUIRE(harvests0 >= 1);

  // The slow client: a request line, one byte a second. The request timeout
  // (5 s) must close it; meanwhile everything else is served.
  std::atomic<double> slow_closed_after{-1};
  std::thread slow([&] {
    int fd = connect_in_netns(ns, kMetricsPort, 1000);
    if (fd < 0) return;
    const std::string request = "GET /metrics HTTP/1.1\r\nHost: slow\r\n\r\n";
    auto begin = std::chrono::steady_clock::now();
    for (size_t i = 0; i < request.size(); i++) {
      if (!send_all(fd, request.substr(i, 1))) break;
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 1000) > 0) {
        char c;
        if (::recv(fd, &c, 1, 0) <= 0) break;
      }
    }
    slow_closed_after =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    ::close(fd);
  });

  struct Kind {
    std::string request;
    int status;      // expected status
    bool may_reset;  // oversized: the reply may be lost to a reset
  };
  const std::string big(9000, 'a');
  std::vector<Kind> kinds = {
      {"GARBAGE\r\n\r\n", 400, false},
      {"GET /metrics HTTP/1.1\r\nNo colon here\r\n\r\n", 400, false},
      {std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11), 400, false},
      {"GET /metrics HTTP/1.1\r\nX-Big: " + big + "\r\n\r\n", 431, true},
      {"GET /" + big + " HTTP/1.1\r\n\r\n", 431, true},
      {"POST /metrics HTTP/1.1\r\nContent-Length: 100000\r\n\r\n" + std::string(9000, 'x'), 413,
       true},
      {"POST /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 405, false},
      {"DELETE /metrics HTTP/1.1\r\nConnection: close\r\n\r\n", 405, false},
      {"GET /admin HTTP/1.1\r\nConnection: close\r\n\r\n", 404, false},
      {"GET /metrics HTTP/1.1\r\nContent-Length: -5\r\n\r\n", 400, false},
      {"GET /metrics HTTP/1.1\r\nHost: t\r\n", 0, true},  // never finished: timed out
  };
  int answered = 0, wrong = 0;
  std::vector<int> hanging;
  for (int i = 0; i < 1000; i++) {
    const Kind& kind = kinds[static_cast<size_t>(i) % kinds.size()];
    int fd = connect_in_netns(ns, kMetricsPort);
    REQUIRE(fd >= 0);
    send_all(fd, kind.request);
    if (kind.status == 0) {  // left open; checked below
      if (hanging.size() < 20)
        hanging.push_back(fd);
      else
        ::close(fd);
      continue;
    }
    std::string response = read_until_close(fd);
    ::close(fd);
    int status = status_of(response);
    if (status == kind.status)
      answered++;
    else if (!(kind.may_reset && status == 0)) {
      wrong++;
      INFO("request kind " << i % kinds.size() << " got: " << response.substr(0, 80));
      CHECK(status == kind.status);
    }
  }
  CHECK(wrong == 0);
  CHECK(answered >= 700);
  for (int fd : hanging) ::close(fd);

  // Pipelined keep-alive requests on one connection: answered in order.
  {
    int fd = connect_in_netns(ns, kMetricsPort);
    REQUIRE(fd >= 0);
    send_all(fd,
             "GET /metrics HTTP/1.1\r\nHost: t\r\n\r\nHEAD /metrics HTTP/1.1\r\nHost: t\r\n\r\n"
             "GET /x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    std::string all = read_until_close(fd);
    ::close(fd);
    size_t oks = 0, at = 0;
    while ((at = all.find("HTTP/1.1 200 OK", at)) != std::string::npos) oks++, at++;
    CHECK(oks == 2);
    CHECK(all.find("HTTP/1.1 404") != std::string::npos);
  }

  slow.join();
  INFO("slow client closed after " << slow_closed_after.load() << " s");
  CHECK(slow_closed_after.load() >= 4.0);
  CHECK(slow_closed_after.load() <= 8.0);

  // The connection cap: 70 idle connections; each one over the cap evicts
  // the oldest idle one, so the first 6 are closed and a scraper still gets
  // through at once (it evicts the next oldest).
  std::vector<int> idle;
  for (int i = 0; i < 70; i++) {
    int fd = connect_in_netns(ns, kMetricsPort);
    REQUIRE(fd >= 0);
    idle.push_back(fd);
  }
  ::usleep(300000);
  int closed = 0, first_closed = 0;
  for (size_t i = 0; i < idle.size(); i++) {
    pollfd p{idle[i], POLLIN, 0};
    if (::poll(&p, 1, 0) > 0) {  // readable = EOF or reset
      closed++;
      if (i < 6) first_closed++;
    }
  }
  CHECK(closed == 6);
  CHECK(first_closed == 6);
  for (int round = 0; round < 5; round++) {
    auto before = std::chrono::steady_clock::now();
    CHECK_FALSE(scrape(ns).empty());  // idle connections do not lock scrapers out
    CHECK(std::chrono::steady_clock::now() - before < std::chrono::seconds(1));
  }
  for (int fd : idle) ::close(fd);
  CHECK(wait_until([&] { return !scrape(ns).empty(); }, 3000));

  // Harvests kept their pace (interval 0.5 s) the whole time.
  double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  double harvests1 = metric_value(scrape(ns), "netacct_harvests_total");
  INFO("elapsed " << elapsed << " s, harvests " << harvests0 << " -> " << harvests1);
  CHECK(harvests1 - harvests0 >= 0.8 * elapsed / 0.5 - 2);
  CHECK(daemon.running());
  std::string text = scrape(ns);
  CHECK(text.find("netacct_harvest_errors_total") != std::string::npos);
  stop_metrics_daemon(daemon, log);
  run("rm -rf " + dir);
}

TEST_CASE("metrics: counters never go backwards across a restart or a rotation") {
  Topology topo;
  TagGuard tag("mmono");
  std::string dir = make_temp_dir("netacct-metrics");
  std::string output = dir + "/out.json", log = dir + "/daemon.log";
  DaemonProcess daemon;
  const std::vector<std::string> extra = {"--metrics-top-flows", "10"};
  start_metrics_daemon(daemon, topo, tag.tag(), output, log, extra);
  const std::string& ns = topo.a().netns;
  const uint32_t n = 500, payload = 200;
  const double per_transfer = n * (20.0 + 8 + payload);
  const std::string udp_tx = "netacct_bytes_total{interface=\"" + topo.a().ifname +
                             "\",namespace=\"\",tag=\"" + tag.tag() +
                             "\",direction=\"tx\",family=\"ipv4\",protocol=\"UDP\"}";
  auto udp_tx_is = [&](double want) {
    return wait_until([&] { return metric_samples(scrape(ns))[udp_tx] == want; }, 5000);
  };
  udp_exact(ns, topo.b().netns, topo.b().ipv4, n, payload, 40621);
  udp_exact(topo.b().netns, ns, topo.a().ipv6, n, payload, 40622);
  REQUIRE(udp_tx_is(per_transfer));
  auto first = metric_samples(scrape(ns));

  stop_metrics_daemon(daemon, log);
  // Restarted with a long interval: SIGHUP harvests (and exports) on demand.
  std::vector<std::string> slow = extra;
  slow.insert(slow.end(), {"--interval", "30"});
  start_metrics_daemon(daemon, topo, tag.tag(), output, log, slow);
  auto restarted = metric_samples(scrape(ns));
  check_not_backwards(first, restarted, "restart");
  CHECK(restarted[udp_tx] == per_transfer);

  // Rotation: the file moves away and a fresh one starts from zero; the
  // counters keep going.
  REQUIRE(std::rename(output.c_str(), (output + ".1").c_str()) == 0);
  daemon.signal(SIGUSR1);
  REQUIRE(wait_until([&] { return !read_source(output, tag.tag()).is_null(); }, 5000));
  udp_exact(ns, topo.b().netns, topo.b().ipv4, n, payload, 40623);
  daemon.signal(SIGHUP);
  REQUIRE(udp_tx_is(2 * per_transfer));
  auto rotated = metric_samples(scrape(ns));
  check_not_backwards(restarted, rotated, "rotation");
  netacct_counters in_new_file =
      flow_counters(read_source(output, tag.tag()), topo.a().ipv4, topo.b().ipv4, "UDP");
  CHECK(in_new_file.tx_bytes == static_cast<uint64_t>(per_transfer));  // the file did restart

  stop_metrics_daemon(daemon, log);
  run("rm -rf " + dir);
}
