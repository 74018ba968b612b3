// SPDX-License-Identifier: GPL-2.0-only
// XDP half of attach.hpp, plus attach_all/detach_all/query_attachments.
// The XDP attachment is a bpf_link pinned in the tag's directory; its
// program is updated in place on re-attach (see attach_tc.cpp for TC).
#include "attach.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "../common/log.hpp"
#include "../common/unique_fd.hpp"
#include "attach_util.hpp"
#include "clsact.hpp"
#include "netns.hpp"

namespace netacct {

using namespace attach_detail;

namespace {

// ---- XDP -------------------------------------------------------------------

struct XdpState {
  uint32_t native_id = 0;   // program attached in driver (or offload) mode
  uint32_t generic_id = 0;  // program attached in skb mode
  uint32_t any_id() const { return native_id ? native_id : generic_id; }
  XdpMode mode_of(uint32_t prog_id) const {
    if (prog_id != 0 && prog_id == native_id) return XdpMode::Native;
    if (prog_id != 0 && prog_id == generic_id) return XdpMode::Generic;
    return XdpMode::None;
  }
};

Result<XdpState> query_xdp(int ifindex, const Interface& iface) {
  LIBBPF_OPTS(bpf_xdp_query_opts, opts);
  if (int err = bpf_xdp_query(ifindex, 0, &opts); err != 0)
    return make_error("query XDP", err, describe(iface));
  XdpState state;
  // attach_mode names the single mode in use; MULTI means several, and then
  // only the per-mode ids tell them apart.
  switch (opts.attach_mode) {
    case XDP_ATTACHED_DRV:
    case XDP_ATTACHED_HW: state.native_id = opts.prog_id; break;
    case XDP_ATTACHED_SKB: state.generic_id = opts.prog_id; break;
    case XDP_ATTACHED_MULTI:
      state.native_id = opts.drv_prog_id ? opts.drv_prog_id : opts.hw_prog_id;
      state.generic_id = opts.skb_prog_id;
      break;
    default: break;
  }
  return state;
}

struct PinnedLink {
  UniqueFd fd;
  bpf_link_info info{};
};

// The tag's pinned XDP link, or an empty optional when there is none.
Result<std::optional<PinnedLink>> open_pinned_link(const std::string& path) {
  PinnedLink link;
  link.fd.reset(bpf_obj_get(path.c_str()));
  if (!link.fd) {
    if (errno == ENOENT) return std::optional<PinnedLink>();
    return make_error("open pinned XDP link", errno, path);
  }
  uint32_t len = sizeof link.info;
  if (bpf_obj_get_info_by_fd(link.fd.get(), &link.info, &len) != 0)
    return make_error("inspect pinned XDP link", errno, path);
  if (link.info.type != BPF_LINK_TYPE_XDP)
    return Error{"pinned object is not an XDP link", EPROTO, path};
  return std::optional<PinnedLink>(std::move(link));
}

std::string link_path(const std::string& pin_path) {
  return pin_path + "/" + pin::kLinkXdp;
}

}  // namespace

const char* to_string(XdpMode mode) {
  switch (mode) {
    case XdpMode::None: return "none";
    case XdpMode::Native: return "native";
    case XdpMode::Generic: return "generic";
  }
  return "?";
}

const char* to_string(TcDirection direction) {
  return direction == TcDirection::Ingress ? "ingress" : "egress";
}

Result<int> interface_index(const Interface& iface) {
  auto scope = NetnsScope::enter(iface.netns);
  if (!scope) return scope.error();
  return index_in_scope(iface);
}

Result<XdpMode> attach_xdp(const Datapath& datapath, const Interface& iface, bool force_generic) {
  if (datapath.pin_path().empty())
    return Error{"XDP attach needs a pinned datapath (the link is pinned)", EINVAL,
                 describe(iface)};
  auto scope = NetnsScope::enter(iface.netns);
  if (!scope) return scope.error();
  auto index = index_in_scope(iface);
  if (!index) return index.error();
  int ifindex = index.value();
  std::string path = link_path(datapath.pin_path());

  auto pinned = open_pinned_link(path);
  if (!pinned) return pinned.error();
  if (pinned->has_value()) {
    PinnedLink& link = **pinned;
    auto state = query_xdp(ifindex, iface);
    if (!state) return state.error();
    XdpMode mode = state->mode_of(link.info.prog_id);
    if (link.info.xdp.ifindex == static_cast<uint32_t>(ifindex) && mode != XdpMode::None) {
      // Our link is live here: swap the program in place, so not a packet
      // goes uncounted between the old program and the new one.
      if (int err = bpf_link_update(link.fd.get(), datapath.xdp_ingress_fd(), nullptr); err != 0)
        return make_error("update pinned XDP link", err, describe(iface));
      if (force_generic && mode == XdpMode::Native)
        NA_WARN("%s: XDP link kept in native mode; detach first to switch to generic",
                describe(iface).c_str());
      NA_INFO("%s: XDP program replaced in place (%s mode)", describe(iface).c_str(),
              to_string(mode));
      return mode;
    }
    // The link outlived its interface (ifindex 0) or belongs to another one:
    // drop the pin; closing our fd then releases the link for good.
    NA_INFO("%s: replacing stale XDP link pin (link ifindex %u)", describe(iface).c_str(),
            link.info.xdp.ifindex);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
      return make_error("unpin stale XDP link", errno, path);
  }

  auto state = query_xdp(ifindex, iface);
  if (!state) return state.error();
  if (uint32_t foreign = state->any_id(); foreign != 0) {
    auto name = prog_name(foreign);
    // Another tag's netacct program (this tag's own, attached without its
    // link, is as foreign as any other program: the hint below applies).
    auto maps = prog_map_ids(foreign);
    bool own = maps && std::find(maps->begin(), maps->end(), owner_map_id(datapath)) != maps->end();
    if (name && name.value() == "netacct_xdp_in" && !own)
      return Error{describe(iface) + ": " +
                       describe_prog_owner(foreign, pin_base_of(datapath.pin_path())) +
                       " already counts here with XDP (program id " + std::to_string(foreign) +
                       "); stop it, or remove it with netacct-cleanup, first",
                   EBUSY,
                   {}};
    return Error{describe(iface) + " already has an XDP program (id " + std::to_string(foreign) +
                     ", '" + (name ? name.value() : std::string("?")) + "') that netacct tag '" +
                     datapath.tag() +
                     "' did not attach; use TC ingress mode on this interface (run without "
                     "--xdp), or remove that program",
                 EBUSY,
                 {}};
  }

  UniqueFd link_fd;
  if (!force_generic) {
    LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = XDP_FLAGS_DRV_MODE);
    link_fd.reset(bpf_link_create(datapath.xdp_ingress_fd(), ifindex, BPF_XDP, &opts));
    if (!link_fd && errno != EOPNOTSUPP && errno != EINVAL)
      return make_error("attach XDP (native)", errno, describe(iface));
    if (!link_fd)
      NA_INFO("%s: no native XDP (%s), using generic mode", describe(iface).c_str(),
              std::strerror(errno));
  }
  if (!link_fd) {
    LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = XDP_FLAGS_SKB_MODE);
    link_fd.reset(bpf_link_create(datapath.xdp_ingress_fd(), ifindex, BPF_XDP, &opts));
    if (!link_fd) return make_error("attach XDP (generic)", errno, describe(iface));
  }
  // Unpinned, the link would go with this process; on failure link_fd's
  // destructor closes the only reference and so detaches it again.
  if (int err = bpf_obj_pin(link_fd.get(), path.c_str()); err != 0)
    return make_error("pin XDP link", err, path);

  bpf_link_info info{};
  uint32_t len = sizeof info;
  if (bpf_obj_get_info_by_fd(link_fd.get(), &info, &len) != 0)
    return make_error("inspect XDP link", errno, path);
  auto after = query_xdp(ifindex, iface);
  if (!after) return after.error();
  XdpMode mode = after->mode_of(info.prog_id);
  NA_INFO("%s: XDP attached (%s mode)", describe(iface).c_str(), to_string(mode));
  return mode;
}

Result<void> detach_xdp(const std::string& pin_path, const Interface& iface) {
  if (pin_path.empty()) return ok();
  std::string path = link_path(pin_path);
  auto pinned = open_pinned_link(path);
  if (!pinned) return pinned.error();
  if (!pinned->has_value()) return ok();
  // A link detaches without a namespace switch; a defunct one (interface
  // gone) reports ENOLINK or similar, which is just as detached.
  if (int err = bpf_link_detach((*pinned)->fd.get());
      err != 0 && err != -ENOLINK && err != -EINVAL && err != -ENOENT)
    return make_error("detach XDP link", err, describe(iface));
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    return make_error("unpin XDP link", errno, path);
  NA_INFO("%s: XDP detached", describe(iface).c_str());
  return ok();
}

Result<AttachReport> attach_all(const Datapath& datapath, const Interface& iface,
                                IngressMode ingress) {
  AttachReport report;
  report.ingress = ingress;
  // The other ingress kind goes first: for a moment nothing counts ingress,
  // which is better than counting it twice.
  if (ingress == IngressMode::Xdp) {
    // Only this tag's filter: another tag's on the slot makes attach refuse.
    if (auto detached = detach_tc_owned(iface, TcDirection::Ingress, owner_map_id(datapath));
        !detached)
      return detached.error();
    auto mode = attach_xdp(datapath, iface);
    if (!mode) return mode.error();
    report.xdp_mode = mode.value();
  } else {
    if (auto detached = detach_xdp(datapath.pin_path(), iface); !detached) return detached.error();
    if (auto attached = attach_tc(datapath, iface, TcDirection::Ingress); !attached)
      return attached.error();
  }
  if (auto attached = attach_tc(datapath, iface, TcDirection::Egress); !attached)
    return attached.error();
  return report;
}

Result<void> detach_all(const std::string& pin_path, const Interface& iface) {
  // Try every part even when one fails, and report the first failure.
  // Only this tag's filters: another tag's on the same slot stays.
  uint32_t owner = owner_map_id(pin_path);
  Result<void> results[] = {detach_xdp(pin_path, iface),
                            detach_tc_owned(iface, TcDirection::Ingress, owner),
                            detach_tc_owned(iface, TcDirection::Egress, owner)};
  for (Result<void>& result : results)
    if (!result) return result;
  // A clsact netacct created goes too, when nothing else uses it.
  if (auto removed = remove_created_clsact(pin_path); !removed) return removed.error();
  return ok();
}

Result<AttachStatus> query_attachments(const std::string& pin_path, const Interface& iface) {
  AttachStatus status;
  auto scope = NetnsScope::enter(iface.netns);
  if (!scope) return status;  // no namespace: nothing present
  auto index = index_in_scope(iface);
  if (!index) return status;
  status.interface_present = true;

  if (!pin_path.empty()) {
    auto pinned = open_pinned_link(link_path(pin_path));
    if (!pinned) return pinned.error();
    if (pinned->has_value() &&
        (*pinned)->info.xdp.ifindex == static_cast<uint32_t>(index.value())) {
      auto state = query_xdp(index.value(), iface);
      if (!state) return state.error();
      status.xdp = state->mode_of((*pinned)->info.prog_id);
    }
  }
  for (TcDirection direction : {TcDirection::Ingress, TcDirection::Egress}) {
    auto slot = query_tc_slot(index.value(), iface, direction, owner_map_id(pin_path));
    if (!slot) return slot.error();
    (direction == TcDirection::Ingress ? status.tc_ingress : status.tc_egress) = slot->ours;
  }
  return status;
}

Result<void> undo_attach(const Datapath& datapath, const Interface& iface,
                         const AttachStatus& before) {
  auto now = query_attachments(datapath.pin_path(), iface);
  if (!now) return now.error();
  if (!now->interface_present) {
    auto removed = remove_created_clsact(datapath.pin_path());
    if (!removed) return removed.error();
    return ok();
  }
  uint32_t owner = owner_map_id(datapath);
  std::vector<Result<void>> results;
  if (now->xdp != XdpMode::None && before.xdp == XdpMode::None)
    results.push_back(detach_xdp(datapath.pin_path(), iface));
  for (TcDirection direction : {TcDirection::Ingress, TcDirection::Egress}) {
    bool was = direction == TcDirection::Ingress ? before.tc_ingress : before.tc_egress;
    bool is = direction == TcDirection::Ingress ? now->tc_ingress : now->tc_egress;
    if (is && !was) results.push_back(detach_tc_owned(iface, direction, owner));
    if (was && !is) results.push_back(attach_tc(datapath, iface, direction));
  }
  if (before.xdp != XdpMode::None && now->xdp == XdpMode::None) {
    auto mode = attach_xdp(datapath, iface, before.xdp == XdpMode::Generic);
    results.push_back(mode ? ok() : Result<void>(mode.error()));
  }
  auto removed = remove_created_clsact(datapath.pin_path());
  results.push_back(removed ? ok() : Result<void>(removed.error()));
  for (Result<void>& result : results)
    if (!result) return result;
  return ok();
}

}  // namespace netacct
