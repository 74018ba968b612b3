// SPDX-License-Identifier: GPL-2.0-only
// Operations, in private namespaces: netacct-cleanup after a kill -9 (tc and
// XDP, the interface gone), its refusal while a daemon runs and its
// --verify-only exit codes; netacct-health's Nagios exit codes; the
// `make install` tree; the systemd unit passing systemd-analyze verify.
// Every tool runs on this test's own tags only (never "all tags": other
// test runs may share the machine).
#include <bpf/bpf.h>
#include <doctest/doctest.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "daemon/common/flow.hpp"
#include "daemon/common/unique_fd.hpp"
#include "tc_programs.hpp"
#include "tests/support/daemon_process.hpp"
#include "tests/support/topology.hpp"

using namespace netacct;
using namespace netacct::test;

namespace {

std::string tool(const std::string& name) {
  return build_dir() + "/bin/" + name;
}

bool exists(const std::string& path) {
  return ::access(path.c_str(), F_OK) == 0;
}

// Exit code and output of a shell command.
struct Ran {
  int code = -1;
  std::string output;
};
Ran sh(const std::string& command) {
  Ran ran;
  ran.code = run(command, &ran.output);
  return ran;
}

std::string in_ns(const std::string& netns, const std::string& command) {
  return "ip netns exec " + netns + " " + command;
}

// The id of a pinned program, via bpftool ("123: sched_cls name ...").
std::string pinned_prog_id(const std::string& path) {
  Ran ran = sh("bpftool prog show pinned " + path);
  REQUIRE_MESSAGE(ran.code == 0, ran.output);
  return ran.output.substr(0, ran.output.find(':'));
}

// Starts netacctd on A's interface and waits for its first harvest.
void start_daemon(DaemonProcess& daemon, const Topology& topo, const std::string& tag,
                  const std::string& output, const std::string& log,
                  std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"--namespace", topo.a().netns, "--tag",
                                   tag,           "--interval",   "0.2"};
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back(topo.a().ifname);
  args.push_back(output);
  daemon.start(args, log);
  INFO(read_text(log));
  REQUIRE(wait_until([&] { return source_generation(read_source(output, tag)) > 0; }, 15000));
}

void kill9(DaemonProcess& daemon) {
  daemon.signal(SIGKILL);
  daemon.wait(5000);
}

// Adds a foreign tc filter (tc's default priority, not netacct's program).
void add_foreign_filter(const Topology& topo) {
  const std::string dev = topo.a().ifname;
  run_ok(in_ns(topo.a().netns, "tc qdisc add dev " + dev + " clsact"));
  run_ok(in_ns(topo.a().netns, "tc filter add dev " + dev + " ingress bpf obj " + build_dir() +
                                   "/bpf/empty.bpf.o sec tc da"));
}

std::string tc_filters(const Topology& topo, const char* direction) {
  return tc_programs_text(topo.a().netns, topo.a().ifname, direction);
}

}  // namespace

TEST_CASE("cleanup: after kill -9 nothing of the tag is left; a foreign tc filter survives") {
  Topology topo;
  TagGuard tag("clk9");
  std::string dir = make_temp_dir("netacct-ops"), output = dir + "/out.json",
              log = dir + "/daemon.log";
  add_foreign_filter(topo);
  DaemonProcess daemon;
  start_daemon(daemon, topo, tag.tag(), output, log);
  REQUIRE(tc_filters(topo, "ingress").find("netacct_tc_in") != std::string::npos);
  std::string prog_in = pinned_prog_id(tag.pin_path() + "/prog_tc_in");
  std::string prog_eg = pinned_prog_id(tag.pin_path() + "/prog_tc_eg");
  kill9(daemon);

  // Killed, but still counting: by design, not a leftover.
  Ran verify = sh(tool("netacct-cleanup") + " --verify-only " + tag.tag());
  INFO(verify.output);
  CHECK(verify.code == 0);
  CHECK(verify.output.find("stopped, counting") != std::string::npos);
  // tcx here; the foreign clsact filter runs after our link.
  CHECK(verify.output.find("tcx ingress link on interface '" + topo.a().ifname) !=
        std::string::npos);

  Ran cleaned = sh(tool("netacct-cleanup") + " " + tag.tag());
  INFO(cleaned.output);
  REQUIRE(cleaned.code == 0);

  // tc: our filters gone both ways, the foreign one still there.
  std::string ingress = tc_filters(topo, "ingress"), egress = tc_filters(topo, "egress");
  CHECK(ingress.find("netacct_tc_in") == std::string::npos);
  CHECK(egress.find("netacct_tc_eg") == std::string::npos);
  CHECK(ingress.find("empty_tc") != std::string::npos);
  // bpffs: the tag's directory is gone.
  CHECK_FALSE(exists(tag.pin_path()));
  // bpftool: with neither pin nor filter left, the kernel frees the programs.
  CHECK(wait_until([&] { return sh("bpftool prog show id " + prog_in).code != 0; }, 5000));
  CHECK(wait_until([&] { return sh("bpftool prog show id " + prog_eg).code != 0; }, 5000));

  Ran again = sh(tool("netacct-cleanup") + " --verify-only " + tag.tag());
  INFO(again.output);
  CHECK(again.code == 0);
}

TEST_CASE("cleanup: the XDP link of a killed daemon, with its interface deleted") {
  Topology topo;
  TagGuard tag("clxdp");
  std::string dir = make_temp_dir("netacct-ops"), output = dir + "/out.json",
              log = dir + "/daemon.log";
  DaemonProcess daemon;
  start_daemon(daemon, topo, tag.tag(), output, log, {"--xdp"});
  std::string prog_xdp = pinned_prog_id(tag.pin_path() + "/prog_xdp_in");
  kill9(daemon);
  REQUIRE(run_ok(in_ns(topo.a().netns, "ip link show " + topo.a().ifname)).find("xdp") !=
          std::string::npos);
  // The veth pair goes; the pinned link outlives it, defunct.
  run_ok(in_ns(topo.a().netns, "ip link del " + topo.a().ifname));

  Ran verify = sh(tool("netacct-cleanup") + " -n " + tag.tag());
  INFO(verify.output);
  CHECK(verify.code == 1);
  CHECK(verify.output.find("LEFTOVERS") != std::string::npos);
  CHECK(verify.output.find("XDP link") != std::string::npos);

  Ran cleaned = sh(tool("netacct-cleanup") + " --verbose " + tag.tag());
  INFO(cleaned.output);
  CHECK(cleaned.code == 0);
  CHECK_FALSE(exists(tag.pin_path()));
  CHECK(wait_until([&] { return sh("bpftool prog show id " + prog_xdp).code != 0; }, 5000));
  CHECK(sh(tool("netacct-cleanup") + " --verify-only " + tag.tag()).code == 0);
}

TEST_CASE("cleanup: refuses a running daemon's tag without --force; --config names tags") {
  Topology topo;
  TagGuard tag("clrun");
  std::string dir = make_temp_dir("netacct-ops"), output = dir + "/out.json",
              log = dir + "/daemon.log";
  DaemonProcess daemon;
  start_daemon(daemon, topo, tag.tag(), output, log);

  Ran refused = sh(tool("netacct-cleanup") + " " + tag.tag());
  INFO(refused.output);
  CHECK(refused.code == 1);
  CHECK(refused.output.find("in use by a running netacctd") != std::string::npos);
  CHECK(exists(tag.pin_path() + "/active_flows"));
  CHECK(tc_filters(topo, "egress").find("netacct_tc_eg") != std::string::npos);

  // The seed's multi-instance config names the tag (one entry by tag, one
  // derived from namespace and interface of a tag nobody uses).
  std::string config = dir + "/multi.json";
  std::ofstream(config) << R"({"instances": [{"tag": ")" << tag.tag()
                        << R"(", "interface": "x"}, {"namespace": null, "interface": "zz-none"}]})";
  Ran forced = sh(tool("netacct-cleanup") + " --force --config " + config);
  INFO(forced.output);
  CHECK(forced.code == 0);
  CHECK_FALSE(exists(tag.pin_path()));
  CHECK(tc_filters(topo, "ingress").find("netacct_tc_in") == std::string::npos);
  CHECK(tc_filters(topo, "egress").find("netacct_tc_eg") == std::string::npos);
  kill9(daemon);

  CHECK(sh(tool("netacct-cleanup") + " --bogus").code == 2);
  CHECK(sh(tool("netacct-cleanup") + " 'Bad/Tag'").code == 2);
  Ran help = sh(tool("netacct-cleanup") + " --help");
  CHECK(help.code == 0);
  CHECK(help.output.find("EXAMPLES") != std::string::npos);
}

TEST_CASE("cleanup --verify-only: running and stopped-but-counting exit 0, leftovers exit 1") {
  Topology topo;
  TagGuard tag("clver");
  std::string dir = make_temp_dir("netacct-ops"), output = dir + "/out.json",
              log = dir + "/daemon.log";
  const std::string verify = tool("netacct-cleanup") + " --verify-only " + tag.tag();
  DaemonProcess daemon;
  start_daemon(daemon, topo, tag.tag(), output, log);

  Ran running = sh(verify);
  INFO(running.output);
  CHECK(running.code == 0);
  CHECK(running.output.find("tag " + tag.tag() + ": running (netacctd pid " +
                            std::to_string(daemon.pid()) + ")") != std::string::npos);

  kill9(daemon);
  Ran stopped = sh(verify);
  INFO(stopped.output);
  CHECK(stopped.code == 0);
  CHECK(stopped.output.find("tag " + tag.tag() +
                            ": stopped, counting (tcx ingress + tcx egress on " + topo.a().ifname +
                            "@" + topo.a().netns) != std::string::npos);

  // Half of it gone: partial state is a leftover.
  run_ok("bpftool link detach pinned " + tag.pin_path() + "/link_tc_eg");
  Ran partial = sh(verify);
  INFO(partial.output);
  CHECK(partial.code == 1);
  CHECK(partial.output.find("LEFTOVERS (partial attachments") != std::string::npos);

  // All attachments gone, pins left.
  run_ok("bpftool link detach pinned " + tag.pin_path() + "/link_tc_in");
  Ran pins_only = sh(verify);
  INFO(pins_only.output);
  CHECK(pins_only.code == 1);
  CHECK(pins_only.output.find("LEFTOVERS (pins without attachments") != std::string::npos);

  // A malformed --config is a configuration error: 2, as in netacctd.
  std::string broken = dir + "/broken.json";
  std::ofstream(broken) << "{ \"instances\": [ oops ";
  Ran bad = sh(tool("netacct-cleanup") + " --verify-only --config " + broken);
  INFO(bad.output);
  CHECK(bad.code == 2);
  CHECK(sh(tool("netacct-cleanup") + " " + tag.tag()).code == 0);
  CHECK(sh(verify).code == 0);
  run("rm -rf " + dir);
}

// True if A's interface has a clsact qdisc.
bool has_clsact(const Topology& topo) {
  return run_ok(in_ns(topo.a().netns, "tc qdisc show dev " + topo.a().ifname)).find("clsact") !=
         std::string::npos;
}

TEST_CASE("cleanup removes the clsact netacct created, never one that was there before") {
  TcAttachGuard clsact("clsact");  // with tcx no clsact is created (test_tcx.cpp)
  Topology topo;
  std::string dir = make_temp_dir("netacct-ops"), output = dir + "/out.json",
              log = dir + "/daemon.log";
  REQUIRE_FALSE(has_clsact(topo));
  {
    INFO("netacct-cleanup after a stop");
    TagGuard tag("clq1");
    DaemonProcess daemon;
    start_daemon(daemon, topo, tag.tag(), output, log);
    REQUIRE(has_clsact(topo));
    daemon.signal(SIGTERM);
    REQUIRE(daemon.wait(15000) == 0);
    Ran cleaned = sh(tool("netacct-cleanup") + " " + tag.tag());
    INFO(cleaned.output);
    CHECK(cleaned.code == 0);
    CHECK(cleaned.output.find("removed clsact qdisc netacct created") != std::string::npos);
    CHECK_FALSE(has_clsact(topo));
  }
  {
    INFO("--cleanup-on-exit");
    TagGuard tag("clq2");
    DaemonProcess daemon;
    start_daemon(daemon, topo, tag.tag(), output, log, {"--cleanup-on-exit"});
    REQUIRE(has_clsact(topo));
    daemon.signal(SIGTERM);
    REQUIRE(daemon.wait(15000) == 0);
    CHECK_FALSE(has_clsact(topo));
    CHECK_FALSE(exists(tag.pin_path()));
  }
  {
    INFO("created by netacct, but a foreign filter uses it now: kept");
    TagGuard tag("clq3");
    DaemonProcess daemon;
    start_daemon(daemon, topo, tag.tag(), output, log);
    run_ok(in_ns(topo.a().netns, "tc filter add dev " + topo.a().ifname + " ingress bpf obj " +
                                     build_dir() + "/bpf/empty.bpf.o sec tc da"));
    kill9(daemon);
    Ran cleaned = sh(tool("netacct-cleanup") + " " + tag.tag());
    INFO(cleaned.output);
    CHECK(cleaned.code == 0);
    CHECK(has_clsact(topo));
    CHECK(tc_filters(topo, "ingress").find("empty_tc") != std::string::npos);
    run_ok(in_ns(topo.a().netns, "tc qdisc del dev " + topo.a().ifname + " clsact"));
  }
  {
    INFO("a clsact added before netacctd started: kept");
    TagGuard tag("clq4");
    run_ok(in_ns(topo.a().netns, "tc qdisc add dev " + topo.a().ifname + " clsact"));
    DaemonProcess daemon;
    start_daemon(daemon, topo, tag.tag(), output, log, {"--cleanup-on-exit"});
    daemon.signal(SIGTERM);
    REQUIRE(daemon.wait(15000) == 0);
    CHECK(has_clsact(topo));
    DaemonProcess again;
    start_daemon(again, topo, tag.tag(), output, log);
    kill9(again);
    Ran cleaned = sh(tool("netacct-cleanup") + " " + tag.tag());
    INFO(cleaned.output);
    CHECK(cleaned.code == 0);
    CHECK(has_clsact(topo));
    CHECK(tc_filters(topo, "ingress").find("netacct") == std::string::npos);
  }
  run("rm -rf " + dir);
}

TEST_CASE("cleanup: the tcx links of a killed daemon go; nothing is left on the interface") {
  Topology topo;
  TagGuard tag("cltcx");
  std::string dir = make_temp_dir("netacct-ops"), output = dir + "/out.json",
              log = dir + "/daemon.log";
  DaemonProcess daemon;
  start_daemon(daemon, topo, tag.tag(), output, log);
  for (TcDirection direction : {TcDirection::Ingress, TcDirection::Egress})
    REQUIRE(tcx_programs(topo.a().netns, topo.a().ifname, direction).size() == 1);
  // With tcx, netacct creates no clsact qdisc.
  CHECK(run_ok(in_ns(topo.a().netns, "tc qdisc show dev " + topo.a().ifname)).find("clsact") ==
        std::string::npos);
  Ran verified = sh(tool("netacct-cleanup") + " --verify-only " + tag.tag());
  INFO(verified.output);
  CHECK(verified.output.find("tcx ingress link on interface '" + topo.a().ifname) !=
        std::string::npos);
  kill9(daemon);
  Ran cleaned = sh(tool("netacct-cleanup") + " --force " + tag.tag());
  INFO(cleaned.output);
  CHECK(cleaned.code == 0);
  CHECK(cleaned.output.find("removed tcx ingress link") != std::string::npos);
  CHECK(cleaned.output.find("removed tcx egress link") != std::string::npos);
  for (TcDirection direction : {TcDirection::Ingress, TcDirection::Egress})
    CHECK(tcx_programs(topo.a().netns, topo.a().ifname, direction).empty());
  CHECK_FALSE(exists(tag.pin_path()));
  run("rm -rf " + dir);
}

TEST_CASE("health: OK with a running daemon, WARNING without, CRITICAL when stale or detached") {
  Topology topo;
  TagGuard tag("health");
  std::string dir = make_temp_dir("netacct-ops"), output = dir + "/out.json",
              log = dir + "/daemon.log";
  // The ledger is found in the state directory ($NETACCT_STATE_DIR here).
  const std::string check = tool("netacct-health") + " " + tag.tag();

  CHECK(sh(check).code == 2);  // nothing pinned yet
  DaemonProcess daemon;
  start_daemon(daemon, topo, tag.tag(), output, log);
  Ran ok = sh(check);
  INFO(ok.output);
  CHECK(ok.code == 0);
  CHECK(ok.output.rfind("NETACCT OK - tag " + tag.tag(), 0) == 0);
  CHECK(ok.output.find("attached tcx ingress + tcx egress on " + topo.a().ifname) !=
        std::string::npos);
  // Without a ledger naming the interface, the scan over the namespaces
  // finds it (a missing ledger is itself a WARNING).
  Ran scanned = sh(check + " --ledger " + dir + "/none.db");
  INFO(scanned.output);
  CHECK(scanned.code == 1);
  CHECK(scanned.output.find(topo.a().ifname + "@" + topo.a().netns) != std::string::npos);
  // Utilisation over the warning threshold (0 %).
  CHECK(sh(check + " --warn-util 0").code == 1);

  kill9(daemon);
  Ran orphan = sh(check);
  INFO(orphan.output);
  CHECK(orphan.code == 1);
  CHECK(orphan.output.find("no netacctd holds") != std::string::npos);

  // Prefix rows in use (flows that found the flow buffer full): a warning;
  // a full prefix buffer: critical. Written straight into the pinned buffer
  // here, as the programs would.
  {
    UniqueFd rows(bpf_obj_get((tag.pin_path() + "/prefix_a").c_str()));
    REQUIRE(rows);
    bpf_map_info info{};
    uint32_t length = sizeof info;
    REQUIRE(bpf_obj_get_info_by_fd(rows.get(), &info, &length) == 0);
    auto fill = [&](uint32_t count) {
      for (uint32_t i = 0; i < count; i++) {
        netacct_flow_key key{};
        key.family = NETACCT_FAMILY_IPV4;
        key.protocol = 17;
        key.pad = 24;
        key.remote[0] = 10;
        key.remote[1] = static_cast<uint8_t>(i >> 8);
        key.remote[2] = static_cast<uint8_t>(i);
        netacct_counters one{100, 1, 0, 0};
        REQUIRE(bpf_map_update_elem(rows.get(), &key, &one, BPF_ANY) == 0);
      }
    };
    fill(2);
    Ran some = sh(check);
    INFO(some.output);
    CHECK(some.output.find("prefix rows 2/" + std::to_string(info.max_entries) +
                           ": flows that did not fit") != std::string::npos);
    fill(info.max_entries);
    Ran full = sh(check);
    INFO(full.output);
    CHECK(full.code == 2);
    CHECK(full.output.find("prefix rows " + std::to_string(info.max_entries) + "/" +
                           std::to_string(info.max_entries) + ": full") != std::string::npos);
  }

  ::sleep(2);
  Ran stale = sh(check + " --max-age 1");
  INFO(stale.output);
  CHECK(stale.code == 2);
  CHECK(stale.output.find("stale") != std::string::npos);

  // Someone detaches the egress link; its pin stays: named as a problem.
  run_ok("bpftool link detach pinned " + tag.pin_path() + "/link_tc_eg");
  Ran detached = sh(check);
  INFO(detached.output);
  CHECK(detached.code == 2);
  CHECK(detached.output.find("programs not attached: egress") != std::string::npos);
  CHECK(detached.output.find("pinned tcx egress link " + tag.pin_path() +
                             "/link_tc_eg is attached to no interface") != std::string::npos);

  CHECK(sh(tool("netacct-health") + " --max-age x " + tag.tag()).code == 3);
  CHECK(sh(tool("netacct-health")).code == 3);
  CHECK(sh(tool("netacct-cleanup") + " " + tag.tag()).code == 0);
}

TEST_CASE("install: make install into a DESTDIR, then make uninstall leaves no file") {
  std::string dest = make_temp_dir("netacct-ops");
  const std::string make = "make --no-print-directory BUILD=" + build_dir() + " DESTDIR=" + dest;
  Ran installed = sh(make + " install");
  INFO(installed.output);
  REQUIRE(installed.code == 0);
  const std::vector<std::string> files = {
      "/usr/local/bin/netacctd",
      "/usr/local/bin/netacct-cleanup",
      "/usr/local/bin/netacct-health",
      "/usr/local/lib/systemd/system/netacctd@.service",
      "/usr/local/share/doc/netacct/README.md",
      "/etc/netacct/whitelist.json",
      "/etc/netacct/multi_accounting_config.json",
      "/etc/netacct/example-instance.json",
      "/etc/logrotate.d/netacct",
  };
  for (const std::string& file : files) CHECK_MESSAGE(exists(dest + file), file);
  for (const char* binary : {"netacctd", "netacct-cleanup", "netacct-health", "netacct-multi"}) {
    std::string path = dest + "/usr/local/bin/" + binary;
    if (std::string(binary) == "netacct-multi" && !exists(path)) continue;  // not built here
    Ran version = sh(path + " --version");
    INFO(path << ": " << version.output);
    CHECK(version.code == 0);
    CHECK(version.output.find(binary) != std::string::npos);
  }
  // The installed unit points at the installed binary.
  CHECK(read_text(dest + "/usr/local/lib/systemd/system/netacctd@.service")
            .find("ExecStart=/usr/local/bin/netacctd --config=/etc/netacct/%i.json --tag=%i") !=
        std::string::npos);
  // The installed example instance config is one netacctd accepts.
  Ran parsed = sh(dest + "/usr/local/bin/netacct-health --config " + dest +
                  "/etc/netacct/example-instance.json --pin-base " + dest);
  CHECK_MESSAGE(parsed.code == 2, parsed.output);  // valid config, nothing pinned: CRITICAL

  // A second install keeps an edited config.
  std::ofstream(dest + "/etc/netacct/whitelist.json", std::ios::app) << "\n";
  Ran again = sh(make + " install");
  CHECK(again.output.find("KEEP") != std::string::npos);

  Ran removed = sh(make + " uninstall");
  INFO(removed.output);
  REQUIRE(removed.code == 0);
  Ran left = sh("find " + dest + " -type f");
  // Only the config the operator edited stays.
  CHECK(left.output == dest + "/etc/netacct/whitelist.json\n");
  run("rm -rf " + dest);
}

TEST_CASE("systemd: netacctd@.service passes systemd-analyze verify") {
  if (sh("command -v systemd-analyze").code != 0) {
    MESSAGE("systemd-analyze is missing (Debian package 'systemd'; 'make deps' installs it)");
    return;
  }
  // verify checks that ExecStart's binary exists: point it at the build's.
  char cwd[4096];
  REQUIRE(::getcwd(cwd, sizeof cwd) != nullptr);
  std::string dir = make_temp_dir("netacct-ops");
  std::string unit = dir + "/netacctd@.service";
  std::string binary = build_dir()[0] == '/' ? build_dir() : std::string(cwd) + "/" + build_dir();
  run_ok("sed 's|/usr/local/bin/netacctd|" + binary +
         "/bin/netacctd|' systemd/netacctd@.service > " + unit);
  // Documentation=man:netacctd(8): verify runs man, which finds the build's pages.
  run_ok("make --no-print-directory -s BUILD=" + build_dir() + " man");
  Ran verify = sh("MANPATH=" + build_dir() + "/man systemd-analyze verify " + unit);
  INFO(verify.output);
  CHECK(verify.code == 0);
  CHECK(verify.output.empty());
  Ran security = sh("systemd-analyze security --offline=yes " + unit + " | tail -1");
  MESSAGE("systemd-analyze security: " << security.output);
  run("rm -rf " + dir);
}

TEST_CASE("layering: tools link only the layers they use, not the daemon") {
  // The reactor, the metrics endpoint, IPFIX export (libfixbuf) and the
  // loop belong to netacctd (and the loop also to the supervisor); a tool
  // that carries them is linked against the wrong library.
  const std::string daemon_symbols =
      "netacct::(Reactor|HttpServer|MetricsService|MetricsModel|Console|Instance|IpfixService|"
      "IpfixExporter)\\b|prometheus::|\\bfBuf";
  auto count = [](const std::string& binary, const std::string& pattern) {
    std::string out;
    run("nm -C " + binary + " | grep -cE '" + pattern + "'", &out);
    return std::stoi(out.empty() ? "0" : out);
  };
  REQUIRE(count(netacctd_path(), daemon_symbols) > 0);  // the pattern does match
  for (const char* name :
       {"netacct-cleanup", "netacct-health", "netacct-verify", "netacct-multi"}) {
    INFO(name);
    CHECK(count(tool(name), daemon_symbols) == 0);
  }
  for (const char* name : {"netacct-cleanup", "netacct-health", "netacct-verify"}) {
    INFO(name);
    CHECK(count(tool(name), "\\buv_(run|loop_init)\\b") == 0);
  }
}
