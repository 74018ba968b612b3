// SPDX-License-Identifier: GPL-2.0-only
// The ledger database's schema (version 1) and the queries that read it,
// shared by the writer (SqliteStore) and the read-only LedgerReader.
//
// Tables (query them with the sqlite3 shell; README "Ledger"):
//   ledger            one row: tag, ledger id, binding (pin_instance,
//                     generation), harvest count and times
//   flows             lifetime totals per (local, remote, protocol)
//   period_flows      the current period: what the JSON export shows
//   unexported_flows  committed since the last export reached the file
//   buckets, totals   per scope ('lifetime', 'period', 'unexported'):
//                     bucket counters; per (family, protocol) flow counts
//                     and counters
//   periods           every period: start, end, why it ended
//   export            where the JSON export stands (export protocol)
#pragma once

#include <functional>

#include "../common/result.hpp"
#include "ledger_model.hpp"
#include "sqlite.hpp"

namespace netacct::ledger_schema {

inline constexpr int kSchemaVersion = 4;

// Creates what is missing (a new database) and checks the version of an
// existing one.
Result<void> create_or_check(sql::Database& db);
const char* flows_table(Scope scope);
const char* scope_name(Scope scope);

// Read-side queries over an open database.
class Queries {
 public:
  explicit Queries(sql::Database& db) : db_(db) {}
  Result<LedgerInfo> info();
  Result<ScopeTotals> totals(Scope scope);
  // Rows in key order (local, remote, protocol); `visit` returns false to stop.
  Result<void> for_each_flow(Scope scope, const std::function<bool(const FlowRow&)>& visit);
  // Distinct values of `column` ("local" or "remote") among a scope's flows.
  Result<uint64_t> distinct(Scope scope, const char* column);
  Result<ExportState> export_state();

 private:
  sql::Database& db_;
};

}  // namespace netacct::ledger_schema
