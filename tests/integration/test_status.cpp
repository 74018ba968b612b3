// SPDX-License-Identifier: GPL-2.0-only
// `netacct status`: a running tag, a stopped-but-counting tag and a
// leftover tag, each told apart, with what the ledger and pins say.
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <string>

#include "tests/support/daemon_process.hpp"
#include "tests/support/topology.hpp"

using namespace netacct;
using namespace netacct::test;

namespace {

std::string bin(const std::string& name) {
  const char* build = std::getenv("BUILD");
  return std::string(build && *build ? build : "build") + "/bin/" + name;
}

const boost::json::object* find_tag(const boost::json::value& status, const std::string& tag) {
  for (const boost::json::value& row : status.at("tags").as_array())
    if (row.at("tag").as_string() == tag) return &row.as_object();
  return nullptr;
}

}  // namespace

TEST_CASE("status: running, stopped-but-counting and leftover tags are told apart") {
  Topology topo;
  TagGuard running_tag("strun"), counting_tag("stcnt"), leftover_tag("stleft");
  std::string dir = make_temp_dir("netacct-status");
  const std::string ns_a = topo.a().netns;
  run_ok("ip netns exec " + ns_a + " ip link add vx0 type veth peer name vx1");
  run_ok("ip netns exec " + ns_a + " ip link set vx0 up");
  run_ok("ip netns exec " + ns_a + " ip link set vx1 up");

  auto start = [&](DaemonProcess& daemon, const std::string& tag, const std::string& netns,
                   const std::string& ifname) {
    std::string output = dir + "/" + tag + ".json";
    // In the namespace (so /metrics is its loopback's), and told its name
    // (so the ledger records it).
    daemon.start({"--tag", tag, "--namespace", netns, "--interval", "0.3", "--max-flows", "4096",
                  ifname, output},
                 dir + "/" + tag + ".log", netns);
    REQUIRE(wait_until([&] { return !read_source(output, tag).is_null(); }, 15000));
  };
  DaemonProcess running;
  start(running, running_tag.tag(), ns_a, topo.a().ifname);
  DaemonProcess counting;
  start(counting, counting_tag.tag(), topo.b().netns, topo.b().ifname);
  counting.signal(SIGTERM);
  REQUIRE(counting.wait(15000) == 0);
  DaemonProcess leftover;
  start(leftover, leftover_tag.tag(), ns_a, "vx0");
  leftover.signal(SIGTERM);
  REQUIRE(leftover.wait(15000) == 0);
  // Its interface goes away: the pins stay, nothing counts any more.
  run_ok("ip netns exec " + ns_a + " ip link del vx0");

  std::string out;
  REQUIRE(run(bin("netacct") + " status --json", &out) == 0);
  INFO(out);
  boost::json::value status = boost::json::parse(out);
  const boost::json::object* r = find_tag(status, running_tag.tag());
  const boost::json::object* c = find_tag(status, counting_tag.tag());
  const boost::json::object* l = find_tag(status, leftover_tag.tag());
  REQUIRE(r);
  REQUIRE(c);
  REQUIRE(l);
  CHECK(r->at("state") == "running");
  CHECK(r->at("pid").to_number<int>() == running.pid());
  CHECK(r->at("interface") == topo.a().ifname.c_str());
  CHECK(r->at("namespace") == ns_a.c_str());
  CHECK(r->at("ingress_mode") == "tc");
  CHECK(r->at("metrics") == "127.0.0.1:9464");
  CHECK(r->at("flow_capacity").to_number<int>() == 4096);
  CHECK(r->at("last_harvest_age_seconds").to_number<int>() <= 5);
  CHECK(r->at("health") == "OK");

  CHECK(c->at("state") == "counting");
  CHECK(c->at("pid").is_null());
  CHECK(c->at("metrics").is_null());
  CHECK(c->at("interface") == topo.b().ifname.c_str());
  CHECK(c->at("health") == "WARNING");

  CHECK(l->at("state") == "leftover");
  CHECK(l->at("health") == "CRITICAL");

  std::string table;
  REQUIRE(run(bin("netacct") + " status", &table) == 0);
  CHECK(table.find(running_tag.tag()) != std::string::npos);
  CHECK(table.find(topo.a().ifname + "@" + ns_a) != std::string::npos);
  CHECK(run(bin("netacct") + " status --bogus 2>/dev/null") != 0);
  running.signal(SIGTERM);
  REQUIRE(running.wait(15000) == 0);
  for (const TagGuard* tag : {&running_tag, &counting_tag, &leftover_tag})
    run(bin("netacct-cleanup") + " --force " + tag->tag() + " >/dev/null 2>&1");
  run("rm -rf " + dir);
}
