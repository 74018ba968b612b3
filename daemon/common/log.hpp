// SPDX-License-Identifier: GPL-2.0-only
// One logger for the process: levels, the tag in every line, and libbpf's
// own messages routed through it one level lower.
#pragma once

#include <cstdio>
#include <string>

namespace netacct::log {

enum class Level { Debug = 0, Info = 1, Warn = 2, Error = 3 };

void set_level(Level level);
Level level();
void set_tag(std::string tag);
// Where lines go; stderr by default. The caller keeps ownership of `out`.
void set_output(std::FILE* out);
// Routes libbpf_set_print into this logger (libbpf info -> debug, warn -> info).
void capture_libbpf();

void write(Level level, const char* format, ...) __attribute__((format(printf, 2, 3)));

}  // namespace netacct::log

#define NA_DEBUG(...) ::netacct::log::write(::netacct::log::Level::Debug, __VA_ARGS__)
#define NA_INFO(...) ::netacct::log::write(::netacct::log::Level::Info, __VA_ARGS__)
#define NA_WARN(...) ::netacct::log::write(::netacct::log::Level::Warn, __VA_ARGS__)
#define NA_ERROR(...) ::netacct::log::write(::netacct::log::Level::Error, __VA_ARGS__)
