// SPDX-License-Identifier: GPL-2.0-only
#include "discover.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <sys/stat.h>

#include <algorithm>
#include <set>
#include <utility>

#include "../../pin/pin_dir.hpp"
#include "../common/unique_fd.hpp"
#include "attach_util.hpp"
#include "netns.hpp"

namespace netacct {

using namespace attach_detail;

namespace {

// dev/inode of a namespace file: two names for one namespace are one.
std::pair<dev_t, ino_t> netns_identity(const std::string& netns) {
  std::string path = netns.empty() ? "/proc/self/ns/net" : netns_path(netns);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {0, 0};
  return {st.st_dev, st.st_ino};
}

// Interfaces of the namespace the thread is in now.
std::vector<std::string> interfaces_in_scope() {
  std::vector<std::string> names;
  struct if_nameindex* list = ::if_nameindex();
  if (!list) return names;
  for (const struct if_nameindex* entry = list; entry->if_index != 0; entry++)
    names.emplace_back(entry->if_name);
  ::if_freenameindex(list);
  return names;
}

// The pinned XDP link's program id (0 when none) and whether it still sits
// on an interface.
struct LinkState {
  bool pinned = false;
  uint32_t prog_id = 0;
  uint32_t ifindex = 0;
};

LinkState pinned_link(const std::string& pin_path) {
  LinkState state;
  UniqueFd fd(bpf_obj_get((pin_path + "/" + pin::kLinkXdp).c_str()));
  if (!fd) return state;
  state.pinned = true;
  bpf_link_info info{};
  uint32_t len = sizeof info;
  if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) == 0 && info.type == BPF_LINK_TYPE_XDP) {
    state.prog_id = info.prog_id;
    state.ifindex = info.xdp.ifindex;
  }
  return state;
}

XdpMode xdp_mode_of(int ifindex, uint32_t prog_id) {
  LIBBPF_OPTS(bpf_xdp_query_opts, opts);
  if (prog_id == 0 || bpf_xdp_query(ifindex, 0, &opts) != 0) return XdpMode::None;
  if (opts.drv_prog_id == prog_id || opts.hw_prog_id == prog_id) return XdpMode::Native;
  if (opts.skb_prog_id == prog_id) return XdpMode::Generic;
  if (opts.prog_id == prog_id)
    return opts.attach_mode == XDP_ATTACHED_SKB ? XdpMode::Generic : XdpMode::Native;
  return XdpMode::None;
}

}  // namespace

std::vector<std::string> list_named_namespaces() {
  std::vector<std::string> names;
  if (DIR* dir = ::opendir("/var/run/netns")) {
    while (dirent* entry = ::readdir(dir)) {
      std::string name = entry->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    ::closedir(dir);
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string FoundAttachment::describe() const {
  std::string what = kind == Kind::TcIngress  ? (tcx ? "tcx ingress link" : "tc ingress filter")
                     : kind == Kind::TcEgress ? (tcx ? "tcx egress link" : "tc egress filter")
                     : xdp_mode == XdpMode::None
                         ? std::string("XDP link")
                         : std::string("XDP link (") + to_string(xdp_mode) + " mode)";
  if (iface.name.empty()) return what + " whose interface is gone (or in an unnamed namespace)";
  return what + " on " + attach_detail::describe(iface);
}

Result<Discovery> discover_attachments(const std::string& pin_path) {
  Discovery discovery;
  uint32_t owner = owner_map_id(pin_path);
  discovery.owner_known = owner != 0;
  LinkState link = pinned_link(pin_path);
  discovery.xdp_link_pinned = link.pinned;
  bool link_found = false;
  TcxLink tcx_links[2];  // ingress, egress
  bool tcx_found[2] = {false, false};
  const TcDirection directions[2] = {TcDirection::Ingress, TcDirection::Egress};
  for (int d = 0; d < 2; d++) {
    auto opened = open_tcx_link(pin_path, directions[d]);
    if (!opened) {
      discovery.skipped.push_back(opened.error().message());
      continue;
    }
    tcx_links[d] = std::move(opened.value());
    discovery.tcx_links_pinned = discovery.tcx_links_pinned || tcx_links[d].pinned;
  }

  std::vector<std::string> spaces = {""};
  for (const std::string& name : list_named_namespaces()) spaces.push_back(name);
  std::set<std::pair<dev_t, ino_t>> seen;
  for (const std::string& netns : spaces) {
    if (!seen.insert(netns_identity(netns)).second) continue;
    auto scope = NetnsScope::enter(netns);
    if (!scope) {
      discovery.skipped.push_back(scope.error().message());
      continue;
    }
    for (const std::string& name : interfaces_in_scope()) {
      Interface iface{name, netns};
      int ifindex = static_cast<int>(::if_nametoindex(name.c_str()));
      if (ifindex == 0) continue;  // gone while we looked
      if (discovery.owner_known) {
        for (TcDirection direction : {TcDirection::Ingress, TcDirection::Egress}) {
          auto slot = query_tc_slot(ifindex, iface, direction, owner);
          if (!slot) {
            discovery.skipped.push_back(slot.error().message());
            continue;
          }
          if (!slot->ours) continue;
          FoundAttachment found;
          found.kind = direction == TcDirection::Ingress ? FoundAttachment::Kind::TcIngress
                                                         : FoundAttachment::Kind::TcEgress;
          found.iface = iface;
          discovery.found.push_back(found);
        }
      }
      for (int d = 0; d < 2; d++) {
        if (tcx_found[d] || tcx_links[d].ifindex != static_cast<uint32_t>(ifindex)) continue;
        auto live = tcx_link_live(tcx_links[d], ifindex, iface, directions[d]);
        if (!live) {
          discovery.skipped.push_back(live.error().message());
          continue;
        }
        if (!live.value()) continue;
        FoundAttachment found;
        found.kind = d == 0 ? FoundAttachment::Kind::TcIngress : FoundAttachment::Kind::TcEgress;
        found.iface = iface;
        found.tcx = true;
        discovery.found.push_back(found);
        tcx_found[d] = true;
      }
      if (link.prog_id != 0 && link.ifindex == static_cast<uint32_t>(ifindex)) {
        XdpMode mode = xdp_mode_of(ifindex, link.prog_id);
        if (mode != XdpMode::None) {
          discovery.found.push_back({FoundAttachment::Kind::Xdp, iface, mode});
          link_found = true;
        }
      }
    }
  }
  // A pinned link not live on any interface we can see: its interface (or
  // namespace) is gone, or lives in an unnamed namespace. Still ours to drop.
  if (link.pinned && !link_found)
    discovery.found.push_back({FoundAttachment::Kind::Xdp, Interface{}, XdpMode::None});
  for (int d = 0; d < 2; d++) {
    if (!tcx_links[d].pinned || tcx_found[d]) continue;
    FoundAttachment found;
    found.kind = d == 0 ? FoundAttachment::Kind::TcIngress : FoundAttachment::Kind::TcEgress;
    found.tcx = true;
    discovery.found.push_back(found);
  }
  return discovery;
}

}  // namespace netacct
