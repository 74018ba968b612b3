// SPDX-License-Identifier: GPL-2.0-only
// Integration tests: every daemon and tool started by a test keeps its
// ledgers in one directory of this run ($NETACCT_STATE_DIR), removed at the
// end, so no run leaves databases in the checkout.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

int main(int argc, char** argv) {
  std::string state_dir;
  if (const char* given = ::getenv("NETACCT_STATE_DIR"); !given || !*given) {
    char pattern[] = "/tmp/netacct-it-state-XXXXXX";
    if (::mkdtemp(pattern)) {
      state_dir = pattern;
      ::setenv("NETACCT_STATE_DIR", pattern, 1);
    }
  }
  doctest::Context context(argc, argv);
  int result = context.run();
  if (!state_dir.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(state_dir, ignored);
  }
  return result;
}
