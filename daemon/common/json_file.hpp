// SPDX-License-Identifier: GPL-2.0-only
// Reading and writing JSON files the way every netacct file is handled:
// parse errors name the file, line and column; writes are atomic (temporary
// file, fsync, rename, fsync of the directory) so a reader never sees a
// partial file and a crash leaves either the old or the new one.
#pragma once

#include <sys/types.h>

#include <boost/json.hpp>
#include <cstddef>
#include <string>

#include "result.hpp"

namespace netacct {

// Parses text; on error the message is "FILE:LINE:COL: what".
Result<boost::json::value> parse_json_text(const std::string& text, const std::string& file);
// Configuration files larger than this are refused (a whitelist has its own
// limit, derived from --max-whitelist).
constexpr size_t kMaxConfigBytes = 16u << 20;

// The whole of a regular file of at most max_bytes. Symbolic links are
// followed (a Kubernetes ConfigMap is links), but a directory, a FIFO (whose
// open would block), a device or a socket is refused, as is a larger file:
// each with one line naming `what` and the path. ENOENT keeps its errno.
Result<std::string> read_regular_file(const std::string& path, const std::string& what,
                                      size_t max_bytes);
// ENOENT keeps its errno so callers can tell "missing" from "broken".
Result<boost::json::value> read_json_file(const std::string& path,
                                          size_t max_bytes = kMaxConfigBytes);
// Temporary files of ours next to PATH: "PATH.netacct-tmp.PID.RANDOM",
// created O_EXCL|O_NOFOLLOW, so a planted file or link fails the write.
constexpr const char* kTempMarker = ".netacct-tmp.";
std::string temp_name_for(const std::string& path);
// Removes the temporary files a killed writer of PATH left (our naming,
// regular files we own, whose writer pid no longer runs). Returns how many.
size_t remove_stale_temp_files(const std::string& path);
Result<void> write_file_atomic(const std::string& path, const std::string& content,
                               mode_t mode = 0644);
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
