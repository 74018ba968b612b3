// SPDX-License-Identifier: GPL-2.0-only
#include "totals.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>
#include <ctime>
#include <map>
#include <set>
#include <unordered_set>

#include "../common/json_file.hpp"

namespace netacct {

namespace json = boost::json;

void Totals::add(const Delta& delta, int64_t now, TotalsUndo* undo) {
  if (undo) {
    undo->buckets = buckets;
    undo->generation = generation;
    undo->pin_instance = pin_instance;
    undo->updated = updated;
  }
  for (const FlowDelta& flow : delta.flows) {
    auto [it, inserted] = flows.try_emplace(flow.key);
    if (inserted) it->second.first_seen = now;
    if (undo) {
      if (inserted)
        undo->inserted.push_back(flow.key);
      else
        undo->previous.emplace_back(flow.key, it->second);
    }
    it->second.counters += flow.counters;
    it->second.last_updated = now;
  }
  for (size_t i = 0; i < buckets.size(); i++) buckets[i] += delta.buckets[i];
  updated = now;
}

void TotalsUndo::restore(Totals& totals) const {
  for (const netacct_flow_key& key : inserted) totals.flows.erase(key);
  for (const auto& [key, flow] : previous) totals.flows[key] = flow;
  totals.buckets = buckets;
  totals.generation = generation;
  totals.pin_instance = pin_instance;
  totals.updated = updated;
}

netacct_counters Totals::flow_total() const {
  netacct_counters total{};
  for (const auto& [key, flow] : flows) total += flow.counters;
  return total;
}

std::string boot_id_text(const uint8_t boot_id[16]) {
  static const char* digits = "0123456789abcdef";
  std::string text;
  for (int i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10) text += '-';
    text += digits[boot_id[i] >> 4];
    text += digits[boot_id[i] & 15];
  }
  return text;
}

std::string pin_instance_id(const netacct_meta& meta) {
  return boot_id_text(meta.boot_id) + "/" + std::to_string(meta.created_ns);
}

std::string format_time(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  struct tm local {};
  localtime_r(&t, &local);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &local);
  return text;
}

int64_t parse_time(const std::string& text) {
  struct tm local {};
  if (!strptime(text.c_str(), "%Y-%m-%d %H:%M:%S", &local)) return -1;
  local.tm_isdst = -1;
  return static_cast<int64_t>(std::mktime(&local));
}

static json::object counters_json(const netacct_counters& c) {
  return {{"rx_bytes", c.rx_bytes},
          {"rx_packets", c.rx_packets},
          {"tx_bytes", c.tx_bytes},
          {"tx_packets", c.tx_packets}};
}

static int protocol_number(const std::string& name) {
  for (int p = 0; p < 256; p++)
    if (protocol_name(static_cast<uint8_t>(p)) == name) return p;
  return -1;
}

namespace {

// Formats the few distinct timestamps of a render once each: localtime_r
// and strftime per row would dominate a 65,536-flow write.
class TimeCache {
 public:
  const std::string& operator()(int64_t t) {
    auto it = cache_.find(t);
    if (it == cache_.end()) it = cache_.emplace(t, format_time(t)).first;
    return it->second;
  }

 private:
  std::unordered_map<int64_t, std::string> cache_;
};

json::object flow_row(const netacct_flow_key& key, const FlowTotals& flow, TimeCache& times) {
  const netacct_counters& c = flow.counters;
  return json::object{
      {"source_ip", address_string(key.family, key.local)},
      {"destination_ip", address_string(key.family, key.remote)},
      {"protocol", protocol_name(key.protocol)},
      {"rx_bytes", c.rx_bytes},
      {"tx_bytes", c.tx_bytes},
      {"total_bytes", c.rx_bytes + c.tx_bytes},
      {"rx_packets", c.rx_packets},
      {"tx_packets", c.tx_packets},
      {"first_seen", times(flow.first_seen)},
      {"last_updated", times(flow.last_updated)},
  };
}

}  // namespace

json::object source_header(const Totals& totals, const SourceInfo& info,
                           const json::value& whitelist_info, int64_t now) {
  std::unordered_set<std::string> sources, destinations;
  struct Breakdown {
    uint64_t count = 0;
    netacct_counters counters{};
  };
  std::map<std::string, Breakdown> breakdown;
  netacct_counters total{};
  for (const auto& [key, flow] : totals.flows) {
    sources.insert(address_string(key.family, key.local));
    destinations.insert(address_string(key.family, key.remote));
    Breakdown& b = breakdown[protocol_name(key.protocol)];
    b.count++;
    b.counters += flow.counters;
    total += flow.counters;
  }

  json::object protocols;
  for (const auto& [name, b] : breakdown) {
    json::object entry = counters_json(b.counters);
    entry["count"] = b.count;
    protocols[name] = std::move(entry);
  }

  json::object buckets;
  for (uint8_t id = NETACCT_BUCKET_FIRST; id <= NETACCT_BUCKET_LAST; id++)
    buckets[bucket_name(id)] = counters_json(totals.buckets[id]);
  uint64_t flows_dropped = totals.buckets[NETACCT_BUCKET_OVERFLOW_V4].rx_packets +
                           totals.buckets[NETACCT_BUCKET_OVERFLOW_V4].tx_packets +
                           totals.buckets[NETACCT_BUCKET_OVERFLOW_V6].rx_packets +
                           totals.buckets[NETACCT_BUCKET_OVERFLOW_V6].tx_packets;

  uint64_t whitelisted_count = 0;
  if (whitelist_info.is_object()) {
    if (const json::value* count = whitelist_info.get_object().if_contains("count");
        count && count->is_number())
      whitelisted_count = count->to_number<uint64_t>();
  }

  json::object metadata{
      {"timestamp", format_time(now)},
      {"interface", info.interface},
      {"namespace", info.netns.empty() ? json::value(nullptr) : json::value(info.netns)},
      {"total_entries", totals.flows.size()},
      {"whitelisted_ips_count", whitelisted_count},
      {"tag", info.tag},
      {"schema_version", kSchemaVersion},
      {"ingress_mode", info.ingress_mode},
      {"xdp_mode", info.xdp_mode},
      {"flow_capacity", info.flow_capacity},
      {"boot_id", totals.boot_id},
      {"pin_instance", totals.pin_instance},
      {"generation", totals.generation},
      {"started", format_time(totals.started)},
  };
  json::object summary{
      {"total_rx_bytes", total.rx_bytes},
      {"total_tx_bytes", total.tx_bytes},
      {"total_bytes", total.rx_bytes + total.tx_bytes},
      {"total_rx_packets", total.rx_packets},
      {"total_tx_packets", total.tx_packets},
      {"total_packets", total.rx_packets + total.tx_packets},
      {"unique_source_ips", sources.size()},
      {"unique_destination_ips", destinations.size()},
      {"whitelisted_bytes", totals.buckets[NETACCT_BUCKET_WHITELISTED].rx_bytes +
                                totals.buckets[NETACCT_BUCKET_WHITELISTED].tx_bytes},
      {"flows_dropped", flows_dropped},
  };
  return json::object{
      {"id", info.tag},
      {"metadata", std::move(metadata)},
      {"summary", std::move(summary)},
      {"protocol_breakdown", std::move(protocols)},
      {"buckets", std::move(buckets)},
      {"whitelist_info",
       whitelist_info.is_null() ? json::value(json::object{{"enabled", false}}) : whitelist_info},
  };
}

json::object totals_to_json(const Totals& totals, const SourceInfo& info,
                            const json::value& whitelist_info, int64_t now) {
  json::object entry = source_header(totals, info, whitelist_info, now);
  json::array traffic;
  traffic.reserve(totals.flows.size());
  TimeCache times;
  for (const auto& [key, flow] : totals.flows) traffic.push_back(flow_row(key, flow, times));
  entry["traffic_data"] = std::move(traffic);
  return entry;
}

std::string render_source(const Totals& totals, const SourceInfo& info,
                          const json::value& whitelist_info, int64_t now, int indent) {
  // The header is small: pretty-print it. The rows go one per line, each
  // built and serialised on its own, so no 65,536-row tree is ever held.
  std::string text = pretty_json(source_header(totals, info, whitelist_info, now), indent);
  // Reopen the header object: drop its closing brace and the space before.
  text.erase(text.rfind('}'));
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  std::string pad(static_cast<size_t>(indent + 1) * 2, ' ');
  text += ",\n" + pad + "\"traffic_data\": [";
  TimeCache times;
  bool first = true;
  for (const auto& [key, flow] : totals.flows) {
    text += first ? "\n" : ",\n";
    first = false;
    text += pad + "  " + json::serialize(flow_row(key, flow, times));
  }
  text += first ? "]" : "\n" + pad + "]";
  text += "\n" + std::string(static_cast<size_t>(indent) * 2, ' ') + "}";
  return text;
}

namespace {

// Small field readers whose errors name the field and the file.
struct Reader {
  const std::string& file;
  std::string where;

  Error error(const std::string& field, const std::string& what) const {
    return Error{file + ": " + where + field + " " + what, 0, {}};
  }
  Result<uint64_t> number(const json::object& object, const char* field) const {
    const json::value* v = object.if_contains(field);
    if (!v) return uint64_t{0};  // older files may lack the newer counters
    if (v->is_uint64()) return v->get_uint64();
    if (v->is_int64() && v->get_int64() >= 0) return static_cast<uint64_t>(v->get_int64());
    return error(field, "must be a non-negative integer");
  }
  Result<std::string> text(const json::object& object, const char* field) const {
    const json::value* v = object.if_contains(field);
    if (!v || !v->is_string()) return error(field, "must be a string");
    return std::string(v->get_string());
  }
  Result<netacct_counters> counters(const json::object& object) const {
    netacct_counters c{};
    for (auto [field, slot] : {std::pair{"rx_bytes", &c.rx_bytes},
                               {"rx_packets", &c.rx_packets},
                               {"tx_bytes", &c.tx_bytes},
                               {"tx_packets", &c.tx_packets}}) {
      auto value = number(object, field);
      if (!value) return value.error();
      *slot = value.value();
    }
    return c;
  }
};

}  // namespace

Result<Totals> totals_from_json(const json::object& source, const std::string& file) {
  Totals totals;
  Reader reader{file, "source: "};
  if (const json::value* metadata = source.if_contains("metadata");
      metadata && metadata->is_object()) {
    const json::object& m = metadata->get_object();
    auto generation = reader.number(m, "generation");
    if (!generation) return generation.error();
    totals.generation = generation.value();
    if (auto v = m.if_contains("pin_instance"); v && v->is_string())
      totals.pin_instance = std::string(v->get_string());
    if (auto v = m.if_contains("boot_id"); v && v->is_string())
      totals.boot_id = std::string(v->get_string());
    if (auto v = m.if_contains("started"); v && v->is_string())
      totals.started = parse_time(std::string(v->get_string()));
  }
  if (const json::value* buckets = source.if_contains("buckets"); buckets && buckets->is_object()) {
    for (uint8_t id = NETACCT_BUCKET_FIRST; id <= NETACCT_BUCKET_LAST; id++) {
      const json::value* bucket = buckets->get_object().if_contains(bucket_name(id));
      if (!bucket) continue;
      if (!bucket->is_object())
        return reader.error("buckets." + bucket_name(id), "must be an object");
      auto c = reader.counters(bucket->get_object());
      if (!c) return c.error();
      totals.buckets[id] = c.value();
    }
  }
  const json::value* traffic = source.if_contains("traffic_data");
  if (!traffic) return totals;
  if (!traffic->is_array()) return reader.error("traffic_data", "must be an array");
  size_t index = 0;
  for (const json::value& entry : traffic->get_array()) {
    Reader row{file, "traffic_data[" + std::to_string(index++) + "]."};
    if (!entry.is_object()) return row.error("", "must be an object");
    const json::object& e = entry.get_object();
    auto local = row.text(e, "source_ip");
    if (!local) return local.error();
    auto remote = row.text(e, "destination_ip");
    if (!remote) return remote.error();
    auto protocol = row.text(e, "protocol");
    if (!protocol) return protocol.error();
    int number = protocol_number(protocol.value());
    if (number < 0) return row.error("protocol", "'" + protocol.value() + "' is unknown");
    netacct_flow_key key{};
    if (!make_flow_key(local.value(), remote.value(), static_cast<uint8_t>(number), key))
      return row.error("source_ip/destination_ip", "are not two addresses of one family");
    auto c = row.counters(e);
    if (!c) return c.error();
    FlowTotals& flow = totals.flows[key];
    flow.counters += c.value();
    if (auto v = e.if_contains("first_seen"); v && v->is_string())
      flow.first_seen = parse_time(std::string(v->get_string()));
    if (auto v = e.if_contains("last_updated"); v && v->is_string())
      flow.last_updated = parse_time(std::string(v->get_string()));
  }
  return totals;
}

}  // namespace netacct
