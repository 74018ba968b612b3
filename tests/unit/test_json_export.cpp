// SPDX-License-Identifier: GPL-2.0-only
// The JSON export of the ledger: the seed's schema, streamed; no rewrite
// when idle; rotation noticed without a signal (rotated + new = truth);
// crash recovery of an export; shared files; upgrade from an earlier
// release's file; folding of idle rows.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#include "daemon//common/json_file.hpp"
#include "daemon/common/time_text.hpp"
#include "daemon/common/units.hpp"
#include "daemon/ledger/json_export.hpp"
#include "daemon/ledger/ledger.hpp"
#include "daemon/ledger/output_scanner.hpp"
#include "ledger_fakes.hpp"

using namespace netacct;
using namespace netacct::test;
namespace json = boost::json;

namespace {

int64_t g_now = 1750000000;
int64_t test_clock() {
  return g_now;
}

struct Setup {
  TempDir dir;
  std::unique_ptr<SqliteStore> store;
  FakeCounterSource source;
  std::unique_ptr<Ledger> ledger;
  std::unique_ptr<JsonExport> exporter;

  explicit Setup(const std::string& tag = "t", int64_t fold_days = 0) {
    store = SqliteStore::open({dir.file(tag + ".db"), tag}).value();
    ledger = std::make_unique<Ledger>(source, *store, test_clock);
    JsonExport::Options options;
    options.path = dir.file("out.json");
    options.info.tag = tag;
    options.info.interface = "veth0";
    options.info.ingress_mode = "tc";
    options.info.xdp_mode = "none";
    options.max_idle_days = fold_days;
    exporter = std::make_unique<JsonExport>(*store, options);
  }
  std::string out() const { return dir.file("out.json"); }
  void harvest() { REQUIRE(ledger->harvest().ok()); }
  ExportReport write() {
    auto report = exporter->write(g_now);
    REQUIRE_MESSAGE(report.ok(), (report.ok() ? "" : report.error().message()));
    return report.value();
  }
};

json::object source_of(const std::string& path, const std::string& tag) {
  auto parsed = read_json_file(path);
  REQUIRE_MESSAGE(parsed.ok(), (parsed.ok() ? "" : parsed.error().message()));
  for (const json::value& s : parsed->at("sources").as_array())
    if (s.at("id").as_string() == tag) return s.as_object();
  FAIL("no entry for " << tag << " in " << path);
  return {};
}

// Sum of a file's rows for one (local, remote, protocol).
netacct_counters row_sum(const json::object& source, const std::string& local,
                         const std::string& remote, const std::string& protocol) {
  netacct_counters c{};
  for (const json::value& row : source.at("traffic_data").as_array()) {
    const json::object& r = row.as_object();
    if (r.at("source_ip").as_string() != local || r.at("destination_ip").as_string() != remote ||
        r.at("protocol").as_string() != protocol)
      continue;
    c.rx_bytes += r.at("rx_bytes").to_number<uint64_t>();
    c.rx_packets += r.at("rx_packets").to_number<uint64_t>();
    c.tx_bytes += r.at("tx_bytes").to_number<uint64_t>();
    c.tx_packets += r.at("tx_packets").to_number<uint64_t>();
  }
  return c;
}

netacct_counters file_total(const json::object& source) {
  netacct_counters c{};
  for (const json::value& row : source.at("traffic_data").as_array()) {
    const json::object& r = row.as_object();
    c += counters(r.at("rx_bytes").to_number<uint64_t>(), r.at("rx_packets").to_number<uint64_t>(),
                  r.at("tx_bytes").to_number<uint64_t>(), r.at("tx_packets").to_number<uint64_t>());
  }
  return c;
}

netacct_counters truth_total(const FakeCounterSource& source) {
  netacct_counters c{};
  for (const auto& [key, v] : source.truth) c += v;
  return c;
}

const netacct_flow_key kUdp = flow_key("10.0.0.1", "10.0.0.2", IPPROTO_UDP);
const netacct_flow_key kTcp6 = flow_key("fd00::1", "fd00::2", IPPROTO_TCP);

}  // namespace

TEST_CASE("export: the seed's schema with exact rows, summary and buckets") {
  Setup s;
  s.source.add(kUdp, counters(300, 3, 100, 1));
  s.source.add(kTcp6, counters(0, 0, 2560, 2));
  s.source.add_bucket(NETACCT_BUCKET_WHITELISTED, counters(42, 1, 0, 0));
  s.harvest();
  ExportReport report = s.write();
  CHECK(report.written);
  CHECK(report.rows == 2);
  json::object src = source_of(s.out(), "t");
  CHECK(row_sum(src, "10.0.0.1", "10.0.0.2", "UDP") == counters(300, 3, 100, 1));
  CHECK(row_sum(src, "fd00::1", "fd00::2", "TCP") == counters(0, 0, 2560, 2));
  const json::object& summary = src.at("summary").as_object();
  CHECK(summary.at("total_rx_bytes").to_number<uint64_t>() == 300);
  CHECK(summary.at("total_tx_bytes").to_number<uint64_t>() == 2660);
  CHECK(summary.at("total_packets").to_number<uint64_t>() == 6);
  CHECK(summary.at("unique_source_ips").to_number<uint64_t>() == 2);
  CHECK(summary.at("unique_destination_ips").to_number<uint64_t>() == 2);
  CHECK(summary.at("whitelisted_bytes").to_number<uint64_t>() == 42);
  CHECK(src.at("protocol_breakdown").at("UDP").at("count").to_number<uint64_t>() == 1);
  CHECK(src.at("buckets").at("whitelisted").at("rx_packets").to_number<uint64_t>() == 1);
  const json::object& meta = src.at("metadata").as_object();
  CHECK(meta.at("interface").as_string() == "veth0");
  CHECK(meta.at("total_entries").to_number<uint64_t>() == 2);
  CHECK(meta.at("export_seq").to_number<uint64_t>() == 1);
  CHECK(meta.at("timestamp_utc").as_string().ends_with("Z"));
  const json::object& row = src.at("traffic_data").as_array().at(0).as_object();
  for (const char* field : {"source_ip", "destination_ip", "protocol", "rx_bytes", "tx_bytes",
                            "total_bytes", "rx_packets", "tx_packets", "first_seen", "last_updated",
                            "first_seen_utc", "last_updated_utc"})
    CHECK_MESSAGE(row.contains(field), field);
  // The UTC companions name the same instants as the seed's local strings.
  CHECK(format_time_utc(parse_time(std::string(row.at("first_seen").as_string()))) ==
        row.at("first_seen_utc").as_string());
  CHECK(row.at("last_updated_utc").as_string().ends_with("Z"));
}

TEST_CASE("export: an idle harvest does not rewrite the file") {
  Setup s;
  s.source.add(kUdp, counters(300, 3, 100, 1));
  s.harvest();
  s.write();
  struct stat before {};
  REQUIRE(::stat(s.out().c_str(), &before) == 0);
  for (int i = 0; i < 3; i++) {
    s.harvest();
    auto needed = s.exporter->needed();
    REQUIRE(needed.ok());
    CHECK_FALSE(needed.value());
  }
  struct stat after {};
  REQUIRE(::stat(s.out().c_str(), &after) == 0);
  CHECK(before.st_ino == after.st_ino);
  s.source.add(kUdp, counters(1, 1, 0, 0));
  s.harvest();
  CHECK(s.exporter->needed().value());
}

TEST_CASE("export: a rename with the signal late, or never, is a rotation: rotated + new = truth") {
  for (bool empty_new_file : {false, true}) {
    CAPTURE(empty_new_file);
    Setup s;
    s.source.add(kUdp, counters(300, 3, 100, 1));
    s.harvest();
    s.write();
    // logrotate: the file moves away (and `create` may leave an empty one).
    REQUIRE(std::rename(s.out().c_str(), (s.out() + ".1").c_str()) == 0);
    if (empty_new_file) std::ofstream(s.out()).close();
    CHECK(s.exporter->needed().value());
    // Three harvests before anyone signals; each exports as usual.
    for (int i = 1; i <= 3; i++) {
      s.source.add(kUdp, counters(10, 1, 0, 0));
      s.source.add(kTcp6, counters(0, 0, 1280, 1));
      s.harvest();
      ExportReport report = s.write();
      CHECK(report.rotated == (i == 1));
    }
    netacct_counters rotated = file_total(source_of(s.out() + ".1", "t"));
    netacct_counters fresh = file_total(source_of(s.out(), "t"));
    CHECK(rotated == counters(300, 3, 100, 1));
    rotated += fresh;
    CHECK(rotated == truth_total(s.source));
    // The ledger keeps the lifetime totals and the boundary.
    auto info = s.store->queries().info();
    CHECK(info->period_id == 2);
    auto lifetime = s.store->queries().totals(Scope::Lifetime);
    CHECK(lifetime->flow_total() == truth_total(s.source));
  }
}

TEST_CASE("export: commits between the rename and the next export go to the new period only") {
  Setup s;
  s.source.add(kUdp, counters(300, 3, 100, 1));
  s.harvest();
  s.write();
  // Harvests committed but not exported (--json-interval), then the rename.
  s.source.add(kUdp, counters(7, 1, 0, 0));
  s.harvest();
  REQUIRE(std::rename(s.out().c_str(), (s.out() + ".1").c_str()) == 0);
  s.source.add(kUdp, counters(5, 1, 0, 0));
  s.harvest();
  CHECK(s.write().rotated);
  netacct_counters both = file_total(source_of(s.out() + ".1", "t"));
  CHECK(both == counters(300, 3, 100, 1));
  CHECK(file_total(source_of(s.out(), "t")) == counters(12, 2, 0, 0));
  both += file_total(source_of(s.out(), "t"));
  CHECK(both == truth_total(s.source));
}

TEST_CASE("export: a crash between the rename and its record, or before the rename") {
  Setup s;
  s.source.add(kUdp, counters(300, 3, 100, 1));
  s.harvest();
  s.write();
  s.source.add(kUdp, counters(10, 1, 0, 0));
  s.harvest();
  const std::string temp = s.out() + ".netacct-tmp";
  SUBCASE("before the rename: the temporary file is removed, the export redone") {
    std::ofstream(temp) << "{partial";
    struct stat st {};
    REQUIRE(::stat(temp.c_str(), &st) == 0);
    REQUIRE(s.store->export_pending(2, FileIdentity::of(st)).ok());
    REQUIRE(s.exporter->recover().ok());
    CHECK(::access(temp.c_str(), F_OK) != 0);
    CHECK(s.store->has_unexported().value());
    CHECK(s.store->queries().export_state()->pending_seq == 0);
  }
  SUBCASE("after the rename: the export is recorded, nothing is unexported") {
    // Write the export by hand as step 3-5 would have, then "crash".
    Setup other;  // renders the same rows into a file we move into place
    other.source.add(kUdp, counters(310, 4, 100, 1));
    other.harvest();
    other.write();
    REQUIRE(std::rename(other.out().c_str(), temp.c_str()) == 0);
    struct stat st {};
    REQUIRE(::stat(temp.c_str(), &st) == 0);
    REQUIRE(s.store->export_pending(2, FileIdentity::of(st)).ok());
    REQUIRE(std::rename(temp.c_str(), s.out().c_str()) == 0);
    REQUIRE(s.exporter->recover().ok());
    CHECK_FALSE(s.store->has_unexported().value());
    auto state = s.store->queries().export_state();
    CHECK(state->seq == 2);
    CHECK(state->has_file);
    // The next export sees its own file: no rotation.
    s.source.add(kUdp, counters(1, 1, 0, 0));
    s.harvest();
    CHECK_FALSE(s.write().rotated);
  }
}

TEST_CASE("export: several tags share one file; each keeps the others' entries") {
  TempDir shared;
  Setup a("a"), b("b");
  for (Setup* s : {&a, &b}) {
    JsonExport::Options options;
    options.path = shared.file("shared.json");
    options.info.tag = s == &a ? "a" : "b";
    s->exporter = std::make_unique<JsonExport>(*s->store, options);
  }
  a.source.add(kUdp, counters(100, 1, 0, 0));
  b.source.add(kTcp6, counters(0, 0, 200, 2));
  for (int i = 0; i < 3; i++) {
    a.harvest();
    REQUIRE(a.exporter->write(g_now).ok());
    b.harvest();
    REQUIRE(b.exporter->write(g_now).ok());
    a.source.add(kUdp, counters(100, 1, 0, 0));
    b.source.add(kTcp6, counters(0, 0, 200, 2));
  }
  a.harvest();
  auto last = a.exporter->write(g_now);
  REQUIRE(last.ok());
  CHECK_FALSE(last->rotated);  // b's writes are not rotations
  std::string path = shared.file("shared.json");
  CHECK(file_total(source_of(path, "a")) == counters(400, 4, 0, 0));
  CHECK(file_total(source_of(path, "b")) == counters(0, 0, 600, 6));
  auto parsed = read_json_file(path);
  CHECK(parsed->at("sources").as_array().size() == 2);
}

TEST_CASE("export: an earlier release's file seeds a new ledger; totals continue") {
  TempDir dir;
  std::string out = dir.file("out.json");
  std::ofstream(out) << R"({"sources": [
    {"id": "other", "summary": {}, "traffic_data": [
       {"source_ip": "10.9.9.9", "destination_ip": "10.9.9.8", "protocol": "UDP", "rx_bytes": 1,
        "rx_packets": 1, "tx_bytes": 0, "tx_packets": 0}]},
    {"id": "t", "metadata": {"generation": 41, "pin_instance": "boot-a/1",
                             "started": "2025-06-01 00:00:00"},
     "buckets": {"non_ip": {"rx_bytes": 60, "rx_packets": 1, "tx_bytes": 0, "tx_packets": 0}},
     "traffic_data": [
       {"source_ip": "10.0.0.1", "destination_ip": "10.0.0.2", "protocol": "UDP",
        "rx_bytes": 1000, "tx_bytes": 10, "rx_packets": 10, "tx_packets": 1,
        "first_seen": "2025-06-01 00:00:00", "last_updated": "2025-06-02 00:00:00"},
       {"source_ip": "fd00::1", "destination_ip": "fd00::2", "protocol": "TCP",
        "rx_bytes": 5, "tx_bytes": 0, "rx_packets": 1, "tx_packets": 0}]}]})";
  auto store = SqliteStore::open({dir.file("t.db"), "t"}).value();
  JsonExport::Options options;
  options.path = out;
  options.info.tag = "t";
  JsonExport exporter(*store, options);
  auto imported = exporter.import_existing(g_now);
  REQUIRE_MESSAGE(imported.ok(), (imported.ok() ? "" : imported.error().message()));
  CHECK(imported.value());
  auto binding = store->binding();
  CHECK(binding->instance == "boot-a/1");
  CHECK(binding->generation == 41);
  auto lifetime = store->queries().totals(Scope::Lifetime);
  CHECK(lifetime->flows == 2);
  CHECK(lifetime->flow_total() == counters(1005, 11, 10, 1));
  CHECK(lifetime->buckets[NETACCT_BUCKET_NON_IP].rx_bytes == 60);
  // The file is ours as it is: the first export continues it, no rotation.
  FakeCounterSource source("boot-a/1");
  REQUIRE(source.set_state(41, NETACCT_PHASE_IDLE).ok());
  Ledger ledger(source, *store, test_clock);
  source.add(flow_key("10.0.0.1", "10.0.0.2", IPPROTO_UDP), counters(1, 1, 0, 0));
  REQUIRE(ledger.harvest().ok());
  auto report = exporter.write(g_now);
  REQUIRE(report.ok());
  CHECK_FALSE(report->rotated);
  CHECK(row_sum(source_of(out, "t"), "10.0.0.1", "10.0.0.2", "UDP") == counters(1001, 11, 10, 1));
  CHECK(file_total(source_of(out, "other")).rx_bytes == 1);  // carried over
}

TEST_CASE("export: a broken output file is named with its line and column") {
  TempDir dir;
  std::ofstream(dir.file("bad.json")) << "{\"sources\": [\n  {\"id\": \"t\",, }]}";
  auto scanned = scan_output_file(dir.file("bad.json"), {});
  REQUIRE_FALSE(scanned.ok());
  CHECK(scanned.error().message().find("bad.json:2:") != std::string::npos);
  std::ofstream(dir.file("rows.json")) << R"({"sources": [{"id": "t", "traffic_data": [
    {"source_ip": "10.0.0.1", "destination_ip": "fd00::1", "protocol": "UDP"}]}]})";
  ScanOptions options;
  options.our_id = "t";
  options.on_our_row = [](const FlowRow&, uint8_t) { return ok(); };
  auto rows = scan_output_file(dir.file("rows.json"), options);
  REQUIRE_FALSE(rows.ok());
  CHECK(rows.error().message().find("traffic_data[0].source_ip/destination_ip") !=
        std::string::npos);
}

TEST_CASE("export: rows idle N days fold into one per (local, protocol); sums stay exact") {
  Setup s("t", 2);
  g_now = 1750000000;
  s.source.add(flow_key("10.0.0.1", "10.0.0.2", IPPROTO_UDP), counters(100, 1, 0, 0));
  s.source.add(flow_key("10.0.0.1", "10.0.0.3", IPPROTO_UDP), counters(200, 2, 0, 0));
  s.source.add(flow_key("10.0.0.1", "10.0.0.4", IPPROTO_TCP), counters(300, 3, 0, 0));
  s.harvest();
  g_now += 3 * 86400;  // three days later only one flow talks again
  s.source.add(flow_key("10.0.0.1", "10.0.0.2", IPPROTO_UDP), counters(1, 1, 0, 0));
  s.harvest();
  s.write();
  json::object src = source_of(s.out(), "t");
  CHECK(src.at("traffic_data").as_array().size() == 3);  // .2 UDP, * UDP, * TCP
  CHECK(row_sum(src, "10.0.0.1", "*", "UDP") == counters(200, 2, 0, 0));
  CHECK(row_sum(src, "10.0.0.1", "*", "TCP") == counters(300, 3, 0, 0));
  CHECK(row_sum(src, "10.0.0.1", "10.0.0.2", "UDP") == counters(101, 2, 0, 0));
  CHECK(file_total(src) == truth_total(s.source));
  CHECK(src.at("metadata").at("total_entries").to_number<uint64_t>() == 3);  // flows in the ledger
  g_now = 1750000000;
}

TEST_CASE("units: IEC sizes, labelled as such") {
  CHECK(human_bytes(512) == "512 B");
  CHECK(human_bytes(1536) == "1.50 KiB");
  CHECK(human_bytes(3 * 1024 * 1024) == "3.00 MiB");
  CHECK(human_rate(2048) == "2.00 KiB/s");
}
