// SPDX-License-Identifier: GPL-2.0-only
#include "bench_resident.hpp"

#include <bpf/bpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/link/veth.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace netacct::bench {
namespace {

void add_veth_pair(const std::string& name, const std::string& peer) {
  std::unique_ptr<nl_sock, void (*)(nl_sock*)> sock(nl_socket_alloc(), nl_socket_free);
  if (!sock || nl_connect(sock.get(), NETLINK_ROUTE) != 0)
    throw std::runtime_error("netlink socket");
  if (int err = rtnl_link_veth_add(sock.get(), name.c_str(), peer.c_str(), getpid()); err < 0)
    throw std::runtime_error("create veth " + name + ": " + nl_geterror(err));
}

}  // namespace

bool XdpResident::enter_private_netns(std::string& why) {
  if (unshare(CLONE_NEWNET) != 0) {
    why = std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno);
    return false;
  }
  return true;
}

void XdpResident::keep(int prog_fd) {
  if (free_ends_.empty()) {
    std::string name = "nb" + std::to_string(pairs_++);
    add_veth_pair(name + "a", name + "b");
    free_ends_ = {name + "a", name + "b"};
  }
  std::string end = free_ends_.back();
  free_ends_.pop_back();
  unsigned ifindex = if_nametoindex(end.c_str());
  if (ifindex == 0) throw std::runtime_error("no interface " + end);
  LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = XDP_FLAGS_DRV_MODE);
  UniqueFd link(bpf_link_create(prog_fd, static_cast<int>(ifindex), BPF_XDP, &opts));
  if (!link) throw std::runtime_error("attach XDP to " + end + ": " + std::strerror(errno));
  links_.push_back(std::move(link));
}

}  // namespace netacct::bench
