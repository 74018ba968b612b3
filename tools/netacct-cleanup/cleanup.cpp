// SPDX-License-Identifier: GPL-2.0-only
#include "cleanup.hpp"

#include <algorithm>

#include "daemon/common/json_file.hpp"
#include "daemon/config/options.hpp"
#include "daemon/engine/discover.hpp"
#include "daemon/engine/removal.hpp"
#include "pin/pin_dir.hpp"

namespace netacct::cleanup {

namespace {

// Removes one found attachment. Returns false (after printing why) on failure.
bool remove(const FoundAttachment& found, const std::string& pin_path, std::FILE* out) {
  Result<void> done = remove_attachment(found, pin_path);
  if (!done) {
    std::fprintf(stderr, "netacct-cleanup: %s: %s\n", found.describe().c_str(),
                 done.error().message().c_str());
    return false;
  }
  std::fprintf(out, "  removed %s\n", found.describe().c_str());
  return true;
}

// --verify-only for one tag: running, stopped but counting, clean, or
// leftovers (only the last is an Outcome other than Clean).
Outcome verify(const std::string& tag, const std::string& pin_path, int pid, bool in_use,
               const Discovery& discovery, const std::vector<std::string>& pins,
               const Settings& settings, std::FILE* out) {
  // defunct: a pinned XDP or tcx link whose interface is gone.
  bool tc_in = false, tc_eg = false, xdp = false, xdp_defunct = false;
  bool tcx_in = false, tcx_eg = false;
  for (const FoundAttachment& found : discovery.found) {
    switch (found.kind) {
      case FoundAttachment::Kind::TcIngress:
        (found.iface.name.empty() ? xdp_defunct : tc_in) = true;
        tcx_in = tcx_in || found.tcx;
        break;
      case FoundAttachment::Kind::TcEgress:
        (found.iface.name.empty() ? xdp_defunct : tc_eg) = true;
        tcx_eg = tcx_eg || found.tcx;
        break;
      case FoundAttachment::Kind::Xdp: (found.iface.name.empty() ? xdp_defunct : xdp) = true; break;
    }
  }
  bool maps_complete = true;
  for (const char* name : {"meta", "active_flows", "flows_a", "flows_b", "whitelist"})
    maps_complete = maps_complete && std::find(pins.begin(), pins.end(), name) != pins.end();
  // One interface with egress and exactly one ingress kind: the tag counts.
  std::string interfaces;
  for (const FoundAttachment& found : discovery.found)
    if (!found.iface.name.empty() && interfaces.find(found.iface.name) == std::string::npos)
      interfaces += (interfaces.empty() ? "" : ", ") + found.iface.name +
                    (found.iface.netns.empty() ? "" : "@" + found.iface.netns);
  bool counting = maps_complete && tc_eg && (tc_in != xdp) && !xdp_defunct &&
                  interfaces.find(", ") == std::string::npos;

  std::string state;
  Outcome outcome = Outcome::Clean;
  if (in_use) {
    state = "running (netacctd pid " + (pid > 0 ? std::to_string(pid) : std::string("?")) + ")";
  } else if (pins.empty() && discovery.found.empty()) {
    state = "clean";
  } else if (counting) {
    state = std::string("stopped, counting (") +
            (xdp      ? "xdp"
             : tcx_in ? "tcx"
                      : "tc") +
            " ingress + " + (tcx_eg ? "tcx" : "tc") + " egress on " + interfaces +
            "; by design: netacctd leaves its programs attached on exit and the next start "
            "harvests what they counted)";
  } else {
    outcome = Outcome::Leftovers;
    std::string why;
    // A defunct link (interface gone, or detached) is a pin, not an attachment.
    bool attached = std::any_of(discovery.found.begin(), discovery.found.end(),
                                [](const FoundAttachment& f) { return !f.iface.name.empty(); });
    if (!attached)
      why = "pins without attachments";
    else if (!maps_complete)
      why = "attachments without their pinned maps";
    else
      why = "partial attachments";
    state = "LEFTOVERS (" + why + "; remove with: netacct-cleanup " + tag + ")";
  }
  std::fprintf(out, "tag %s: %s\n", tag.c_str(), state.c_str());
  for (const FoundAttachment& found : discovery.found)
    std::fprintf(out, "  %s\n", found.describe().c_str());
  if (!pins.empty()) {
    std::fprintf(out, "  %zu pinned objects in %s", pins.size(), pin_path.c_str());
    if (settings.verbose)
      for (const std::string& pin : pins) std::fprintf(out, " %s", pin.c_str());
    std::fprintf(out, "\n");
  }
  return outcome;
}

}  // namespace

Outcome clean_tag(const std::string& tag, const Settings& settings, std::FILE* out) {
  auto dir = pin::PinDir::open_existing(tag, settings.pin_base);
  if (!dir) {
    if (dir.error().err == ENOENT) {
      std::fprintf(out, "tag %s: nothing pinned under %s\n", tag.c_str(),
                   settings.pin_base.c_str());
      return Outcome::Clean;
    }
    std::fprintf(stderr, "netacct-cleanup: tag %s: %s\n", tag.c_str(),
                 dir.error().message().c_str());
    return Outcome::Failed;
  }
  const std::string pin_path = dir->path();
  const bool in_use = dir->held_by_other();

  auto discovery = discover_attachments(pin_path);
  if (!discovery) {
    std::fprintf(stderr, "netacct-cleanup: tag %s: %s\n", tag.c_str(),
                 discovery.error().message().c_str());
    return Outcome::Failed;
  }
  for (const std::string& skipped : discovery->skipped)
    std::fprintf(stderr, "netacct-cleanup: tag %s: not searched: %s\n", tag.c_str(),
                 skipped.c_str());
  if (!discovery->owner_known)
    std::fprintf(stderr,
                 "netacct-cleanup: tag %s: %s/active_flows is missing, so no tc filter can be "
                 "told to be this tag's; filters were not searched\n",
                 tag.c_str(), pin_path.c_str());
  std::vector<std::string> pins = dir->entries();

  if (settings.verify_only)
    return verify(tag, pin_path, in_use ? dir->holder_pid() : 0, in_use, discovery.value(), pins,
                  settings, out);

  if (in_use && !settings.force) {
    std::fprintf(stderr,
                 "netacct-cleanup: tag %s is in use by a running netacctd (it holds the lock on "
                 "%s); stop it first, or use --force\n",
                 tag.c_str(), pin_path.c_str());
    return Outcome::Refused;
  }
  // Hold the tag while we work so no daemon starts on it half-way; with
  // --force and a live daemon the lock cannot be had and we go on without.
  if (!in_use) {
    if (auto locked = dir->lock(); !locked && settings.verbose)
      std::fprintf(out, "tag %s: not locked: %s\n", tag.c_str(), locked.error().message().c_str());
  } else {
    std::fprintf(out, "tag %s: in use by a running netacctd; removing anyway (--force)\n",
                 tag.c_str());
  }

  std::fprintf(out, "tag %s: cleaning\n", tag.c_str());
  bool failed = false;
  for (const FoundAttachment& found : discovery->found)
    failed = !remove(found, pin_path, out) || failed;
  if (!failed) {
    auto qdiscs = remove_created_clsact(pin_path);
    if (!qdiscs) {
      std::fprintf(stderr, "netacct-cleanup: tag %s: %s\n", tag.c_str(),
                   qdiscs.error().message().c_str());
      failed = true;
    } else {
      for (const std::string& line : qdiscs.value())
        std::fprintf(out, "  %s%s\n", line.rfind("kept", 0) == 0 ? "" : "removed ", line.c_str());
    }
  }
  if (failed) {
    // Keep the pins: they are what identifies the remaining attachments.
    std::fprintf(stderr, "netacct-cleanup: tag %s: pins in %s kept so a later run can finish\n",
                 tag.c_str(), pin_path.c_str());
    return Outcome::Failed;
  }
  if (auto removed = dir->remove_all(); !removed) {
    std::fprintf(stderr, "netacct-cleanup: tag %s: %s\n", tag.c_str(),
                 removed.error().message().c_str());
    return Outcome::Failed;
  }
  std::fprintf(out, "  removed %zu pinned objects and %s\n", pins.size(), pin_path.c_str());
  return Outcome::Clean;
}

Result<std::vector<std::string>> tags_from_config(const std::string& path) {
  auto parsed = read_json_file(path);
  if (!parsed) return parsed.error();
  const boost::json::value& root = parsed.value();
  if (!root.is_object()) return Error{path + ": the config must be a JSON object", 0, {}};
  const boost::json::object& object = root.get_object();

  auto tag_of = [&](const boost::json::object& instance,
                    const std::string& where) -> Result<std::string> {
    auto text = [&](const char* key) -> std::string {
      const boost::json::value* v = instance.if_contains(key);
      return v && v->is_string() ? std::string(v->get_string()) : std::string();
    };
    std::string tag = text("tag");
    if (tag.empty()) {
      if (text("interface").empty())
        return Error{where + ": neither 'tag' nor 'interface' is set", 0, {}};
      tag = derive_tag(text("namespace"), text("interface"));
    }
    if (std::string reason = pin::tag_error(tag); !reason.empty())
      return Error{where + ": " + reason, 0, {}};
    return tag;
  };

  std::vector<std::string> tags;
  if (const boost::json::value* instances = object.if_contains("instances")) {
    if (!instances->is_array()) return Error{path + ": 'instances' must be an array", 0, {}};
    size_t index = 0;
    for (const boost::json::value& instance : instances->get_array()) {
      std::string where = path + ": instances[" + std::to_string(index++) + "]";
      if (!instance.is_object()) return Error{where + " must be an object", 0, {}};
      auto tag = tag_of(instance.get_object(), where);
      if (!tag) return tag.error();
      tags.push_back(tag.value());
    }
  } else {
    auto tag = tag_of(object, path);
    if (!tag) return tag.error();
    tags.push_back(tag.value());
  }
  return tags;
}

}  // namespace netacct::cleanup
