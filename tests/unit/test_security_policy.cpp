// SPDX-License-Identifier: GPL-2.0-only
// The shipped security policies are real: the AppArmor profile parses with
// apparmor_parser (no kernel load), the SELinux module compiles with
// checkmodule and packages with semodule_package (Debian's checkpolicy and
// semodule-utils), and every key of the sysctl.d example exists.
#include <doctest/doctest.h>
#include <stdio.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "ledger_fakes.hpp"

using namespace netacct::test;

namespace {

int shell(const std::string& command, std::string* output) {
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output->append(buffer, n);
  int status = ::pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST_CASE("security: the AppArmor profile parses (apparmor_parser -QT, no kernel load)") {
  std::string out;
  int rc = shell(
      "apparmor_parser --skip-kernel-load --skip-read-cache --skip-cache "
      "config/apparmor/usr.local.bin.netacctd",
      &out);
  INFO(out);
  CHECK(rc == 0);
  // A profile that does not parse prints "AppArmor parser error".
  CHECK(out.find("error") == std::string::npos);
  // And the parser is not lenient: a broken copy fails.
  TempDir dir;
  { std::ofstream(dir.file("broken")) << "profile x /x { capability nonsense, }\n"; }
  std::string broken;
  CHECK(shell("apparmor_parser -QTK " + dir.file("broken"), &broken) != 0);
}

TEST_CASE("security: the SELinux module compiles (checkmodule -M -m) and packages") {
  TempDir dir;
  std::string out;
  int rc =
      shell("checkmodule -M -m -o " + dir.file("netacctd.mod") +
                " config/selinux/netacctd.te && semodule_package -o " + dir.file("netacctd.pp") +
                " -m " + dir.file("netacctd.mod") + " -f config/selinux/netacctd.fc",
            &out);
  INFO(out);
  CHECK(rc == 0);
  CHECK(::access(dir.file("netacctd.pp").c_str(), R_OK) == 0);
}

TEST_CASE("security: every key of the sysctl.d example exists on this kernel") {
  std::ifstream in("config/sysctl.d/60-netacct-hardening.conf");
  REQUIRE(in);
  int keys = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::string key = line.substr(0, line.find(' '));
    std::string path = "/proc/sys/" + key;
    for (char& c : path)
      if (c == '.') c = '/';
    INFO(key);
    CHECK(::access(path.c_str(), F_OK) == 0);
    keys++;
  }
  CHECK(keys >= 4);
}
