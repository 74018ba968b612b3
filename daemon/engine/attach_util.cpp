// SPDX-License-Identifier: GPL-2.0-only
#include "attach_util.hpp"

#include <bpf/bpf.h>
#include <net/if.h>

#include <algorithm>
#include <cstdarg>
#include <cstring>

#include "../../pin/pin_dir.hpp"
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

Result<std::vector<uint32_t>> prog_map_ids(uint32_t prog_id) {
  UniqueFd fd(bpf_prog_get_fd_by_id(prog_id));
  if (!fd) return make_error("open program", errno, "id " + std::to_string(prog_id));
  std::vector<uint32_t> ids(64);
  bpf_prog_info info{};
  info.nr_map_ids = static_cast<uint32_t>(ids.size());
  info.map_ids = reinterpret_cast<uint64_t>(ids.data());
  uint32_t len = sizeof info;
  if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) != 0)
    return make_error("inspect program", errno, "id " + std::to_string(prog_id));
  ids.resize(std::min<size_t>(info.nr_map_ids, ids.size()));
  return ids;
}

std::string pin_base_of(const std::string& pin_path) {
  auto slash = pin_path.rfind('/');
  return slash == std::string::npos || slash == 0 ? std::string(pin::kDefaultBase)
                                                  : pin_path.substr(0, slash);
}

std::string describe_prog_owner(uint32_t prog_id, const std::string& pin_base) {
  auto maps = prog_map_ids(prog_id);
  if (maps) {
    for (const std::string& tag : pin::list_tags(pin_base)) {
      std::string path = pin_base + "/" + tag;
      uint32_t owner = owner_map_id(path);
      if (owner == 0 || std::find(maps->begin(), maps->end(), owner) == maps->end()) continue;
      int pid = pin::lock_holder_pid(path);
      return "netacct tag '" + tag + "' (" +
             (pid > 0 ? "netacctd pid " + std::to_string(pid)
                      : std::string("no netacctd runs; its programs keep counting")) +
             ")";
    }
  }
  return "another netacct tag (pins not found under " + pin_base + ")";
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
