// SPDX-License-Identifier: GPL-2.0-only
#include "schema.hpp"

#include <string>

namespace netacct::ledger_schema {

namespace {

// One flow table per scope, same columns. WITHOUT ROWID: the key is the
// primary key, so an upsert is one b-tree descent.
const char* const kCreate = R"sql(
CREATE TABLE IF NOT EXISTS ledger (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  schema_version INTEGER NOT NULL,
  ledger_id TEXT NOT NULL,
  tag TEXT NOT NULL,
  created INTEGER NOT NULL,
  pin_instance TEXT NOT NULL DEFAULT '',
  boot_id TEXT NOT NULL DEFAULT '',
  interface TEXT NOT NULL DEFAULT '',
  netns TEXT NOT NULL DEFAULT '',
  ingress_mode TEXT NOT NULL DEFAULT '',
  generation INTEGER NOT NULL DEFAULT 0,
  harvests INTEGER NOT NULL DEFAULT 0,
  last_harvest INTEGER NOT NULL DEFAULT 0,
  last_traffic INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS flows (
  local TEXT NOT NULL, remote TEXT NOT NULL, protocol INTEGER NOT NULL,
  rx_bytes INTEGER NOT NULL, rx_packets INTEGER NOT NULL,
  tx_bytes INTEGER NOT NULL, tx_packets INTEGER NOT NULL,
  first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
  PRIMARY KEY (local, remote, protocol)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS period_flows (
  local TEXT NOT NULL, remote TEXT NOT NULL, protocol INTEGER NOT NULL,
  rx_bytes INTEGER NOT NULL, rx_packets INTEGER NOT NULL,
  tx_bytes INTEGER NOT NULL, tx_packets INTEGER NOT NULL,
  first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
  PRIMARY KEY (local, remote, protocol)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS period_flows_remote ON period_flows (remote);
CREATE TABLE IF NOT EXISTS unexported_flows (
  local TEXT NOT NULL, remote TEXT NOT NULL, protocol INTEGER NOT NULL,
  rx_bytes INTEGER NOT NULL, rx_packets INTEGER NOT NULL,
  tx_bytes INTEGER NOT NULL, tx_packets INTEGER NOT NULL,
  first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
  PRIMARY KEY (local, remote, protocol)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS buckets (
  scope TEXT NOT NULL, bucket INTEGER NOT NULL,
  rx_bytes INTEGER NOT NULL, rx_packets INTEGER NOT NULL,
  tx_bytes INTEGER NOT NULL, tx_packets INTEGER NOT NULL,
  PRIMARY KEY (scope, bucket)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS totals (
  scope TEXT NOT NULL, family INTEGER NOT NULL, protocol INTEGER NOT NULL,
  flows INTEGER NOT NULL,
  rx_bytes INTEGER NOT NULL, rx_packets INTEGER NOT NULL,
  tx_bytes INTEGER NOT NULL, tx_packets INTEGER NOT NULL,
  PRIMARY KEY (scope, family, protocol)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS periods (
  id INTEGER PRIMARY KEY,
  started INTEGER NOT NULL,
  ended INTEGER,
  end_reason TEXT
);
CREATE TABLE IF NOT EXISTS export (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq INTEGER NOT NULL DEFAULT 0,
  has_file INTEGER NOT NULL DEFAULT 0,
  dev INTEGER NOT NULL DEFAULT 0, ino INTEGER NOT NULL DEFAULT 0,
  size INTEGER NOT NULL DEFAULT -1, mtime_ns INTEGER NOT NULL DEFAULT 0,
  written INTEGER NOT NULL DEFAULT 0,
  pending_seq INTEGER NOT NULL DEFAULT 0,
  pending_dev INTEGER NOT NULL DEFAULT 0, pending_ino INTEGER NOT NULL DEFAULT 0
);
)sql";

// Version 2: what a status listing shows without the kernel.
const char* const kMigrateTo2 = R"sql(
ALTER TABLE ledger ADD COLUMN last_flows INTEGER NOT NULL DEFAULT 0;
ALTER TABLE ledger ADD COLUMN flow_capacity INTEGER NOT NULL DEFAULT 0;
ALTER TABLE ledger ADD COLUMN metrics TEXT NOT NULL DEFAULT '';
)sql";

// Version 3: history (history.hpp). Bins lead their keys with the level
// and start, so a harvest's upserts land together at the tree's end.
const char* const kMigrateTo3 = R"sql(
CREATE TABLE IF NOT EXISTS flow_bins (
  level INTEGER NOT NULL, start INTEGER NOT NULL,
  local TEXT NOT NULL, remote TEXT NOT NULL, protocol INTEGER NOT NULL,
  rx_bytes INTEGER NOT NULL, rx_packets INTEGER NOT NULL,
  tx_bytes INTEGER NOT NULL, tx_packets INTEGER NOT NULL,
  PRIMARY KEY (level, start, local, remote, protocol)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tag_bins (
  level INTEGER NOT NULL, start INTEGER NOT NULL,
  rx_bytes INTEGER NOT NULL, rx_packets INTEGER NOT NULL,
  tx_bytes INTEGER NOT NULL, tx_packets INTEGER NOT NULL,
  PRIMARY KEY (level, start)) WITHOUT ROWID;
)sql";

// Version 4: the last harvest's busiest flows, for `netacct top`.
const char* const kMigrateTo4 = R"sql(
CREATE TABLE IF NOT EXISTS recent (
  local TEXT NOT NULL, remote TEXT NOT NULL, protocol INTEGER NOT NULL,
  rx_bytes INTEGER NOT NULL, rx_packets INTEGER NOT NULL,
  tx_bytes INTEGER NOT NULL, tx_packets INTEGER NOT NULL,
  PRIMARY KEY (local, remote, protocol)) WITHOUT ROWID;
ALTER TABLE ledger ADD COLUMN last_commit_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE ledger ADD COLUMN recent_interval_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE ledger ADD COLUMN rolled_hours_until INTEGER NOT NULL DEFAULT 0;
ALTER TABLE ledger ADD COLUMN rolled_days_until INTEGER NOT NULL DEFAULT 0;
CREATE TABLE IF NOT EXISTS quota_events (
  quota TEXT NOT NULL, period_start INTEGER NOT NULL, crossed_at INTEGER NOT NULL,
  used INTEGER NOT NULL, PRIMARY KEY (quota, period_start)) WITHOUT ROWID;
)sql";

}  // namespace

const char* flows_table(Scope scope) {
  switch (scope) {
    case Scope::Lifetime: return "flows";
    case Scope::Period: return "period_flows";
    case Scope::Unexported: return "unexported_flows";
  }
  return "flows";
}

const char* scope_name(Scope scope) {
  switch (scope) {
    case Scope::Lifetime: return "lifetime";
    case Scope::Period: return "period";
    case Scope::Unexported: return "unexported";
  }
  return "lifetime";
}

Result<void> create_or_check(sql::Database& db) {
  auto version = db.prepare("PRAGMA user_version");
  if (!version) return version.error();
  auto row = version->step();
  if (!row) return row.error();
  int64_t found = row.value() ? version->column_int(0) : 0;
  if (found > kSchemaVersion)
    return Error{"database " + db.path() + ": schema version " + std::to_string(found) +
                     " is newer than this netacct understands (" + std::to_string(kSchemaVersion) +
                     "); use the matching netacct release",
                 0,
                 {}};
  if (found == kSchemaVersion) return ok();
  // Version 1 is created whole; each later version is a migration from the
  // one before, so an old ledger and a new one end up alike.
  if (found < 1)
    if (auto created = db.exec(kCreate); !created) return created;
  if (found < 2)
    if (auto migrated = db.exec(kMigrateTo2); !migrated) return migrated;
  if (found < 3)
    if (auto migrated = db.exec(kMigrateTo3); !migrated) return migrated;
  if (found < 4)
    if (auto migrated = db.exec(kMigrateTo4); !migrated) return migrated;
  return db.exec(("PRAGMA user_version = " + std::to_string(kSchemaVersion)).c_str());
}

Result<LedgerInfo> Queries::info() {
  auto stmt = db_.prepare(
      "SELECT tag, ledger_id, created, pin_instance, boot_id, generation, harvests, "
      "last_harvest, last_traffic, (SELECT id FROM periods ORDER BY id DESC LIMIT 1), "
      "(SELECT started FROM periods ORDER BY id DESC LIMIT 1), interface, netns, ingress_mode, "
      "last_flows, flow_capacity, metrics "
      "FROM ledger WHERE id = 1");
  if (!stmt) return stmt.error();
  auto row = stmt->step();
  if (!row) return row.error();
  if (!row.value()) return Error{"database " + db_.path() + ": no ledger row", 0, {}};
  LedgerInfo info;
  info.tag = std::string(stmt->column_text(0));
  info.ledger_id = std::string(stmt->column_text(1));
  info.created = stmt->column_int(2);
  info.pin_instance = std::string(stmt->column_text(3));
  info.boot_id = std::string(stmt->column_text(4));
  info.generation = stmt->column_u64(5);
  info.harvests = stmt->column_u64(6);
  info.last_harvest = stmt->column_int(7);
  info.last_traffic = stmt->column_int(8);
  info.period_id = stmt->column_int(9);
  info.period_started = stmt->column_int(10);
  info.interface = std::string(stmt->column_text(11));
  info.netns = std::string(stmt->column_text(12));
  info.ingress_mode = std::string(stmt->column_text(13));
  info.last_flows = stmt->column_u64(14);
  info.flow_capacity = static_cast<uint32_t>(stmt->column_u64(15));
  info.metrics = std::string(stmt->column_text(16));
  return info;
}

Result<ScopeTotals> Queries::totals(Scope scope) {
  ScopeTotals totals;
  auto stmt = db_.prepare(
      "SELECT family, protocol, flows, rx_bytes, rx_packets, tx_bytes, tx_packets FROM totals "
      "WHERE scope = ?1");
  if (!stmt) return stmt.error();
  stmt->bind(1, scope_name(scope));
  for (;;) {
    auto row = stmt->step();
    if (!row) return row.error();
    if (!row.value()) break;
    ProtocolTotals& p = totals.by_protocol[{static_cast<uint8_t>(stmt->column_int(0)),
                                            static_cast<uint8_t>(stmt->column_int(1))}];
    p.flows = stmt->column_u64(2);
    p.counters = {stmt->column_u64(3), stmt->column_u64(4), stmt->column_u64(5),
                  stmt->column_u64(6)};
    totals.flows += p.flows;
  }
  auto buckets = db_.prepare(
      "SELECT bucket, rx_bytes, rx_packets, tx_bytes, tx_packets FROM buckets WHERE scope = ?1");
  if (!buckets) return buckets.error();
  buckets->bind(1, scope_name(scope));
  for (;;) {
    auto row = buckets->step();
    if (!row) return row.error();
    if (!row.value()) break;
    int64_t id = buckets->column_int(0);
    if (id < NETACCT_BUCKET_FIRST || id > NETACCT_BUCKET_LAST) continue;
    totals.buckets[static_cast<size_t>(id)] = {buckets->column_u64(1), buckets->column_u64(2),
                                               buckets->column_u64(3), buckets->column_u64(4)};
  }
  return totals;
}

Result<void> Queries::for_each_flow(Scope scope, const std::function<bool(const FlowRow&)>& visit) {
  std::string sql = std::string(
                        "SELECT local, remote, protocol, rx_bytes, rx_packets, tx_bytes, "
                        "tx_packets, first_seen, last_seen FROM ") +
                    flows_table(scope) + " ORDER BY local, remote, protocol";
  auto stmt = db_.prepare(sql.c_str());
  if (!stmt) return stmt.error();
  FlowRow row;
  for (;;) {
    auto more = stmt->step();
    if (!more) return more.error();
    if (!more.value()) break;
    row.local = stmt->column_text(0);
    row.remote = stmt->column_text(1);
    row.protocol = static_cast<uint8_t>(stmt->column_int(2));
    row.counters = {stmt->column_u64(3), stmt->column_u64(4), stmt->column_u64(5),
                    stmt->column_u64(6)};
    row.first_seen = stmt->column_int(7);
    row.last_seen = stmt->column_int(8);
    if (!visit(row)) break;
  }
  return ok();
}

Result<uint64_t> Queries::distinct(Scope scope, const char* column) {
  std::string sql = std::string("SELECT count(DISTINCT ") + column + ") FROM " + flows_table(scope);
  auto stmt = db_.prepare(sql.c_str());
  if (!stmt) return stmt.error();
  auto row = stmt->step();
  if (!row) return row.error();
  return row.value() ? stmt->column_u64(0) : 0;
}

Result<ExportState> Queries::export_state() {
  auto stmt = db_.prepare(
      "SELECT seq, has_file, dev, ino, size, mtime_ns, written, pending_seq, pending_dev, "
      "pending_ino FROM export WHERE id = 1");
  if (!stmt) return stmt.error();
  auto row = stmt->step();
  if (!row) return row.error();
  ExportState state;
  if (!row.value()) return state;
  state.seq = stmt->column_u64(0);
  state.has_file = stmt->column_int(1) != 0;
  state.file = {stmt->column_int(2), stmt->column_int(3), stmt->column_int(4), stmt->column_int(5)};
  state.written = stmt->column_int(6);
  state.pending_seq = stmt->column_u64(7);
  state.pending = {stmt->column_int(8), stmt->column_int(9), -1, 0};
  return state;
}

}  // namespace netacct::ledger_schema
