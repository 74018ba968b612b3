// SPDX-License-Identifier: GPL-2.0-only
// Reads a JSON output file ({"sources": [...]}) as a stream, without a tree
// of the whole file: each source entry's header (everything but its rows) is
// built on its own, and rows are handled one at a time. Used to
//   - carry other tags' entries of a shared file into our next export,
//   - recognise our own entry (is this still the file we wrote?),
//   - seed a new ledger from an earlier release's file (upgrade).
#pragma once

#include <boost/json.hpp>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "../common/result.hpp"
#include "ledger_model.hpp"

namespace netacct {

struct ScannedSource {
  std::string id;
  boost::json::object header;  // the entry without "traffic_data"
  std::string text;            // others only: the whole entry, as the export writes entries
  uint64_t rows = 0;
};

struct ScanOptions {
  std::string our_id;
  // Called for each row of our entry (family 4 or 6); empty: rows skipped.
  std::function<Result<void>(const FlowRow& row, uint8_t family)> on_our_row;
};

struct ScanResult {
  bool empty = false;  // no content at all (logrotate's `create`)
  std::optional<ScannedSource> ours;
  std::vector<ScannedSource> others;
};

// Errors name the file, and for bad JSON its line and column.
Result<ScanResult> scan_output_file(const std::string& path, const ScanOptions& options);

// Reads our entry's counters in its "buckets" member (upgrade).
Result<BucketCounters> buckets_of(const boost::json::object& header, const std::string& file);
// A string member of header.metadata ("" when absent).
std::string metadata_text(const boost::json::object& header, const char* key);
uint64_t metadata_number(const boost::json::object& header, const char* key);

}  // namespace netacct
