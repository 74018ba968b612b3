// SPDX-License-Identifier: GPL-2.0-only
#include "bench_inpath.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <net/if.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "daemon/common/unique_fd.hpp"
#include "daemon/engine/attach.hpp"
#include "daemon/engine/datapath.hpp"
#include "daemon/engine/netns.hpp"
#include "tests/support/topology.hpp"
#include "tests/support/traffic.hpp"

namespace netacct::bench {
namespace {

// After netacct's filter (which returns TC_ACT_UNSPEC, so the next one runs).
constexpr uint32_t kEmptyPriority = 0xfff0;
constexpr uint32_t kEmptyHandle = 0x7e57;

struct RunStats {
  uint64_t ns = 0;
  uint64_t count = 0;
};

RunStats run_stats(int prog_fd) {
  bpf_prog_info info{};
  uint32_t length = sizeof info;
  if (bpf_obj_get_info_by_fd(prog_fd, &info, &length) != 0)
    throw std::runtime_error("bpf_obj_get_info_by_fd failed");
  return {info.run_time_ns, info.run_cnt};
}

double ns_per_run(const RunStats& before, const RunStats& after) {
  uint64_t runs = after.count - before.count;
  return runs ? static_cast<double>(after.ns - before.ns) / static_cast<double>(runs) : 0;
}

// The empty TC program on the interface's egress, removed on destruction.
class EmptyEgressFilter {
 public:
  EmptyEgressFilter(const std::string& netns, const std::string& ifname, int prog_fd)
      : netns_(netns), ifname_(ifname) {
    auto scope = NetnsScope::enter(netns_);
    if (!scope.ok()) throw std::runtime_error(scope.error().message());
    hook_.ifindex = static_cast<int>(if_nametoindex(ifname_.c_str()));
    hook_.attach_point = BPF_TC_EGRESS;
    opts_.prog_fd = prog_fd;
    opts_.priority = kEmptyPriority;
    opts_.handle = kEmptyHandle;
    // With tcx netacct makes no clsact qdisc: the empty filter needs one.
    created_qdisc_ = bpf_tc_hook_create(&hook_) == 0;
    if (bpf_tc_attach(&hook_, &opts_) != 0)
      throw std::runtime_error("cannot attach the empty TC program to " + ifname_);
  }
  ~EmptyEgressFilter() {
    auto scope = NetnsScope::enter(netns_);
    opts_.prog_fd = 0;
    opts_.prog_id = 0;
    opts_.flags = 0;
    if (!scope.ok()) return;
    bpf_tc_detach(&hook_, &opts_);
    if (created_qdisc_) {
      hook_.attach_point = static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS);
      bpf_tc_hook_destroy(&hook_);
    }
  }
  EmptyEgressFilter(const EmptyEgressFilter&) = delete;
  EmptyEgressFilter& operator=(const EmptyEgressFilter&) = delete;

 private:
  std::string netns_;
  std::string ifname_;
  bpf_tc_hook hook_ = {.sz = sizeof(bpf_tc_hook)};
  bpf_tc_opts opts_ = {.sz = sizeof(bpf_tc_opts)};
  bool created_qdisc_ = false;
};

}  // namespace

InPathFigures measure_tcp_egress(int rounds, uint64_t bytes) {
  test::Topology topo;
  test::TagGuard tag("bench-inpath");
  DatapathOptions options;
  options.tag = tag.tag();
  auto opened = Datapath::open(options);
  if (!opened.ok()) throw std::runtime_error(opened.error().message());
  Datapath& datapath = *opened.value();
  Interface iface{topo.a().ifname, topo.a().netns};
  auto attached = attach_all(datapath, iface, IngressMode::Tc);
  if (!attached.ok()) throw std::runtime_error(attached.error().message());

  EmptyProgs empty;
  InPathFigures figures;
  {
    EmptyEgressFilter after_ours(topo.a().netns, topo.a().ifname, empty.tc_fd());
    UniqueFd stats(bpf_enable_stats(BPF_STATS_RUN_TIME));
    if (!stats) throw std::runtime_error("cannot enable bpf_stats (BPF_ENABLE_STATS)");

    std::vector<double> ours_ns, empty_ns;
    std::vector<uint64_t> runs;
    for (int round = 0; round < rounds; round++) {
      RunStats ours_before = run_stats(datapath.tc_egress_fd());
      RunStats empty_before = run_stats(empty.tc_fd());
      test::TcpSpec spec;
      spec.from_netns = topo.a().netns;
      spec.to_netns = topo.b().netns;
      spec.to_address = topo.b().ipv4;
      spec.port = static_cast<uint16_t>(44000 + round);
      spec.bytes = bytes;
      spec.timeout = std::chrono::seconds(20);
      test::TcpResult result = test::tcp_transfer(spec);
      if (result.received != bytes) throw std::runtime_error("in-path TCP transfer fell short");
      RunStats ours_after = run_stats(datapath.tc_egress_fd());
      ours_ns.push_back(ns_per_run(ours_before, ours_after));
      empty_ns.push_back(ns_per_run(empty_before, run_stats(empty.tc_fd())));
      runs.push_back(ours_after.count - ours_before.count);
    }
    figures.ours_ns = median(ours_ns);
    figures.empty_ns = median(empty_ns);
    std::sort(runs.begin(), runs.end());
    figures.runs = runs[runs.size() / 2];
    figures.tcp_bytes = bytes;
  }
  (void)detach_all(datapath.pin_path(), iface);
  return figures;
}

}  // namespace netacct::bench
