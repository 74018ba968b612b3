// SPDX-License-Identifier: GPL-2.0-only
// The combined summary of netacct-multi: each instance's totals for the
// current period (what its output file shows) read from its ledger with a
// read-only LedgerReader, one row per instance and a total line, as a
// table or as one JSON object. Reading is blocking I/O; the supervisor runs
// it on libuv's thread pool.
#pragma once

#include <boost/json/fwd.hpp>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace netacct::multi {

// Counting: no netacctd holds the tag but its programs are pinned and keep
// counting (by design; the next start harvests it).
enum class State { Unmanaged, Starting, Running, Restarting, Stopping, Stopped, Counting };
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

// What one ledger says about its tag.
struct SourceReading {
  bool found = false;
  Counts counts;
  std::string updated;  // the last harvest, local time
  std::string note;     // why nothing was found: "no ledger yet", an error
};

struct SummaryRow {
  std::string tag;
  std::string interface;
  std::string netns;  // "" = host
  State state = State::Unmanaged;
  uint32_t restarts = 0;
  std::string metrics;  // "127.0.0.1:9464", or "off"
  SourceReading reading;
  // What a reader would call a change (the supervisor prints on change).
  bool same_as(const SummaryRow& other) const {
    return state == other.state && restarts == other.restarts &&
           reading.found == other.reading.found && reading.counts == other.reading.counts;
  }
};

// Whether the supervisor prints `now`: on any change against what it last
// printed, and at least every `every_ms` (the first time always).
bool summary_due(const std::vector<SummaryRow>& now, const std::vector<SummaryRow>& last,
                 uint64_t now_ms, uint64_t last_ms, uint64_t every_ms);

// For --summary-only: running (a netacctd holds the tag's lock), counting
// (pinned, nobody harvests) or stopped (nothing pinned).
State observed_state(const std::string& tag, const std::string& pin_base);

// Reads one tag's ledger. Blocking: call it off the loop thread.
SourceReading read_ledger(const std::string& ledger_path);
std::vector<SourceReading> read_sources(const std::vector<std::string>& ledger_paths);

// Sum of the rows that have data.
Counts total_of(const std::vector<SummaryRow>& rows);
// The table: a header, one line per instance, a TOTAL line.
std::string render_table(const std::vector<SummaryRow>& rows, const std::string& title);
// {"instances": [{tag, interface, namespace, state, restarts, found, rx_bytes, ...}],
//  "total": {...}} on one line.
std::string render_json(const std::vector<SummaryRow>& rows);

}  // namespace netacct::multi
