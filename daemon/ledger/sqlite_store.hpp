// SPDX-License-Identifier: GPL-2.0-only
// SqliteStore: the ledger of record, one SQLite database per tag (WAL mode,
// synchronous=FULL, a bounded page cache). A harvest is one transaction
// that upserts only the flows and buckets of its delta, with the binding:
// its cost follows the interval's traffic, not the history.
//
// Besides the LedgerStore protocol it keeps the JSON export's bookkeeping
// (the current period and what is not yet in the file; see json_export.hpp)
// and imports an output file written by an earlier release (upgrade).
//
// Not thread-safe: one owner (netacctd's harvest strand) uses it at a time.
// Readers in other processes use LedgerReader and never block it.
#pragma once

#include <memory>
#include <string>

#include "history.hpp"
#include "ledger_model.hpp"
#include "quota.hpp"
#include "schema.hpp"
#include "sqlite.hpp"
#include "store.hpp"

namespace netacct {

class SqliteStore final : public LedgerStore {
 public:
  struct Options {
    std::string path;
    std::string tag;
    int cache_kib = 4096;       // SQLite page cache bound
    unsigned file_mode = 0640;  // a database created here (its -wal and -shm follow it)
  };
  // Opens or creates the database; refuses one made for another tag.
  static Result<std::unique_ptr<SqliteStore>> open(const Options& options);
  ~SqliteStore() override;

  // True when open() created the database (nothing committed yet).
  bool created() const { return created_; }
  const std::string& path() const { return db_.path(); }

  Result<Binding> binding() override;
  Result<void> commit(const Binding& binding, const Delta& delta, int64_t when) override;
  // Records where and how the tag counts, for the tools (metadata only).
  Result<void> set_identity(const std::string& boot_id, const std::string& interface,
                            const std::string& netns, const std::string& ingress_mode,
                            uint32_t flow_capacity);
  // Quota usage in the current periods; crossings recorded (quota.hpp).
  Result<std::vector<QuotaState>> check_quotas(const std::vector<Quota>& quotas, int64_t now) {
    return netacct::check_quotas(db_, quotas, now);
  }
  // Rolls completed hours into days and completed days into months, at
  // most about max_rows rows per call (whole bins); returns rows written.
  Result<uint64_t> roll_up(int64_t now, uint64_t max_rows);
  // Removes history bins older than retention says, at most max_rows per
  // call (a bounded step; the daemon calls it after each commit). Returns
  // the rows removed.
  Result<uint64_t> prune_history(int64_t now, const Retention& retention, uint64_t max_rows);
  // Where /metrics is served ("" = off), for status listings.
  Result<void> set_metrics(const std::string& address);

  ledger_schema::Queries& queries() { return queries_; }

  // ---- export bookkeeping (json_export.hpp) ----
  Result<bool> has_unexported();
  // Before the rename: the temporary file that will become export `seq`.
  Result<void> export_pending(uint64_t seq, const FileIdentity& temp);
  // After it: the file is in place; what it holds is no longer unexported.
  Result<void> export_done(uint64_t seq, const FileIdentity& file, int64_t when);
  // The pending export did not happen (its temporary file was removed).
  Result<void> export_abandoned();
  // The file was rotated: the current period ends at the last export, and
  // the next one starts with what was committed since.
  Result<void> rotate(int64_t now, const std::string& reason);

  // ---- upgrade: seeding from an earlier release's output file ----
  class Import {
   public:
    Result<void> add_flow(const FlowRow& row, uint8_t family);
    Result<void> add_bucket(uint8_t bucket, const netacct_counters& counters);
    // Commits with the file's binding and period start; `file` is the
    // output as it is now, so the first export knows it is ours.
    Result<void> finish(const Binding& binding, int64_t period_started, const FileIdentity& file,
                        int64_t now);

   private:
    friend class SqliteStore;
    explicit Import(SqliteStore& store, sql::Transaction txn)
        : store_(store), txn_(std::move(txn)) {}
    SqliteStore& store_;
    sql::Transaction txn_;
  };
  Result<Import> begin_import();

 private:
  SqliteStore(sql::Database db, bool created);
  Result<void> prepare();
  Result<void> upsert_bin(BinLevel level, int64_t start, const std::string& local,
                          const std::string& remote, uint8_t protocol, const netacct_counters& c);
  Result<bool> upsert_flow(Scope scope, const std::string& local, const std::string& remote,
                           const FlowDelta& flow, int64_t first_seen, int64_t last_seen);
  Result<void> add_totals(Scope scope, uint8_t family, uint8_t protocol, uint64_t new_flows,
                          const netacct_counters& counters);
  Result<void> add_bucket(Scope scope, uint8_t bucket, const netacct_counters& counters);
  Result<void> clear_scope(Scope scope);
  Result<void> copy_scope(Scope from, Scope to);

  sql::Database db_;
  bool created_ = false;
  ledger_schema::Queries queries_;
  sql::Statement upsert_flow_[3];
  sql::Statement upsert_totals_;
  sql::Statement upsert_bucket_;
  sql::Statement upsert_flow_bin_;
  sql::Statement upsert_tag_bin_;
  sql::Statement insert_recent_;
  sql::Statement select_markers_;
  sql::Statement clear_recent_;
  sql::Statement update_binding_;
  sql::Statement select_binding_;
};

}  // namespace netacct
