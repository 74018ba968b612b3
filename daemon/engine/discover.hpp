// SPDX-License-Identifier: GPL-2.0-only
// Finding where a tag is attached without knowing its interface: the tools
// (netacct-cleanup, netacct-health) run when no daemon may be left to ask.
//
// The pins are the record. A tag's programs all use its pinned active_flows
// map, so a tc filter at netacct's handle/priority whose program is
// netacct_tc_in/netacct_tc_eg *and* uses that map is this tag's, wherever it
// is. The scan visits the current namespace and every named one
// (/var/run/netns), every interface, both tc directions. The XDP link is
// pinned in the tag directory; the interface it sits on is found by matching
// its program id against each interface's attached XDP program, and the
// tcx links (link_tc_in, link_tc_eg) by their ifindex and their program in
// that interface's tcx chain. A pinned link found on no interface is
// reported with an empty interface name (defunct: its interface is gone).
//
// Nothing here changes anything: it only reports.
#pragma once

#include <string>
#include <vector>

#include "../common/result.hpp"
#include "attach.hpp"

namespace netacct {

// Named network namespaces (/var/run/netns), sorted. Empty when none.
std::vector<std::string> list_named_namespaces();

struct FoundAttachment {
  enum class Kind { TcIngress, TcEgress, Xdp };
  Kind kind = Kind::TcIngress;
  Interface iface;  // name "" for an XDP or tcx link whose interface is gone
  XdpMode xdp_mode = XdpMode::None;
  bool tcx = false;              // TcIngress/TcEgress: a pinned tcx link, not a clsact filter
  std::string describe() const;  // "tc ingress on interface 'x' in ..."
};

struct Discovery {
  // False when the pin directory has no usable active_flows map: without it
  // no filter can be told to be this tag's, so none was looked for.
  bool owner_known = false;
  bool xdp_link_pinned = false;
  bool tcx_links_pinned = false;
  std::vector<FoundAttachment> found;
  // Namespaces that could not be entered or listed (reported, not fatal).
  std::vector<std::string> skipped;
};

// Scans for the attachments of the tag pinned at pin_path.
Result<Discovery> discover_attachments(const std::string& pin_path);

}  // namespace netacct
