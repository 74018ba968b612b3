// SPDX-License-Identifier: GPL-2.0-only
// Exact UDP accounting on a veth inside test namespaces, in TC mode and in
// XDP mode, plus the attach errors a user meets first: a missing interface
// or namespace, and a foreign XDP program.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <unistd.h>

#include "daemon/engine/netns.hpp"
#include "it_common.hpp"

namespace netacct::test {

TEST_CASE("errors name the interface and the namespace") {
  Topology topo;
  auto missing_if = interface_index({"nope0", topo.a().netns});
  REQUIRE_FALSE(missing_if.ok());
  CHECK(missing_if.error().message().find("interface 'nope0' not found in network namespace '" +
                                          topo.a().netns + "'") != std::string::npos);
  auto found = interface_index(iface_a(topo));
  IT_REQUIRE_OK(found);
  CHECK(found.value() > 0);

  auto missing_ns = NetnsScope::enter("na-does-not-exist");
  REQUIRE_FALSE(missing_ns.ok());
  CHECK(missing_ns.error().message().find("na-does-not-exist") != std::string::npos);
  // Detaching from something that is gone is not an error (cleanup must work).
  IT_REQUIRE_OK(detach_all("", {"veth-a", "na-does-not-exist"}));
}

TEST_CASE("TC mode counts UDP both ways exactly (IPv4, IPv6)") {
  Topology topo;
  TagGuard tag("udp-tc");
  auto datapath = open_datapath(tag.tag());
  auto report = attach_all(*datapath, iface_a(topo), IngressMode::Tc);
  IT_REQUIRE_OK(report);
  CHECK(report->xdp_mode == XdpMode::None);
  auto status = query_attachments(datapath->pin_path(), iface_a(topo));
  IT_REQUIRE_OK(status);
  CHECK(status->tc_ingress);
  CHECK(status->tc_egress);
  CHECK(status->xdp == XdpMode::None);

  Harvester harvester(*datapath);
  netacct_counters v4 = exchange_and_check(topo, harvester, false, 40100);
  netacct_counters v6 = exchange_and_check(topo, harvester, true, 40101);
  MESSAGE("TC v4 flow: " << describe(v4) << "; v6 flow: " << describe(v6));

  IT_REQUIRE_OK(detach_all(datapath->pin_path(), iface_a(topo)));
  status = query_attachments(datapath->pin_path(), iface_a(topo));
  IT_REQUIRE_OK(status);
  CHECK_FALSE(status->tc_ingress);
  CHECK_FALSE(status->tc_egress);
}

TEST_CASE("XDP mode (XDP ingress + TC egress) counts UDP both ways exactly") {
  Topology topo;
  TagGuard tag("udp-xdp");
  auto datapath = open_datapath(tag.tag());
  auto report = attach_all(*datapath, iface_a(topo), IngressMode::Xdp);
  IT_REQUIRE_OK(report);
  MESSAGE("XDP mode on veth: " << std::string(to_string(report->xdp_mode)));
  CHECK(report->xdp_mode == XdpMode::Native);  // veth has a native XDP path
  auto status = query_attachments(datapath->pin_path(), iface_a(topo));
  IT_REQUIRE_OK(status);
  CHECK(status->xdp == report->xdp_mode);
  CHECK_FALSE(status->tc_ingress);
  CHECK(status->tc_egress);
  CHECK(pin::PinDir::open_existing(tag.tag())->has(pin::kLinkXdp));

  Harvester harvester(*datapath);
  netacct_counters v4 = exchange_and_check(topo, harvester, false, 40200);
  netacct_counters v6 = exchange_and_check(topo, harvester, true, 40201);
  MESSAGE("XDP v4 flow: " << describe(v4) << "; v6 flow: " << describe(v6));

  // Switching the ingress kind leaves exactly one counting ingress hook.
  IT_REQUIRE_OK(attach_all(*datapath, iface_a(topo), IngressMode::Tc));
  status = query_attachments(datapath->pin_path(), iface_a(topo));
  IT_REQUIRE_OK(status);
  CHECK(status->xdp == XdpMode::None);
  CHECK(status->tc_ingress);
  exchange_and_check(topo, harvester, false, 40202);

  IT_REQUIRE_OK(attach_all(*datapath, iface_a(topo), IngressMode::Xdp));
  IT_REQUIRE_OK(detach_all(datapath->pin_path(), iface_a(topo)));
  status = query_attachments(datapath->pin_path(), iface_a(topo));
  IT_REQUIRE_OK(status);
  CHECK(status->xdp == XdpMode::None);
  CHECK_FALSE(status->tc_egress);
  CHECK_FALSE(pin::PinDir::open_existing(tag.tag())->has(pin::kLinkXdp));
}

TEST_CASE("generic XDP can be forced") {
  Topology topo;
  TagGuard tag("xdp-gen");
  auto datapath = open_datapath(tag.tag());
  auto mode = attach_xdp(*datapath, iface_a(topo), XdpMode::Generic);
  IT_REQUIRE_OK(mode);
  CHECK(mode.value() == XdpMode::Generic);
  Harvester harvester(*datapath);
  IT_REQUIRE_OK(attach_tc(*datapath, iface_a(topo), TcDirection::Egress));
  exchange_and_check(topo, harvester, true, 40300);
  IT_REQUIRE_OK(detach_all(datapath->pin_path(), iface_a(topo)));
}

TEST_CASE("a foreign XDP program makes attach fail with a hint to use TC") {
  Topology topo;
  TagGuard tag("xdp-foreign");
  auto datapath = open_datapath(tag.tag());
  auto index = interface_index(iface_a(topo));
  IT_REQUIRE_OK(index);
  {
    // "Foreign": another program (not netacct's, by name and maps), attached
    // without a link, by someone other than attach_xdp.
    const bpf_insn pass[] = {
        {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS},
        {.code = BPF_JMP | BPF_EXIT},
    };
    int foreign = bpf_prog_load(BPF_PROG_TYPE_XDP, "foreign_xdp", "GPL", pass, 2, nullptr);
    REQUIRE(foreign >= 0);
    auto scope = NetnsScope::enter(topo.a().netns);
    IT_REQUIRE_OK(scope);
    REQUIRE(bpf_xdp_attach(index.value(), foreign, XDP_FLAGS_SKB_MODE, nullptr) == 0);
    ::close(foreign);  // the attachment holds its own reference
  }
  auto mode = attach_xdp(*datapath, iface_a(topo));
  REQUIRE_FALSE(mode.ok());
  CHECK(mode.error().err == EBUSY);
  CHECK(mode.error().message().find("TC ingress mode") != std::string::npos);
  MESSAGE("foreign XDP error: " << mode.error().message());
  // Detach must not remove what it did not attach.
  IT_REQUIRE_OK(detach_all(datapath->pin_path(), iface_a(topo)));
  {
    auto scope = NetnsScope::enter(topo.a().netns);
    IT_REQUIRE_OK(scope);
    uint32_t prog_id = 0;
    REQUIRE(bpf_xdp_query_id(index.value(), 0, &prog_id) == 0);
    CHECK(prog_id != 0);
  }
  // TC mode still works next to it.
  IT_REQUIRE_OK(attach_all(*datapath, iface_a(topo), IngressMode::Tc));
}

}  // namespace netacct::test
