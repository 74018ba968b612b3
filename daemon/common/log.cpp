// SPDX-License-Identifier: GPL-2.0-only
#include "log.hpp"

#include <bpf/libbpf.h>

#include <cstdarg>
#include <cstring>
#include <ctime>

namespace netacct::log {
namespace {

// The logger is process-wide by nature (libbpf's print hook is global too).
struct State {
  Level level = Level::Info;
  std::string tag;
  std::FILE* out = stderr;
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

void vwrite(Level level, const char* format, va_list args) {
  State& s = state();
  if (level < s.level) return;
  char stamp[32];
  std::time_t now = std::time(nullptr);
  struct tm tm_now;
  localtime_r(&now, &tm_now);
  std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm_now);
  std::fprintf(s.out, "%s %s%s%s%s: ", stamp, s.tag.empty() ? "" : "[", s.tag.c_str(),
               s.tag.empty() ? "" : "] ", level_name(level));
  std::vfprintf(s.out, format, args);
  std::fputc('\n', s.out);
  std::fflush(s.out);
}

int libbpf_print(enum libbpf_print_level lvl, const char* format, va_list args) {
  Level level = lvl == LIBBPF_WARN ? Level::Info : Level::Debug;
  // Netlink's extended acks for expected outcomes ("clsact exists", "no
  // such filter yet") are noise at info level; callers report real errors.
  if (std::strstr(format, "Kernel error message") != nullptr) level = Level::Debug;
  if (level < state().level) return 0;
  // libbpf lines end in '\n' already; strip it by formatting first.
  char line[1024];
  int n = std::vsnprintf(line, sizeof line, format, args);
  if (n > 0 && static_cast<size_t>(n) < sizeof line && line[n - 1] == '\n') line[n - 1] = '\0';
  // libbpf starts its lines with "libbpf: " already.
  write(level, "%s", line);
  return 0;
}

}  // namespace

void set_level(Level level) {
  state().level = level;
}
Level level() {
  return state().level;
}
void set_tag(std::string tag) {
  state().tag = std::move(tag);
}
void set_output(std::FILE* out) {
  state().out = out;
}
void capture_libbpf() {
  libbpf_set_print(libbpf_print);
}

void write(Level level, const char* format, ...) {
  va_list args;
  va_start(args, format);
  vwrite(level, format, args);
  va_end(args);
}

}  // namespace netacct::log
