// SPDX-License-Identifier: GPL-2.0-only
// Attachments and counts outlive the process: with the Datapath object gone
// (every process handle closed) the pinned programs keep counting into the
// pinned maps, and a new Datapath on the same tag adopts them. Attaching
// again after such a "restart" replaces our programs in place: one filter per
// direction, the same XDP link, and exact counts throughout.
#include <bpf/bpf.h>
#include <netinet/in.h>

#include "it_common.hpp"

namespace netacct::test {

namespace {

LinkIds pinned_xdp_link(const std::string& pin_path) {
  UniqueFd fd(bpf_obj_get((pin_path + "/" + pin::kLinkXdp).c_str()));
  REQUIRE_MESSAGE(fd.valid(), "no pinned XDP link under " << pin_path);
  bpf_link_info info{};
  uint32_t len = sizeof info;
  REQUIRE(bpf_obj_get_info_by_fd(fd.get(), &info, &len) == 0);
  return {info.id, info.prog_id};
}

std::string tc_filters(const Topology& topo, const char* direction) {
  return run_ok("ip netns exec " + topo.a().netns + " tc filter show dev " + topo.a().ifname + " " +
                direction);
}

size_t count_of(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
    count++;
  return count;
}

}  // namespace

TEST_CASE("counting continues with no process; a new Datapath adopts the pins") {
  Topology topo;
  TagGuard tag("persist");
  const std::string a = topo.a().ipv4;
  const std::string b = topo.b().ipv4;
  {
    auto datapath = open_datapath(tag.tag());
    CHECK_FALSE(datapath->adopted());
    auto report = attach_all(*datapath, iface_a(topo), IngressMode::Xdp);
    IT_REQUIRE_OK(report);
    Harvester harvester(*datapath);
    (void)harvest(harvester);
  }  // the "daemon" exits: skeleton, map and program fds closed

  udp_exact(topo.a().netns, topo.b().netns, b, 1500, 300, 44000);  // tx via TC egress
  udp_exact(topo.b().netns, topo.a().netns, a, 900, 50, 44001);    // rx via XDP

  auto datapath = open_datapath(tag.tag());
  CHECK(datapath->adopted());
  auto status = query_attachments(datapath->pin_path(), iface_a(topo));
  IT_REQUIRE_OK(status);
  CHECK(status->xdp == XdpMode::Native);
  CHECK(status->tc_egress);
  Harvester harvester(*datapath);
  netacct_counters got = flow_of(harvest(harvester), a, b, IPPROTO_UDP);
  MESSAGE("counted with no process holding the datapath: " << describe(got));
  CHECK(got == udp_expect(a, 1500, 300, 900, 50));

  IT_REQUIRE_OK(detach_all(datapath->pin_path(), iface_a(topo)));
  status = query_attachments(datapath->pin_path(), iface_a(topo));
  IT_REQUIRE_OK(status);
  CHECK(status->xdp == XdpMode::None);
  CHECK_FALSE(status->tc_egress);
  datapath.reset();
  auto dir = pin::PinDir::open_existing(tag.tag());
  IT_REQUIRE_OK(dir);
  IT_REQUIRE_OK(dir->remove_all());
  CHECK_FALSE(pin::PinDir::open_existing(tag.tag()).ok());
}

TEST_CASE("clsact: attaching again after a restart replaces our programs in place") {
  TcAttachGuard clsact("clsact");  // the tcx link's update: test_tcx.cpp
  Topology topo;
  TagGuard tag("reattach");
  {
    auto first = open_datapath(tag.tag());
    IT_REQUIRE_OK(attach_all(*first, iface_a(topo), IngressMode::Tc));
  }
  auto second = open_datapath(tag.tag());
  CHECK(second->adopted());
  IT_REQUIRE_OK(attach_all(*second, iface_a(topo), IngressMode::Tc));
  std::string ingress = tc_filters(topo, "ingress");
  std::string egress = tc_filters(topo, "egress");
  INFO("ingress: " << ingress << "egress: " << egress);
  CHECK(count_of(ingress, "name netacct_tc_in") == 1);
  CHECK(count_of(egress, "name netacct_tc_eg") == 1);
  // One filter per direction, no leftover (tc prints one "handle" per filter).
  CHECK(count_of(ingress, " handle ") == 1);
  CHECK(count_of(egress, " handle ") == 1);
  // The filters run the second load's programs.
  CHECK(ingress.find(" id " + std::to_string(prog_id(second->tc_ingress_fd())) + " ") !=
        std::string::npos);
  CHECK(egress.find(" id " + std::to_string(prog_id(second->tc_egress_fd())) + " ") !=
        std::string::npos);
  Harvester harvester(*second);
  exchange_and_check(topo, harvester, false, 44100);

  // The same for XDP: the pinned link stays, its program is swapped.
  IT_REQUIRE_OK(attach_all(*second, iface_a(topo), IngressMode::Xdp));
  LinkIds before = pinned_xdp_link(second->pin_path());
  CHECK(before.prog == prog_id(second->xdp_ingress_fd()));
  second.reset();
  auto third = open_datapath(tag.tag());
  auto report = attach_all(*third, iface_a(topo), IngressMode::Xdp);
  IT_REQUIRE_OK(report);
  CHECK(report->xdp_mode == XdpMode::Native);
  LinkIds after = pinned_xdp_link(third->pin_path());
  CHECK(after.link == before.link);
  CHECK(after.prog == prog_id(third->xdp_ingress_fd()));
  CHECK(after.prog != before.prog);
  CHECK(count_of(tc_filters(topo, "ingress"), "netacct") == 0);
  CHECK(count_of(tc_filters(topo, "egress"), "name netacct_tc_eg") == 1);
  Harvester harvester3(*third);
  exchange_and_check(topo, harvester3, true, 44101);
  IT_REQUIRE_OK(detach_all(third->pin_path(), iface_a(topo)));
}

TEST_CASE("a pinned XDP link whose interface is gone is replaced") {
  TagGuard tag("stale");
  LinkIds old_link;
  {
    Topology first;
    auto datapath = open_datapath(tag.tag());
    IT_REQUIRE_OK(attach_xdp(*datapath, iface_a(first)));
    old_link = pinned_xdp_link(datapath->pin_path());
  }  // namespaces and veth deleted; the pin still holds the defunct link
  Topology topo;
  auto datapath = open_datapath(tag.tag());
  // Namespace teardown is asynchronous: the old link may still report its
  // ifindex for a moment, and the new veth may reuse that very ifindex. The
  // program check in attach_xdp (is the link's program attached here?)
  // covers both cases.
  auto mode = attach_xdp(*datapath, iface_a(topo));
  IT_REQUIRE_OK(mode);
  LinkIds new_link = pinned_xdp_link(datapath->pin_path());
  CHECK(new_link.link != old_link.link);
  IT_REQUIRE_OK(attach_tc(*datapath, iface_a(topo), TcDirection::Egress));
  Harvester harvester(*datapath);
  exchange_and_check(topo, harvester, false, 44200);
  IT_REQUIRE_OK(detach_all(datapath->pin_path(), iface_a(topo)));
}

}  // namespace netacct::test
