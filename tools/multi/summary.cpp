// SPDX-License-Identifier: GPL-2.0-only
#include "summary.hpp"

#include <boost/json.hpp>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "daemon/common/time_text.hpp"
#include "daemon/common/units.hpp"
#include "daemon/ledger/ledger_reader.hpp"
#include "pin/pin_dir.hpp"

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
    case State::Counting: return "counting";
  }
  return "?";
}

bool summary_due(const std::vector<SummaryRow>& now, const std::vector<SummaryRow>& last,
                 uint64_t now_ms, uint64_t last_ms, uint64_t every_ms) {
  if (last.empty() || now.size() != last.size()) return true;
  for (size_t i = 0; i < now.size(); i++)
    if (!now[i].same_as(last[i])) return true;
  return now_ms - last_ms >= every_ms;
}

State observed_state(const std::string& tag, const std::string& pin_base) {
  auto dir = pin::PinDir::open_existing(tag, pin_base);
  if (!dir) return State::Stopped;
  return dir->held_by_other() ? State::Running : State::Counting;
}

Counts& Counts::operator+=(const Counts& other) {
  rx_bytes += other.rx_bytes;
  tx_bytes += other.tx_bytes;
  rx_packets += other.rx_packets;
  tx_packets += other.tx_packets;
  flows += other.flows;
  return *this;
}

SourceReading read_ledger(const std::string& ledger_path) {
  SourceReading reading;
  auto reader = LedgerReader::open(ledger_path);
  if (!reader) {
    reading.note = reader.error().err == ENOENT ? "no ledger yet" : reader.error().message();
    return reading;
  }
  auto snapshot = (*reader)->snapshot();
  if (!snapshot) {
    reading.note = snapshot.error().message();
    return reading;
  }
  // The period: what the tag's output file shows (since its last rotation).
  netacct_counters total = snapshot->period.flow_total();
  reading.found = true;
  reading.counts.rx_bytes = total.rx_bytes;
  reading.counts.tx_bytes = total.tx_bytes;
  reading.counts.rx_packets = total.rx_packets;
  reading.counts.tx_packets = total.tx_packets;
  reading.counts.flows = snapshot->period.flows;
  if (snapshot->info.last_harvest > 0) reading.updated = format_time(snapshot->info.last_harvest);
  return reading;
}

std::vector<SourceReading> read_sources(const std::vector<std::string>& ledger_paths) {
  std::vector<SourceReading> readings;
  for (const std::string& path : ledger_paths) readings.push_back(read_ledger(path));
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
  std::string rule(134, '-');
  out += title + "\n" + rule + "\n";
  const char* format = "%-20s %-12s %-16s %-10s %8s %-15s %12s %12s %10s %10s %7s\n";
  std::snprintf(line, sizeof line, format, "TAG", "INTERFACE", "NAMESPACE", "STATE", "RESTARTS",
                "METRICS", "RX BYTES", "TX BYTES", "RX PKTS", "TX PKTS", "FLOWS");
  out += line;
  for (const SummaryRow& row : rows) {
    const Counts& c = row.reading.counts;
    bool data = row.reading.found;
    std::snprintf(line, sizeof line, format, row.tag.c_str(), row.interface.c_str(),
                  row.netns.empty() ? "(host)" : row.netns.c_str(), state_name(row.state),
                  std::to_string(row.restarts).c_str(), row.metrics.c_str(),
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
  std::snprintf(line, sizeof line, format, "TOTAL", "", "", "", "", "",
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
    entry["metrics"] = row.metrics;
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
