// SPDX-License-Identifier: GPL-2.0-only
// The combined summary of netacct-multi: each instance's totals read from
// the "summary" of its source entry in its output file, one row per
// instance and a total line, as a table or as one JSON object. Reading is
// plain blocking file I/O; the supervisor runs it on libuv's thread pool.
#pragma once

#include <boost/json/fwd.hpp>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace netacct::multi {

enum class State { Unmanaged, Starting, Running, Restarting, Stopping, Stopped };
const char* state_name(State state);

struct Counts {
  uint64_t rx_bytes = 0;
  uint64_t tx_bytes = 0;
  uint64_t rx_packets = 0;
  uint64_t tx_packets = 0;
  uint64_t flows = 0;
  Counts& operator+=(const Counts& other);
  bool operator==(const Counts&) const = default;
};

// What one output file says about one tag.
struct SourceReading {
  bool found = false;
  Counts counts;
  std::string updated;  // metadata.timestamp
  std::string note;     // why nothing was found: "no file yet", "no entry yet", a parse error
};

struct SummaryRow {
  std::string tag;
  std::string interface;
  std::string netns;  // "" = host
  State state = State::Unmanaged;
  uint32_t restarts = 0;
  SourceReading reading;
};

// Extracts the source entry of `tag` from a parsed output file.
SourceReading reading_from_json(const boost::json::value& file, const std::string& tag);
// Reads each (output file, tag) pair; a file shared by several tags is read
// once. Blocking: call it off the loop thread (or when no loop runs).
std::vector<SourceReading> read_sources(
    const std::vector<std::pair<std::string, std::string>>& file_tags);

// Sum of the rows that have data.
Counts total_of(const std::vector<SummaryRow>& rows);
// The table: a header, one line per instance, a TOTAL line.
std::string render_table(const std::vector<SummaryRow>& rows, const std::string& title);
// {"instances": [{tag, interface, namespace, state, restarts, found, rx_bytes, ...}],
//  "total": {...}} on one line.
std::string render_json(const std::vector<SummaryRow>& rows);

}  // namespace netacct::multi
