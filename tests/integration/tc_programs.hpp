// SPDX-License-Identifier: GPL-2.0-only
// What runs on an interface's TC hooks, from the kernel's own answers (the
// tcx chain by BPF_PROG_QUERY, the clsact filters by `tc filter show`), and
// forcing the TC attach kind for a test.
#pragma once

#include <bpf/bpf.h>
#include <doctest/doctest.h>
#include <net/if.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "daemon/engine/attach.hpp"
#include "daemon/engine/netns.hpp"
#include "daemon/engine/tcx.hpp"
#include "tests/support/topology.hpp"

namespace netacct::test {

// Forces how TC attaches (NETACCT_TC_ATTACH, read by attach_tc and so by
// daemons the test starts) while it lives; restores the previous value.
class TcAttachGuard {
 public:
  explicit TcAttachGuard(const char* kind) {
    if (const char* old = std::getenv(kTcAttachEnv)) previous_ = old, had_ = true;
    ::setenv(kTcAttachEnv, kind, 1);
  }
  ~TcAttachGuard() {
    if (had_)
      ::setenv(kTcAttachEnv, previous_.c_str(), 1);
    else
      ::unsetenv(kTcAttachEnv);
  }
  TcAttachGuard(const TcAttachGuard&) = delete;
  TcAttachGuard& operator=(const TcAttachGuard&) = delete;

 private:
  std::string previous_;
  bool had_ = false;
};

// The programs on an interface's tcx chain, head first, as (id, name): the
// kernel's own answer (BPF_PROG_QUERY), independent of netacct's pins.
inline std::vector<std::pair<uint32_t, std::string>> tcx_programs(const std::string& netns,
                                                                  const std::string& ifname,
                                                                  TcDirection direction) {
  auto scope = NetnsScope::enter(netns);
  REQUIRE_MESSAGE(scope.ok(), "enter " << netns);
  int ifindex = static_cast<int>(::if_nametoindex(ifname.c_str()));
  REQUIRE_MESSAGE(ifindex > 0, ifname << " in " << netns);
  uint32_t ids[64] = {};
  uint32_t count = 64;
  uint32_t flags = 0;
  int err =
      bpf_prog_query(ifindex, direction == TcDirection::Ingress ? tcx::kIngress : tcx::kEgress, 0,
                     &flags, ids, &count);
  REQUIRE_MESSAGE(err == 0, "BPF_PROG_QUERY tcx on " << ifname << ": " << err);
  std::vector<std::pair<uint32_t, std::string>> out;
  for (uint32_t i = 0; i < count; i++) {
    int fd = bpf_prog_get_fd_by_id(ids[i]);
    bpf_prog_info info{};
    uint32_t len = sizeof info;
    std::string name = "?";
    if (fd >= 0 && bpf_obj_get_info_by_fd(fd, &info, &len) == 0) name = info.name;
    if (fd >= 0) ::close(fd);
    out.emplace_back(ids[i], name);
  }
  return out;
}

// What runs on a TC direction of an interface, tcx chain then clsact
// filters: "tcx id N name X" lines followed by `tc filter show`.
inline std::string tc_programs_text(const std::string& netns, const std::string& ifname,
                                    const char* direction) {
  std::string text;
  TcDirection dir =
      std::string(direction) == "ingress" ? TcDirection::Ingress : TcDirection::Egress;
  for (const auto& [id, name] : tcx_programs(netns, ifname, dir))
    text += "tcx id " + std::to_string(id) + " name " + name + "\n";
  std::string filters;
  run("ip netns exec " + netns + " tc filter show dev " + ifname + " " + direction, &filters);
  return text + filters;
}

}  // namespace netacct::test
