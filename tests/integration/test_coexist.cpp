// SPDX-License-Identifier: GPL-2.0-only
// Living next to other people's tc filters: a foreign filter on ingress
// (before ours) and on egress (after ours) survives our attach and detach
// untouched, the clsact qdisc stays, and our detach removes exactly our two
// filters. A foreign filter squatting on our handle/priority is refused,
// never overwritten or removed, and so is another netacct tag's filter.
// Foreign filters are installed with the `tc` tool (the kernel here only
// has cls_bpf), running the empty program.
#include <netinet/in.h>
#include <unistd.h>

#include <climits>

#include "it_common.hpp"

namespace netacct::test {

namespace {

// build/tests/integration_tests -> build/bpf/empty.bpf.o
std::string empty_object() {
  char exe[PATH_MAX] = {};
  ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  REQUIRE(n > 0);
  std::string path(exe, static_cast<size_t>(n));
  path = path.substr(0, path.rfind('/'));
  path = path.substr(0, path.rfind('/')) + "/bpf/empty.bpf.o";
  REQUIRE_MESSAGE(::access(path.c_str(), R_OK) == 0, "missing " << path);
  return path;
}

std::string tc(const Endpoint& end, const std::string& args) {
  return run_ok("ip netns exec " + end.netns + " tc " + args);
}

std::string filters(const Endpoint& end, const char* direction) {
  return tc(end, "filter show dev " + end.ifname + " " + direction);
}

size_t occurrences(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
    count++;
  return count;
}

}  // namespace

TEST_CASE("clsact: foreign tc filters survive attach and detach; ours go") {
  TcAttachGuard clsact("clsact");  // clsact filters side by side (tcx: test_tcx.cpp)
  Topology topo;
  TagGuard tag("coexist");
  const Endpoint& a = topo.a();
  const std::string object = empty_object();
  tc(a, "qdisc add dev " + a.ifname + " clsact");
  // Ingress: before ours (prio 10), egress: after ours (prio 60000). Both
  // return TC_ACT_UNSPEC, so every packet still reaches every filter.
  tc(a, "filter add dev " + a.ifname + " ingress prio 10 handle 1 protocol all bpf obj " + object +
            " sec tc da");
  tc(a, "filter add dev " + a.ifname + " egress prio 60000 handle 1 protocol all bpf obj " +
            object + " sec tc da");

  auto datapath = open_datapath(tag.tag());
  IT_REQUIRE_OK(attach_all(*datapath, iface_a(topo), IngressMode::Tc));
  for (const char* direction : {"ingress", "egress"}) {
    std::string shown = filters(a, direction);
    INFO(direction << ": " << shown);
    CHECK(occurrences(shown, "name empty_tc") == 1);
    CHECK(occurrences(shown, "name netacct_tc_") == 1);
  }
  Harvester harvester(*datapath);
  exchange_and_check(topo, harvester, false, 43000);

  IT_REQUIRE_OK(detach_all(datapath->pin_path(), iface_a(topo)));
  auto status = query_attachments(datapath->pin_path(), iface_a(topo));
  IT_REQUIRE_OK(status);
  CHECK_FALSE(status->tc_ingress);
  CHECK_FALSE(status->tc_egress);
  for (const char* direction : {"ingress", "egress"}) {
    std::string shown = filters(a, direction);
    INFO(direction << ": " << shown);
    CHECK(occurrences(shown, "name empty_tc") == 1);
    CHECK(occurrences(shown, "netacct") == 0);
  }
  CHECK(tc(a, "qdisc show dev " + a.ifname).find("clsact") != std::string::npos);
}

TEST_CASE("clsact: a foreign filter at our handle and priority is neither replaced nor removed") {
  TcAttachGuard clsact("clsact");  // clsact filters side by side (tcx: test_tcx.cpp)
  Topology topo;
  TagGuard tag("squat");
  const Endpoint& b = topo.b();
  tc(b, "qdisc add dev " + b.ifname + " clsact");
  tc(b, "filter add dev " + b.ifname + " ingress prio " + std::to_string(kTcPriority) + " handle " +
            std::to_string(kTcHandle) + " protocol all bpf obj " + empty_object() + " sec tc da");
  auto datapath = open_datapath(tag.tag());
  auto attached = attach_tc(*datapath, iface_b(topo), TcDirection::Ingress);
  REQUIRE_FALSE(attached.ok());
  CHECK(attached.error().err == EBUSY);
  MESSAGE("squatted handle: " << attached.error().message());
  IT_REQUIRE_OK(detach_tc(iface_b(topo), TcDirection::Ingress));
  CHECK(occurrences(filters(b, "ingress"), "name empty_tc") == 1);
  auto status = query_attachments(datapath->pin_path(), iface_b(topo));
  IT_REQUIRE_OK(status);
  CHECK_FALSE(status->tc_ingress);
}

}  // namespace netacct::test

namespace netacct::test {

TEST_CASE("a second tag on the same interface is refused and cannot detach the first") {
  Topology topo;
  TagGuard first_tag("owner1");
  TagGuard second_tag("owner2");
  auto first = open_datapath(first_tag.tag());
  auto second = open_datapath(second_tag.tag());
  IT_REQUIRE_OK(attach_all(*first, iface_a(topo), IngressMode::Tc));
  auto refused = attach_tc(*second, iface_a(topo), TcDirection::Egress);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().err == EBUSY);
  // Named: the first tag, and no daemon (the test holds no lock).
  CHECK(refused.error().message().find("netacct tag '" + first_tag.tag() + "' (no netacctd runs") !=
        std::string::npos);

  IT_REQUIRE_OK(detach_all(second->pin_path(), iface_a(topo)));
  auto status = query_attachments(first->pin_path(), iface_a(topo));
  IT_REQUIRE_OK(status);
  CHECK(status->tc_ingress);
  CHECK(status->tc_egress);
  // Seen from the second tag, nothing of its own is attached.
  auto other = query_attachments(second->pin_path(), iface_a(topo));
  IT_REQUIRE_OK(other);
  CHECK_FALSE(other->tc_ingress);
  CHECK_FALSE(other->tc_egress);
  Harvester harvester(*first);
  exchange_and_check(topo, harvester, true, 43100);
  IT_REQUIRE_OK(detach_all(first->pin_path(), iface_a(topo)));
}

}  // namespace netacct::test
