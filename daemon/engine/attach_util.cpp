// SPDX-License-Identifier: GPL-2.0-only
#include "attach_util.hpp"

#include <bpf/bpf.h>
#include <net/if.h>

#include <cstdarg>
#include <cstring>

#include "../common/unique_fd.hpp"

namespace netacct::attach_detail {

namespace {

uint32_t map_id(int fd) {
  bpf_map_info info{};
  uint32_t len = sizeof info;
  return fd >= 0 && bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? info.id : 0;
}

}  // namespace

std::string namespace_name(const Interface& iface) {
  return iface.netns.empty() ? "the current network namespace"
                             : "network namespace '" + iface.netns + "'";
}

std::string describe(const Interface& iface) {
  return "interface '" + iface.name + "' in " + namespace_name(iface);
}

Result<int> index_in_scope(const Interface& iface) {
  unsigned index = ::if_nametoindex(iface.name.c_str());
  if (index == 0) {
    int err = errno == ENXIO ? ENODEV : errno;
    return Error{"interface '" + iface.name + "' not found in " + namespace_name(iface), err, {}};
  }
  return static_cast<int>(index);
}

Result<std::string> prog_name(uint32_t prog_id) {
  UniqueFd fd(bpf_prog_get_fd_by_id(prog_id));
  if (!fd) return make_error("open program", errno, "id " + std::to_string(prog_id));
  bpf_prog_info info{};
  uint32_t len = sizeof info;
  if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) != 0)
    return make_error("inspect program", errno, "id " + std::to_string(prog_id));
  return std::string(info.name, strnlen(info.name, sizeof info.name));
}

uint32_t owner_map_id(const Datapath& datapath) {
  return map_id(datapath.active_slot_fd());
}

uint32_t owner_map_id(const std::string& pin_path) {
  if (pin_path.empty()) return 0;
  UniqueFd fd(bpf_obj_get((pin_path + "/active_flows").c_str()));
  return map_id(fd.get());
}

}  // namespace netacct::attach_detail
