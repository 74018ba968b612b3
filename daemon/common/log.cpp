// SPDX-License-Identifier: GPL-2.0-only
#include "log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>

namespace netacct::log {
namespace {

// Process-wide by nature (one stderr, one log file). Only the level and the
// descriptor change after start-up, and both are atomics.
struct State {
  std::atomic<int> level{static_cast<int>(Level::Info)};
  std::atomic<int> fd{STDERR_FILENO};
  std::string tag;   // set before any other thread starts
  std::string path;  // "" while logging to stderr
  std::atomic<LineSink*> sink{nullptr};
  std::mutex sink_mutex;  // held while a sink runs, and to change it
};

State& state() {
  static State instance;
  return instance;
}

const char* level_name(Level level) {
  switch (level) {
    case Level::Debug: return "debug";
    case Level::Info: return "info";
    case Level::Warn: return "warn";
    case Level::Error: return "error";
  }
  return "?";
}

// Formats "<time> [tag] level: " into `line`; returns its length.
size_t format_prefix(char* line, size_t size, Level level) {
  std::time_t now = std::time(nullptr);
  struct tm tm_now {};
  localtime_r(&now, &tm_now);
  size_t n = std::strftime(line, size, "%Y-%m-%d %H:%M:%S ", &tm_now);
  const std::string& tag = state().tag;
  int more = tag.empty()
                 ? std::snprintf(line + n, size - n, "%s: ", level_name(level))
                 : std::snprintf(line + n, size - n, "[%s] %s: ", tag.c_str(), level_name(level));
  return n + static_cast<size_t>(more > 0 ? more : 0);
}

void emit(char* line, size_t length, size_t capacity) {
  // Always one line: drop a trailing newline the message may carry, then
  // add ours (the buffer keeps one byte for it).
  if (length >= capacity) length = capacity - 1;
  while (length > 0 && line[length - 1] == '\n') length--;
  int fd = state().fd.load(std::memory_order_acquire);
  if (state().sink.load(std::memory_order_acquire)) {
    std::lock_guard<std::mutex> lock(state().sink_mutex);
    if (LineSink* sink = state().sink.load(); sink) {
      sink->line(line, length);
      if (fd == STDERR_FILENO) return;
    }
  }
  line[length++] = '\n';
  // One write on an O_APPEND descriptor: lines from threads never mix. A
  // short write (a full disk) has nowhere better to be reported.
  ssize_t written = ::write(fd, line, length);
  (void)written;
}

Result<int> open_append(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
  if (fd < 0) return make_error("open log file", errno, path);
  return fd;
}

}  // namespace

void set_sink(LineSink* sink) {
  std::lock_guard<std::mutex> lock(state().sink_mutex);
  state().sink.store(sink, std::memory_order_release);
}

void set_level(Level level) {
  state().level.store(static_cast<int>(level));
}
Level level() {
  return static_cast<Level>(state().level.load());
}
bool enabled(Level wanted) {
  return static_cast<int>(wanted) >= state().level.load();
}
void set_tag(std::string tag) {
  state().tag = std::move(tag);
}

Result<void> open_file(const std::string& path) {
  auto fd = open_append(path);
  if (!fd) return fd.error();
  state().path = path;
  state().fd.store(fd.value(), std::memory_order_release);
  return ok();
}

Result<void> reopen() {
  State& s = state();
  if (s.path.empty()) return ok();
  auto fresh = open_append(s.path);
  if (!fresh) return fresh.error();
  // dup3 replaces what the log descriptor refers to in one step: a thread
  // writing at this instant writes to the old file or the new, both open.
  int rc = ::dup3(fresh.value(), s.fd.load(), O_CLOEXEC);
  int err = errno;
  ::close(fresh.value());
  if (rc < 0) return make_error("reopen log file", err, s.path);
  return ok();
}

void write(Level level, const char* format, ...) {
  if (!enabled(level)) return;
  char line[4096];
  size_t n = format_prefix(line, sizeof line - 1, level);
  va_list args;
  va_start(args, format);
  int body = std::vsnprintf(line + n, sizeof line - 1 - n, format, args);
  va_end(args);
  size_t length = n + static_cast<size_t>(body > 0 ? body : 0);
  emit(line, std::min(length, sizeof line - 1), sizeof line);
}

void write_message(Level level, const char* message) {
  write(level, "%s", message);
}

}  // namespace netacct::log
