// SPDX-License-Identifier: GPL-2.0-only
#include "sqlite_store.hpp"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>

#include "../common/log.hpp"
#include "../common/unique_fd.hpp"
#include "history.hpp"

namespace netacct {

namespace {

// Flows kept of each harvest for `netacct top`.
constexpr size_t kRecentFlows = 200;
constexpr Scope kScopes[] = {Scope::Lifetime, Scope::Period, Scope::Unexported};

std::string random_id() {
  unsigned char bytes[16] = {};
  if (getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes)) {
    // Only a name: fall back to time and address if the kernel refuses.
    uint64_t mix = static_cast<uint64_t>(time(nullptr)) ^ reinterpret_cast<uintptr_t>(bytes);
    for (size_t i = 0; i < sizeof bytes; i++) bytes[i] = static_cast<unsigned char>(mix >> (i % 8));
  }
  static const char* digits = "0123456789abcdef";
  std::string text;
  for (unsigned char b : bytes) {
    text += digits[b >> 4];
    text += digits[b & 15];
  }
  return text;
}

std::string upsert_sql(Scope scope) {
  // RETURNING the row's packets: equal to the delta's when the row was just
  // inserted (a stored flow has at least one packet), so one statement both
  // adds and tells a new flow from a known one.
  return std::string("INSERT INTO ") + ledger_schema::flows_table(scope) +
         " (local, remote, protocol, rx_bytes, rx_packets, tx_bytes, tx_packets, first_seen, "
         "last_seen) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
         "ON CONFLICT (local, remote, protocol) DO UPDATE SET "
         "rx_bytes = rx_bytes + excluded.rx_bytes, rx_packets = rx_packets + excluded.rx_packets, "
         "tx_bytes = tx_bytes + excluded.tx_bytes, tx_packets = tx_packets + excluded.tx_packets, "
         "first_seen = min(first_seen, excluded.first_seen), "
         "last_seen = max(last_seen, excluded.last_seen) "
         "RETURNING rx_packets + tx_packets";
}

}  // namespace

SqliteStore::SqliteStore(sql::Database db, bool created)
    : db_(std::move(db)), created_(created), queries_(db_) {}

SqliteStore::~SqliteStore() = default;

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const Options& options) {
  struct stat st {};
  bool exists = ::stat(options.path.c_str(), &st) == 0;
  if (::lstat(options.path.c_str(), &st) == 0 && S_ISLNK(st.st_mode))
    return Error{
        "database " + options.path + " is a symbolic link; name the file itself", ELOOP, {}};
  if (exists && !S_ISREG(st.st_mode))
    return Error{"database " + options.path + " is not a regular file", 0, {}};
  if (!exists) {
    // Created here with its mode (SQLite would use 0644 less the umask);
    // O_EXCL|O_NOFOLLOW: a name planted meanwhile is refused, not followed.
    UniqueFd made(::open(options.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                         static_cast<mode_t>(options.file_mode)));
    if (!made) return make_error("create database " + options.path, errno);
    ::fchmod(made.get(), static_cast<mode_t>(options.file_mode));
  }
  auto db = sql::Database::open(options.path, sql::Database::Mode::ReadWrite);
  if (!db) return db.error();
  // WAL: readers (netacct-health, the query tool) never block a commit.
  // synchronous=FULL: a committed harvest is on disk before its kernel
  // buffer is cleared. A bounded page cache keeps memory independent of
  // history; a busy timeout rides out a checkpoint by another process.
  std::string pragmas =
      "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; "
      "PRAGMA busy_timeout = 1000; PRAGMA temp_store = FILE; "
      "PRAGMA cache_size = -" +
      std::to_string(options.cache_kib) + ";";
  if (auto set = db->exec(pragmas.c_str()); !set) return set.error();
  if (auto schema = ledger_schema::create_or_check(db.value()); !schema) return schema.error();

  std::unique_ptr<SqliteStore> store(new SqliteStore(std::move(db.value()), false));
  auto row = store->db_.prepare("SELECT tag FROM ledger WHERE id = 1");
  if (!row) return row.error();
  auto found = row->step();
  if (!found) return found.error();
  if (found.value()) {
    std::string tag(row->column_text(0));
    if (tag != options.tag)
      return Error{
          "database " + options.path + " belongs to tag '" + tag + "', not '" + options.tag + "'",
          0,
          {}};
  } else {
    auto txn = sql::Transaction::begin(store->db_);
    if (!txn) return txn.error();
    auto init = store->db_.prepare(
        "INSERT INTO ledger (id, schema_version, ledger_id, tag, created) VALUES (1, ?1, ?2, ?3, "
        "?4)");
    if (!init) return init.error();
    int64_t now = static_cast<int64_t>(time(nullptr));
    init->bind(1, ledger_schema::kSchemaVersion)
        .bind(2, random_id())
        .bind(3, options.tag)
        .bind(4, now);
    if (auto done = init->run(); !done) return done.error();
    auto period = store->db_.prepare("INSERT INTO periods (started) VALUES (?1)");
    if (!period) return period.error();
    period->bind(1, now);
    if (auto done = period->run(); !done) return done.error();
    if (auto done = store->db_.exec("INSERT INTO export (id) VALUES (1)"); !done)
      return done.error();
    if (auto done = txn->commit(); !done) return done.error();
    store->created_ = true;
  }
  row = sql::Statement();
  if (auto prepared = store->prepare(); !prepared) return prepared.error();
  return store;
}

Result<void> SqliteStore::prepare() {
  for (Scope scope : kScopes) {
    auto stmt = db_.prepare(upsert_sql(scope).c_str());
    if (!stmt) return stmt.error();
    upsert_flow_[static_cast<int>(scope)] = std::move(stmt.value());
  }
  auto totals = db_.prepare(
      "INSERT INTO totals (scope, family, protocol, flows, rx_bytes, rx_packets, tx_bytes, "
      "tx_packets) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (scope, family, protocol) "
      "DO UPDATE SET flows = flows + excluded.flows, rx_bytes = rx_bytes + excluded.rx_bytes, "
      "rx_packets = rx_packets + excluded.rx_packets, tx_bytes = tx_bytes + excluded.tx_bytes, "
      "tx_packets = tx_packets + excluded.tx_packets");
  if (!totals) return totals.error();
  upsert_totals_ = std::move(totals.value());
  auto bucket = db_.prepare(
      "INSERT INTO buckets (scope, bucket, rx_bytes, rx_packets, tx_bytes, tx_packets) VALUES "
      "(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (scope, bucket) DO UPDATE SET "
      "rx_bytes = rx_bytes + excluded.rx_bytes, rx_packets = rx_packets + excluded.rx_packets, "
      "tx_bytes = tx_bytes + excluded.tx_bytes, tx_packets = tx_packets + excluded.tx_packets");
  if (!bucket) return bucket.error();
  upsert_bucket_ = std::move(bucket.value());
  const char* kAddCounters =
      " ON CONFLICT DO UPDATE SET rx_bytes = rx_bytes + excluded.rx_bytes, "
      "rx_packets = rx_packets + excluded.rx_packets, tx_bytes = tx_bytes + excluded.tx_bytes, "
      "tx_packets = tx_packets + excluded.tx_packets";
  auto flow_bin = db_.prepare(
      (std::string(
           "INSERT INTO flow_bins (level, start, local, remote, protocol, rx_bytes, "
           "rx_packets, tx_bytes, tx_packets) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)") +
       kAddCounters)
          .c_str());
  if (!flow_bin) return flow_bin.error();
  upsert_flow_bin_ = std::move(flow_bin.value());
  auto tag_bin = db_.prepare((std::string("INSERT INTO tag_bins (level, start, rx_bytes, "
                                          "rx_packets, tx_bytes, tx_packets) VALUES (?1, ?2, ?3, "
                                          "?4, ?5, ?6)") +
                              kAddCounters)
                                 .c_str());
  if (!tag_bin) return tag_bin.error();
  upsert_tag_bin_ = std::move(tag_bin.value());
  auto markers =
      db_.prepare("SELECT rolled_hours_until, rolled_days_until FROM ledger WHERE id = 1");
  if (!markers) return markers.error();
  select_markers_ = std::move(markers.value());
  auto clear_recent = db_.prepare("DELETE FROM recent");
  if (!clear_recent) return clear_recent.error();
  clear_recent_ = std::move(clear_recent.value());
  auto recent = db_.prepare(
      "INSERT INTO recent (local, remote, protocol, rx_bytes, rx_packets, tx_bytes, tx_packets) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  if (!recent) return recent.error();
  insert_recent_ = std::move(recent.value());
  auto binding = db_.prepare(
      "UPDATE ledger SET pin_instance = ?1, generation = ?2, harvests = harvests + 1, "
      "last_harvest = ?3, last_traffic = CASE WHEN ?4 THEN ?3 ELSE last_traffic END, "
      "last_flows = ?5, recent_interval_ms = CASE WHEN last_commit_ms > 0 THEN ?6 - "
      "last_commit_ms ELSE 0 END, last_commit_ms = ?6 WHERE id = 1");
  if (!binding) return binding.error();
  update_binding_ = std::move(binding.value());
  auto select = db_.prepare("SELECT pin_instance, generation FROM ledger WHERE id = 1");
  if (!select) return select.error();
  select_binding_ = std::move(select.value());
  return ok();
}

Result<Binding> SqliteStore::binding() {
  auto row = select_binding_.step();
  if (!row) return row.error();
  Binding binding;
  if (row.value()) {
    binding.instance = std::string(select_binding_.column_text(0));
    binding.generation = select_binding_.column_u64(1);
  }
  select_binding_.reset();
  return binding;
}

Result<bool> SqliteStore::upsert_flow(Scope scope, const std::string& local,
                                      const std::string& remote, const FlowDelta& flow,
                                      int64_t first_seen, int64_t last_seen) {
  sql::Statement& stmt = upsert_flow_[static_cast<int>(scope)];
  const netacct_counters& c = flow.counters;
  stmt.bind(1, local)
      .bind(2, remote)
      .bind(3, flow.key.protocol)
      .bind(4, static_cast<int64_t>(c.rx_bytes))
      .bind(5, static_cast<int64_t>(c.rx_packets))
      .bind(6, static_cast<int64_t>(c.tx_bytes))
      .bind(7, static_cast<int64_t>(c.tx_packets))
      .bind(8, first_seen)
      .bind(9, last_seen);
  auto row = stmt.step();
  if (!row) return row.error();
  bool inserted = row.value() && stmt.column_u64(0) == c.rx_packets + c.tx_packets;
  stmt.reset();
  return inserted;
}

Result<void> SqliteStore::add_totals(Scope scope, uint8_t family, uint8_t protocol,
                                     uint64_t new_flows, const netacct_counters& c) {
  upsert_totals_.bind(1, ledger_schema::scope_name(scope))
      .bind(2, family)
      .bind(3, protocol)
      .bind(4, static_cast<int64_t>(new_flows))
      .bind(5, static_cast<int64_t>(c.rx_bytes))
      .bind(6, static_cast<int64_t>(c.rx_packets))
      .bind(7, static_cast<int64_t>(c.tx_bytes))
      .bind(8, static_cast<int64_t>(c.tx_packets));
  return upsert_totals_.run();
}

Result<void> SqliteStore::add_bucket(Scope scope, uint8_t bucket, const netacct_counters& c) {
  upsert_bucket_.bind(1, ledger_schema::scope_name(scope))
      .bind(2, bucket)
      .bind(3, static_cast<int64_t>(c.rx_bytes))
      .bind(4, static_cast<int64_t>(c.rx_packets))
      .bind(5, static_cast<int64_t>(c.tx_bytes))
      .bind(6, static_cast<int64_t>(c.tx_packets));
  return upsert_bucket_.run();
}

Result<void> SqliteStore::upsert_bin(BinLevel level, int64_t start, const std::string& local,
                                     const std::string& remote, uint8_t protocol,
                                     const netacct_counters& c) {
  upsert_flow_bin_.bind(1, static_cast<int64_t>(level))
      .bind(2, start)
      .bind(3, local)
      .bind(4, remote)
      .bind(5, protocol)
      .bind(6, static_cast<int64_t>(c.rx_bytes))
      .bind(7, static_cast<int64_t>(c.rx_packets))
      .bind(8, static_cast<int64_t>(c.tx_bytes))
      .bind(9, static_cast<int64_t>(c.tx_packets));
  return upsert_flow_bin_.run();
}

Result<void> SqliteStore::commit(const Binding& binding, const Delta& delta, int64_t when) {
  auto txn = sql::Transaction::begin(db_);
  if (!txn) return txn.error();
  struct Aggregate {
    uint64_t new_flows[3] = {};
    netacct_counters counters{};
  };
  std::map<std::pair<uint8_t, uint8_t>, Aggregate> by_protocol;
  // Upserts in the tables' key order: each b-tree page is visited once per
  // harvest and stays in the page cache while it is, instead of once per
  // flow at random (5-10x fewer page reads at a million rows).
  struct Keyed {
    std::string local, remote;
    const FlowDelta* flow;
  };
  std::vector<Keyed> keyed;
  keyed.reserve(delta.flows.size());
  for (const FlowDelta& flow : delta.flows)
    keyed.push_back(
        {address_string(flow.key.family, flow.key.local), remote_string(flow.key), &flow});
  std::sort(keyed.begin(), keyed.end(), [](const Keyed& a, const Keyed& b) {
    if (int c = a.local.compare(b.local); c != 0) return c < 0;
    if (int c = a.remote.compare(b.remote); c != 0) return c < 0;
    return a.flow->key.protocol < b.flow->key.protocol;
  });
  for (Scope scope : kScopes) {
    for (const Keyed& k : keyed) {
      const FlowDelta& flow = *k.flow;
      auto inserted = upsert_flow(scope, k.local, k.remote, flow, when, when);
      if (!inserted) return inserted.error();
      Aggregate& aggregate = by_protocol[{flow.key.family, flow.key.protocol}];
      if (scope == Scope::Lifetime) aggregate.counters += flow.counters;
      aggregate.new_flows[static_cast<int>(scope)] += inserted.value() ? 1 : 0;
    }
  }
  // History: the hour bin of this harvest's swap instant (history.hpp);
  // days and months are rolled up from completed hours and days later. A
  // harvest whose hour was rolled up already (the clock went back) is also
  // added to the levels above directly, so no bin misses it.
  std::vector<BinLevel> levels = {BinLevel::Hour};
  {
    auto row = select_markers_.step();
    if (!row) return row.error();
    if (row.value() && bin_start(BinLevel::Hour, when) < select_markers_.column_int(0))
      levels.push_back(BinLevel::Day);
    if (row.value() && bin_start(BinLevel::Day, when) < select_markers_.column_int(1))
      levels.push_back(BinLevel::Month);
    select_markers_.reset();
  }
  for (BinLevel level : levels) {
    int64_t start = bin_start(level, when);
    for (const Keyed& k : keyed)
      if (auto added =
              upsert_bin(level, start, k.local, k.remote, k.flow->key.protocol, k.flow->counters);
          !added)
        return added;
  }
  if (!delta.flows.empty()) {
    netacct_counters total = delta.flow_total();
    upsert_tag_bin_.bind(1, static_cast<int64_t>(BinLevel::FiveMinutes))
        .bind(2, bin_start(BinLevel::FiveMinutes, when))
        .bind(3, static_cast<int64_t>(total.rx_bytes))
        .bind(4, static_cast<int64_t>(total.rx_packets))
        .bind(5, static_cast<int64_t>(total.tx_bytes))
        .bind(6, static_cast<int64_t>(total.tx_packets));
    if (auto added = upsert_tag_bin_.run(); !added) return added;
    // 5-minute totals per local address (remote "*", protocol 0): what a
    // 95th-percentile bill is computed from.
    std::map<std::string, netacct_counters> by_local;
    for (const Keyed& k : keyed) by_local[k.local] += k.flow->counters;
    int64_t start = bin_start(BinLevel::FiveMinutes, when);
    for (const auto& [local, c] : by_local)
      if (auto added = upsert_bin(BinLevel::FiveMinutes, start, local, "*", 0, c); !added)
        return added;
  }
  // The harvest's busiest flows replace the last one's (netacct top): a
  // snapshot bounded by kRecentFlows, whatever the delta's size.
  if (auto cleared = clear_recent_.run(); !cleared) return cleared;
  {
    std::vector<const Keyed*> busiest;
    busiest.reserve(keyed.size());
    for (const Keyed& k : keyed) busiest.push_back(&k);
    size_t shown = std::min(busiest.size(), kRecentFlows);
    auto bytes = [](const Keyed* k) {
      return k->flow->counters.rx_bytes + k->flow->counters.tx_bytes;
    };
    std::partial_sort(busiest.begin(), busiest.begin() + static_cast<long>(shown), busiest.end(),
                      [&](const Keyed* a, const Keyed* b) { return bytes(a) > bytes(b); });
    for (size_t i = 0; i < shown; i++) {
      const netacct_counters& c = busiest[i]->flow->counters;
      insert_recent_.bind(1, busiest[i]->local)
          .bind(2, busiest[i]->remote)
          .bind(3, busiest[i]->flow->key.protocol)
          .bind(4, static_cast<int64_t>(c.rx_bytes))
          .bind(5, static_cast<int64_t>(c.rx_packets))
          .bind(6, static_cast<int64_t>(c.tx_bytes))
          .bind(7, static_cast<int64_t>(c.tx_packets));
      if (auto added = insert_recent_.run(); !added) return added;
    }
  }
  for (const auto& [key, aggregate] : by_protocol)
    for (Scope scope : kScopes)
      if (auto added = add_totals(scope, key.first, key.second,
                                  aggregate.new_flows[static_cast<int>(scope)], aggregate.counters);
          !added)
        return added.error();
  netacct_counters zero{};
  for (uint8_t bucket = NETACCT_BUCKET_FIRST; bucket <= NETACCT_BUCKET_LAST; bucket++) {
    if (delta.buckets[bucket] == zero) continue;
    for (Scope scope : kScopes)
      if (auto added = add_bucket(scope, bucket, delta.buckets[bucket]); !added)
        return added.error();
  }
  update_binding_.bind(1, binding.instance)
      .bind(2, static_cast<int64_t>(binding.generation))
      .bind(3, when)
      .bind(4, delta.empty() ? 0 : 1)
      .bind(5, static_cast<int64_t>(delta.flows.size()))
      .bind(6, static_cast<int64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count()));
  if (auto bound = update_binding_.run(); !bound) return bound.error();
  return txn->commit();
}

Result<void> SqliteStore::set_identity(const std::string& boot_id, const std::string& interface,
                                       const std::string& netns, const std::string& ingress_mode,
                                       uint32_t flow_capacity) {
  auto stmt = db_.prepare(
      "UPDATE ledger SET boot_id = ?1, interface = ?2, netns = ?3, ingress_mode = ?4, "
      "flow_capacity = ?5 WHERE id = 1");
  if (!stmt) return stmt.error();
  stmt->bind(1, boot_id)
      .bind(2, interface)
      .bind(3, netns)
      .bind(4, ingress_mode)
      .bind(5, static_cast<int64_t>(flow_capacity));
  return stmt->run();
}

Result<uint64_t> SqliteStore::roll_up(int64_t now, uint64_t max_rows) {
  uint64_t moved = 0;
  // Hours into days, then days into months: a bin is rolled once it is
  // complete (before the current one), oldest first, whole bins at a time.
  for (auto [from, to, marker] :
       {std::tuple{BinLevel::Hour, BinLevel::Day, "rolled_hours_until"},
        std::tuple{BinLevel::Day, BinLevel::Month, "rolled_days_until"}}) {
    while (moved < max_rows) {
      auto next = db_.prepare((std::string("SELECT min(start) FROM flow_bins WHERE level = ?1 AND "
                                           "start >= (SELECT ") +
                               marker + " FROM ledger WHERE id = 1) AND start < ?2")
                                  .c_str());
      if (!next) return next.error();
      next->bind(1, static_cast<int64_t>(from)).bind(2, bin_start(from, now));
      auto row = next->step();
      if (!row) return row.error();
      if (!row.value() || next->column_null(0)) break;
      int64_t start = next->column_int(0);
      auto txn = sql::Transaction::begin(db_);
      if (!txn) return txn.error();
      auto copy = db_.prepare(
          "INSERT INTO flow_bins (level, start, local, remote, protocol, rx_bytes, rx_packets, "
          "tx_bytes, tx_packets) SELECT ?1, ?2, local, remote, protocol, rx_bytes, rx_packets, "
          "tx_bytes, tx_packets FROM flow_bins WHERE level = ?3 AND start = ?4 AND remote != '*' "
          "ORDER BY local, remote, protocol ON CONFLICT DO UPDATE SET rx_bytes = rx_bytes + "
          "excluded.rx_bytes, rx_packets = rx_packets + excluded.rx_packets, tx_bytes = tx_bytes "
          "+ excluded.tx_bytes, tx_packets = tx_packets + excluded.tx_packets");
      if (!copy) return copy.error();
      copy->bind(1, static_cast<int64_t>(to))
          .bind(2, bin_start(to, start))
          .bind(3, static_cast<int64_t>(from))
          .bind(4, start);
      if (auto done = copy->run(); !done) return done.error();
      moved += static_cast<uint64_t>(db_.changes());
      auto mark =
          db_.prepare((std::string("UPDATE ledger SET ") + marker + " = ?1 WHERE id = 1").c_str());
      if (!mark) return mark.error();
      mark->bind(1, next_bin(from, start));
      if (auto done = mark->run(); !done) return done.error();
      if (auto done = txn->commit(); !done) return done.error();
    }
  }
  return moved;
}

Result<uint64_t> SqliteStore::prune_history(int64_t now, const Retention& retention,
                                            uint64_t max_rows) {
  uint64_t removed = 0;
  for (BinLevel level : {BinLevel::FiveMinutes, BinLevel::Hour, BinLevel::Day, BinLevel::Month}) {
    int64_t keep = retention.of(level);
    if (keep <= 0 || removed >= max_rows) continue;
    // Whole bins only: a bin is removed once it ended before the limit,
    // and once it was rolled into the level above.
    int64_t before = bin_start(level, now - keep);
    if (level == BinLevel::Hour || level == BinLevel::Day) {
      auto marker = db_.prepare(level == BinLevel::Hour
                                    ? "SELECT rolled_hours_until FROM ledger WHERE id = 1"
                                    : "SELECT rolled_days_until FROM ledger WHERE id = 1");
      if (!marker) return marker.error();
      auto row = marker->step();
      if (!row) return row.error();
      if (row.value()) before = std::min(before, marker->column_int(0));
    }
    if (level == BinLevel::FiveMinutes) {
      auto stmt = db_.prepare(
          "DELETE FROM tag_bins WHERE (level, start) IN (SELECT level, start FROM tag_bins "
          "WHERE level = ?1 AND start < ?2 LIMIT ?3)");
      if (!stmt) return stmt.error();
      stmt->bind(1, static_cast<int64_t>(level))
          .bind(2, bin_start(level, now - keep))
          .bind(3, static_cast<int64_t>(max_rows - removed));
      if (auto done = stmt->run(); !done) return done.error();
      removed += static_cast<uint64_t>(db_.changes());
      if (removed >= max_rows) continue;
    }
    const char* sql =
        "DELETE FROM flow_bins WHERE (level, start, local, remote, protocol) IN (SELECT "
        "level, start, local, remote, protocol FROM flow_bins WHERE level = ?1 AND start < "
        "?2 LIMIT ?3)";
    auto stmt = db_.prepare(sql);
    if (!stmt) return stmt.error();
    stmt->bind(1, static_cast<int64_t>(level))
        .bind(2, before)
        .bind(3, static_cast<int64_t>(max_rows - removed));
    if (auto done = stmt->run(); !done) return done.error();
    removed += static_cast<uint64_t>(db_.changes());
  }
  return removed;
}

Result<void> SqliteStore::set_metrics(const std::string& address) {
  auto stmt = db_.prepare("UPDATE ledger SET metrics = ?1 WHERE id = 1");
  if (!stmt) return stmt.error();
  stmt->bind(1, address);
  return stmt->run();
}

Result<bool> SqliteStore::has_unexported() {
  auto stmt = db_.prepare(
      "SELECT EXISTS (SELECT 1 FROM unexported_flows) OR EXISTS (SELECT 1 FROM buckets WHERE "
      "scope = 'unexported')");
  if (!stmt) return stmt.error();
  auto row = stmt->step();
  if (!row) return row.error();
  return row.value() && stmt->column_int(0) != 0;
}

Result<void> SqliteStore::export_pending(uint64_t seq, const FileIdentity& temp) {
  auto stmt = db_.prepare(
      "UPDATE export SET pending_seq = ?1, pending_dev = ?2, pending_ino = ?3 WHERE id = 1");
  if (!stmt) return stmt.error();
  stmt->bind(1, static_cast<int64_t>(seq)).bind(2, temp.dev).bind(3, temp.ino);
  return stmt->run();
}

Result<void> SqliteStore::clear_scope(Scope scope) {
  std::string sql = std::string("DELETE FROM ") + ledger_schema::flows_table(scope) +
                    "; DELETE FROM buckets WHERE scope = '" + ledger_schema::scope_name(scope) +
                    "'; DELETE FROM totals WHERE scope = '" + ledger_schema::scope_name(scope) +
                    "';";
  return db_.exec(sql.c_str());
}

Result<void> SqliteStore::copy_scope(Scope from, Scope to) {
  std::string f = ledger_schema::scope_name(from), t = ledger_schema::scope_name(to);
  std::string sql = std::string("INSERT INTO ") + ledger_schema::flows_table(to) +
                    " SELECT * FROM " + ledger_schema::flows_table(from) +
                    "; INSERT INTO buckets SELECT '" + t +
                    "', bucket, rx_bytes, rx_packets, tx_bytes, tx_packets FROM buckets WHERE "
                    "scope = '" +
                    f + "'; INSERT INTO totals SELECT '" + t +
                    "', family, protocol, flows, rx_bytes, rx_packets, tx_bytes, tx_packets FROM "
                    "totals WHERE scope = '" +
                    f + "';";
  return db_.exec(sql.c_str());
}

Result<void> SqliteStore::export_done(uint64_t seq, const FileIdentity& file, int64_t when) {
  auto txn = sql::Transaction::begin(db_);
  if (!txn) return txn.error();
  if (auto cleared = clear_scope(Scope::Unexported); !cleared) return cleared;
  auto stmt = db_.prepare(
      "UPDATE export SET seq = ?1, has_file = 1, dev = ?2, ino = ?3, size = ?4, mtime_ns = ?5, "
      "written = ?6, pending_seq = 0, pending_dev = 0, pending_ino = 0 WHERE id = 1");
  if (!stmt) return stmt.error();
  stmt->bind(1, static_cast<int64_t>(seq))
      .bind(2, file.dev)
      .bind(3, file.ino)
      .bind(4, file.size)
      .bind(5, file.mtime_ns)
      .bind(6, when);
  if (auto done = stmt->run(); !done) return done;
  return txn->commit();
}

Result<void> SqliteStore::export_abandoned() {
  return db_.exec(
      "UPDATE export SET pending_seq = 0, pending_dev = 0, pending_ino = 0 WHERE id = 1");
}

Result<void> SqliteStore::rotate(int64_t now, const std::string& reason) {
  auto state = queries_.export_state();
  if (!state) return state.error();
  // The period ends where the rotated file ends: at the last export.
  int64_t boundary = state->written > 0 ? state->written : now;
  auto txn = sql::Transaction::begin(db_);
  if (!txn) return txn.error();
  auto end = db_.prepare(
      "UPDATE periods SET ended = ?1, end_reason = ?2 WHERE id = (SELECT max(id) FROM periods)");
  if (!end) return end.error();
  end->bind(1, boundary).bind(2, reason);
  if (auto done = end->run(); !done) return done;
  auto begin = db_.prepare("INSERT INTO periods (started) VALUES (?1)");
  if (!begin) return begin.error();
  begin->bind(1, boundary);
  if (auto done = begin->run(); !done) return done;
  if (auto cleared = clear_scope(Scope::Period); !cleared) return cleared;
  if (auto copied = copy_scope(Scope::Unexported, Scope::Period); !copied) return copied;
  if (auto done = db_.exec("UPDATE export SET has_file = 0 WHERE id = 1"); !done) return done;
  return txn->commit();
}

Result<SqliteStore::Import> SqliteStore::begin_import() {
  auto txn = sql::Transaction::begin(db_);
  if (!txn) return txn.error();
  return Import(*this, std::move(txn.value()));
}

Result<void> SqliteStore::Import::add_flow(const FlowRow& row, uint8_t family) {
  FlowDelta flow{};
  flow.key.family = family;
  flow.key.protocol = row.protocol;
  flow.counters = row.counters;
  std::string local(row.local), remote(row.remote);
  for (Scope scope : {Scope::Lifetime, Scope::Period}) {
    auto inserted = store_.upsert_flow(scope, local, remote, flow, row.first_seen, row.last_seen);
    if (!inserted) return inserted.error();
    if (auto added =
            store_.add_totals(scope, family, row.protocol, inserted.value() ? 1 : 0, row.counters);
        !added)
      return added;
  }
  return ok();
}

Result<void> SqliteStore::Import::add_bucket(uint8_t bucket, const netacct_counters& counters) {
  for (Scope scope : {Scope::Lifetime, Scope::Period})
    if (auto added = store_.add_bucket(scope, bucket, counters); !added) return added;
  return ok();
}

Result<void> SqliteStore::Import::finish(const Binding& binding, int64_t period_started,
                                         const FileIdentity& file, int64_t now) {
  sql::Database& db = store_.db_;
  auto bind = db.prepare("UPDATE ledger SET pin_instance = ?1, generation = ?2 WHERE id = 1");
  if (!bind) return bind.error();
  bind->bind(1, binding.instance).bind(2, static_cast<int64_t>(binding.generation));
  if (auto done = bind->run(); !done) return done;
  auto period =
      db.prepare("UPDATE periods SET started = ?1 WHERE id = (SELECT max(id) FROM periods)");
  if (!period) return period.error();
  period->bind(1, period_started);
  if (auto done = period->run(); !done) return done;
  auto exported = db.prepare(
      "UPDATE export SET has_file = 1, dev = ?1, ino = ?2, size = ?3, mtime_ns = ?4, written = ?5 "
      "WHERE id = 1");
  if (!exported) return exported.error();
  exported->bind(1, file.dev)
      .bind(2, file.ino)
      .bind(3, file.size)
      .bind(4, file.mtime_ns)
      .bind(5, now);
  if (auto done = exported->run(); !done) return done;
  if (auto done = txn_.commit(); !done) return done;
  store_.created_ = false;
  return ok();
}

}  // namespace netacct
