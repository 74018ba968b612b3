// SPDX-License-Identifier: GPL-2.0-only
// The tcx half of TC attachment (attach.hpp): one bpf_link per direction at
// the head of the interface's tcx chain, pinned in the tag's directory. The
// link is the record: its program is swapped in place on restart, and a
// link whose interface is gone (ifindex 0) is unpinned and replaced.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>

#include "../../pin/pin_dir.hpp"
#include "../common/log.hpp"
#include "attach.hpp"
#include "attach_util.hpp"
#include "netns.hpp"
#include "tcx.hpp"

namespace netacct {

using namespace attach_detail;

namespace {

enum bpf_attach_type tcx_type(TcDirection direction) {
  return direction == TcDirection::Ingress ? tcx::kIngress : tcx::kEgress;
}

std::string tcx_context(const Interface& iface, TcDirection direction) {
  return describe(iface) + ", tcx " + to_string(direction);
}

// 0 unknown, 1 the kernel has tcx, 2 it has not.
std::atomic<int> g_tcx_support{0};

}  // namespace

const char* to_string(TcAttach attach) {
  switch (attach) {
    case TcAttach::Auto: return "auto";
    case TcAttach::Tcx: return "tcx";
    case TcAttach::Clsact: return "clsact";
  }
  return "?";
}

const char* to_string(TcKind kind) {
  switch (kind) {
    case TcKind::None: return "none";
    case TcKind::Tcx: return "tcx";
    case TcKind::Clsact: return "clsact";
  }
  return "?";
}

Result<TcAttach> tc_attach_request() {
  const char* value = std::getenv(kTcAttachEnv);
  std::string text = value ? value : "";
  if (text.empty() || text == "auto") return TcAttach::Auto;
  if (text == "tcx") return TcAttach::Tcx;
  if (text == "clsact") return TcAttach::Clsact;
  return Error{
      std::string(kTcAttachEnv) + "='" + text + "' is not auto, tcx or clsact", EINVAL, {}};
}

bool kernel_has_tcx(int ifindex) {
  int known = g_tcx_support.load();
  if (known != 0) return known == 1;
  // A kernel without tcx does not know the attach type: EINVAL. One with it
  // answers with the (maybe empty) chain. Nothing is changed either way.
  uint32_t count = 0;
  uint32_t flags = 0;
  int err = bpf_prog_query(ifindex, tcx::kIngress, 0, &flags, nullptr, &count);
  if (err == 0) {
    g_tcx_support.store(1);
    return true;
  }
  if (err == -EINVAL || err == -EOPNOTSUPP) {
    g_tcx_support.store(2);
    return false;
  }
  return false;  // could not tell (e.g. ENODEV): ask again next time
}

namespace attach_detail {

const char* our_prog_name(TcDirection direction) {
  return direction == TcDirection::Ingress ? "netacct_tc_in" : "netacct_tc_eg";
}

std::string tcx_link_path(const std::string& pin_path, TcDirection direction) {
  return pin_path + "/" +
         (direction == TcDirection::Ingress ? pin::kLinkTcIngress : pin::kLinkTcEgress);
}

Result<TcxLink> open_tcx_link(const std::string& pin_path, TcDirection direction) {
  TcxLink link;
  if (pin_path.empty()) return link;
  std::string path = tcx_link_path(pin_path, direction);
  link.fd.reset(bpf_obj_get(path.c_str()));
  if (!link.fd) {
    if (errno == ENOENT) return link;
    return make_error("open pinned tcx link", errno, path);
  }
  link.pinned = true;
  bpf_link_info info{};
  uint32_t len = sizeof info;
  if (bpf_obj_get_info_by_fd(link.fd.get(), &info, &len) != 0)
    return make_error("inspect pinned tcx link", errno, path);
  if (info.type != tcx::kLinkType) return Error{"pinned object is not a tcx link", EPROTO, path};
  link.prog_id = info.prog_id;
  tcx::LinkInfo tcx_info = tcx::link_info(info);
  if (tcx_info.attach_type != static_cast<uint32_t>(tcx_type(direction)))
    return Error{"pinned tcx link has attach type " + std::to_string(tcx_info.attach_type), EPROTO,
                 path};
  link.ifindex = tcx_info.ifindex;
  return link;
}

Result<std::vector<uint32_t>> tcx_chain(int ifindex, const Interface& iface,
                                        TcDirection direction) {
  std::vector<uint32_t> ids;
  if (!kernel_has_tcx(ifindex)) return ids;
  // The chain may grow between the count and the listing: ask again.
  for (int attempt = 0; attempt < 4; attempt++) {
    uint32_t flags = 0;
    uint32_t count = static_cast<uint32_t>(ids.size());
    int err = bpf_prog_query(ifindex, tcx_type(direction), 0, &flags,
                             ids.empty() ? nullptr : ids.data(), &count);
    if (err == -ENOSPC || (err == 0 && ids.empty() && count > 0)) {
      ids.resize(count + 8);
      continue;
    }
    if (err != 0) return make_error("query tcx chain", err, tcx_context(iface, direction));
    ids.resize(count);
    return ids;
  }
  return Error{"tcx chain kept changing while listed", EAGAIN, tcx_context(iface, direction)};
}

Result<bool> tcx_link_live(const TcxLink& link, int ifindex, const Interface& iface,
                           TcDirection direction) {
  if (!link.pinned || link.ifindex == 0 || link.ifindex != static_cast<uint32_t>(ifindex))
    return false;
  // The same ifindex in another namespace is another interface: the chain
  // of this one tells.
  auto chain = tcx_chain(ifindex, iface, direction);
  if (!chain) return chain.error();
  return std::find(chain->begin(), chain->end(), link.prog_id) != chain->end();
}

Result<void> refuse_other_tag(const Datapath& datapath, const Interface& iface, int ifindex,
                              TcDirection direction) {
  // Another tag counting here would count every packet again: refuse.
  auto chain = tcx_chain(ifindex, iface, direction);
  if (!chain) return chain.error();
  uint32_t owner = owner_map_id(datapath);
  for (uint32_t id : chain.value()) {
    auto name = prog_name(id);
    if (!name || name.value() != our_prog_name(direction)) continue;
    auto maps = prog_map_ids(id);
    if (maps && std::find(maps->begin(), maps->end(), owner) != maps->end()) continue;
    return Error{describe_prog_owner(id, pin_base_of(datapath.pin_path())) +
                     " already counts here (its program " + std::to_string(id) +
                     " is in the tcx chain); stop it, or remove it with netacct-cleanup, first",
                 EBUSY, tcx_context(iface, direction)};
  }
  return ok();
}

Result<bool> attach_tcx(const Datapath& datapath, const Interface& iface, int ifindex,
                        TcDirection direction) {
  if (datapath.pin_path().empty())
    return Error{"tcx attach needs a pinned datapath (the link is pinned)", EINVAL,
                 tcx_context(iface, direction)};
  if (!kernel_has_tcx(ifindex)) return false;
  int prog_fd =
      direction == TcDirection::Ingress ? datapath.tc_ingress_fd() : datapath.tc_egress_fd();
  std::string path = tcx_link_path(datapath.pin_path(), direction);
  auto pinned = open_tcx_link(datapath.pin_path(), direction);
  if (!pinned) return pinned.error();
  if (pinned->pinned) {
    auto live = tcx_link_live(pinned.value(), ifindex, iface, direction);
    if (!live) return live.error();
    if (live.value()) {
      // Swapped in place: the link keeps its place in the chain, and not a
      // packet passes between the old program and the new one.
      if (int err = bpf_link_update(pinned->fd.get(), prog_fd, nullptr); err != 0)
        return make_error("update pinned tcx link", err, tcx_context(iface, direction));
      NA_INFO("%s: program replaced in place", tcx_context(iface, direction).c_str());
      return true;
    }
    // Its interface is gone (ifindex 0) or it is another one's: drop the
    // pin; closing our fd then releases the link for good.
    NA_INFO("%s: replacing stale tcx link pin (link ifindex %u)",
            tcx_context(iface, direction).c_str(), pinned->ifindex);
    if (pinned->ifindex != 0) bpf_link_detach(pinned->fd.get());
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
      return make_error("unpin stale tcx link", errno, path);
  }

  if (auto refused = refuse_other_tag(datapath, iface, ifindex, direction); !refused)
    return refused.error();
  // ... and with a clsact filter of another tag (an older run) just as much.
  auto slot = query_tc_slot(ifindex, iface, direction, owner_map_id(datapath));
  if (!slot) return slot.error();
  if (slot->netacct && !slot->ours)
    return Error{describe_prog_owner(slot->prog_id, pin_base_of(datapath.pin_path())) +
                     " already counts here (its clsact filter); stop it, or remove it with "
                     "netacct-cleanup, first",
                 EBUSY, tcx_context(iface, direction)};

  // BEFORE with no program named: the head of the chain, so a foreign
  // program that ends the chain with a verdict cannot hide packets from us.
  LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = tcx::kBefore);
  UniqueFd link_fd(bpf_link_create(prog_fd, ifindex, tcx_type(direction), &opts));
  if (!link_fd) return make_error("create tcx link", errno, tcx_context(iface, direction));
  // Unpinned, the link would go with this process; on failure link_fd's
  // destructor closes the only reference and so detaches it again.
  if (int err = bpf_obj_pin(link_fd.get(), path.c_str()); err != 0)
    return make_error("pin tcx link", err, path);
  NA_INFO("%s: attached at the head of the chain", tcx_context(iface, direction).c_str());
  return true;
}

}  // namespace attach_detail

namespace attach_detail {

Result<void> drop_tcx_link(const std::string& pin_path, const Interface& iface,
                           TcDirection direction) {
  auto pinned = open_tcx_link(pin_path, direction);
  if (!pinned) return pinned.error();
  if (!pinned->pinned) return ok();
  // A link detaches without a namespace switch; a defunct one (interface
  // gone) is just as detached.
  if (int err = bpf_link_detach(pinned->fd.get());
      err != 0 && err != -ENOLINK && err != -EINVAL && err != -ENOENT)
    return make_error("detach tcx link", err, tcx_context(iface, direction));
  std::string path = tcx_link_path(pin_path, direction);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    return make_error("unpin tcx link", errno, path);
  NA_INFO("%s: detached", tcx_context(iface, direction).c_str());
  return ok();
}

}  // namespace attach_detail

Result<void> detach_tcx(const std::string& pin_path, const Interface& iface,
                        TcDirection direction) {
  auto pinned = open_tcx_link(pin_path, direction);
  if (!pinned) return pinned.error();
  if (!pinned->pinned) return ok();
  // Only a link on this interface, or a defunct one (its interface gone):
  // the tag's link on another interface (it counted there before) stays,
  // as a clsact filter there would.
  bool drop = pinned->ifindex == 0;
  if (!drop) {
    auto scope = NetnsScope::enter(iface.netns);
    auto index = scope ? index_in_scope(iface) : Result<int>(scope.error());
    if (index) {
      auto live = tcx_link_live(pinned.value(), index.value(), iface, direction);
      if (!live) return live.error();
      drop = live.value();
    }
  }
  if (!drop) {
    NA_INFO("%s: the tag's tcx link sits on ifindex %u elsewhere: left in place",
            tcx_context(iface, direction).c_str(), pinned->ifindex);
    return ok();
  }
  pinned->fd.reset();
  return drop_tcx_link(pin_path, iface, direction);
}

}  // namespace netacct
