// SPDX-License-Identifier: GPL-2.0-only
// The Debian package: `make deb` twice (the changelog's version and a later
// one), lintian without errors, and under the container's systemd
// (tests/support/container.hpp): install, an instance counting exactly, an
// upgrade that restarts it into the new binary with nothing lost, remove
// (conffiles and ledger stay), purge (nothing stays).
#include <doctest/doctest.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "tests/integration/systemd_common.hpp"

using namespace netacct;
using namespace netacct::test;

namespace {

std::string changelog_version() {
  std::ifstream in("debian/changelog");
  std::string name, version;
  in >> name >> version;  // "netacct (0.1.0) unstable; ..."
  return version.size() > 2 ? version.substr(1, version.size() - 2) : "";
}

// Builds the package of `version`; returns the .deb's path.
std::string make_deb(const std::string& version) {
  run_ok("make --no-print-directory -s BUILD=" + build_dir() + " VERSION=" + version + " deb");
  std::string arch = run_ok("dpkg --print-architecture");
  arch.erase(arch.find_last_not_of('\n') + 1);
  std::string path = build_dir() + "/deb/netacct_" + version + "_" + arch + ".deb";
  REQUIRE_MESSAGE(::access(path.c_str(), F_OK) == 0, path);
  return path;
}

bool exists_in(const Container& box, const std::string& path) {
  return ::access((box.root() + path).c_str(), F_OK) == 0;
}

}  // namespace

TEST_CASE(
    "package: make deb, lintian, then install, upgrade a running instance, remove and "
    "purge under systemd") {
  if (run("command -v dh && command -v dpkg-deb") != 0) {
    MESSAGE("skipped: debhelper is missing ('make deps')");
    return;
  }
  const std::string old_version = changelog_version(), new_version = old_version + "+it1";
  REQUIRE(!old_version.empty());
  const std::string old_deb = make_deb(old_version), new_deb = make_deb(new_version);

  std::string lint;
  run("lintian --tag-display-limit 0 " + new_deb +
          " 2>&1 | grep -v '^running with root privileges is not recommended'",
      &lint);
  INFO("lintian: " << lint);
  CHECK(lint.find("E: ") == std::string::npos);
  MESSAGE("lintian: " << (lint.empty() ? "clean\n" : lint));

  Topology topo;
  TagGuard tag("pkg");
  std::string why;
  auto box = Container::boot(&why);
  if (!box) {
    MESSAGE("skipped: " << why);
    return;
  }
  const std::string t = tag.tag(), unit = "netacctd@" + t + ".service";
  run_ok("cp " + old_deb + " " + box->root() + "/root/old.deb");
  run_ok("cp " + new_deb + " " + box->root() + "/root/new.deb");

  // This machine is a container image whose /usr/sbin/policy-rc.d forbids
  // every service action (exit 101), which deb-systemd-invoke obeys; a real
  // host has none. Removed in the container's overlay only.
  box->exec_ok("rm -f /usr/sbin/policy-rc.d");

  // Install.
  box->exec_ok("dpkg -i /root/old.deb");
  for (const char* path : {"/usr/bin/netacctd", "/usr/bin/netacct", "/usr/bin/netacct-cleanup",
                           "/usr/bin/netacct-health", "/usr/bin/netacct-multi",
                           "/lib/systemd/system/netacctd@.service", "/etc/logrotate.d/netacct",
                           "/etc/netacct/example-instance.json", "/var/lib/netacct",
                           "/usr/share/man/man8/netacctd.8.gz", "/usr/share/man/man1/netacct.1.gz",
                           "/usr/share/bash-completion/completions/netacct-cleanup",
                           "/usr/share/doc/netacct/README.md", "/usr/share/doc/netacct/DESIGN.md"})
    CHECK_MESSAGE(exists_in(*box, path), path);
  std::string conffiles = box->exec_ok("dpkg-query -W -f='${Conffiles}' netacct");
  CHECK(conffiles.find("/etc/netacct/example-instance.json") != std::string::npos);
  CHECK(conffiles.find("/etc/netacct/whitelist.json") != std::string::npos);
  CHECK(conffiles.find("/etc/logrotate.d/netacct") != std::string::npos);
  CHECK(box->exec_ok("man -w netacctd") == "/usr/share/man/man8/netacctd.8.gz\n");
  std::string verify;
  CHECK_MESSAGE(
      box->exec("systemd-analyze verify /lib/systemd/system/netacctd@.service", &verify) == 0,
      verify);

  // An instance from the package counts exactly.
  write_instance_config(*box, topo, t);
  box->exec_ok("systemctl start " + unit);
  MESSAGE("systemd-analyze security:\n"
          << box->exec_ok("systemd-analyze security --no-pager " + unit + " | grep -E '✗|→'"));
  ExactTraffic traffic(topo, box->root() + "/var/lib/netacct/" + t + ".json", t);
  traffic.send(7101);
  traffic.exact();

  // Upgrade while it runs: postinst restarts it; the new binary adopts.
  std::string old_pid = unit_property(*box, unit, "MainPID");
  box->exec_ok("dpkg -i /root/new.deb");
  CHECK(restarted(*box, unit, old_pid, 15000));
  CHECK(box->exec_ok("netacctd --version") == "netacctd " + new_version + "\n");
  traffic.send(7102);
  traffic.exact();
  std::string journal = box->exec_ok("journalctl -u " + unit + " --no-pager");
  INFO(journal);
  CHECK(journal.find("adopted pinned maps") != std::string::npos);

  // Remove: the instance stops; configuration and ledger stay.
  box->exec_ok("dpkg -r netacct");
  CHECK(unit_property(*box, unit, "ActiveState") == "inactive");
  CHECK_FALSE(exists_in(*box, "/usr/bin/netacctd"));
  CHECK(exists_in(*box, "/etc/netacct/example-instance.json"));
  CHECK(exists_in(*box, "/var/lib/netacct/" + t + ".db"));

  // Purge: the conffiles and the state go too.
  box->exec_ok("dpkg -P netacct");
  CHECK_FALSE(exists_in(*box, "/etc/netacct/example-instance.json"));
  CHECK_FALSE(exists_in(*box, "/etc/logrotate.d/netacct"));
  CHECK_FALSE(exists_in(*box, "/var/lib/netacct"));
  CHECK(box->exec("dpkg -s netacct") != 0);
}
