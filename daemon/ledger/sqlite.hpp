// SPDX-License-Identifier: GPL-2.0-only
// Thin RAII over the SQLite C API: a connection, prepared statements, a
// transaction. Errors become Result values naming the database file and
// SQLite's own message; nothing here throws.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "../common/result.hpp"

namespace netacct::sql {

class Database;

// One prepared statement. bind_* take 1-based indexes as SQLite does; the
// column_* getters read the current row after step() returned true.
class Statement {
 public:
  Statement() = default;
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  Statement& bind(int index, int64_t value);
  Statement& bind(int index, std::string_view text);
  Statement& bind_null(int index);
  // true: a row is ready; false: done. Errors name the statement.
  Result<bool> step();
  // step() to completion, then reset(): for statements returning no rows.
  Result<void> run();
  void reset();

  int64_t column_int(int index) const { return sqlite3_column_int64(stmt_, index); }
  uint64_t column_u64(int index) const {
    return static_cast<uint64_t>(sqlite3_column_int64(stmt_, index));
  }
  std::string_view column_text(int index) const;
  bool column_null(int index) const { return sqlite3_column_type(stmt_, index) == SQLITE_NULL; }

 private:
  friend class Database;
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  sqlite3_stmt* stmt_ = nullptr;
};

class Database {
 public:
  enum class Mode { ReadWrite, ReadOnly };
  static Result<Database> open(const std::string& path, Mode mode);
  Database(Database&& other) noexcept;
  Database& operator=(Database&& other) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  Result<void> exec(const char* sql);
  Result<Statement> prepare(const char* sql);
  // SQLite's last error as an Error about `op`.
  Error error(const std::string& op) const;
  int64_t changes() const { return sqlite3_changes64(db_); }
  const std::string& path() const { return path_; }
  sqlite3* handle() const { return db_; }

 private:
  Database(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_ = nullptr;
  std::string path_;
};

// BEGIN IMMEDIATE ... COMMIT; rolled back unless commit() succeeded.
class Transaction {
 public:
  static Result<Transaction> begin(Database& db, bool write = true);
  Transaction(Transaction&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  ~Transaction();
  Result<void> commit();

 private:
  explicit Transaction(Database* db) : db_(db) {}
  Database* db_ = nullptr;
};

}  // namespace netacct::sql
