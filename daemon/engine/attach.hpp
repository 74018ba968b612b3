// SPDX-License-Identifier: GPL-2.0-only
// Attaching the datapath's programs to an interface, possibly inside a
// network namespace, and detaching them again.
//
// - XDP: a bpf_link in the mode asked for (native/driver, or generic only
//   when asked for explicitly), pinned as <pin dir>/link_xdp so it outlives
//   the process. A restarted or upgraded daemon updates the pinned link's
//   program in place. attach_all with XdpRequest::Auto falls back to TC
//   ingress where native XDP is unavailable or would miscount; it never
//   falls back to generic XDP silently.
// - TC: clsact is created only when missing; our filters use a fixed handle
//   and priority (kTcHandle/kTcPriority), are replaced in place on restart,
//   and are the only filters detach removes. A foreign filter or qdisc on the
//   same interface survives attach and detach untouched.
//
// Attachments persist after the process exits; destructors never detach.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "../common/result.hpp"
#include "datapath.hpp"

namespace netacct {

inline constexpr uint32_t kTcHandle = 0x4e41;    // "NA"
inline constexpr uint32_t kTcPriority = 0x4e41;  // before tc's default 49152

enum class IngressMode { Tc, Xdp };
enum class XdpMode { None, Native, Generic };
enum class TcDirection { Ingress, Egress };
// What --xdp asks for: Auto (native where it counts correctly, else TC
// ingress), Native (refuse when native is unavailable), Generic (explicit).
enum class XdpRequest { Auto, Native, Generic };

const char* to_string(IngressMode mode);
const char* to_string(XdpMode mode);
const char* to_string(TcDirection direction);
const char* to_string(XdpRequest request);

struct Interface {
  std::string name;
  std::string netns;  // "" = current namespace; NAME or a path (see netns.hpp)
};

// The interface's ifindex inside its namespace; an error naming interface
// and namespace if either is missing.
Result<int> interface_index(const Interface& iface);

// The interface's device type and how its frames begin. Ethernet-framed:
// ARPHRD_ETHER and loopback. IP-framed (no link-layer header): tun and
// WireGuard (ARPHRD_NONE), ipip/vti, ip6tnl, sit, GRE, ip6gre, PPP, raw IP.
// Any other type is refused with an error naming it (never miscounted).
struct LinkType {
  uint16_t arphrd = 0;
  uint32_t framing = NETACCT_LINK_ETHERNET;  // NETACCT_LINK_*
  std::string name;                          // "ether", "none (tun, wireguard)", ...
};
Result<LinkType> link_type(const Interface& iface);
const char* framing_name(uint32_t framing);  // "ethernet" / "ip"

// XDP on ingress in `mode` (Native or Generic; nothing else is tried).
// Native fails with EOPNOTSUPP and a one-line reason when the driver has no
// native XDP, or when the interface has no link-layer header (native XDP on
// tun does not see the packets of a tun device; the others have none).
// A pinned link of ours in the other mode is replaced. Fails clearly when a
// foreign XDP program is attached.
Result<XdpMode> attach_xdp(const Datapath& datapath, const Interface& iface,
                           XdpMode mode = XdpMode::Native);
// Removes our XDP link (unpinning it); no-op when none.
Result<void> detach_xdp(const std::string& pin_path, const Interface& iface);

// Replaces this tag's filter in place. EBUSY when our handle/priority holds
// a foreign filter or another tag's (its program uses other maps).
Result<void> attach_tc(const Datapath& datapath, const Interface& iface, TcDirection direction);
// Removes our filter only (checked by handle, priority and program name;
// detach_all also checks the tag through its pinned maps). A missing
// interface or namespace is not an error: the filter went with it.
Result<void> detach_tc(const Interface& iface, TcDirection direction);

// Attaches everything for the chosen ingress mode plus TC egress; when the
// other ingress kind is attached from an earlier run, it is removed, so a
// tag never counts ingress twice.
struct AttachReport {
  IngressMode ingress = IngressMode::Tc;  // what counts ingress now
  XdpMode xdp_mode = XdpMode::None;
  // XDP was asked for (Auto) but TC ingress counts instead: why ("" if not).
  std::string fallback;
};
// `request` applies with IngressMode::Xdp only.
Result<AttachReport> attach_all(const Datapath& datapath, const Interface& iface,
                                IngressMode ingress, XdpRequest request = XdpRequest::Auto);
// Detaches this tag's filters and XDP link, then removes the clsact qdiscs
// netacct created that nothing else uses (see clsact.hpp).
Result<void> detach_all(const std::string& pin_path, const Interface& iface);

// What is attached right now (for health checks and tests).
struct AttachStatus {
  bool interface_present = false;
  XdpMode xdp = XdpMode::None;  // our XDP program, in which mode
  bool tc_ingress = false;      // our filter present
  bool tc_egress = false;
};
Result<AttachStatus> query_attachments(const std::string& pin_path, const Interface& iface);

// Undoes a failed attach_all: detaches what is attached now but was not in
// `before`, re-attaches what was and is not any more (attach_all removes the
// other ingress kind first), and removes a clsact netacct created that holds
// nothing. Best effort: every step is tried; the first failure is returned.
Result<void> undo_attach(const Datapath& datapath, const Interface& iface,
                         const AttachStatus& before);

}  // namespace netacct
