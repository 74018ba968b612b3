// SPDX-License-Identifier: GPL-2.0-only
// netacct-multi's pure parts: whole-config validation (one line naming the
// instance and field), the child's generated instance file, the summary
// arithmetic and the restart backoff.
#include <doctest/doctest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <string>

#include "daemon/common/json_file.hpp"
#include "daemon/common/time_text.hpp"
#include "daemon/ledger/ledger.hpp"
#include "daemon/ledger/sqlite_store.hpp"
#include "ledger_fakes.hpp"
#include "tools/multi/backoff.hpp"
#include "tools/multi/multi_config.hpp"
#include "tools/multi/summary.hpp"

using namespace netacct;
using namespace netacct::multi;

namespace {

struct TempDir {
  TempDir() {
    char templ[] = "/tmp/netacct-unit-multi-XXXXXX";
    REQUIRE(::mkdtemp(templ) != nullptr);
    path = templ;
  }
  ~TempDir() { std::system(("rm -rf " + path).c_str()); }
  std::string path;
};

std::string instance(const std::string& tag, const std::string& iface,
                     const std::string& extra = "") {
  return R"({"tag": ")" + tag + R"(", "interface": ")" + iface + R"(")" + extra + "}";
}

std::string config_of(const std::string& a, const std::string& b, const std::string& c = "") {
  return "{\"instances\": [\n  " + a + ",\n  " + b + (c.empty() ? "" : ",\n  " + c) + "\n]}\n";
}

std::string error_of(const std::string& text, const TempDir& dir) {
  auto parsed = parse_multi_config(text, "multi.json", ConfigDefaults{dir.path, dir.path});
  REQUIRE_FALSE(parsed.ok());
  std::string message = parsed.error().message();
  CHECK(message.find('\n') == std::string::npos);
  return message;
}

}  // namespace

TEST_CASE("multi config: valid instances are finalized as netacctd would") {
  TempDir dir;
  auto parsed = parse_multi_config(
      config_of(instance("a", "veth0", R"(, "namespace": "blue", "interval": 2, "xdp": true)"),
                instance("b", "veth0", R"(, "output_file": "b.json", "whitelist_file": null)")),
      "multi.json", ConfigDefaults{dir.path, dir.path});
  REQUIRE_MESSAGE(parsed.ok(), (parsed.ok() ? "" : parsed.error().message()));
  REQUIRE(parsed->instances.size() == 2);
  const DaemonOptions& a = parsed->instances[0].options;
  CHECK(a.tag == "a");
  CHECK(a.netns == "blue");
  CHECK(a.xdp);
  CHECK(a.interval == doctest::Approx(2));
  CHECK(a.output_file == dir.path + "/traffic_stats.json");
  CHECK(a.whitelist_file == dir.path + "/whitelist.json");
  const DaemonOptions& b = parsed->instances[1].options;
  CHECK(b.output_file == dir.path + "/b.json");
  CHECK(b.whitelist_file.empty());
  CHECK(parsed->instances[1].label == "multi.json: instances[1] (tag 'b')");
}

TEST_CASE("multi config: a derived tag is checked and named like a given one") {
  TempDir dir;
  auto parsed = parse_multi_config(
      config_of(R"({"interface": "veth0", "namespace": "blue"})", instance("blue-veth0", "veth1")),
      "multi.json", ConfigDefaults{dir.path, dir.path});
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.error().message() ==
        "multi.json: instances[1] (tag 'blue-veth0'): tag 'blue-veth0' is already used by "
        "instances[0]");
}

TEST_CASE("multi config: every error is one line naming the instance and the field") {
  TempDir dir;
  CHECK(error_of(config_of(instance("a", "v0"), instance("a", "v1")), dir) ==
        "multi.json: instances[1] (tag 'a'): tag 'a' is already used by instances[0]");
  CHECK(error_of(config_of(instance("a", "v0"), instance("b", "v0")), dir) ==
        "multi.json: instances[1] (tag 'b'): interface 'v0' in the host namespace is already "
        "monitored by instances[0] (tag 'a'): both would attach to its tc ingress and tc egress "
        "hooks");
  // XDP on one and TC on the other still share the TC egress hook.
  CHECK(error_of(config_of(instance("a", "v0", R"(, "namespace": "n1", "xdp": true)"),
                           instance("b", "v0", R"(, "namespace": "n1")")),
                 dir)
            .find("both would attach to its tc egress hook") != std::string::npos);
  // The same interface name in two namespaces is fine.
  CHECK(parse_multi_config(config_of(instance("a", "v0", R"(, "namespace": "n1")"),
                                     instance("b", "v0", R"(, "namespace": "n2")")),
                           "multi.json", ConfigDefaults{dir.path, dir.path})
            .ok());
  CHECK(error_of(config_of(instance("a", "v0", R"(, "colour": "red")"), instance("b", "v1")),
                 dir) == "multi.json: instances[0] (tag 'a'): unknown key 'colour'");
  CHECK(error_of(config_of(instance("a", "v0", R"(, "xdp": "yes")"), instance("b", "v1")), dir) ==
        "multi.json: instances[0] (tag 'a'): 'xdp' must be true, false, \"native\" or \"generic\"");
  CHECK(error_of(config_of(instance("a", "v0"), R"({"tag": "b"})"), dir) ==
        "multi.json: instances[1] (tag 'b'): 'interface' is required");
  CHECK(error_of(config_of(instance("a", "v0"), instance("Bad Tag", "v1")), dir)
            .rfind("multi.json: instances[1] (tag 'Bad Tag'): tag 'Bad Tag'", 0) == 0);
  CHECK(error_of(config_of(instance("a", "v0", R"(, "output_file": "/nonexistent/x.json")"),
                           instance("b", "v1")),
                 dir) ==
        "multi.json: instances[0] (tag 'a'): output_file '/nonexistent/x.json': "
        "directory /nonexistent does not exist");
  CHECK(error_of("{\"instances\": [\n  {\"tag\": \"a\",\n   \"interface\": \"v0\",}\n]}", dir)
            .rfind("multi.json:3:", 0) == 0);
  CHECK(error_of(R"({"instances": [], "x": 1})", dir) ==
        "multi.json: unknown key 'x' (expected only \"instances\")");
  CHECK(error_of(R"({"instances": []})", dir) == "multi.json: 'instances' is empty");
  CHECK(error_of(R"({"instances": {}})", dir) == "multi.json: 'instances' must be an array");
  CHECK(error_of(R"({"instances": [1]})", dir) ==
        "multi.json: instances[0]: must be a JSON object");
  CHECK(error_of(R"({"instances": [{"tag": "a", "tag": "b", "interface": "v0"}]})", dir) ==
        "multi.json: key 'instances.tag' appears twice");
  // Instance 1 would get 9465 from the base; instance 0 asked for it.
  CHECK(error_of(config_of(instance("a", "v0", R"(, "metrics_listen": "127.0.0.1:9465")"),
                           instance("b", "v1")),
                 dir) ==
        "multi.json: instances[1] (tag 'b'): metrics_listen port 9465 is already used by "
        "instances[0] (tag 'a')");
}

TEST_CASE("multi config: each instance gets its own /metrics port from the base") {
  TempDir dir;
  ConfigDefaults defaults{dir.path, dir.path};
  defaults.metrics_base_port = 9600;
  auto config = parse_multi_config(
      config_of(instance("a", "v0"), instance("b", "v1", R"(, "metrics_listen": "[::1]:9700")"),
                instance("c", "v2", R"(, "metrics": false)")),
      "multi.json", defaults);
  REQUIRE(config.ok());
  CHECK(config->instances[0].options.metrics_listen == "127.0.0.1:9600");
  CHECK(config->instances[0].child_config.find("\"metrics_listen\": \"127.0.0.1:9600\"") !=
        std::string::npos);
  CHECK(config->instances[1].options.metrics_listen == "[::1]:9700");
  CHECK(config->instances[2].child_config.find("metrics_listen") == std::string::npos);
}

TEST_CASE("multi summary: printed on a change, else at least every summary interval") {
  SummaryRow row;
  row.tag = "a";
  row.state = State::Running;
  std::vector<SummaryRow> last = {row}, now = {row};
  CHECK(summary_due(now, {}, 1000, 0, 60000));  // the first time
  CHECK_FALSE(summary_due(now, last, 30000, 1000, 60000));
  CHECK(summary_due(now, last, 61000, 1000, 60000));
  now[0].reading.found = true;
  now[0].reading.counts.rx_bytes = 1;
  CHECK(summary_due(now, last, 2000, 1000, 60000));  // counts changed
  now = last;
  now[0].restarts = 1;
  CHECK(summary_due(now, last, 2000, 1000, 60000));
  now = last;
  now[0].state = State::Restarting;
  CHECK(summary_due(now, last, 2000, 1000, 60000));
  now = last;
  now[0].reading.updated = "later";  // a new harvest time alone is no change
  CHECK_FALSE(summary_due(now, last, 2000, 1000, 60000));
}

TEST_CASE("multi config: an existing whitelist must be valid") {
  TempDir dir;
  REQUIRE(
      write_file_atomic(dir.path + "/wl.json", R"({"whitelist": {"g": {"ips": ["300.1.1.1"]}}})")
          .ok());
  std::string message = error_of(
      config_of(instance("a", "v0", R"(, "whitelist_file": "wl.json")"), instance("b", "v1")), dir);
  CHECK(message.rfind("multi.json: instances[0] (tag 'a'): ", 0) == 0);
  CHECK(message.find("300.1.1.1") != std::string::npos);
}

TEST_CASE("multi config: a missing file is one line") {
  auto loaded = load_multi_config("/nonexistent/multi.json");
  REQUIRE_FALSE(loaded.ok());
  CHECK(loaded.error().message() ==
        "config file /nonexistent/multi.json: No such file or directory");
}

TEST_CASE("multi config: the child's instance file reads back to the same options") {
  TempDir dir;
  auto parsed = parse_multi_config(
      config_of(
          instance("a", "veth0", R"(, "namespace": "blue", "interval": 0.5, "max_flows": 1000)"),
          instance("b", "veth1", R"(, "whitelist_file": null, "debug": true)")),
      "multi.json", ConfigDefaults{dir.path, dir.path});
  REQUIRE(parsed.ok());
  for (const Instance& inst : parsed->instances) {
    std::string path = dir.path + "/" + inst.options.tag + ".child.json";
    REQUIRE(write_file_atomic(path, inst.child_config).ok());
    DaemonOptions back;
    back.log_dir = "/elsewhere";  // resolved paths must not depend on the child's defaults
    back.config_dir = "/elsewhere";
    REQUIRE(apply_instance_config(path, back).ok());
    REQUIRE(finalize_options(back).ok());
    CHECK(back.tag == inst.options.tag);
    CHECK(back.netns == inst.options.netns);
    CHECK(back.interface == inst.options.interface);
    CHECK(back.output_file == inst.options.output_file);
    CHECK(back.whitelist_file == inst.options.whitelist_file);
    CHECK(back.interval == doctest::Approx(inst.options.interval));
    CHECK(back.max_flows == inst.options.max_flows);
    CHECK(back.debug == inst.options.debug);
  }
}

TEST_CASE("multi summary: rows come from each tag's ledger and the total is their sum") {
  netacct::test::TempDir dir;
  for (const char* tag : {"a", "b"}) {
    auto store = SqliteStore::open({dir.file(std::string(tag) + ".db"), tag}).value();
    netacct::test::FakeCounterSource source;
    Ledger ledger(source, *store, [] { return int64_t{1737365400}; });
    if (std::string(tag) == "a") {
      source.add(netacct::test::flow_key("10.0.0.1", "10.0.0.2", 17),
                 netacct::test::counters(1000, 10, 2000, 20));
      source.add(netacct::test::flow_key("10.0.0.1", "10.0.0.3", 17),
                 netacct::test::counters(0, 0, 0, 1));
      source.add(netacct::test::flow_key("10.0.0.1", "10.0.0.4", 6),
                 netacct::test::counters(0, 0, 0, 1));
    } else {
      source.add(netacct::test::flow_key("fd00::1", "fd00::2", 6),
                 netacct::test::counters(5, 1, 7, 2));
    }
    REQUIRE(ledger.harvest().ok());
  }
  auto readings = read_sources({dir.file("a.db"), dir.file("b.db"), dir.file("c.db")});
  REQUIRE(readings.size() == 3);
  SourceReading a = readings[0], b = readings[1], c = readings[2];
  REQUIRE(a.found);
  CHECK(a.counts == Counts{1000, 2000, 10, 22, 3});
  CHECK(a.updated == format_time(1737365400));
  CHECK(b.counts == Counts{5, 7, 1, 2, 1});
  CHECK_FALSE(c.found);
  CHECK(c.note == "no ledger yet");

  std::vector<SummaryRow> rows(3);
  rows[0].tag = "a";
  rows[0].reading = a;
  rows[1].tag = "b";
  rows[1].reading = b;
  rows[2].tag = "c";
  rows[2].reading = c;
  rows[2].reading.counts.rx_bytes = 999;  // not found: never added
  CHECK(total_of(rows) == Counts{1005, 2007, 11, 24, 4});

  auto json = boost::json::parse(render_json(rows));
  CHECK(json.at("total").at("rx_bytes").to_number<uint64_t>() == 1005);
  CHECK(json.at("total").at("total_bytes").to_number<uint64_t>() == 3012);
  CHECK(json.at("instances").as_array().size() == 3);
  CHECK(json.at("instances").at(2).at("found") == false);

  std::string table = render_table(rows, "title");
  CHECK(table.find("TOTAL") != std::string::npos);
  CHECK(table.find("total bytes 3012 (rx 1005, tx 2007), packets 35") != std::string::npos);
}

TEST_CASE("multi backoff: 1 s doubling to 30 s, reset after 60 s of running") {
  Backoff backoff;
  CHECK(backoff.next(100) == 1000);
  CHECK(backoff.next(100) == 2000);
  CHECK(backoff.next(100) == 4000);
  CHECK(backoff.next(100) == 8000);
  CHECK(backoff.next(100) == 16000);
  CHECK(backoff.next(100) == 30000);
  CHECK(backoff.next(59999) == 30000);
  CHECK(backoff.next(60000) == 1000);
  CHECK(backoff.next(0) == 2000);
}
