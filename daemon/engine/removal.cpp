// SPDX-License-Identifier: GPL-2.0-only
#include "removal.hpp"

#include "attach.hpp"
#include "attach_util.hpp"

namespace netacct {

Result<void> remove_attachment(const FoundAttachment& found, const std::string& pin_path) {
  uint32_t owner = attach_detail::owner_map_id(pin_path);
  if (found.tcx && found.kind != FoundAttachment::Kind::Xdp)
    return attach_detail::drop_tcx_link(pin_path, found.iface,
                                        found.kind == FoundAttachment::Kind::TcIngress
                                            ? TcDirection::Ingress
                                            : TcDirection::Egress);
  switch (found.kind) {
    case FoundAttachment::Kind::TcIngress:
      return attach_detail::detach_tc_owned(found.iface, TcDirection::Ingress, owner);
    case FoundAttachment::Kind::TcEgress:
      return attach_detail::detach_tc_owned(found.iface, TcDirection::Egress, owner);
    case FoundAttachment::Kind::Xdp: return detach_xdp(pin_path, found.iface);
  }
  return ok();
}

}  // namespace netacct
