// SPDX-License-Identifier: GPL-2.0-only
#include "clsact.hpp"

#include <bpf/libbpf.h>
#include <dirent.h>
#include <linux/pkt_sched.h>
#include <net/if.h>
#include <netlink/route/classifier.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/tc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <memory>

#include "../../pin/pin_dir.hpp"
#include "../common/log.hpp"
#include "discover.hpp"
#include "libbpf_log.hpp"
#include "netns.hpp"

namespace netacct {

namespace {

struct NsId {
  uint64_t dev = 0;
  uint64_t ino = 0;
};

NsId current_netns() {
  struct stat st {};
  if (::stat("/proc/thread-self/ns/net", &st) != 0) return {};
  return {static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
}

NsId netns_of(const std::string& netns) {
  struct stat st {};
  std::string path = netns.empty() ? "/proc/thread-self/ns/net" : netns_path(netns);
  if (::stat(path.c_str(), &st) != 0) return {};
  return {static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
}

struct SockDeleter {
  void operator()(nl_sock* sock) const { nl_socket_free(sock); }
};
struct CacheDeleter {
  void operator()(nl_cache* cache) const { nl_cache_free(cache); }
};

Error nl_error(const std::string& op, int err) {
  return Error{op + ": " + nl_geterror(err), EIO, {}};
}

bool parse_marker(const std::string& name, NsId& ns, int& ifindex) {
  std::string prefix = pin::kClsactMarkerPrefix;
  if (name.rfind(prefix, 0) != 0) return false;
  unsigned long long dev = 0, ino = 0;
  int index = 0;
  if (std::sscanf(name.c_str() + prefix.size(), "%llu:%llu:%d", &dev, &ino, &index) != 3)
    return false;
  ns = {dev, ino};
  ifindex = index;
  return true;
}

}  // namespace

std::string clsact_marker(int ifindex) {
  NsId ns = current_netns();
  return std::string(pin::kClsactMarkerPrefix) + std::to_string(ns.dev) + ":" +
         std::to_string(ns.ino) + ":" + std::to_string(ifindex);
}

Result<void> note_clsact_created(const std::string& pin_path, int ifindex) {
  if (pin_path.empty()) return ok();
  std::string path = pin_path + "/" + clsact_marker(ifindex);
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST)
    return make_error("record the clsact qdisc netacct created", errno, path);
  return ok();
}

Result<ClsactState> clsact_state(int ifindex) {
  std::unique_ptr<nl_sock, SockDeleter> sock(nl_socket_alloc());
  if (!sock) return Error{"netlink socket", ENOMEM, {}};
  if (int err = nl_connect(sock.get(), NETLINK_ROUTE); err < 0)
    return nl_error("netlink connect", err);
  ClsactState state;
  {
    nl_cache* raw = nullptr;
    if (int err = rtnl_qdisc_alloc_cache(sock.get(), &raw); err < 0)
      return nl_error("list qdiscs", err);
    std::unique_ptr<nl_cache, CacheDeleter> qdiscs(raw);
    for (nl_object* obj = nl_cache_get_first(raw); obj; obj = nl_cache_get_next(obj)) {
      auto* tc = reinterpret_cast<rtnl_tc*>(obj);
      const char* kind = rtnl_tc_get_kind(tc);
      if (rtnl_tc_get_ifindex(tc) == ifindex && kind && std::strcmp(kind, "clsact") == 0)
        state.present = true;
    }
  }
  if (!state.present) return state;
  for (uint32_t minor : {TC_H_MIN_INGRESS, TC_H_MIN_EGRESS}) {
    nl_cache* raw = nullptr;
    if (int err = rtnl_cls_alloc_cache(sock.get(), ifindex, TC_H_MAKE(TC_H_CLSACT, minor), &raw);
        err < 0)
      return nl_error("list tc filters", err);
    std::unique_ptr<nl_cache, CacheDeleter> filters(raw);
    state.filters += static_cast<size_t>(nl_cache_nitems(raw));
  }
  return state;
}

Result<std::vector<std::string>> remove_created_clsact(const std::string& pin_path) {
  std::vector<std::string> report;
  std::vector<std::string> markers;
  if (DIR* dir = ::opendir(pin_path.c_str())) {
    while (dirent* entry = ::readdir(dir)) {
      std::string name = entry->d_name;
      if (name.rfind(pin::kClsactMarkerPrefix, 0) == 0) markers.push_back(name);
    }
    ::closedir(dir);
  }
  if (markers.empty()) return report;
  std::vector<std::string> spaces = {""};
  for (const std::string& name : list_named_namespaces()) spaces.push_back(name);

  for (const std::string& marker : markers) {
    NsId wanted;
    int ifindex = 0;
    const std::string marker_path = pin_path + "/" + marker;
    if (!parse_marker(marker, wanted, ifindex)) continue;
    std::string netns;
    bool found = false;
    for (const std::string& candidate : spaces) {
      NsId id = netns_of(candidate);
      if (id.dev == wanted.dev && id.ino == wanted.ino) {
        netns = candidate;
        found = true;
        break;
      }
    }
    bool drop = !found;  // namespace gone (or unnamed): so is its qdisc
    if (found) {
      auto scope = NetnsScope::enter(netns);
      if (!scope) return scope.error();
      char name[IF_NAMESIZE] = {};
      std::string where =
          netns.empty() ? "the current network namespace" : "network namespace '" + netns + "'";
      if (!::if_indextoname(static_cast<unsigned>(ifindex), name)) {
        drop = true;  // interface gone, and its qdisc with it
      } else {
        where = "interface '" + std::string(name) + "' in " + where;
        auto state = clsact_state(ifindex);
        if (!state) return state.error();
        if (!state->present) {
          drop = true;
        } else if (state->filters == 0) {
          LIBBPF_OPTS(
              bpf_tc_hook, hook, .ifindex = ifindex,
              .attach_point = static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS));
          int err;
          {
            QuietNetlink quiet;
            err = bpf_tc_hook_destroy(&hook);
          }
          if (err != 0 && err != -ENOENT && err != -EINVAL)
            return make_error("remove the clsact qdisc netacct created", err, where);
          NA_INFO("%s: clsact qdisc netacct created removed", where.c_str());
          report.push_back("clsact qdisc netacct created on " + where);
          drop = true;
        } else {
          report.push_back("kept the clsact qdisc netacct created on " + where + ": " +
                           std::to_string(state->filters) + " other filter(s) use it");
        }
      }
    }
    if (drop && ::rmdir(marker_path.c_str()) != 0 && errno != ENOENT)
      return make_error("remove clsact marker", errno, marker_path);
  }
  return report;
}

}  // namespace netacct
