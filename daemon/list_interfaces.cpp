// SPDX-License-Identifier: GPL-2.0-only
#include "list_interfaces.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "engine/discover.hpp"
#include "engine/netns.hpp"

namespace netacct {

static bool print_links(std::FILE* out, const std::string& netns) {
  auto scope = NetnsScope::enter(netns);
  if (!scope) {
    std::fprintf(out, "  (cannot enter: %s)\n", scope.error().message().c_str());
    return false;
  }
  nl_sock* sock = nl_socket_alloc();
  if (!sock || nl_connect(sock, NETLINK_ROUTE) < 0) {
    if (sock) nl_socket_free(sock);
    std::fprintf(out, "  (netlink unavailable)\n");
    return false;
  }
  nl_cache* cache = nullptr;
  if (rtnl_link_alloc_cache(sock, AF_UNSPEC, &cache) < 0) {
    nl_socket_free(sock);
    std::fprintf(out, "  (cannot list links)\n");
    return false;
  }
  for (nl_object* obj = nl_cache_get_first(cache); obj; obj = nl_cache_get_next(obj)) {
    auto* link = reinterpret_cast<rtnl_link*>(obj);
    char flags[128] = "";
    rtnl_link_flags2str(rtnl_link_get_flags(link), flags, sizeof flags);
    const char* type = rtnl_link_get_type(link);
    std::fprintf(out, "  %-3d %-16s %-8s mtu %-5u %s\n", rtnl_link_get_ifindex(link),
                 rtnl_link_get_name(link), type ? type : "-", rtnl_link_get_mtu(link), flags);
  }
  nl_cache_free(cache);
  nl_socket_free(sock);
  return true;
}

int list_all_interfaces(std::FILE* out) {
  std::fprintf(out, "host namespace:\n");
  bool ok = print_links(out, "");
  for (const std::string& name : list_named_namespaces()) {
    std::fprintf(out, "namespace %s:\n", name.c_str());
    ok = print_links(out, name) && ok;
  }
  return ok ? 0 : 1;
}
}  // namespace netacct
