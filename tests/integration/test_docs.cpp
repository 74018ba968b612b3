// SPDX-License-Identifier: GPL-2.0-only
// What an operator reads and types: every binary's --help (usage, exit 0),
// the manual pages (rendered by `man -l`, and naming every flag the
// command's --help lists), and the bash completion (flags and tags).
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <regex>
#include <set>
#include <string>
#include <vector>

#include "tests/support/daemon_process.hpp"
#include "tests/support/topology.hpp"

using namespace netacct::test;

namespace {

struct Page {
  const char* command;
  const char* page;  // under $(BUILD)/man
};
const Page kPages[] = {
    {"netacctd", "man8/netacctd.8"},
    {"netacct-cleanup", "man8/netacct-cleanup.8"},
    {"netacct-health", "man8/netacct-health.8"},
    {"netacct-multi", "man8/netacct-multi.8"},
    {"netacct", "man1/netacct.1"},
};

// The long flags a --help text names ("--pin-base", "--xdp", ...).
std::set<std::string> long_flags(const std::string& help) {
  std::set<std::string> flags;
  std::regex flag("--[a-z][a-z0-9-]*[a-z0-9]");
  for (auto it = std::sregex_iterator(help.begin(), help.end(), flag); it != std::sregex_iterator();
       ++it)
    flags.insert(it->str());
  return flags;
}

}  // namespace

TEST_CASE("help: every binary prints its usage with --help and exits 0") {
  for (const char* name : {"netacctd", "netacct", "netacct-cleanup", "netacct-health",
                           "netacct-multi", "netacct-verify", "netacct-bench"}) {
    INFO(std::string(name));
    std::string out;
    // Bounded: a --help that started real work would hang here, not pass.
    int code = run("timeout 10 " + build_dir() + "/bin/" + name + " --help", &out);
    CHECK(code == 0);
    CHECK(out.find("Usage: ") == 0);
  }
}

TEST_CASE("man: every page renders with man -l and names every flag of its --help") {
  if (run("command -v man && command -v scdoc") != 0) {
    MESSAGE("skipped: man or scdoc is missing (Debian packages 'man-db', 'scdoc'; 'make deps')");
    return;
  }
  run_ok("make --no-print-directory -s BUILD=" + build_dir() + " man");
  for (const Page& page : kPages) {
    INFO(page.page);
    std::string path = build_dir() + "/man/" + page.page, text, help;
    // man -l: groff renders it; warnings (bad requests) go to stderr.
    REQUIRE(run("LC_ALL=C.UTF-8 MANWIDTH=120 man -l --warnings=w " + path +
                    " 2>&1 >/dev/null | grep -v '^$' | head -5 | grep . && exit 1 || exit 0",
                &text) == 0);
    REQUIRE(run("LC_ALL=C MANWIDTH=120 man -l -E ascii " + path + " | col -b", &text) == 0);
    CHECK(text.find("NAME") != std::string::npos);
    CHECK(text.find("SYNOPSIS") != std::string::npos);
    REQUIRE(run(build_dir() + "/bin/" + page.command + " --help", &help) == 0);
    for (const std::string& flag : long_flags(help)) {
      INFO(flag);
      CHECK(text.find(flag) != std::string::npos);
    }
  }
}

TEST_CASE("completion: bash completes flags from --help and tags from the pin directory") {
  if (run("test -r /usr/share/bash-completion/bash_completion") != 0) {
    MESSAGE("skipped: bash-completion is missing ('make deps')");
    return;
  }
  std::string pins = make_temp_dir("netacct-complete");
  ::mkdir((pins + "/alpha").c_str(), 0755);
  ::mkdir((pins + "/beta").c_str(), 0755);
  // COMP_WORDS as bash fills them while the user presses Tab.
  auto complete = [&](const std::string& words) {
    std::string out;
    int code = run("PATH=" + build_dir() + "/bin:$PATH NETACCT_PIN_BASE=" + pins +
                       " bash -c 'source /usr/share/bash-completion/bash_completion; "
                       "source config/bash-completion/netacct; "
                       "COMP_WORDS=(" +
                       words +
                       "); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); "
                       "_netacct; printf \"%s\\n\" \"${COMPREPLY[@]}\"'",
                   &out);
    REQUIRE_MESSAGE(code == 0, out);
    return out;
  };
  std::string registered;
  run("bash -c 'source config/bash-completion/netacct; complete -p netacctd netacct "
      "netacct-cleanup netacct-health netacct-multi'",
      &registered);
  for (const char* name :
       {"netacctd", "netacct", "netacct-cleanup", "netacct-health", "netacct-multi"})
    CHECK(registered.find(std::string("-F _netacct ") + name) != std::string::npos);
  CHECK(complete("netacct-cleanup --ver") == "--verbose\n--verify-only\n--version\n");
  CHECK(complete("netacctd --names") == "--namespace\n");
  CHECK(complete("netacct-health \"\"") == "alpha\nbeta\n");
  CHECK(complete("netacct-cleanup --force b") == "beta\n");
  CHECK(complete("netacct report --tag a") == "alpha\n");
  CHECK(complete("netacct t") == "tags\ntop\n");
  CHECK(complete("netacct-multi --summary-o") == "--summary-only\n");
  run("rm -rf " + pins);
}
