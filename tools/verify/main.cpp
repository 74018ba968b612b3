// SPDX-License-Identifier: GPL-2.0-only
// netacct-verify (`make verify`): loads every netacct BPF program through
// the kernel verifier, exactly as netacctd builds them (same skeleton, same
// capacities), but pins nothing and attaches nothing; reports each
// program's size after verification, then unloads everything it loaded.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include <cstdio>
#include <cstring>

#include "daemon/common/log.hpp"
#include "daemon/engine/datapath.hpp"
#include "daemon/engine/libbpf_log.hpp"

int main(int argc, char** argv) {
  using namespace netacct;
  if (argc > 1 && (std::strcmp(argv[1], "-h") == 0 || std::strcmp(argv[1], "--help") == 0)) {
    std::puts(
        "Usage: netacct-verify\nLoads netacct's BPF programs through the verifier (nothing "
        "pinned or attached), prints instruction counts, unloads them.\n\n"
        "  -h, --help   this help\n\nExit status: 0 every program verified, 1 a program was "
        "refused, 2 bad usage.");
    return 0;
  }
  if (argc > 1) {
    std::fprintf(stderr, "netacct-verify: unexpected argument '%s'\nTry 'netacct-verify --help'.\n",
                 argv[1]);
    return 2;
  }
  log::set_tag("verify");
  log::set_level(log::Level::Warn);
  route_libbpf_to_log(false);
  DatapathOptions options;
  options.tag = "verify";
  options.pin = false;
  auto opened = Datapath::open(options);
  if (!opened) {
    std::fprintf(stderr, "netacct-verify: %s\n", opened.error().message().c_str());
    return 1;
  }
  const Datapath& datapath = *opened.value();
  std::printf("netacct BPF programs: loaded through the verifier (not pinned, not attached)\n");
  std::printf("%-16s %-14s %12s %14s %12s\n", "PROGRAM", "TYPE", "XLATED INSNS", "VERIFIED INSNS",
              "JITED BYTES");
  int status = 0;
  for (int fd : {datapath.xdp_ingress_fd(), datapath.tc_ingress_fd(), datapath.tc_egress_fd()}) {
    bpf_prog_info info{};
    uint32_t length = sizeof info;
    if (int err = bpf_obj_get_info_by_fd(fd, &info, &length); err != 0) {
      std::fprintf(stderr, "netacct-verify: program info (fd %d): %s\n", fd, std::strerror(-err));
      status = 1;
      continue;
    }
    const char* type = libbpf_bpf_prog_type_str(static_cast<bpf_prog_type>(info.type));
    std::printf("%-16s %-14s %12u %14u %12u\n", info.name, type ? type : "?",
                info.xlated_prog_len / static_cast<uint32_t>(sizeof(bpf_insn)), info.verified_insns,
                info.jited_prog_len);
  }
  std::printf("verifier: all programs accepted; unloaded\n");
  return status;
}
