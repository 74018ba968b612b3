// SPDX-License-Identifier: GPL-2.0-only
// Reading and writing JSON files the way every netacct file is handled:
// parse errors name the file, line and column; writes are atomic (temporary
// file, fsync, rename, fsync of the directory) so a reader never sees a
// partial file and a crash leaves either the old or the new one.
#pragma once

#include <boost/json.hpp>
#include <string>

#include "result.hpp"

namespace netacct {

// Parses text; on error the message is "FILE:LINE:COL: what".
Result<boost::json::value> parse_json_text(const std::string& text, const std::string& file);
// ENOENT keeps its errno so callers can tell "missing" from "broken".
Result<boost::json::value> read_json_file(const std::string& path);
Result<void> write_file_atomic(const std::string& path, const std::string& content);
// Pretty-prints with two-space indentation (the seed's files are indented).
// `indent` levels of two spaces are applied to every line but the first.
std::string pretty_json(const boost::json::value& value, int indent = 0);

// Holds an exclusive flock on PATH.lock (the data file itself is replaced
// by rename, so it cannot carry the lock).
class FileLock {
 public:
  static Result<FileLock> acquire(const std::string& data_path);
  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&&) = delete;
  FileLock(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace netacct

namespace netacct {
// Boost.JSON keeps the last of duplicate keys silently; configuration files
// must not. Returns the dotted path of the first key that appears twice in
// one object ("whitelist.office"), or "" when there is none (or the text does
// not parse: parse_json_text reports that).
std::string find_duplicate_key(const std::string& text);
}  // namespace netacct
