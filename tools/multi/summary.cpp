// SPDX-License-Identifier: GPL-2.0-only
#include "summary.hpp"

#include <boost/json.hpp>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "daemon/common/json_file.hpp"
#include "daemon/console.hpp"

namespace netacct::multi {

namespace json = boost::json;

const char* state_name(State state) {
  switch (state) {
    case State::Unmanaged: return "-";
    case State::Starting: return "starting";
    case State::Running: return "running";
    case State::Restarting: return "restarting";
    case State::Stopping: return "stopping";
    case State::Stopped: return "stopped";
  }
  return "?";
}

Counts& Counts::operator+=(const Counts& other) {
  rx_bytes += other.rx_bytes;
  tx_bytes += other.tx_bytes;
  rx_packets += other.rx_packets;
  tx_packets += other.tx_packets;
  flows += other.flows;
  return *this;
}

namespace {

uint64_t number_at(const json::object& object, const char* key) {
  const json::value* value = object.if_contains(key);
  if (!value) return 0;
  if (value->is_uint64()) return value->get_uint64();
  if (value->is_int64() && value->get_int64() >= 0)
    return static_cast<uint64_t>(value->get_int64());
  return 0;
}

}  // namespace

SourceReading reading_from_json(const json::value& file, const std::string& tag) {
  SourceReading reading;
  const json::value* sources =
      file.is_object() ? file.get_object().if_contains("sources") : nullptr;
  if (!sources || !sources->is_array()) {
    reading.note = "no \"sources\" array";
    return reading;
  }
  for (const json::value& source : sources->get_array()) {
    if (!source.is_object()) continue;
    const json::object& entry = source.get_object();
    const json::value* id = entry.if_contains("id");
    if (!id || !id->is_string() || id->get_string() != tag) continue;
    const json::value* summary = entry.if_contains("summary");
    if (!summary || !summary->is_object()) {
      reading.note = "entry has no summary";
      return reading;
    }
    const json::object& s = summary->get_object();
    reading.found = true;
    reading.counts.rx_bytes = number_at(s, "total_rx_bytes");
    reading.counts.tx_bytes = number_at(s, "total_tx_bytes");
    reading.counts.rx_packets = number_at(s, "total_rx_packets");
    reading.counts.tx_packets = number_at(s, "total_tx_packets");
    if (const json::value* meta = entry.if_contains("metadata"); meta && meta->is_object()) {
      reading.counts.flows = number_at(meta->get_object(), "total_entries");
      if (const json::value* stamp = meta->get_object().if_contains("timestamp");
          stamp && stamp->is_string())
        reading.updated = std::string(stamp->get_string());
    }
    return reading;
  }
  reading.note = "no entry yet";
  return reading;
}

std::vector<SourceReading> read_sources(
    const std::vector<std::pair<std::string, std::string>>& file_tags) {
  std::map<std::string, Result<json::value>> files;
  for (const auto& [path, tag] : file_tags) {
    if (!files.count(path)) files.emplace(path, read_json_file(path));
  }
  std::vector<SourceReading> readings;
  for (const auto& [path, tag] : file_tags) {
    const Result<json::value>& file = files.at(path);
    if (!file) {
      SourceReading missing;
      missing.note = file.error().err == ENOENT ? "no file yet" : file.error().message();
      readings.push_back(missing);
      continue;
    }
    readings.push_back(reading_from_json(file.value(), tag));
  }
  return readings;
}

Counts total_of(const std::vector<SummaryRow>& rows) {
  Counts total;
  for (const SummaryRow& row : rows) {
    if (row.reading.found) total += row.reading.counts;
  }
  return total;
}

std::string render_table(const std::vector<SummaryRow>& rows, const std::string& title) {
  std::string out;
  char line[512];
  std::string rule(118, '-');
  out += title + "\n" + rule + "\n";
  const char* format = "%-20s %-12s %-16s %-10s %8s %12s %12s %10s %10s %7s\n";
  std::snprintf(line, sizeof line, format, "TAG", "INTERFACE", "NAMESPACE", "STATE", "RESTARTS",
                "RX BYTES", "TX BYTES", "RX PKTS", "TX PKTS", "FLOWS");
  out += line;
  for (const SummaryRow& row : rows) {
    const Counts& c = row.reading.counts;
    bool data = row.reading.found;
    std::snprintf(line, sizeof line, format, row.tag.c_str(), row.interface.c_str(),
                  row.netns.empty() ? "(host)" : row.netns.c_str(), state_name(row.state),
                  std::to_string(row.restarts).c_str(),
                  data ? human_bytes(c.rx_bytes).c_str() : "-",
                  data ? human_bytes(c.tx_bytes).c_str() : "-",
                  data ? std::to_string(c.rx_packets).c_str() : "-",
                  data ? std::to_string(c.tx_packets).c_str() : "-",
                  data ? std::to_string(c.flows).c_str() : "-");
    out += line;
    if (!data) out += "    (" + row.reading.note + ")\n";
  }
  Counts total = total_of(rows);
  out += rule + "\n";
  std::snprintf(line, sizeof line, format, "TOTAL", "", "", "", "",
                human_bytes(total.rx_bytes).c_str(), human_bytes(total.tx_bytes).c_str(),
                std::to_string(total.rx_packets).c_str(), std::to_string(total.tx_packets).c_str(),
                std::to_string(total.flows).c_str());
  out += line;
  std::snprintf(line, sizeof line, "total bytes %llu (rx %llu, tx %llu), packets %llu\n",
                static_cast<unsigned long long>(total.rx_bytes + total.tx_bytes),
                static_cast<unsigned long long>(total.rx_bytes),
                static_cast<unsigned long long>(total.tx_bytes),
                static_cast<unsigned long long>(total.rx_packets + total.tx_packets));
  out += line;
  return out;
}

static json::object counts_json(const Counts& c) {
  return {{"rx_bytes", c.rx_bytes},
          {"tx_bytes", c.tx_bytes},
          {"rx_packets", c.rx_packets},
          {"tx_packets", c.tx_packets},
          {"total_bytes", c.rx_bytes + c.tx_bytes},
          {"flows", c.flows}};
}

std::string render_json(const std::vector<SummaryRow>& rows) {
  json::array instances;
  for (const SummaryRow& row : rows) {
    json::object entry = counts_json(row.reading.counts);
    entry["tag"] = row.tag;
    entry["interface"] = row.interface;
    entry["namespace"] = row.netns.empty() ? json::value(nullptr) : json::value(row.netns);
    entry["state"] = state_name(row.state);
    entry["restarts"] = row.restarts;
    entry["found"] = row.reading.found;
    entry["updated"] = row.reading.updated;
    if (!row.reading.found) entry["note"] = row.reading.note;
    instances.push_back(std::move(entry));
  }
  json::object out;
  out["instances"] = std::move(instances);
  out["total"] = counts_json(total_of(rows));
  return json::serialize(out) + "\n";
}

}  // namespace netacct::multi
