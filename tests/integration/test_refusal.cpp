// SPDX-License-Identifier: GPL-2.0-only
// A refused start touches nothing. For every refusal netacctd can meet at
// start-up (the interface held by another tag, in TC and in XDP mode, the
// tag held by a running daemon, a pin base not on bpffs, a missing
// interface or namespace, an unwritable or malformed output, a malformed
// whitelist), the kernel, tc and the filesystem are compared before and
// after: no new netacct map or program alive (bpftool), the same qdiscs and
// filters in the test namespace (tc), no pin directory, no ledger, no XDP
// link that was not there. Pins of an earlier run (the adopted case) keep
// their maps. The refusal names the tag that holds the interface and the
// pid of its daemon.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "tc_programs.hpp"
#include "tests/support/daemon_process.hpp"
#include "tests/support/topology.hpp"

using namespace netacct::test;

namespace {

std::string build_dir_tool(const std::string& name) {
  const char* build = std::getenv("BUILD");
  return std::string(build && *build ? build : "build") + "/bin/" + name;
}

bool exists(const std::string& path) {
  return ::access(path.c_str(), F_OK) == 0;
}

std::string state_dir() {
  const char* dir = ::getenv("NETACCT_STATE_DIR");
  REQUIRE(dir != nullptr);
  return dir;
}

std::string in_ns(const std::string& netns, const std::string& command) {
  return "ip netns exec " + netns + " " + command;
}

// One bpftool listing (maps or programs) as JSON.
boost::json::array bpftool_list(const std::string& what) {
  std::string out;
  REQUIRE(run("bpftool -j -f " + what + " show 2>/dev/null", &out) == 0);
  boost::system::error_code ec;
  boost::json::value parsed = boost::json::parse(out, ec);
  REQUIRE_MESSAGE(!ec, out);
  return parsed.as_array();
}

const std::set<std::string> kMapNames = {"flows_a", "flows_b",  "active_flows", "whitelist",
                                         "meta",    "prefix_a", "prefix_b",     "active_prefix"};
const std::set<std::string> kProgNames = {"netacct_tc_in", "netacct_tc_eg", "netacct_xdp_in"};

// netacct maps or programs with an id above `above` that are unpinned or
// pinned under `pin_path`: what a refused start of that tag could have left
// (another run's objects are pinned in their own tags' directories).
std::vector<std::string> new_objects(const std::string& what, const std::set<std::string>& names,
                                     int64_t above, const std::string& pin_path) {
  std::vector<std::string> found;
  for (const boost::json::value& entry : bpftool_list(what)) {
    const boost::json::object& object = entry.as_object();
    int64_t id = object.at("id").to_number<int64_t>();
    const boost::json::value* name = object.if_contains("name");
    if (id <= above || !name || !names.count(std::string(name->as_string()))) continue;
    bool elsewhere = false;
    if (const boost::json::value* pinned = object.if_contains("pinned"))
      for (const boost::json::value& path : pinned->as_array())
        elsewhere = elsewhere || std::string(path.as_string()).rfind(pin_path, 0) != 0;
    if (!elsewhere) found.push_back(std::string(name->as_string()) + " id " + std::to_string(id));
  }
  return found;
}

int64_t max_id(const std::string& what) {
  int64_t top = 0;
  for (const boost::json::value& entry : bpftool_list(what))
    top = std::max(top, entry.as_object().at("id").to_number<int64_t>());
  return top;
}

// What the kernel, tc and the filesystem hold that a start of `tag` on A's
// interface could change.
struct Snapshot {
  int64_t max_map = 0;
  int64_t max_prog = 0;
  std::string qdiscs, ingress, egress, link;
  bool pin_dir = false;
  std::vector<std::string> pins;
  bool ledger = false;
};

std::string list_dir(const std::string& path) {
  std::string out;
  run("ls -A " + path + " 2>/dev/null", &out);
  return out;
}

Snapshot snapshot(const Topology& topo, const std::string& tag, const std::string& pin_path) {
  Snapshot s;
  s.max_map = max_id("map");
  s.max_prog = max_id("prog");
  const std::string dev = topo.a().ifname;
  s.qdiscs = run_ok(in_ns(topo.a().netns, "tc qdisc show dev " + dev));
  s.ingress = tc_programs_text(topo.a().netns, dev, "ingress");
  s.egress = tc_programs_text(topo.a().netns, dev, "egress");
  s.link = run_ok(in_ns(topo.a().netns, "ip -d link show dev " + dev));
  s.pin_dir = exists(pin_path);
  s.pins.push_back(list_dir(pin_path));
  s.ledger = exists(state_dir() + "/" + tag + ".db");
  return s;
}

// Everything a refused start of `tag` could have left, compared with before.
void check_untouched(const Snapshot& before, const Topology& topo, const std::string& tag,
                     const std::string& pin_path) {
  // The kernel frees a map once its last reference goes (after an RCU
  // grace period): give it a moment.
  std::vector<std::string> maps, progs;
  bool freed = wait_until(
      [&] {
        maps = new_objects("map", kMapNames, before.max_map, pin_path);
        progs = new_objects("prog", kProgNames, before.max_prog, pin_path);
        return maps.empty() && progs.empty();
      },
      5000);
  std::string left;
  for (const std::string& m : maps) left += m + "; ";
  for (const std::string& p : progs) left += p + "; ";
  CHECK_MESSAGE(freed, "still alive: " << left);
  Snapshot after = snapshot(topo, tag, pin_path);
  CHECK(after.qdiscs == before.qdiscs);
  CHECK(after.ingress == before.ingress);
  CHECK(after.egress == before.egress);
  // No XDP program ("prog/xdp id N") that was not there.
  CHECK(after.link == before.link);
  CHECK(after.pin_dir == before.pin_dir);
  CHECK(after.pins == before.pins);
  CHECK(after.ledger == before.ledger);
}

std::string joined(const std::vector<std::string>& args) {
  std::string text;
  for (const std::string& arg : args) text += arg + " ";
  return text;
}

// Starts netacctd for `tag` on A's interface and waits until it counts.
void start_counting(DaemonProcess& daemon, const Topology& topo, const std::string& tag,
                    const std::string& dir, bool xdp = false) {
  std::string log = dir + "/" + tag + ".log";
  std::vector<std::string> args = {"--namespace", topo.a().netns, "--tag",
                                   tag,           "--interval",   "0.2"};
  if (xdp) args.push_back("--xdp");
  args.push_back(topo.a().ifname);
  args.push_back(dir + "/" + tag + ".json");
  daemon.start(args, log);
  bool up = wait_until(
      [&] { return read_text(log).find("counting on") != std::string::npos || !daemon.running(); },
      15000);
  INFO(read_text(log));
  REQUIRE(up);
  REQUIRE(daemon.running());
}

}  // namespace

TEST_CASE("refusal: bad input and a bad pin base leave no pins, directories, filters or ledger") {
  Topology topo;
  TagGuard tag("rbad");
  std::string dir = make_temp_dir("netacct-refusal");
  std::string broken_output = dir + "/broken.json";
  { std::ofstream(broken_output) << "{\"sources\": [\n"; }
  std::string broken_whitelist = dir + "/whitelist.json";
  { std::ofstream(broken_whitelist) << "{ not json\n"; }
  std::string pin_base = dir + "/not-bpffs";  // a base that does not exist, off bpffs
  const std::string ns = topo.a().netns, dev = topo.a().ifname, out = dir + "/out.json";

  struct Case {
    std::string name;
    std::vector<std::string> args;
    std::string must_mention;
  };
  std::vector<Case> cases = {
      {"interface missing",
       {"--tag", tag.tag(), "--namespace", ns, "no-such-if0", out},
       "no-such-if0"},
      {"namespace missing",
       {"--tag", tag.tag(), "--namespace", "no-such-ns-refusal", dev, out},
       "no-such-ns-refusal"},
      {"output unwritable",
       {"--tag", tag.tag(), "--namespace", ns, dev, "/nonexistent-dir/out.json"},
       "/nonexistent-dir/out.json"},
      {"output malformed", {"--tag", tag.tag(), "--namespace", ns, dev, broken_output}, "broken"},
      {"whitelist malformed",
       {"--tag", tag.tag(), "--namespace", ns, dev, out, broken_whitelist},
       broken_whitelist},
      {"pin base not on bpffs (missing)",
       {"--tag", tag.tag(), "--pin-base", pin_base, "--namespace", ns, dev, out},
       "bpf filesystem"},
      {"pin base not on bpffs (existing)",
       {"--tag", tag.tag(), "--pin-base", dir, "--namespace", ns, dev, out},
       "bpf filesystem"},
  };
  for (const Case& c : cases) {
    INFO(c.name << ": " << joined(c.args));
    Snapshot before = snapshot(topo, tag.tag(), tag.pin_path());
    REQUIRE_FALSE(before.ledger);
    RunResult result = run_netacctd(c.args);
    INFO("output: " << result.output);
    CHECK(result.exit_code == 1);
    CHECK(result.output.find(c.must_mention) != std::string::npos);
    check_untouched(before, topo, tag.tag(), tag.pin_path());
    CHECK_FALSE(exists(pin_base));
    CHECK_FALSE(exists(dir + "/" + tag.tag()));
    CHECK_FALSE(exists(out));
  }
  CHECK(read_text(broken_output) == "{\"sources\": [\n");
  run("rm -rf " + dir);
}

TEST_CASE("refusal: an interface another tag counts on; the message names the tag and its pid") {
  Topology topo;
  TagGuard holder("rhold");
  TagGuard second("rsecond");
  std::string dir = make_temp_dir("netacct-refusal");
  DaemonProcess daemon;
  start_counting(daemon, topo, holder.tag(), dir);

  for (bool xdp : {false, true}) {
    INFO((xdp ? "second tag in XDP mode" : "second tag in TC mode"));
    Snapshot before = snapshot(topo, second.tag(), second.pin_path());
    std::vector<std::string> args = {"--tag", second.tag(), "--namespace", topo.a().netns};
    if (xdp) args.push_back("--xdp");  // XDP ingress attaches; tc egress is refused
    args.push_back(topo.a().ifname);
    args.push_back(dir + "/second.json");
    RunResult result = run_netacctd(args);
    INFO("output: " << result.output);
    CHECK(result.exit_code == 1);
    CHECK(result.output.find("netacct tag '" + holder.tag() + "' (netacctd pid " +
                             std::to_string(daemon.pid()) + ")") != std::string::npos);
    check_untouched(before, topo, second.tag(), second.pin_path());
    CHECK_FALSE(exists(second.pin_path()));
  }
  // The holder still counts, untouched.
  CHECK(exists(holder.pin_path() + "/active_flows"));
  std::string ingress = tc_programs_text(topo.a().netns, topo.a().ifname, "ingress");
  CHECK(ingress.find("netacct_tc_in") != std::string::npos);
  daemon.signal(SIGTERM);
  CHECK(daemon.wait(15000) == 0);

  // Stopped but still counting: the refusal says so instead of a pid.
  RunResult stopped = run_netacctd(
      {"--tag", second.tag(), "--namespace", topo.a().netns, topo.a().ifname, dir + "/s.json"});
  INFO(stopped.output);
  CHECK(stopped.exit_code == 1);
  CHECK(stopped.output.find("netacct tag '" + holder.tag() + "' (no netacctd runs") !=
        std::string::npos);
  CHECK_FALSE(exists(second.pin_path()));
  run(build_dir_tool("netacct-cleanup") + " " + holder.tag());
  run("rm -rf " + dir);
}

TEST_CASE("refusal: XDP held by another tag names it; an adopted tag's pins survive a refusal") {
  Topology topo;
  TagGuard holder("rxhold");
  TagGuard adopted("radopt");
  std::string dir = make_temp_dir("netacct-refusal");
  // The adopted tag: it counted on B's interface and stopped (its programs
  // and maps stay).
  DaemonProcess earlier;
  {
    std::string log = dir + "/adopted.log";
    earlier.start({"--namespace", topo.b().netns, "--tag", adopted.tag(), topo.b().ifname,
                   dir + "/adopted.json"},
                  log);
    REQUIRE(
        wait_until([&] { return read_text(log).find("counting on") != std::string::npos; }, 15000));
    earlier.signal(SIGTERM);
    REQUIRE(earlier.wait(15000) == 0);
  }
  std::string pins_before = list_dir(adopted.pin_path());
  std::string maps_before;
  run("bpftool map show pinned " + adopted.pin_path() + "/flows_a", &maps_before);
  REQUIRE(pins_before.find("flows_a") != std::string::npos);

  DaemonProcess daemon;
  start_counting(daemon, topo, holder.tag(), dir, true);
  // The adopted tag now asked to count on A, where the holder's XDP is.
  RunResult result = run_netacctd({"--tag", adopted.tag(), "--namespace", topo.a().netns, "--xdp",
                                   topo.a().ifname, dir + "/adopted.json"});
  INFO(result.output);
  CHECK(result.exit_code == 1);
  CHECK(result.output.find("netacct tag '" + holder.tag() + "' (netacctd pid " +
                           std::to_string(daemon.pid()) + ")") != std::string::npos);
  CHECK(result.output.find("XDP") != std::string::npos);
  // Its pins, the same maps, and its attachments on B are all still there.
  CHECK(list_dir(adopted.pin_path()) == pins_before);
  std::string maps_after;
  run("bpftool map show pinned " + adopted.pin_path() + "/flows_a", &maps_after);
  CHECK(maps_after == maps_before);
  std::string b_egress = tc_programs_text(topo.b().netns, topo.b().ifname, "egress");
  CHECK(b_egress.find("netacct_tc_eg") != std::string::npos);
  // A's tc egress holds only the holder's program (tcx link or filter).
  std::string a_egress = tc_programs_text(topo.a().netns, topo.a().ifname, "egress");
  size_t filters = 0;
  for (size_t at = a_egress.find("name netacct_tc_eg"); at != std::string::npos;
       at = a_egress.find("name netacct_tc_eg", at + 1))
    filters++;
  INFO(a_egress);
  CHECK(filters == 1);

  // The tag itself held by a running daemon: refused, naming its pid; the
  // running daemon's pins stay.
  RunResult twice = run_netacctd({"--tag", holder.tag(), "--namespace", topo.a().netns, "--xdp",
                                  topo.a().ifname, dir + "/h2.json"});
  INFO(twice.output);
  CHECK(twice.exit_code == 1);
  CHECK(twice.output.find("netacctd pid " + std::to_string(daemon.pid())) != std::string::npos);
  CHECK(exists(holder.pin_path() + "/link_xdp"));
  CHECK(daemon.running());
  daemon.signal(SIGTERM);
  CHECK(daemon.wait(15000) == 0);
  run(build_dir_tool("netacct-cleanup") + " " + holder.tag() + " " + adopted.tag());
  run("rm -rf " + dir);
}
