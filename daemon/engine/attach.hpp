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
// - TC with tcx (kernels that have it, 6.6+): a bpf_link per direction at
//   the head of the interface's tcx chain, pinned as <pin dir>/link_tc_in
//   and link_tc_eg; a restart updates the pinned link's program in place.
//   Our programs return TCX_NEXT (TC_ACT_UNSPEC): the rest of the chain and
//   any legacy clsact filter still see every packet.
// - TC with clsact (no tcx, or NETACCT_TC_ATTACH=clsact): clsact is created
//   only when missing; our filters use a fixed handle and priority
//   (kTcHandle/kTcPriority), are replaced in place on restart, and are the
//   only filters detach removes. A foreign filter or qdisc on the same
//   interface survives attach and detach untouched.
// Attaching with one TC kind removes this tag's attachment of the other
// kind in the same direction once the new one is in place (migration).
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
// How TC programs attach. Auto: tcx when the kernel has it, else clsact.
enum class TcAttach { Auto, Tcx, Clsact };
// What one TC direction of ours is attached with.
enum class TcKind { None, Tcx, Clsact };
enum class XdpMode { None, Native, Generic };
enum class TcDirection { Ingress, Egress };
// What --xdp asks for: Auto (native where it counts correctly, else TC
// ingress), Native (refuse when native is unavailable), Generic (explicit).
enum class XdpRequest { Auto, Native, Generic };

const char* to_string(IngressMode mode);
const char* to_string(XdpMode mode);
const char* to_string(TcDirection direction);
const char* to_string(XdpRequest request);
const char* to_string(TcAttach attach);
const char* to_string(TcKind kind);

// The one place the TC attach kind is chosen: the environment variable
// NETACCT_TC_ATTACH (auto, tcx or clsact; unset or empty = auto). An
// unknown value is an error naming it.
inline constexpr const char* kTcAttachEnv = "NETACCT_TC_ATTACH";
Result<TcAttach> tc_attach_request();
// True when the running kernel has tcx (probed once, by a BPF_PROG_QUERY
// of the tcx attach type on `ifindex` in the current namespace).
bool kernel_has_tcx(int ifindex);

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

// Attaches with tcx or clsact as tc_attach_request() says (Auto: tcx when
// the kernel has it). tcx: the pinned link is updated in place, or created
// at the head of the chain; EBUSY when another tag's netacct program is in
// the chain. clsact: replaces this tag's filter in place; EBUSY when our
// handle/priority holds a foreign filter or another tag's (its program uses
// other maps). Either way this tag's attachment of the other kind goes
// after the new one is in place.
Result<void> attach_tc(const Datapath& datapath, const Interface& iface, TcDirection direction);
// Removes this tag's tcx link of `direction` (unpinning it) when it sits on
// this interface or on none (its interface gone); no-op otherwise.
Result<void> detach_tcx(const std::string& pin_path, const Interface& iface, TcDirection direction);
// Removes our clsact filter only (checked by handle, priority and program name;
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
// Detaches this tag's filters, tcx links and XDP link, then removes the clsact qdiscs
// netacct created that nothing else uses (see clsact.hpp).
Result<void> detach_all(const std::string& pin_path, const Interface& iface);

// What is attached right now (for health checks and tests).
struct AttachStatus {
  bool interface_present = false;
  XdpMode xdp = XdpMode::None;  // our XDP program, in which mode
  bool tc_ingress = false;      // our tcx link or clsact filter present
  bool tc_egress = false;
  TcKind tc_ingress_kind = TcKind::None;
  TcKind tc_egress_kind = TcKind::None;
  // A tcx link pinned for the direction (attached here or not: when pinned
  // but the kind is not Tcx, the link is defunct or on another interface).
  bool tcx_ingress_pinned = false;
  bool tcx_egress_pinned = false;
};
Result<AttachStatus> query_attachments(const std::string& pin_path, const Interface& iface);

// Undoes a failed attach_all: detaches what is attached now but was not in
// `before`, re-attaches what was and is not any more (attach_all removes the
// other ingress kind first), and removes a clsact netacct created that holds
// nothing. Best effort: every step is tried; the first failure is returned.
Result<void> undo_attach(const Datapath& datapath, const Interface& iface,
                         const AttachStatus& before);

}  // namespace netacct
