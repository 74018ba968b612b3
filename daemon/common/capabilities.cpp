// SPDX-License-Identifier: GPL-2.0-only
#include "capabilities.hpp"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace netacct {

namespace {

struct CapSets {
  uint64_t effective = 0, permitted = 0, inheritable = 0;
};

Result<CapSets> get_caps() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (::syscall(SYS_capget, &header, data) != 0) return make_error("capget", errno);
  CapSets sets;
  sets.effective = data[0].effective | (uint64_t{data[1].effective} << 32);
  sets.permitted = data[0].permitted | (uint64_t{data[1].permitted} << 32);
  sets.inheritable = data[0].inheritable | (uint64_t{data[1].inheritable} << 32);
  return sets;
}

Result<void> set_caps(const CapSets& sets) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  for (int i = 0; i < 2; i++) {
    data[i].effective = static_cast<uint32_t>(sets.effective >> (32 * i));
    data[i].permitted = static_cast<uint32_t>(sets.permitted >> (32 * i));
    data[i].inheritable = static_cast<uint32_t>(sets.inheritable >> (32 * i));
  }
  if (::syscall(SYS_capset, &header, data) != 0) return make_error("capset", errno);
  return ok();
}

const char* const kNames[] = {
    "cap_chown",
    "cap_dac_override",
    "cap_dac_read_search",
    "cap_fowner",
    "cap_fsetid",
    "cap_kill",
    "cap_setgid",
    "cap_setuid",
    "cap_setpcap",
    "cap_linux_immutable",
    "cap_net_bind_service",
    "cap_net_broadcast",
    "cap_net_admin",
    "cap_net_raw",
    "cap_ipc_lock",
    "cap_ipc_owner",
    "cap_sys_module",
    "cap_sys_rawio",
    "cap_sys_chroot",
    "cap_sys_ptrace",
    "cap_sys_pacct",
    "cap_sys_admin",
    "cap_sys_boot",
    "cap_sys_nice",
    "cap_sys_resource",
    "cap_sys_time",
    "cap_sys_tty_config",
    "cap_mknod",
    "cap_lease",
    "cap_audit_write",
    "cap_audit_control",
    "cap_setfcap",
    "cap_mac_override",
    "cap_mac_admin",
    "cap_syslog",
    "cap_wake_alarm",
    "cap_block_suspend",
    "cap_audit_read",
    "cap_perfmon",
    "cap_bpf",
    "cap_checkpoint_restore",
};

}  // namespace

std::vector<int> runtime_capabilities() {
  return {CAP_NET_ADMIN, CAP_SYS_ADMIN};
}

std::string capability_names(uint64_t mask) {
  std::string text;
  for (int cap = 0; cap < 64; cap++) {
    if (!(mask & (uint64_t{1} << cap))) continue;
    if (!text.empty()) text += ",";
    text += cap < static_cast<int>(sizeof kNames / sizeof kNames[0]) ? kNames[cap]
                                                                     : "cap_" + std::to_string(cap);
  }
  return text.empty() ? "none" : text;
}

Result<CapabilityReport> drop_capabilities_except(const std::vector<int>& keep) {
  uint64_t keep_mask = 0;
  for (int cap : keep) keep_mask |= uint64_t{1} << cap;
  auto before = get_caps();
  if (!before) return before.error();
  CapabilityReport report;
  // The bounding set first: dropping from it needs CAP_SETPCAP, which the
  // capset below may remove. Without it (a systemd unit's bounding set is
  // already narrow) the bounding set stays as it is.
  report.bounding_dropped = true;
  for (int cap = 0; cap <= CAP_LAST_CAP; cap++) {
    if (keep_mask & (uint64_t{1} << cap)) continue;
    if (::prctl(PR_CAPBSET_READ, cap, 0, 0, 0) != 1) continue;
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) report.bounding_dropped = false;
  }
  ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  CapSets after;
  after.permitted = before->permitted & keep_mask;
  after.effective = before->effective & keep_mask;
  after.inheritable = 0;
  if (auto set = set_caps(after); !set) return set.error();
  report.kept = after.effective;
  report.dropped = (before->effective | before->permitted) & ~keep_mask;
  return report;
}

}  // namespace netacct
