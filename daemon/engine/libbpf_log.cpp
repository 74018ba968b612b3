// SPDX-License-Identifier: GPL-2.0-only
#include "libbpf_log.hpp"

#include <bpf/libbpf.h>

#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "../common/log.hpp"

namespace netacct {
namespace {

std::atomic<bool> g_loader_details{false};  // set once at start-up
thread_local int t_quiet_netlink = 0;

int print_to_log(libbpf_print_level level, const char* format, va_list args) {
  bool kernel_ack = std::strstr(format, "Kernel error message") != nullptr;
  if (kernel_ack && t_quiet_netlink > 0) return 0;
  log::Level ours = log::Level::Debug;
  if (level == LIBBPF_WARN && !kernel_ack)
    ours = log::Level::Info;
  else if (!g_loader_details.load(std::memory_order_relaxed))
    return 0;
  if (!log::enabled(ours)) return 0;
  char line[1024];
  std::vsnprintf(line, sizeof line, format, args);
  // libbpf starts its lines with "libbpf: " already.
  log::write_message(ours, line);
  return 0;
}

}  // namespace

void route_libbpf_to_log(bool loader_details) {
  g_loader_details.store(loader_details);
  libbpf_set_print(print_to_log);
}

QuietNetlink::QuietNetlink() {
  t_quiet_netlink++;
}
QuietNetlink::~QuietNetlink() {
  t_quiet_netlink--;
}

}  // namespace netacct
