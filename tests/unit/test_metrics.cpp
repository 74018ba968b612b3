// SPDX-License-Identifier: GPL-2.0-only
// /metrics without sockets: the metric families (seeded from totals, grown
// by deltas, never backwards), the HTTP request reader (http_parser, bounded,
// one request at a time) and the endpoint's answers, and the new options.
#include <doctest/doctest.h>
#include <netinet/in.h>

#include <map>
#include <sstream>
#include <vector>

#include "daemon/config/options.hpp"
#include "daemon/metrics/http_request.hpp"
#include "daemon/metrics/http_server.hpp"
#include "daemon/metrics/metrics_model.hpp"

using namespace netacct;

namespace {

netacct_counters counters(uint64_t rx_bytes, uint64_t rx_packets, uint64_t tx_bytes,
                          uint64_t tx_packets) {
  netacct_counters c{};
  c.rx_bytes = rx_bytes;
  c.rx_packets = rx_packets;
  c.tx_bytes = tx_bytes;
  c.tx_packets = tx_packets;
  return c;
}

netacct_flow_key key(const std::string& local, const std::string& remote, uint8_t protocol) {
  netacct_flow_key k{};
  REQUIRE(make_flow_key(local, remote, protocol, k));
  return k;
}

// "name{labels}" -> value, for every sample line of the exposition text.
std::map<std::string, double> samples(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto space = line.rfind(' ');
    out[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return out;
}

// The value of the one sample whose series name starts with `name{` and
// contains every label in `labels`.
double value(const std::string& text, const std::string& name,
             const std::vector<std::string>& labels = {}) {
  double found = -1;
  int matches = 0;
  for (const auto& [series, v] : samples(text)) {
    if (series.rfind(name + "{", 0) != 0) continue;
    bool all = true;
    for (const std::string& label : labels) all = all && series.find(label) != std::string::npos;
    if (all) {
      found = v;
      matches++;
    }
  }
  CHECK_MESSAGE(matches == 1, name << " matched " << matches << " series");
  return found;
}

MetricsIdentity identity(uint32_t top = 0) {
  return MetricsIdentity{"t1", "veth0", "blue", "9.9.9", top};
}

struct Fed {
  RequestReader reader{8192};
  std::vector<HttpRequest> requests;
  int error = 0;
  // Feeds everything, answering each complete request, as the server does.
  void feed(const std::string& data) {
    size_t at = 0;
    while (at < data.size() || reader.state() == RequestReader::State::Complete) {
      if (reader.state() == RequestReader::State::Complete) {
        requests.push_back(reader.request());
        reader.next();
        continue;
      }
      size_t used = reader.feed(data.data() + at, data.size() - at);
      at += used;
      if (reader.state() == RequestReader::State::Error) {
        error = reader.error_status();
        return;
      }
      if (reader.state() == RequestReader::State::NeedMore && used == 0) return;
    }
  }
};

// A ledger's lifetime totals as the daemon seeds the model with them.
struct Totals {
  struct Flow {
    netacct_counters counters{};
  };
  std::unordered_map<netacct_flow_key, Flow, FlowKeyHash> flows;
  BucketCounters buckets{};
  int64_t updated = 0;
};

void seed(MetricsModel& model, const Totals& totals) {
  ScopeTotals lifetime;
  for (const auto& [key, flow] : totals.flows) {
    ProtocolTotals& p = lifetime.by_protocol[{key.family, key.protocol}];
    p.flows++;
    p.counters += flow.counters;
  }
  lifetime.buckets = totals.buckets;
  model.seed(lifetime, totals.updated);
  for (const auto& [key, flow] : totals.flows) model.seed_flow(key, flow.counters);
  model.finish_seed();
}

}  // namespace

TEST_CASE("metrics model: counters start from the totals and add each delta") {
  Totals totals;
  netacct_flow_key udp4 = key("10.0.0.1", "10.0.0.2", IPPROTO_UDP);
  netacct_flow_key tcp6 = key("fd00::1", "fd00::2", IPPROTO_TCP);
  totals.flows[udp4].counters = counters(100, 1, 200, 2);
  totals.flows[tcp6].counters = counters(3000, 3, 0, 0);
  totals.buckets[NETACCT_BUCKET_NON_IP] = counters(60, 1, 0, 0);
  totals.buckets[NETACCT_BUCKET_OVERFLOW_V4] = counters(0, 0, 50, 2);
  totals.updated = 1700000000;

  MetricsModel model(identity());
  seed(model, totals);
  model.set_flow_capacity(4096);
  model.set_whitelist(7, true, 1700000001);
  std::string text = model.render();
  CHECK(value(text, "netacct_bytes_total",
              {"direction=\"tx\"", "protocol=\"UDP\"", "family=\"ipv4\""}) == 200);
  CHECK(value(text, "netacct_bytes_total",
              {"direction=\"rx\"", "protocol=\"TCP\"", "family=\"ipv6\""}) == 3000);
  CHECK(value(text, "netacct_packets_total", {"direction=\"tx\"", "protocol=\"UDP\""}) == 2);
  CHECK(value(text, "netacct_bucket_bytes_total", {"bucket=\"non_ip\"", "direction=\"rx\""}) == 60);
  CHECK(value(text, "netacct_bucket_packets_total",
              {"bucket=\"overflow_v4\"", "direction=\"tx\""}) == 2);
  CHECK(value(text, "netacct_flows_dropped_total") == 2);
  CHECK(value(text, "netacct_flow_capacity") == 4096);
  CHECK(value(text, "netacct_whitelist_entries") == 7);
  CHECK(value(text, "netacct_whitelist_last_reload_success") == 1);
  CHECK(value(text, "netacct_whitelist_last_reload_timestamp_seconds") == 1700000001);
  CHECK(value(text, "netacct_last_harvest_timestamp_seconds") == 1700000000);
  CHECK(value(text, "netacct_build_info", {"version=\"9.9.9\""}) == 1);
  CHECK(text.find("tag=\"t1\"") != std::string::npos);
  CHECK(text.find("interface=\"veth0\"") != std::string::npos);
  CHECK(text.find("namespace=\"blue\"") != std::string::npos);
  CHECK(text.find("netacct_flow_bytes_total") == std::string::npos);  // opt-in

  Delta delta;
  delta.flows.push_back({udp4, counters(1, 1, 10, 1)});
  delta.buckets[NETACCT_BUCKET_WHITELISTED] = counters(5, 1, 0, 0);
  model.record_harvest({true, 0.003, 1700000010, &delta});
  text = model.render();
  CHECK(value(text, "netacct_bytes_total", {"direction=\"tx\"", "protocol=\"UDP\""}) == 210);
  CHECK(value(text, "netacct_bucket_bytes_total", {"bucket=\"whitelisted\"", "direction=\"rx\""}) ==
        5);
  CHECK(value(text, "netacct_active_flows") == 1);
  CHECK(value(text, "netacct_harvests_total") == 1);
  CHECK(value(text, "netacct_harvest_errors_total") == 0);
  CHECK(value(text, "netacct_harvest_duration_seconds_count") == 1);
  CHECK(value(text, "netacct_harvest_duration_seconds_bucket", {"le=\"0.005\""}) == 1);
  CHECK(value(text, "netacct_last_harvest_timestamp_seconds") == 1700000010);

  // A failed harvest counts as an error and adds nothing.
  model.record_harvest({false, 0.5, 1700000020, nullptr});
  text = model.render();
  CHECK(value(text, "netacct_harvests_total") == 2);
  CHECK(value(text, "netacct_harvest_errors_total") == 1);
  CHECK(value(text, "netacct_bytes_total", {"direction=\"tx\"", "protocol=\"UDP\""}) == 210);
  CHECK(value(text, "netacct_last_harvest_timestamp_seconds") == 1700000010);
}

TEST_CASE("metrics model: a rotation (totals back to zero) does not move counters back") {
  // The model only ever adds deltas; what the file's totals do after seed
  // does not matter. Harvests after a rotation keep adding.
  netacct_flow_key udp4 = key("10.0.0.1", "10.0.0.2", IPPROTO_UDP);
  Totals totals;
  totals.flows[udp4].counters = counters(0, 0, 1000, 10);
  MetricsModel model(identity(2));
  seed(model, totals);
  std::map<std::string, double> before = samples(model.render());
  Delta delta;
  delta.flows.push_back({udp4, counters(0, 0, 5, 1)});
  model.record_harvest({true, 0.001, 1, &delta});
  for (const auto& [series, v] : samples(model.render())) {
    if (series.find("_total") == std::string::npos) continue;
    if (before.count(series)) CHECK_MESSAGE(v >= before[series], series);
  }
  CHECK(value(model.render(), "netacct_flow_bytes_total", {"direction=\"tx\""}) == 1005);
}

TEST_CASE("metrics model: per-flow series are the top N by bytes") {
  MetricsModel model(identity(2));
  Totals totals;
  for (int i = 1; i <= 5; i++)
    totals.flows[key("10.0.0.1", "10.0.1." + std::to_string(i), IPPROTO_UDP)].counters =
        counters(0, 0, static_cast<uint64_t>(i) * 100, 1);
  seed(model, totals);
  std::string text = model.render();
  CHECK(value(text, "netacct_flow_bytes_total", {"remote=\"10.0.1.5\"", "direction=\"tx\""}) ==
        500);
  CHECK(value(text, "netacct_flow_bytes_total", {"remote=\"10.0.1.4\"", "direction=\"tx\""}) ==
        400);
  CHECK(text.find("remote=\"10.0.1.3\"") == std::string::npos);
  // Flow 1 overtakes: it enters with its whole total, flow 4 leaves.
  Delta delta;
  delta.flows.push_back({key("10.0.0.1", "10.0.1.1", IPPROTO_UDP), counters(0, 0, 1000, 1)});
  model.record_harvest({true, 0.001, 1, &delta});
  text = model.render();
  CHECK(value(text, "netacct_flow_bytes_total", {"remote=\"10.0.1.1\"", "direction=\"tx\""}) ==
        1100);
  CHECK(text.find("remote=\"10.0.1.4\"") == std::string::npos);
  size_t series = 0;
  for (const auto& [name, v] : samples(text))
    series += name.rfind("netacct_flow_bytes_total{", 0) == 0;
  CHECK(series == 4);  // 2 flows x rx/tx
}

TEST_CASE("metrics http: requests, keep-alive, pipelining and the answers") {
  Fed fed;
  fed.feed(
      "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /metrics?x=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  REQUIRE(fed.requests.size() == 2);
  CHECK(fed.requests[0].method == "GET");
  CHECK(fed.requests[0].path == "/metrics");
  CHECK(fed.requests[0].keep_alive);
  CHECK(fed.requests[1].path == "/metrics");
  CHECK_FALSE(fed.requests[1].keep_alive);

  Fed http10;
  http10.feed("GET /metrics HTTP/1.0\r\n\r\n");
  REQUIRE(http10.requests.size() == 1);
  CHECK_FALSE(http10.requests[0].keep_alive);

  Fed split;  // a request in one-byte pieces
  std::string request = "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
  for (char c : request) split.feed(std::string(1, c));
  REQUIRE(split.requests.size() == 1);
  CHECK(split.requests[0].method == "HEAD");

  HttpResponse ok = respond(fed.requests[0], 1234);
  CHECK(ok.head.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(ok.head.find("Content-Length: 1234\r\n") != std::string::npos);
  CHECK(ok.head.find("text/plain; version=0.0.4") != std::string::npos);
  CHECK(ok.head.find("Connection: keep-alive") != std::string::npos);
  CHECK(ok.send_metrics);
  CHECK(respond(fed.requests[1], 1).head.find("Connection: close") != std::string::npos);
  CHECK_FALSE(respond(split.requests[0], 1).send_metrics);  // HEAD: no body
  CHECK(respond({"GET", "/", true}, 1).status == 404);
  CHECK(respond({"GET", "/metricsx", true}, 1).status == 404);
  HttpResponse post = respond({"POST", "/metrics", true}, 1);
  CHECK(post.status == 405);
  CHECK(post.head.find("Allow: GET, HEAD") != std::string::npos);
  CHECK(respond_error(400).head.find("Connection: close") != std::string::npos);
}

TEST_CASE("metrics http: malformed and oversized requests are errors, bounded") {
  Fed garbage;
  garbage.feed("GARBAGE\r\n\r\n");
  CHECK(garbage.error == 400);
  Fed bad_version;
  bad_version.feed("GET /metrics HTTP/9\r\n\r\n");
  CHECK(bad_version.error == 400);
  Fed binary;
  binary.feed(std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11));  // a TLS hello
  CHECK(binary.error == 400);
  Fed big_header;
  big_header.feed("GET /metrics HTTP/1.1\r\nX-A: " + std::string(9000, 'a') + "\r\n\r\n");
  CHECK(big_header.error == 431);
  CHECK(big_header.requests.empty());
  Fed endless;  // headers that never end stop at the bound, whatever arrives
  endless.feed("GET /metrics HTTP/1.1\r\n");
  for (int i = 0; i < 2000 && endless.error == 0; i++) endless.feed("X-B: b\r\n");
  CHECK(endless.error == 431);
  Fed big_body;
  big_body.feed("POST /metrics HTTP/1.1\r\nContent-Length: 100000\r\n\r\n" +
                std::string(10000, 'x'));
  CHECK(big_body.error == 413);
  Fed small_body;  // a small body is read and the request answered
  small_body.feed("POST /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc");
  REQUIRE(small_body.requests.size() == 1);
  CHECK(respond(small_body.requests[0], 1).status == 405);
}

TEST_CASE("metrics options: flags, config keys and listen addresses") {
  CHECK(parse_listen_address("127.0.0.1:9464").ok());
  CHECK(parse_listen_address("0.0.0.0:1").ok());
  CHECK(parse_listen_address("[::1]:9464").ok());
  CHECK_FALSE(parse_listen_address("127.0.0.1").ok());
  CHECK_FALSE(parse_listen_address("127.0.0.1:0").ok());
  CHECK_FALSE(parse_listen_address("127.0.0.1:65536").ok());
  CHECK_FALSE(parse_listen_address("::1:9464").ok());
  CHECK_FALSE(parse_listen_address("localhost:9464").ok());
  CHECK_FALSE(parse_listen_address("[::1]9464").ok());

  auto parse = [](std::vector<std::string> args) {
    args.insert(args.begin(), "netacctd");
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    return parse_options(static_cast<int>(args.size()), argv.data());
  };
  auto defaults = parse({"veth0"});
  REQUIRE(defaults.ok());
  CHECK(defaults->metrics);
  CHECK(defaults->metrics_listen == "127.0.0.1:9464");
  CHECK_FALSE(defaults->metrics_listen_set);
  CHECK(defaults->metrics_top_flows == 0);
  auto set = parse({"--metrics-listen", "[::1]:9500", "--metrics-top-flows", "20", "veth0"});
  REQUIRE(set.ok());
  CHECK(set->metrics_listen == "[::1]:9500");
  CHECK(set->metrics_listen_set);
  CHECK(set->metrics_top_flows == 20);
  auto off = parse({"--no-metrics", "veth0"});
  REQUIRE(off.ok());
  CHECK_FALSE(off->metrics);
  auto bad = parse({"--metrics-listen", "nowhere", "veth0"});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message().find("--metrics-listen") != std::string::npos);
  CHECK_FALSE(parse({"--metrics-top-flows", "-1", "veth0"}).ok());
  CHECK_FALSE(parse({"--metrics-top-flows", "100000", "veth0"}).ok());

  char path[] = "/tmp/netacct-unit-XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  std::string config =
      R"({"interface": "veth0", "metrics": true, "metrics_listen": "127.0.0.1:9999",
                           "metrics_top_flows": 5})";
  REQUIRE(write(fd, config.data(), config.size()) == static_cast<ssize_t>(config.size()));
  close(fd);
  DaemonOptions from_file;
  REQUIRE(apply_instance_config(path, from_file).ok());
  CHECK(from_file.metrics_listen == "127.0.0.1:9999");
  CHECK(from_file.metrics_listen_set);
  CHECK(from_file.metrics_top_flows == 5);
  auto cli_wins = parse({"--config", path, "--no-metrics"});
  REQUIRE(cli_wins.ok());
  CHECK_FALSE(cli_wins->metrics);
  unlink(path);
}

TEST_CASE("metrics model: netacct_ingress_info says what counts ingress, one series at a time") {
  MetricsModel model(identity());
  CHECK(model.render().find("netacct_ingress_info") == std::string::npos);
  model.set_ingress("tc", "none");
  std::string text = model.render();
  CHECK(text.find("ingress_mode=\"tc\"") != std::string::npos);
  CHECK(text.find("xdp_mode=\"none\"") != std::string::npos);
  model.set_ingress("xdp", "generic");
  text = model.render();
  CHECK(text.find("ingress_mode=\"xdp\"") != std::string::npos);
  CHECK(text.find("xdp_mode=\"generic\"") != std::string::npos);
  CHECK(text.find("ingress_mode=\"tc\"") == std::string::npos);
}
