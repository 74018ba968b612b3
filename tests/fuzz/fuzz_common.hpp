// SPDX-License-Identifier: GPL-2.0-only
// Shared pieces of the libFuzzer harnesses (tests/fuzz/, built by
// `make fuzz` with clang, ASan and UBSan): a private scratch file for the
// parsers that read a path, and the log kept quiet.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "daemon/common/log.hpp"

namespace netacct::fuzz {

// A directory of this process, made once, removed at exit.
inline const std::string& scratch_dir() {
  static const std::string dir = [] {
    char pattern[] = "/tmp/netacct-fuzz-XXXXXX";
    const char* made = ::mkdtemp(pattern);
    if (!made) std::abort();
    return std::string(made);
  }();
  static const bool cleanup = [] {
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(scratch_dir(), ignored);
    });
    return true;
  }();
  (void)cleanup;
  return dir;
}

// Writes the input to scratch_dir()/name (replacing it) and returns the path.
inline std::string write_scratch(const std::string& name, const uint8_t* data, size_t size) {
  std::string path = scratch_dir() + "/" + name;
  ::unlink(path.c_str());
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) std::abort();
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::write(fd, data + done, size - done);
    if (n <= 0) std::abort();
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  return path;
}

inline void quiet() {
  static bool done = [] {
    log::set_level(log::Level::Error);
    return true;
  }();
  (void)done;
}

}  // namespace netacct::fuzz
