// SPDX-License-Identifier: GPL-2.0-only
// One logger for the process: levels, the tag in every line.
//
// Thread safety: any thread may log at any time, also while another thread
// reopens the log file. Each line is formatted into a buffer and written
// with a single write(2) on an O_APPEND descriptor, so lines never
// interleave; a reopen dup2()s the new file onto that same descriptor, which
// the kernel does atomically, so a line goes either to the old file or to
// the new one, never to a closed stream. The tag and the output are set
// once at start-up, before other threads exist.
#pragma once

#include <string>

#include "result.hpp"

namespace netacct::log {

enum class Level { Debug = 0, Info = 1, Warn = 2, Error = 3 };

void set_level(Level level);
Level level();
bool enabled(Level level);
void set_tag(std::string tag);
// Lines go to stderr until a file is opened. Opening creates the file
// (mode 0640) and appends to it.
Result<void> open_file(const std::string& path);
// Reopens the file given to open_file (logrotate's SIGUSR1); no-op for stderr.
Result<void> reopen();

// A screen owner (the live console) takes the lines that would go to
// stderr, so they do not scribble over it; lines to a log file still go to
// the file. After set_sink(nullptr) returns, no thread is inside the old
// sink, so its owner may be destroyed.
class LineSink {
 public:
  virtual ~LineSink() = default;
  virtual void line(const char* text, size_t length) = 0;  // without the newline
};
void set_sink(LineSink* sink);

void write(Level level, const char* format, ...) __attribute__((format(printf, 2, 3)));
// Writes an already formatted message (libbpf's printer uses it).
void write_message(Level level, const char* message);

}  // namespace netacct::log

#define NA_DEBUG(...)                                                   \
  do {                                                                  \
    if (::netacct::log::enabled(::netacct::log::Level::Debug))          \
      ::netacct::log::write(::netacct::log::Level::Debug, __VA_ARGS__); \
  } while (0)
#define NA_INFO(...) ::netacct::log::write(::netacct::log::Level::Info, __VA_ARGS__)
#define NA_WARN(...) ::netacct::log::write(::netacct::log::Level::Warn, __VA_ARGS__)
#define NA_ERROR(...) ::netacct::log::write(::netacct::log::Level::Error, __VA_ARGS__)
