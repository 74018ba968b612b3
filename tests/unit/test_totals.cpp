// SPDX-License-Identifier: GPL-2.0-only
#include <doctest/doctest.h>
#include <netinet/in.h>

#include "daemon/common/json_file.hpp"
#include "daemon/console.hpp"
#include "daemon/engine/totals.hpp"

using namespace netacct;
namespace json = boost::json;

namespace {

Delta make_delta() {
  Delta delta;
  netacct_flow_key v4{}, v6{};
  REQUIRE(make_flow_key("10.0.0.1", "10.0.0.2", IPPROTO_UDP, v4));
  REQUIRE(make_flow_key("fd00::1", "fd00::2", IPPROTO_TCP, v6));
  delta.flows.push_back({v4, {100, 1, 200, 2}});
  delta.flows.push_back({v6, {3000, 3, 0, 0}});
  delta.buckets[NETACCT_BUCKET_WHITELISTED] = {10, 1, 20, 2};
  delta.buckets[NETACCT_BUCKET_NON_IP] = {60, 1, 0, 0};
  return delta;
}

}  // namespace

TEST_CASE("totals accumulate deltas exactly") {
  Totals totals;
  totals.add(make_delta(), 1000);
  totals.add(make_delta(), 2000);
  CHECK(totals.flows.size() == 2);
  netacct_counters total = totals.flow_total();
  CHECK(total.rx_bytes == 2 * 3100);
  CHECK(total.rx_packets == 8);
  CHECK(total.tx_bytes == 400);
  CHECK(totals.buckets[NETACCT_BUCKET_WHITELISTED].tx_packets == 4);
  for (const auto& [key, flow] : totals.flows) {
    CHECK(flow.first_seen == 1000);
    CHECK(flow.last_updated == 2000);
  }
}

TEST_CASE("the JSON entry follows the seed's schema and reads back exactly") {
  Totals totals;
  totals.add(make_delta(), 1700000000);
  totals.generation = 42;
  totals.pin_instance = "abc/123";
  SourceInfo info{"tag1", "veth0", "blue", "tc", "none", 65536};
  json::object entry = totals_to_json(totals, info, json::value(nullptr), 1700000000);
  CHECK(entry["id"] == "tag1");
  json::object& metadata = entry["metadata"].as_object();
  CHECK(metadata["interface"] == "veth0");
  CHECK(metadata["namespace"] == "blue");
  CHECK(metadata["total_entries"] == 2);
  CHECK(metadata["generation"] == 42);
  json::object& summary = entry["summary"].as_object();
  CHECK(summary["total_rx_bytes"] == 3100);
  CHECK(summary["total_tx_bytes"] == 200);
  CHECK(summary["total_bytes"] == 3300);
  CHECK(summary["total_packets"] == 6);
  CHECK(entry["protocol_breakdown"].as_object()["UDP"].as_object()["count"] == 1);
  CHECK(entry["buckets"].as_object()["non_ip"].as_object()["rx_bytes"] == 60);
  json::array& traffic = entry["traffic_data"].as_array();
  REQUIRE(traffic.size() == 2);
  for (json::value& row : traffic) {
    json::object& r = row.as_object();
    for (const char* field :
         {"source_ip", "destination_ip", "protocol", "rx_bytes", "tx_bytes", "total_bytes",
          "rx_packets", "tx_packets", "first_seen", "last_updated"})
      CHECK_MESSAGE(r.contains(field), field);
  }

  // Through text, as the file holds it.
  auto reparsed = parse_json_text(pretty_json(entry), "mem.json");
  REQUIRE(reparsed.ok());
  auto back = totals_from_json(reparsed->as_object(), "mem.json");
  REQUIRE(back.ok());
  CHECK(back->generation == 42);
  CHECK(back->pin_instance == "abc/123");
  CHECK(back->flows.size() == 2);
  CHECK(back->flow_total() == totals.flow_total());
  CHECK(back->buckets[NETACCT_BUCKET_WHITELISTED] == totals.buckets[NETACCT_BUCKET_WHITELISTED]);
}

TEST_CASE("bad entries in an output file are named") {
  auto text = parse_json_text(
      R"({"traffic_data": [{"source_ip": "10.0.0.1", "destination_ip": "x", "protocol": "UDP"}]})",
      "out.json");
  REQUIRE(text.ok());
  auto totals = totals_from_json(text->as_object(), "out.json");
  REQUIRE_FALSE(totals.ok());
  CHECK(totals.error().message().find("traffic_data[0]") != std::string::npos);
  CHECK(totals.error().message().find("out.json") != std::string::npos);
}

TEST_CASE("JSON syntax errors carry file, line and column") {
  auto parsed = parse_json_text("{\n  \"a\": 1,\n  \"b\": ]\n}", "f.json");
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.error().message().rfind("f.json:3:", 0) == 0);
}

TEST_CASE("human-readable sizes match the seed") {
  CHECK(human_bytes(512) == "512.00 B");
  CHECK(human_bytes(1536) == "1.50 KB");
  CHECK(human_bytes(3 * 1024 * 1024) == "3.00 MB");
}

TEST_CASE("an undone add leaves the totals exactly as before") {
  Totals totals;
  totals.add(make_delta(), 1000);
  totals.generation = 7;
  totals.pin_instance = "a/1";
  Totals before = totals;

  Delta more = make_delta();
  netacct_flow_key fresh{};
  REQUIRE(make_flow_key("10.0.0.1", "10.0.0.9", IPPROTO_TCP, fresh));
  more.flows.push_back({fresh, {5, 1, 0, 0}});
  TotalsUndo undo;
  totals.add(more, 2000, &undo);
  totals.generation = 8;
  totals.pin_instance = "b/2";
  CHECK(totals.flows.size() == 3);
  undo.restore(totals);

  CHECK(totals.flows.size() == before.flows.size());
  for (const auto& [key, flow] : before.flows) {
    REQUIRE(totals.flows.count(key) == 1);
    CHECK(totals.flows.at(key).counters == flow.counters);
    CHECK(totals.flows.at(key).last_updated == flow.last_updated);
  }
  CHECK(totals.buckets[NETACCT_BUCKET_WHITELISTED] == before.buckets[NETACCT_BUCKET_WHITELISTED]);
  CHECK(totals.generation == 7);
  CHECK(totals.pin_instance == "a/1");
}
