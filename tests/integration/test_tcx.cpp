// SPDX-License-Identifier: GPL-2.0-only
// TC through tcx (this kernel has it): our links sit at the head of each
// chain, ahead of a foreign program that ends the chain with a verdict, and
// count exactly; a foreign tcx link survives our attach, restart and detach;
// a legacy clsact filter after us still sees every packet (ours return
// TCX_NEXT); a restart swaps the pinned link's program in place; migration
// between clsact and tcx leaves one attachment per direction; a link whose
// interface is gone is replaced. Chains are read from the kernel
// (BPF_PROG_QUERY), not from netacct's pins.
#include <bpf/bpf.h>
#include <linux/pkt_cls.h>
#include <unistd.h>

#include <climits>
#include <string>

#include "../../pin/pin_dir.hpp"
#include "daemon/common/unique_fd.hpp"
#include "it_common.hpp"

namespace netacct::test {

namespace {

constexpr TcDirection kBoth[] = {TcDirection::Ingress, TcDirection::Egress};

LinkIds pinned_tcx_link(const std::string& pin_path, TcDirection direction) {
  std::string path = pin_path + "/" +
                     (direction == TcDirection::Ingress ? pin::kLinkTcIngress : pin::kLinkTcEgress);
  UniqueFd fd(bpf_obj_get(path.c_str()));
  REQUIRE_MESSAGE(fd.valid(), "no pinned tcx link " << path);
  bpf_link_info info{};
  uint32_t len = sizeof info;
  REQUIRE(bpf_obj_get_info_by_fd(fd.get(), &info, &len) == 0);
  CHECK(info.type == tcx::kLinkType);
  return {info.id, info.prog_id};
}

// A foreign tc program that ends the tcx chain: TCX_PASS delivers the
// packet without running anything after it (later tcx programs, clsact).
UniqueFd load_chain_ender() {
  const bpf_insn pass[] = {
      {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = tcx::kPass},
      {.code = BPF_JMP | BPF_EXIT},
  };
  UniqueFd prog(bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "foreign_pass", "GPL", pass, 2, nullptr));
  REQUIRE_MESSAGE(prog.valid(), "load foreign tc program: " << errno);
  return prog;
}

// A tcx link of `prog` on A's interface (unpinned: it lives with the fd).
UniqueFd foreign_link(const Topology& topo, int prog, TcDirection direction) {
  auto scope = NetnsScope::enter(topo.a().netns);
  REQUIRE(scope.ok());
  int ifindex = static_cast<int>(::if_nametoindex(topo.a().ifname.c_str()));
  REQUIRE(ifindex > 0);
  LIBBPF_OPTS(bpf_link_create_opts, opts);
  UniqueFd link(bpf_link_create(
      prog, ifindex, direction == TcDirection::Ingress ? tcx::kIngress : tcx::kEgress, &opts));
  REQUIRE_MESSAGE(link.valid(), "foreign tcx link: " << errno);
  return link;
}

std::vector<std::pair<uint32_t, std::string>> chain(const Topology& topo, TcDirection direction) {
  return tcx_programs(topo.a().netns, topo.a().ifname, direction);
}

const char* our_name(TcDirection direction) {
  return direction == TcDirection::Ingress ? "netacct_tc_in" : "netacct_tc_eg";
}

std::string clsact_filters(const Topology& topo, TcDirection direction) {
  std::string out;
  run("ip netns exec " + topo.a().netns + " tc filter show dev " + topo.a().ifname + " " +
          to_string(direction),
      &out);
  return out;
}

void check_kinds(const Datapath& datapath, const Topology& topo, TcKind kind) {
  auto status = query_attachments(datapath.pin_path(), iface_a(topo));
  IT_REQUIRE_OK(status);
  CHECK(status->tc_ingress_kind == kind);
  CHECK(status->tc_egress_kind == kind);
  CHECK(status->tc_ingress == (kind != TcKind::None));
  CHECK(status->tc_egress == (kind != TcKind::None));
}

// build/tests/integration_tests -> build/bpf/empty.bpf.o
std::string empty_object() {
  char exe[PATH_MAX] = {};
  ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  REQUIRE(n > 0);
  std::string path(exe, static_cast<size_t>(n));
  path = path.substr(0, path.rfind('/'));
  return path.substr(0, path.rfind('/')) + "/bpf/empty.bpf.o";
}

}  // namespace

TEST_CASE("tcx: ours at the head, ahead of a foreign program that ends the chain; exact") {
  Topology topo;
  TagGuard tag("tcxhead");
  UniqueFd foreign = load_chain_ender();
  const uint32_t foreign_id = prog_id(foreign.get());
  UniqueFd foreign_in = foreign_link(topo, foreign.get(), TcDirection::Ingress);
  UniqueFd foreign_eg = foreign_link(topo, foreign.get(), TcDirection::Egress);

  LinkIds first[2];
  {
    auto datapath = open_datapath(tag.tag());
    IT_REQUIRE_OK(attach_all(*datapath, iface_a(topo), IngressMode::Tc));
    check_kinds(*datapath, topo, TcKind::Tcx);
    for (TcDirection direction : kBoth) {
      auto programs = chain(topo, direction);
      REQUIRE(programs.size() == 2);
      CHECK(programs[0].second == our_name(direction));
      CHECK(programs[1].first == foreign_id);
      first[direction == TcDirection::Ingress] = pinned_tcx_link(datapath->pin_path(), direction);
    }
    CHECK(clsact_filters(topo, TcDirection::Ingress).find("netacct") == std::string::npos);
    Harvester harvester(*datapath);
    exchange_and_check(topo, harvester, false, 45000);
    exchange_and_check(topo, harvester, true, 45001);
  }  // the "daemon" exits; the pinned links keep counting

  // Restart: the same links, the new programs, still one of ours per chain.
  auto datapath = open_datapath(tag.tag());
  CHECK(datapath->adopted());
  IT_REQUIRE_OK(attach_all(*datapath, iface_a(topo), IngressMode::Tc));
  for (TcDirection direction : kBoth) {
    auto programs = chain(topo, direction);
    REQUIRE(programs.size() == 2);
    int fd =
        direction == TcDirection::Ingress ? datapath->tc_ingress_fd() : datapath->tc_egress_fd();
    CHECK(programs[0].first == prog_id(fd));
    CHECK(programs[1].first == foreign_id);
    LinkIds now = pinned_tcx_link(datapath->pin_path(), direction);
    CHECK(now.link == first[direction == TcDirection::Ingress].link);
    CHECK(now.prog != first[direction == TcDirection::Ingress].prog);
  }
  Harvester harvester(*datapath);
  exchange_and_check(topo, harvester, false, 45002);

  IT_REQUIRE_OK(detach_all(datapath->pin_path(), iface_a(topo)));
  check_kinds(*datapath, topo, TcKind::None);
  for (TcDirection direction : kBoth) {
    auto programs = chain(topo, direction);
    REQUIRE(programs.size() == 1);
    CHECK(programs[0].first == foreign_id);
  }
  auto dir = pin::PinDir::open_existing(tag.tag());
  IT_REQUIRE_OK(dir);
  CHECK_FALSE(dir->has(pin::kLinkTcIngress));
  CHECK_FALSE(dir->has(pin::kLinkTcEgress));
}

TEST_CASE("tcx: a legacy clsact filter after ours still sees every packet") {
  Topology topo;
  TagGuard tag("tcxlegacy");
  const Endpoint& a = topo.a();
  run_ok("ip netns exec " + a.netns + " tc qdisc add dev " + a.ifname + " clsact");
  for (const char* direction : {"ingress", "egress"})
    run_ok("ip netns exec " + a.netns + " tc filter add dev " + a.ifname + " " + direction +
           " prio 10 handle 1 protocol all bpf obj " + empty_object() + " sec tc da");
  auto filter_prog = [&](TcDirection direction) {
    std::string shown = clsact_filters(topo, direction);
    auto at = shown.find(" id ");
    REQUIRE_MESSAGE(at != std::string::npos, shown);
    return static_cast<uint32_t>(std::stoul(shown.substr(at + 4)));
  };
  auto run_count = [](uint32_t id) {
    UniqueFd fd(bpf_prog_get_fd_by_id(id));
    REQUIRE(fd.valid());
    bpf_prog_info info{};
    uint32_t len = sizeof info;
    REQUIRE(bpf_obj_get_info_by_fd(fd.get(), &info, &len) == 0);
    return info.run_cnt;
  };
  UniqueFd stats(bpf_enable_stats(BPF_STATS_RUN_TIME));  // while the fd lives
  REQUIRE_MESSAGE(stats.valid(), "BPF_ENABLE_STATS: " << errno);

  auto datapath = open_datapath(tag.tag());
  IT_REQUIRE_OK(attach_all(*datapath, iface_a(topo), IngressMode::Tc));
  check_kinds(*datapath, topo, TcKind::Tcx);
  const uint32_t in_id = filter_prog(TcDirection::Ingress);
  const uint32_t eg_id = filter_prog(TcDirection::Egress);
  const uint64_t in_before = run_count(in_id), eg_before = run_count(eg_id);
  Harvester harvester(*datapath);
  exchange_and_check(topo, harvester, false, 45100);  // A sends 1000, receives 600
  CHECK(run_count(in_id) - in_before >= 600);
  CHECK(run_count(eg_id) - eg_before >= 1000);

  IT_REQUIRE_OK(detach_all(datapath->pin_path(), iface_a(topo)));
  for (TcDirection direction : kBoth) {
    CHECK(chain(topo, direction).empty());
    CHECK(clsact_filters(topo, direction).find("name empty_tc") != std::string::npos);
  }
}

TEST_CASE("tcx: migration from clsact and back leaves one attachment per direction; exact") {
  Topology topo;
  TagGuard tag("tcxmigrate");
  auto datapath = open_datapath(tag.tag());
  Harvester harvester(*datapath);
  {
    TcAttachGuard clsact("clsact");
    IT_REQUIRE_OK(attach_all(*datapath, iface_a(topo), IngressMode::Tc));
  }
  check_kinds(*datapath, topo, TcKind::Clsact);
  for (TcDirection direction : kBoth) CHECK(chain(topo, direction).empty());
  exchange_and_check(topo, harvester, false, 45200);

  IT_REQUIRE_OK(attach_all(*datapath, iface_a(topo), IngressMode::Tc));  // auto: tcx
  check_kinds(*datapath, topo, TcKind::Tcx);
  for (TcDirection direction : kBoth) {
    auto programs = chain(topo, direction);
    REQUIRE(programs.size() == 1);
    CHECK(programs[0].second == our_name(direction));
    CHECK(clsact_filters(topo, direction).find("netacct") == std::string::npos);
  }
  // The clsact netacct created for its filters went with them.
  CHECK(run_ok("ip netns exec " + topo.a().netns + " tc qdisc show dev " + topo.a().ifname)
            .find("clsact") == std::string::npos);
  exchange_and_check(topo, harvester, true, 45201);

  {
    TcAttachGuard clsact("clsact");
    IT_REQUIRE_OK(attach_all(*datapath, iface_a(topo), IngressMode::Tc));
  }
  check_kinds(*datapath, topo, TcKind::Clsact);
  for (TcDirection direction : kBoth) CHECK(chain(topo, direction).empty());
  auto dir = pin::PinDir::open_existing(tag.tag());
  IT_REQUIRE_OK(dir);
  CHECK_FALSE(dir->has(pin::kLinkTcIngress));
  CHECK_FALSE(dir->has(pin::kLinkTcEgress));
  exchange_and_check(topo, harvester, false, 45202);
  IT_REQUIRE_OK(detach_all(datapath->pin_path(), iface_a(topo)));
  check_kinds(*datapath, topo, TcKind::None);
}

TEST_CASE("tcx: a pinned link whose interface is gone is replaced") {
  Topology topo;
  TagGuard tag("tcxstale");
  auto datapath = open_datapath(tag.tag());
  IT_REQUIRE_OK(attach_all(*datapath, iface_a(topo), IngressMode::Tc));
  LinkIds old_link = pinned_tcx_link(datapath->pin_path(), TcDirection::Egress);
  run_ok("ip -n " + topo.a().netns + " link del " + topo.a().ifname);
  topo.recreate_link();
  auto status = query_attachments(datapath->pin_path(), iface_a(topo));
  IT_REQUIRE_OK(status);
  CHECK(status->tcx_egress_pinned);
  CHECK(status->tc_egress_kind == TcKind::None);

  IT_REQUIRE_OK(attach_all(*datapath, iface_a(topo), IngressMode::Tc));
  check_kinds(*datapath, topo, TcKind::Tcx);
  CHECK(pinned_tcx_link(datapath->pin_path(), TcDirection::Egress).link != old_link.link);
  for (TcDirection direction : kBoth) CHECK(chain(topo, direction).size() == 1);
  Harvester harvester(*datapath);
  exchange_and_check(topo, harvester, false, 45300);
  IT_REQUIRE_OK(detach_all(datapath->pin_path(), iface_a(topo)));
}

TEST_CASE("tcx: another tag counting with the other kind is refused, naming it") {
  Topology topo;
  TagGuard first_tag("tcxown1");
  TagGuard second_tag("tcxown2");
  auto first = open_datapath(first_tag.tag());
  auto second = open_datapath(second_tag.tag());
  const std::string named = "netacct tag '" + first_tag.tag() + "'";
  {
    TcAttachGuard clsact("clsact");
    IT_REQUIRE_OK(attach_all(*first, iface_a(topo), IngressMode::Tc));
  }
  auto refused = attach_tc(*second, iface_a(topo), TcDirection::Egress);  // tcx
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().err == EBUSY);
  CHECK(refused.error().message().find(named) != std::string::npos);
  for (TcDirection direction : kBoth) CHECK(chain(topo, direction).empty());
  IT_REQUIRE_OK(detach_all(first->pin_path(), iface_a(topo)));

  IT_REQUIRE_OK(attach_all(*first, iface_a(topo), IngressMode::Tc));  // tcx
  {
    TcAttachGuard clsact("clsact");
    auto again = attach_tc(*second, iface_a(topo), TcDirection::Ingress);
    REQUIRE_FALSE(again.ok());
    CHECK(again.error().err == EBUSY);
    CHECK(again.error().message().find(named) != std::string::npos);
  }
  check_kinds(*second, topo, TcKind::None);
  check_kinds(*first, topo, TcKind::Tcx);
  Harvester harvester(*first);
  exchange_and_check(topo, harvester, false, 45400);
  IT_REQUIRE_OK(detach_all(second->pin_path(), iface_a(topo)));
  IT_REQUIRE_OK(detach_all(first->pin_path(), iface_a(topo)));
}

TEST_CASE("tcx: NETACCT_TC_ATTACH with an unknown value is refused, naming it") {
  Topology topo;
  TagGuard tag("tcxbad");
  TcAttachGuard bad("tc-flower");
  auto datapath = open_datapath(tag.tag());
  auto attached = attach_all(*datapath, iface_a(topo), IngressMode::Tc);
  REQUIRE_FALSE(attached.ok());
  CHECK(attached.error().message().find("NETACCT_TC_ATTACH='tc-flower'") != std::string::npos);
}

}  // namespace netacct::test
