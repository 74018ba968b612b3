// SPDX-License-Identifier: GPL-2.0-only
// LedgerReader: read-only access to a tag's ledger database, for the tools
// (netacct-health, netacct-multi's summary, the query tool) and for
// netacctd's metrics at start-up. It opens the database read-only; in WAL
// mode a reader never blocks the daemon's commits, nor they it. Links no
// libbpf and no libuv.
#pragma once

#include <memory>
#include <string>

#include "../common/result.hpp"
#include "ledger_model.hpp"
#include "schema.hpp"
#include "sqlite.hpp"

namespace netacct {

// Where a tag's ledger lives: STATE_DIR/TAG.db.
std::string ledger_path(const std::string& state_dir, const std::string& tag);

// One consistent view: the ledger row with the lifetime and period totals.
struct LedgerSnapshot {
  LedgerInfo info;
  ScopeTotals lifetime;
  ScopeTotals period;
};

class LedgerReader {
 public:
  // A missing file is an error with ENOENT, so callers can say "never ran".
  static Result<std::unique_ptr<LedgerReader>> open(const std::string& path);
  LedgerReader(const LedgerReader&) = delete;
  LedgerReader& operator=(const LedgerReader&) = delete;

  Result<LedgerSnapshot> snapshot();
  ledger_schema::Queries& queries() { return queries_; }
  const std::string& path() const { return db_.path(); }
  sql::Database& database() { return db_; }

 private:
  explicit LedgerReader(sql::Database db) : db_(std::move(db)), queries_(db_) {}
  sql::Database db_;
  ledger_schema::Queries queries_;
};

}  // namespace netacct
