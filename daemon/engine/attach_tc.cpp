// SPDX-License-Identifier: GPL-2.0-only
// TC half of attach.hpp. Our filters sit at a fixed handle and priority in
// clsact; they are identified by that slot, the program's name and the
// tag's active_flows map, never by "every filter in this direction", so a
// foreign filter on the same interface is never touched.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <vector>

#include "../common/log.hpp"
#include "../common/unique_fd.hpp"
#include "attach.hpp"
#include "attach_util.hpp"
#include "clsact.hpp"
#include "netns.hpp"

namespace netacct {

using namespace attach_detail;

namespace {

bpf_tc_attach_point attach_point(TcDirection direction) {
  return direction == TcDirection::Ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS;
}

std::string tc_context(const Interface& iface, TcDirection direction) {
  return describe(iface) + ", tc " + to_string(direction);
}

// True if the program uses map `map`: the test for "loaded by this tag".
Result<bool> prog_uses_map(uint32_t prog_id, uint32_t map) {
  auto ids = prog_map_ids(prog_id);
  if (!ids) return ids.error();
  for (uint32_t id : ids.value())
    if (id == map) return true;
  return false;
}

int tc_prog_fd(const Datapath& datapath, TcDirection direction) {
  return direction == TcDirection::Ingress ? datapath.tc_ingress_fd() : datapath.tc_egress_fd();
}

}  // namespace

namespace attach_detail {

Result<TcSlot> query_tc_slot(int ifindex, const Interface& iface, TcDirection direction,
                             uint32_t owner) {
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = attach_point(direction));
  LIBBPF_OPTS(bpf_tc_opts, opts, .handle = kTcHandle, .priority = kTcPriority);
  int err;
  {
    QuietNetlink quiet;
    err = bpf_tc_query(&hook, &opts);
  }
  // ENOENT: no such filter; EINVAL: no clsact qdisc, so no filter either.
  if (err == -ENOENT || err == -EINVAL) return TcSlot{};
  if (err != 0) return make_error("query tc filter", err, tc_context(iface, direction));
  TcSlot slot;
  slot.prog_id = opts.prog_id;
  auto name = prog_name(opts.prog_id);
  if (!name) return name.error();
  slot.name = name.value();
  slot.netacct = slot.name == our_prog_name(direction);
  slot.ours = slot.netacct;
  if (slot.netacct && owner != 0) {
    auto uses = prog_uses_map(slot.prog_id, owner);
    if (!uses) return uses.error();
    slot.ours = uses.value();
  }
  return slot;
}

Result<void> detach_tc_owned(const Interface& iface, TcDirection direction, uint32_t owner) {
  auto scope = NetnsScope::enter(iface.netns);
  if (!scope) {
    // No namespace, no interface, no filter: nothing left to detach.
    NA_INFO("%s: nothing to detach", scope.error().message().c_str());
    return ok();
  }
  auto index = index_in_scope(iface);
  if (!index) {
    NA_INFO("%s: nothing to detach", index.error().message().c_str());
    return ok();
  }
  auto slot = query_tc_slot(index.value(), iface, direction, owner);
  if (!slot) return slot.error();
  if (slot->prog_id == 0) return ok();
  if (!slot->ours) {
    NA_WARN("%s: the filter at netacct's handle runs '%s'%s: left in place",
            tc_context(iface, direction).c_str(), slot->name.c_str(),
            slot->netacct ? " of another netacct tag" : ", not netacct");
    return ok();
  }
  // Only our filter goes; the clsact qdisc stays, other filters may use it.
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = index.value(), .attach_point = attach_point(direction));
  LIBBPF_OPTS(bpf_tc_opts, opts, .handle = kTcHandle, .priority = kTcPriority);
  if (int err = bpf_tc_detach(&hook, &opts); err != 0 && err != -ENOENT)
    return make_error("detach tc filter", err, tc_context(iface, direction));
  NA_INFO("%s: tc %s filter detached", describe(iface).c_str(), to_string(direction));
  return ok();
}

}  // namespace attach_detail

namespace {

Result<void> attach_clsact(const Datapath& datapath, const Interface& iface,
                           TcDirection direction) {
  auto scope = NetnsScope::enter(iface.netns);
  if (!scope) return scope.error();
  auto index = index_in_scope(iface);
  if (!index) return index.error();
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = index.value(), .attach_point = attach_point(direction));
  // clsact may already be there (ours from a previous run, or someone
  // else's carrying their filters): use it as it is.
  int created;
  {
    QuietNetlink quiet;
    created = bpf_tc_hook_create(&hook);
  }
  if (created != 0 && created != -EEXIST)
    return make_error("create clsact qdisc", created, tc_context(iface, direction));
  // Recorded at once, so that a failure below (and any later cleanup) knows
  // the qdisc is netacct's to remove once nothing uses it.
  if (created == 0)
    if (auto noted = note_clsact_created(datapath.pin_path(), index.value()); !noted) return noted;

  // Another tag's tcx link (forced clsact here) counts just as much.
  if (auto refused = refuse_other_tag(datapath, iface, index.value(), direction); !refused)
    return refused;
  auto slot = query_tc_slot(index.value(), iface, direction, owner_map_id(datapath));
  if (!slot) return slot.error();
  if (slot->prog_id != 0 && !slot->ours) {
    // Both tags would share one handle: the second would silently take
    // over the first one's counting. Refuse instead.
    return Error{slot->netacct
                     ? describe_prog_owner(slot->prog_id, pin_base_of(datapath.pin_path())) +
                           " already counts here (its filter holds netacct's tc handle and "
                           "priority); stop it, or remove it with netacct-cleanup, first"
                     : "a filter that is not netacct's (program '" + slot->name +
                           "') holds netacct's tc handle and priority",
                 EBUSY, tc_context(iface, direction)};
  }
  // REPLACE swaps the program of an existing filter of ours in one netlink
  // request: no packet passes uncounted and no second filter appears.
  LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = tc_prog_fd(datapath, direction),
              .flags = BPF_TC_F_REPLACE, .handle = kTcHandle, .priority = kTcPriority);
  if (int err = bpf_tc_attach(&hook, &opts); err != 0)
    return make_error("attach tc filter", err, tc_context(iface, direction));
  NA_INFO("%s: tc %s filter %s", describe(iface).c_str(), to_string(direction),
          slot->prog_id != 0 ? "replaced in place" : "attached");
  return ok();
}

}  // namespace

Result<void> attach_tc(const Datapath& datapath, const Interface& iface, TcDirection direction) {
  auto request = tc_attach_request();
  if (!request) return request.error();
  if (request.value() != TcAttach::Clsact) {
    bool has_tcx = false;
    {
      auto scope = NetnsScope::enter(iface.netns);
      if (!scope) return scope.error();
      auto index = index_in_scope(iface);
      if (!index) return index.error();
      has_tcx = kernel_has_tcx(index.value());
    }
    if (has_tcx) {
      // Migration from clsact: the old filter goes first, as with XDP and
      // TC ingress, so no packet is ever counted twice; the cost is a gap
      // of one netlink round trip (see docs/DESIGN.md). A no-op on an
      // ordinary restart, which updates the link in place.
      if (auto detached = detach_tc_owned(iface, direction, owner_map_id(datapath)); !detached)
        return detached;
      auto scope = NetnsScope::enter(iface.netns);
      if (!scope) return scope.error();
      auto index = index_in_scope(iface);
      if (!index) return index.error();
      auto tcx = attach_tcx(datapath, iface, index.value(), direction);
      if (!tcx) return tcx.error();
      if (tcx.value()) return ok();
    }
    if (request.value() == TcAttach::Tcx)
      return Error{std::string(kTcAttachEnv) +
                       "=tcx, but this kernel has no tcx (Linux 6.6 or later); unset it to use "
                       "clsact",
                   EOPNOTSUPP, tc_context(iface, direction)};
    NA_DEBUG("%s: no tcx in this kernel: clsact filter", tc_context(iface, direction).c_str());
  }
  // Forced back to clsact: our tcx link goes first, then the filter counts.
  if (auto detached = detach_tcx(datapath.pin_path(), iface, direction); !detached) return detached;
  return attach_clsact(datapath, iface, direction);
}

Result<void> detach_tc(const Interface& iface, TcDirection direction) {
  return detach_tc_owned(iface, direction, 0);
}

}  // namespace netacct
