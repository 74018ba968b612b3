// SPDX-License-Identifier: GPL-2.0-only
// netacct-bench: what the datapath costs per packet, measured by the kernel
// (BPF_PROG_TEST_RUN with repeat; opts.duration is its average ns per run)
// against empty programs on the same hook in the same run, plus the harvest
// rate and the flow buffers' kernel memory. It prints; it asserts nothing.
//
// Usage: netacct-bench [rounds]   (default 5; each figure is the median)
//        netacct-bench --daemon    only the daemon's ledger and export figures
// Two machine-readable lines: "bench-daemon: name=value ..." and, last,
// "bench: name=value ...".
#include <bpf/libbpf.h>
#include <sys/utsname.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>

#include "bench_common.hpp"
#include "bench_daemon.hpp"
#include "bench_harvest.hpp"
#include "bench_inpath.hpp"
#include "bench_memory.hpp"
#include "bench_packets.hpp"
#include "bench_percpu.hpp"
#include "bench_resident.hpp"
#include "bpf/netacct_shared.h"
#include "daemon/common/version.hpp"

using namespace netacct::bench;

namespace {

struct Goal {
  double max_ratio;  // 0: informational row
};

void print_row(const char* name, const Pair& pair, Goal goal) {
  std::printf("  %-44s %8.1f %8.1f %7.2fx", name, pair.empty_ns, pair.ours_ns, pair.ratio());
  if (goal.max_ratio > 0)
    std::printf("   <= %.1fx  %s", goal.max_ratio,
                pair.ratio() <= goal.max_ratio ? "met" : "MISSED");
  std::printf("\n");
}

void print_packets(const PacketFigures& p, int rounds) {
  std::printf("ns/packet, kernel-measured (BPF_PROG_TEST_RUN), median of %d rounds\n", rounds);
  std::printf("  %-44s %8s %8s %8s   %s\n", "case (frame: Ethernet/IP/UDP, 64 B payload)", "empty",
              "ours", "ratio", "goal");
  print_row("XDP, 1 IPv4 flow", {p.empty_xdp, p.xdp_1flow}, {2.5});
  print_row("TC ingress, 1 IPv4 flow", {p.empty_tc, p.tc_in_1flow}, {2.5});
  print_row("TC egress, 1 IPv4 flow", {p.empty_tc, p.tc_eg_1flow}, {2.5});
  print_row("XDP, 1 IPv6 flow", {p.empty_xdp, p.xdp_v6}, {2.5});
  std::string mix = "XDP, 65,536 flows, repeat " + std::to_string(p.mix_repeat) + " per frame";
  print_row(mix.c_str(), {p.empty_xdp_64k, p.xdp_64k}, {5.0});
  print_row("XDP, 65,536 flows, repeat 1 per frame (info)", {p.empty_xdp_64k_r1, p.xdp_64k_r1},
            {0});
  print_row("XDP, 1 flow, repeat 1 per call (info)", {p.empty_xdp_1flow_r1, p.xdp_1flow_r1}, {0});
  print_row("XDP, whitelisted remote, 10,000 prefixes", {p.empty_xdp, p.xdp_wl}, {2.0});
  print_row("XDP, 1 flow + whitelist miss, 10,000 (info)", {p.empty_xdp, p.xdp_wl_miss}, {0});
  std::printf(
      "  (the kernel reports whole ns per call; repeat 1 durations include one clock read)\n");
}

void print_percpu(const PercpuFigures& c, const PacketFigures& p) {
  std::printf(
      "\nper-CPU values instead (bench-only build -DNETACCT_PERCPU_VALUES: "
      "PERCPU_HASH, no atomics)\n");
  std::printf("  %-44s %8s %8s %8s   %s\n", "case", "empty", "per-CPU", "ratio", "shared (ours)");
  auto row = [](const char* name, Pair pair, double shared) {
    std::printf("  %-44s %8.1f %8.1f %7.2fx   %.1f\n", name, pair.empty_ns, pair.ours_ns,
                pair.ratio(), shared);
  };
  row("XDP, 1 IPv4 flow", {c.empty_xdp, c.xdp_1flow}, p.xdp_1flow);
  std::string mix = "XDP, 65,536 flows, repeat " + std::to_string(p.mix_repeat) + " per frame";
  row(mix.c_str(), {c.empty_xdp_64k, c.xdp_64k}, p.xdp_64k);
  row("XDP, 65,536 flows, repeat 1 per frame", {c.empty_xdp_64k_r1, c.xdp_64k_r1}, p.xdp_64k_r1);
}

void print_harvest_row(const HarvestFigures& h, double goal_s) {
  std::printf("  %9u %9.3f %11.0f %9.2f %9.2f %9.2f", h.flows, h.total_s, h.per_s(), h.swap_s * 1e3,
              h.read_s * 1e3, h.clear_s * 1e3);
  if (goal_s > 0) std::printf("   < %.1f s  %s", goal_s, h.total_s < goal_s ? "met" : "MISSED");
  std::printf("\n");
}

void print_harvest(const HarvestResults& h) {
  std::printf(
      "\nharvest = swap + batch read + batch clear (Harvester::harvest), buffer capacity "
      "%u, medians\n",
      kHarvestCapacity);
  std::printf("  %9s %9s %11s %9s %9s %9s   %s\n", "flows", "total s", "flows/s", "swap ms",
              "read ms", "clear ms", "goal");
  print_harvest_row(h.small, 0);
  print_harvest_row(h.large, 0.5);
}

double mib(uint64_t bytes) {
  return static_cast<double>(bytes) / (1024.0 * 1024.0);
}

void print_memory(const MemoryFigures& m, uint64_t shared_1m) {
  std::printf(
      "\nkernel memory of the flow buffers (memlock from /proc/self/fdinfo; two buffers)\n");
  std::printf(
      "  shared values (ours), %u entries: %.1f MiB per buffer, %.1f MiB for two, at any "
      "CPU count\n",
      m.entries, mib(m.shared), 2 * mib(m.shared));
  std::printf("  shared values (ours), 1,000,005 entries: %.1f MiB per buffer\n", mib(shared_1m));
  std::printf("  per-CPU values, same entries: shared + entries * (32 * cpus - 24) bytes\n");
  std::printf("    %3d CPUs (measured here): %.1f MiB per buffer (formula: %.1f MiB)\n",
              m.possible_cpus, mib(m.percpu_here), mib(m.percpu_estimate(m.possible_cpus)));
  for (int cpus : {2, 128}) {
    std::printf("    %3d CPUs (formula): %.1f MiB per buffer, %.1f MiB for two\n", cpus,
                mib(m.percpu_estimate(cpus)), 2 * mib(m.percpu_estimate(cpus)));
  }
}

void print_inpath(const InPathFigures& f, int rounds) {
  std::printf(
      "\nin path: bulk TCP (TSO) through a veth, TC egress, kernel bpf_stats ns per run,\n"
      "an empty TC program chained after ours on the same skbs, median of %d rounds of %llu "
      "MiB\n",
      rounds, static_cast<unsigned long long>(f.tcp_bytes >> 20));
  std::printf("  %-44s %8s %8s %8s   %s\n", "case", "empty", "ours", "ratio", "goal");
  char name[96];
  std::snprintf(name, sizeof name, "TCP egress, %llu skbs per round",
                static_cast<unsigned long long>(f.runs));
  print_row(name, {f.empty_ns, f.ours_ns}, {2.5});
}

void print_last_line(const PacketFigures& p, const PercpuFigures& c, const HarvestResults& h,
                     const MemoryFigures& m, const InPathFigures& inpath) {
  std::printf(
      "bench: empty_xdp_ns=%.1f empty_tc_ns=%.1f xdp_1flow_ns=%.1f tc_in_1flow_ns=%.1f "
      "tc_eg_1flow_ns=%.1f empty_xdp_64k_ns=%.1f xdp_64k_ns=%.1f xdp_v6_ns=%.1f xdp_wl_ns=%.1f "
      "harvest_64k_per_s=%.0f harvest_1m_per_s=%.0f",
      p.empty_xdp, p.empty_tc, p.xdp_1flow, p.tc_in_1flow, p.tc_eg_1flow, p.empty_xdp_64k,
      p.xdp_64k, p.xdp_v6, p.xdp_wl, h.small.per_s(), h.large.per_s());
  std::printf(
      " xdp_1flow_ratio=%.2f tc_in_1flow_ratio=%.2f tc_eg_1flow_ratio=%.2f xdp_64k_ratio=%.2f "
      "xdp_wl_ratio=%.2f xdp_wl_miss_ns=%.1f empty_xdp_64k_r1_ns=%.1f xdp_64k_r1_ns=%.1f "
      "empty_xdp_1flow_r1_ns=%.1f xdp_1flow_r1_ns=%.1f harvest_1m_s=%.3f "
      "flow_buffer_64k_bytes=%llu percpu_buffer_64k_2cpu_bytes=%llu "
      "percpu_buffer_64k_128cpu_bytes=%llu",
      p.xdp_1flow / p.empty_xdp, p.tc_in_1flow / p.empty_tc, p.tc_eg_1flow / p.empty_tc,
      p.xdp_64k / p.empty_xdp_64k, p.xdp_wl / p.empty_xdp, p.xdp_wl_miss, p.empty_xdp_64k_r1,
      p.xdp_64k_r1, p.empty_xdp_1flow_r1, p.xdp_1flow_r1, h.large.total_s,
      static_cast<unsigned long long>(m.shared),
      static_cast<unsigned long long>(m.percpu_estimate(2)),
      static_cast<unsigned long long>(m.percpu_estimate(128)));
  std::printf(" xdp_1flow_percpu_ns=%.1f xdp_64k_percpu_ns=%.1f xdp_64k_r1_percpu_ns=%.1f",
              c.xdp_1flow, c.xdp_64k, c.xdp_64k_r1);
  std::printf(" inpath_empty_tc_ns=%.1f inpath_tcp_eg_ns=%.1f inpath_tcp_eg_ratio=%.2f\n",
              inpath.empty_ns, inpath.ours_ns, inpath.ratio());
}

// One figure beside its goal: "<= goal" (at most) or ">= goal" (at least).
void print_goal(const char* name, double value, const char* unit, double goal, bool at_most) {
  bool met = at_most ? value <= goal : value >= goal;
  std::printf("  %-46s %12.1f %-7s %s %-10.0f %s\n", name, value, unit, at_most ? "<=" : ">=", goal,
              met ? "met" : "MISSED");
}

void print_daemon(const DaemonFigures& d) {
  std::printf(
      "\nnetacctd user space: ledger commit (SQLite) + JSON export, as Instance::harvest runs "
      "them,\nfed by a synthetic counter source (kernel drain excluded: see the harvest rows)\n");
  std::printf("  65,536 remotes in history, idle intervals:\n");
  print_goal("CPU per idle harvest", d.idle_harvest_cpu_ms, "ms", 10, true);
  print_goal("bytes written per idle harvest", d.idle_harvest_write_bytes, "B", 1000000, true);
  print_goal("peak RSS (VmHWM)", d.idle_hwm_mib, "MiB", 32, true);
  std::printf("  1,000,000 remotes in history, 65,536 new or changed flows per harvest:\n");
  print_goal("harvest: commit of the delta", d.commit_ms, "ms", 250, true);
  print_goal("JSON export of the whole period", d.export_ms, "ms", 0, false);
  print_goal("harvest that also exports (commit + export)", d.harvest_user_ms, "ms", 250, true);
  print_goal("JSON export rate", d.export_rows_per_s, "rows/s", 1000000, false);
  print_goal("RSS growth over one export", d.export_rss_growth_mib, "MiB", 1, true);
  print_goal("start-up over that ledger", d.startup_ms, "ms", 1000, true);
  print_goal("peak RSS (VmHWM)", d.hwm_mib, "MiB", 64, true);
  std::printf(
      "  (building the 1,000,000-remote history took %.1f s; an export rewrites the whole\n"
      "   period, so with a large period set --json-interval above the harvest interval)\n",
      d.history_build_s);
  std::printf(
      "bench-daemon: idle_harvest_cpu_ms=%.2f idle_harvest_write_bytes=%.0f idle_hwm_mib=%.1f "
      "commit_ms=%.1f export_ms=%.1f harvest_user_ms=%.1f export_rows_per_s=%.0f "
      "export_rss_growth_mib=%.1f startup_ms=%.1f hwm_mib=%.1f\n",
      d.idle_harvest_cpu_ms, d.idle_harvest_write_bytes, d.idle_hwm_mib, d.commit_ms, d.export_ms,
      d.harvest_user_ms, d.export_rows_per_s, d.export_rss_growth_mib, d.startup_ms, d.hwm_mib);
}

constexpr const char* kUsage =
    "Usage: netacct-bench [ROUNDS]\n"
    "       netacct-bench --daemon | --in-path\n"
    "       netacct-bench --help | --version\n"
    "\n"
    "Measures what the datapath costs per packet (BPF_PROG_TEST_RUN against empty\n"
    "programs on the same hook; and in path, bulk TCP through a veth pair of its own,\n"
    "from bpf_stats), the harvest rate, the flow buffers' kernel memory\n"
    "and the daemon's ledger and export figures. It prints; it asserts nothing.\n"
    "Needs root (BPF); runs in a private network namespace where it can.\n"
    "\n"
    "  ROUNDS            rounds per figure, each figure the median (default 5)\n"
    "      --daemon      only the daemon's ledger and export figures\n"
    "      --in-path     only the in-path TCP egress figure\n"
    "  -V, --version     print the version\n"
    "  -h, --help        this help\n"
    "\n"
    "Exit status: 0 measured, 1 a measurement failed, 2 bad usage.\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc > 2 && std::string(argv[1]) == "--daemon-scenario") return run_daemon_scenario(argv[2]);
  const std::string arg = argc > 1 ? argv[1] : "";
  if (arg == "-h" || arg == "--help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (arg == "-V" || arg == "--version") {
    std::printf("netacct-bench %s\n", netacct::kVersion);
    return 0;
  }
  bool daemon_only = arg == "--daemon";
  bool inpath_only = arg == "--in-path";
  int rounds = 5;
  if (argc > 2 || (!arg.empty() && !daemon_only && !inpath_only &&
                   (arg.find_first_not_of("0123456789") != std::string::npos ||
                    (rounds = std::atoi(arg.c_str())) < 1))) {
    std::fprintf(stderr, "netacct-bench: bad argument '%s'\nTry 'netacct-bench --help'.\n",
                 argc > 2 ? argv[2] : arg.c_str());
    return 2;
  }
  // Unbuffered progress lines: a slow step is visible while it runs.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  try {
    if (inpath_only) {
      print_inpath(measure_tcp_egress(rounds, uint64_t{256} << 20), rounds);
      return 0;
    }
    // First, before this process holds maps and buffers: each scenario is
    // a fresh child whose peak RSS is its own.
    DaemonFigures daemon = measure_daemon(std::filesystem::read_symlink("/proc/self/exe"));
    if (daemon_only) {
      print_daemon(daemon);
      return 0;
    }
    struct utsname uts {};
    uname(&uts);
    std::printf("netacct-bench: kernel %s, %d possible CPUs\n\n", uts.release,
                libbpf_num_possible_cpus());
    std::string why;
    bool isolated = XdpResident::enter_private_netns(why);
    if (!isolated)
      std::printf("note: %s; XDP over 65,536 frames runs with repeat 1\n\n", why.c_str());
    XdpResident resident;
    EmptyProgs empty;
    PacketFigures packets = measure_packets(empty, isolated ? &resident : nullptr, rounds);
    PercpuFigures percpu = measure_percpu(empty, isolated ? &resident : nullptr, rounds);
    HarvestResults harvest = measure_harvest(rounds);
    InPathFigures inpath = measure_tcp_egress(rounds, uint64_t{256} << 20);
    MemoryFigures memory =
        measure_memory(packets.flow_buffer_memlock_64k, kMixFlows + NETACCT_BUCKET_COUNT);
    print_packets(packets, rounds);
    print_percpu(percpu, packets);
    print_inpath(inpath, rounds);
    print_harvest(harvest);
    print_memory(memory, harvest.flow_buffer_memlock_1m);
    std::printf("    (the per-CPU build's own flow buffer here: %.1f MiB)\n",
                mib(percpu.flow_buffer_memlock));
    print_daemon(daemon);
    print_last_line(packets, percpu, harvest, memory, inpath);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "netacct-bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
