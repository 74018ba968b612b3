// SPDX-License-Identifier: GPL-2.0-only
// Totals: the cumulative counts of one source (one tag), and their JSON form
// in the seed's multi-source schema. Pure data: no files, no kernel.
//
// JSON direction convention: source_ip is this host's side of the flow
// (the local address), destination_ip the peer; rx is what arrived at this
// host from the peer, tx what this host sent to it.
#pragma once

#include <array>
#include <boost/json.hpp>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "../common/result.hpp"
#include "flow.hpp"
#include "harvester.hpp"

namespace netacct {

inline constexpr int kSchemaVersion = 2;

struct FlowTotals {
  netacct_counters counters{};
  int64_t first_seen = 0;    // unix seconds of the harvest that first saw it
  int64_t last_updated = 0;  // unix seconds of the last harvest that added to it
};

// Identity and settings of a source, written into "metadata".
struct SourceInfo {
  std::string tag;
  std::string interface;
  std::string netns;         // "" = host
  std::string ingress_mode;  // "tc" or "xdp"
  std::string xdp_mode;      // "native", "generic" or "none"
  uint32_t flow_capacity = 0;
};

struct Totals;

// What Totals::add changed, so a failed commit can put it back exactly.
struct TotalsUndo {
  std::vector<netacct_flow_key> inserted;
  std::vector<std::pair<netacct_flow_key, FlowTotals>> previous;
  std::array<netacct_counters, NETACCT_BUCKET_LAST + 1> buckets{};
  uint64_t generation = 0;
  std::string pin_instance;
  int64_t updated = 0;

  void restore(Totals& totals) const;
};

struct Totals {
  std::unordered_map<netacct_flow_key, FlowTotals, FlowKeyHash> flows;
  std::array<netacct_counters, NETACCT_BUCKET_LAST + 1> buckets{};
  // The exactly-once binding: the last kernel harvest generation committed,
  // and which pinned-map instance ("<boot id>/<creation ns>") it belongs to.
  uint64_t generation = 0;
  std::string pin_instance;
  std::string boot_id;
  int64_t started = 0;  // when these totals began (first start or rotation)
  int64_t updated = 0;  // last commit

  // Adds a harvest; with `undo`, records what it changed (one lookup a flow).
  void add(const Delta& delta, int64_t now, TotalsUndo* undo = nullptr);
  netacct_counters flow_total() const;
};

// Text form of a pinned map instance, e.g. "3f2a...c1/1732540800123456789".
std::string pin_instance_id(const netacct_meta& meta);
std::string boot_id_text(const uint8_t boot_id[16]);

// Everything of a source entry but traffic_data (id, metadata, summary,
// protocol_breakdown, buckets, whitelist_info).
boost::json::object source_header(const Totals& totals, const SourceInfo& info,
                                  const boost::json::value& whitelist_info, int64_t now);
// The whole source entry as text, indented `indent` levels, rows one per
// line; what the output file holds. Built without a tree of all rows.
std::string render_source(const Totals& totals, const SourceInfo& info,
                          const boost::json::value& whitelist_info, int64_t now, int indent);
// The whole source entry as a tree (tests, small sources).
boost::json::object totals_to_json(const Totals& totals, const SourceInfo& info,
                                   const boost::json::value& whitelist_info, int64_t now);
// Reads back what totals_to_json wrote; errors name the field.
Result<Totals> totals_from_json(const boost::json::object& source, const std::string& file);

// "2025-01-20 10:30:00" in local time, as the seed writes it.
std::string format_time(int64_t unix_seconds);
// Inverse of format_time; -1 if it does not parse.
int64_t parse_time(const std::string& text);

}  // namespace netacct
