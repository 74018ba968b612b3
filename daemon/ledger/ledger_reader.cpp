// SPDX-License-Identifier: GPL-2.0-only
#include "ledger_reader.hpp"

#include <sys/stat.h>

namespace netacct {

std::string ledger_path(const std::string& state_dir, const std::string& tag) {
  std::string dir = state_dir.empty() ? "." : state_dir;
  if (dir.back() != '/') dir += '/';
  return dir + tag + ".db";
}

Result<std::unique_ptr<LedgerReader>> LedgerReader::open(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return make_error("ledger " + path, errno);
  if (!S_ISREG(st.st_mode)) return Error{"ledger " + path + " is not a regular file", 0, {}};
  auto db = sql::Database::open(path, sql::Database::Mode::ReadOnly);
  if (!db) return db.error();
  if (auto set = db->exec("PRAGMA busy_timeout = 1000"); !set) return set.error();
  return std::unique_ptr<LedgerReader>(new LedgerReader(std::move(db.value())));
}

Result<LedgerSnapshot> LedgerReader::snapshot() {
  // One read transaction: the three parts come from the same commit.
  auto txn = sql::Transaction::begin(db_, false);
  if (!txn) return txn.error();
  LedgerSnapshot snapshot;
  auto info = queries_.info();
  if (!info) return info.error();
  snapshot.info = std::move(info.value());
  auto lifetime = queries_.totals(Scope::Lifetime);
  if (!lifetime) return lifetime.error();
  snapshot.lifetime = std::move(lifetime.value());
  auto period = queries_.totals(Scope::Period);
  if (!period) return period.error();
  snapshot.period = std::move(period.value());
  if (auto done = txn->commit(); !done) return done.error();
  return snapshot;
}

}  // namespace netacct
