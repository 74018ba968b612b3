// SPDX-License-Identifier: GPL-2.0-only
// XDP half of attach.hpp, plus attach_all/detach_all/query_attachments.
// The XDP attachment is a bpf_link pinned in the tag's directory; its
// program is updated in place on re-attach (see attach_tc.cpp for TC).
#include "attach.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
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

// "" when native XDP is available here (or an XDP program is attached
// already: attach_xdp then replaces ours or refuses a foreign one), else
// why not. The probe attaches a two-instruction XDP_PASS program natively
// for a moment (it counts nothing, so TC ingress may keep counting) and
// detaches it at once by closing its only link reference.
static Result<std::string> probe_native_xdp(const Interface& iface) {
  auto scope = NetnsScope::enter(iface.netns);
  if (!scope) return scope.error();
  auto index = index_in_scope(iface);
  if (!index) return index.error();
  auto state = query_xdp(index.value(), iface);
  if (!state) return state.error();
  if (state->native_id != 0) return std::string();  // ours (attach_xdp checks) or foreign (refused)
  if (state->generic_id != 0) return std::string();  // attach_xdp replaces or refuses it
  const bpf_insn pass[] = {
      {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS},
      {.code = BPF_JMP | BPF_EXIT},
  };
  UniqueFd prog(bpf_prog_load(BPF_PROG_TYPE_XDP, "netacct_probe", "GPL", pass, 2, nullptr));
  if (!prog) return make_error("load the native XDP probe", errno, describe(iface));
  UniqueFd link;
  {
    QuietNetlink quiet;
    LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = XDP_FLAGS_DRV_MODE);
    link.reset(bpf_link_create(prog.get(), index.value(), BPF_XDP, &opts));
  }
  if (!link) {
    int err = errno;
    if (err == EOPNOTSUPP || err == EINVAL)
      return std::string("no native XDP in the driver (") + std::strerror(err) + ")";
    return make_error("probe native XDP", err, describe(iface));
  }
  // Closing the only reference to an unpinned link detaches it.
  return std::string();
}

const char* to_string(IngressMode mode) {
  return mode == IngressMode::Xdp ? "xdp" : "tc";
}

const char* to_string(XdpRequest request) {
  switch (request) {
    case XdpRequest::Auto: return "auto";
    case XdpRequest::Native: return "native";
    case XdpRequest::Generic: return "generic";
  }
  return "?";
}

const char* framing_name(uint32_t framing) {
  return framing == NETACCT_LINK_IP ? "ip" : "ethernet";
}

Result<LinkType> link_type(const Interface& iface) {
  auto scope = NetnsScope::enter(iface.netns);
  if (!scope) return scope.error();
  if (auto index = index_in_scope(iface); !index) return index.error();
  // A socket made inside the namespace sees the namespace's devices (sysfs
  // would show the namespace it was mounted in). SIOCGIFHWADDR answers with
  // dev->type in sa_family, for every kind of device.
  UniqueFd sock(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock) return make_error("socket for the device type", errno, describe(iface));
  ifreq request{};
  std::strncpy(request.ifr_name, iface.name.c_str(), IFNAMSIZ - 1);
  if (::ioctl(sock.get(), SIOCGIFHWADDR, &request) != 0)
    return make_error("read the device type", errno, describe(iface));
  LinkType type;
  type.arphrd = request.ifr_hwaddr.sa_family;
  struct Known {
    uint16_t arphrd;
    uint32_t framing;
    const char* name;
  };
  static const Known known[] = {
      {ARPHRD_ETHER, NETACCT_LINK_ETHERNET, "ether"},
      {ARPHRD_LOOPBACK, NETACCT_LINK_ETHERNET, "loopback"},
      {ARPHRD_NONE, NETACCT_LINK_IP, "none (tun, wireguard)"},
      {ARPHRD_TUNNEL, NETACCT_LINK_IP, "ipip"},
      {ARPHRD_TUNNEL6, NETACCT_LINK_IP, "ip6tnl"},
      {ARPHRD_SIT, NETACCT_LINK_IP, "sit"},
      {ARPHRD_IPGRE, NETACCT_LINK_IP, "gre"},
      {823 /* ARPHRD_IP6GRE */, NETACCT_LINK_IP, "ip6gre"},
      {ARPHRD_PPP, NETACCT_LINK_IP, "ppp"},
      {ARPHRD_RAWIP, NETACCT_LINK_IP, "rawip"},
  };
  for (const Known& k : known) {
    if (k.arphrd != type.arphrd) continue;
    type.framing = k.framing;
    type.name = k.name;
    return type;
  }
  return Error{describe(iface) + " has link type " + std::to_string(type.arphrd) +
                   " (ARPHRD_*), whose frames netacct cannot parse; supported: Ethernet, "
                   "loopback, and devices without a link-layer header (tun, WireGuard, ipip, "
                   "GRE, sit, ip6tnl, PPP)",
               EPROTONOSUPPORT,
               {}};
}

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

Result<XdpMode> attach_xdp(const Datapath& datapath, const Interface& iface, XdpMode want) {
  if (want == XdpMode::None) return Error{"attach XDP: no mode given", EINVAL, describe(iface)};
  if (want == XdpMode::Native && datapath.link_framing() == NETACCT_LINK_IP)
    return Error{describe(iface) +
                     " has no link-layer header: native XDP would not see its packets (tun "
                     "runs it only in tap mode; ipip, GRE, sit and WireGuard have none); use "
                     "TC ingress (--xdp or no --xdp) or --xdp=generic",
                 EOPNOTSUPP,
                 {}};
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
    bool live = link.info.xdp.ifindex == static_cast<uint32_t>(ifindex) && mode != XdpMode::None;
    if (live && mode == want) {
      // Our link is live here: swap the program in place, so not a packet
      // goes uncounted between the old program and the new one.
      if (int err = bpf_link_update(link.fd.get(), datapath.xdp_ingress_fd(), nullptr); err != 0)
        return make_error("update pinned XDP link", err, describe(iface));
      NA_INFO("%s: XDP program replaced in place (%s mode)", describe(iface).c_str(),
              to_string(mode));
      return mode;
    }
    if (live) {
      // Live in the other mode: never keep a mode that was not asked for.
      NA_INFO("%s: XDP link in %s mode, %s asked for: re-attaching", describe(iface).c_str(),
              to_string(mode), to_string(want));
      if (int err = bpf_link_detach(link.fd.get()); err != 0)
        return make_error("detach XDP link", err, describe(iface));
    } else {
      // The link outlived its interface (ifindex 0) or belongs to another
      // one: drop the pin; closing our fd then releases the link for good.
      NA_INFO("%s: replacing stale XDP link pin (link ifindex %u)", describe(iface).c_str(),
              link.info.xdp.ifindex);
    }
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
  {
    QuietNetlink quiet;  // the kernel's extack for "no native XDP" is ours to report
    LIBBPF_OPTS(bpf_link_create_opts, opts,
                .flags = want == XdpMode::Native ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE);
    link_fd.reset(bpf_link_create(datapath.xdp_ingress_fd(), ifindex, BPF_XDP, &opts));
  }
  if (!link_fd) {
    int err = errno;
    if (want == XdpMode::Native && (err == EOPNOTSUPP || err == EINVAL))
      return Error{describe(iface) + " has no native XDP in its driver (" + std::strerror(err) +
                       "); use TC ingress (--xdp falls back to it) or --xdp=generic",
                   EOPNOTSUPP,
                   {}};
    return make_error(std::string("attach XDP (") + to_string(want) + ")", err, describe(iface));
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
  if (mode != want) {
    // Cannot happen with the mode flag set; if it did, never run silently
    // in a mode nobody asked for.
    bpf_link_detach(link_fd.get());
    ::unlink(path.c_str());
    return Error{
        describe(iface) + ": XDP attached in " + to_string(mode) + " mode, not " + to_string(want),
        EPROTO,
        {}};
  }
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
                                IngressMode ingress, XdpRequest request) {
  AttachReport report;
  report.ingress = ingress;
  if (ingress == IngressMode::Xdp && request == XdpRequest::Auto) {
    // Native XDP where it counts correctly; otherwise TC ingress, said out
    // loud. Generic XDP only when asked for: it runs after GRO, so a merged
    // packet is counted once, without the headers of its other segments.
    if (datapath.link_framing() == NETACCT_LINK_IP) {
      report.fallback = "no link-layer header (native XDP would not see its packets)";
    } else {
      auto probe = probe_native_xdp(iface);
      if (!probe) return probe.error();
      if (!probe->empty()) report.fallback = probe.value();
    }
    if (!report.fallback.empty()) {
      NA_WARN(
          "%s: --xdp: %s; counting ingress with TC instead (--xdp=generic forces generic "
          "XDP)",
          describe(iface).c_str(), report.fallback.c_str());
      report.ingress = IngressMode::Tc;
    }
  }
  // The other ingress kind goes first: for a moment nothing counts ingress,
  // which is better than counting it twice.
  if (report.ingress == IngressMode::Xdp) {
    // Only this tag's filter: another tag's on the slot makes attach refuse.
    if (auto detached = detach_tc_owned(iface, TcDirection::Ingress, owner_map_id(datapath));
        !detached)
      return detached.error();
    if (auto detached = detach_tcx(datapath.pin_path(), iface, TcDirection::Ingress); !detached)
      return detached.error();
    auto mode = attach_xdp(datapath, iface,
                           request == XdpRequest::Generic ? XdpMode::Generic : XdpMode::Native);
    if (!mode && request == XdpRequest::Auto && mode.error().err == EOPNOTSUPP) {
      // The probe could not tell (an XDP link of ours in generic mode sat
      // there): the native attempt decides, and TC ingress counts instead.
      report.fallback = "no native XDP in the driver";
      report.ingress = IngressMode::Tc;
      NA_WARN(
          "%s: --xdp: %s; counting ingress with TC instead (--xdp=generic forces generic "
          "XDP)",
          describe(iface).c_str(), report.fallback.c_str());
    } else if (!mode) {
      return mode.error();
    } else {
      report.xdp_mode = mode.value();
    }
  }
  if (report.ingress == IngressMode::Tc) {
    if (auto detached = detach_xdp(datapath.pin_path(), iface); !detached) return detached.error();
    if (auto attached = attach_tc(datapath, iface, TcDirection::Ingress); !attached)
      return attached.error();
  }
  if (auto attached = attach_tc(datapath, iface, TcDirection::Egress); !attached)
    return attached.error();
  // A clsact netacct created for filters that moved to tcx goes too.
  if (auto removed = remove_created_clsact(datapath.pin_path()); !removed) return removed.error();
  return report;
}

Result<void> detach_all(const std::string& pin_path, const Interface& iface) {
  // Try every part even when one fails, and report the first failure.
  // Only this tag's filters: another tag's on the same slot stays.
  uint32_t owner = owner_map_id(pin_path);
  Result<void> results[] = {detach_xdp(pin_path, iface),
                            detach_tcx(pin_path, iface, TcDirection::Ingress),
                            detach_tcx(pin_path, iface, TcDirection::Egress),
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
    bool ingress = direction == TcDirection::Ingress;
    TcKind kind = TcKind::None;
    auto link = open_tcx_link(pin_path, direction);
    if (!link) return link.error();
    (ingress ? status.tcx_ingress_pinned : status.tcx_egress_pinned) = link->pinned;
    auto live = tcx_link_live(link.value(), index.value(), iface, direction);
    if (!live) return live.error();
    if (live.value()) {
      kind = TcKind::Tcx;
    } else {
      auto slot = query_tc_slot(index.value(), iface, direction, owner_map_id(pin_path));
      if (!slot) return slot.error();
      if (slot->ours) kind = TcKind::Clsact;
    }
    (ingress ? status.tc_ingress_kind : status.tc_egress_kind) = kind;
    (ingress ? status.tc_ingress : status.tc_egress) = kind != TcKind::None;
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
    if (is && !was) {
      results.push_back(detach_tcx(datapath.pin_path(), iface, direction));
      results.push_back(detach_tc_owned(iface, direction, owner));
    }
    if (was && !is) results.push_back(attach_tc(datapath, iface, direction));
  }
  if (before.xdp != XdpMode::None && now->xdp == XdpMode::None) {
    auto mode = attach_xdp(datapath, iface, before.xdp);
    results.push_back(mode ? ok() : Result<void>(mode.error()));
  }
  auto removed = remove_created_clsact(datapath.pin_path());
  results.push_back(removed ? ok() : Result<void>(removed.error()));
  for (Result<void>& result : results)
    if (!result) return result;
  return ok();
}

}  // namespace netacct
