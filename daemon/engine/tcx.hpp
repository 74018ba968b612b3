// SPDX-License-Identifier: GPL-2.0-only
// tcx (the bpf_link based TC hook, Linux 6.6+) as this build needs it. The
// UAPI headers here (linux-libc-dev 6.1) and libbpf 1.1 predate tcx, so the
// few values are spelled out; they are the kernel's include/uapi/linux/bpf.h
// and are stable ABI. Whether the running kernel has tcx is probed at run
// time (attach_tcx.cpp), never told from its version.
#pragma once

#include <linux/bpf.h>

#include <cstdint>
#include <cstring>

namespace netacct::tcx {

// enum bpf_attach_type
inline constexpr auto kIngress = static_cast<enum bpf_attach_type>(46);  // BPF_TCX_INGRESS
inline constexpr auto kEgress = static_cast<enum bpf_attach_type>(47);   // BPF_TCX_EGRESS
// enum bpf_link_type
inline constexpr uint32_t kLinkType = 11;  // BPF_LINK_TYPE_TCX
// BPF_LINK_CREATE / BPF_PROG_ATTACH flags: relative to another program, or
// with none given, at the head (BEFORE) or the tail (AFTER) of the chain.
inline constexpr uint32_t kBefore = 1U << 3;  // BPF_F_BEFORE
inline constexpr uint32_t kAfter = 1U << 4;   // BPF_F_AFTER
// Program verdicts: NEXT (== TC_ACT_UNSPEC, what ours return) runs the rest
// of the chain and then the legacy clsact filters.
inline constexpr int kNext = -1;  // TCX_NEXT
inline constexpr int kPass = 0;   // TCX_PASS
inline constexpr int kDrop = 2;   // TCX_DROP

// bpf_link_info's tcx member ({ifindex, attach_type}) shares the union
// whose first member the 6.1 header calls xdp ({ifindex}).
struct LinkInfo {
  uint32_t ifindex = 0;  // 0 once the interface is gone
  uint32_t attach_type = 0;
};
inline LinkInfo link_info(const bpf_link_info& info) {
  LinkInfo out;
  std::memcpy(&out, reinterpret_cast<const char*>(&info.xdp), sizeof out);
  return out;
}

}  // namespace netacct::tcx
