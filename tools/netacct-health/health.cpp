// SPDX-License-Identifier: GPL-2.0-only
#include "health.hpp"

#include <bpf/bpf.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "daemon/common/json_file.hpp"
#include "daemon/common/unique_fd.hpp"
#include "daemon/engine/attach.hpp"
#include "daemon/engine/datapath.hpp"
#include "daemon/engine/discover.hpp"
#include "daemon/engine/totals.hpp"
#include "pin/pin_dir.hpp"

namespace netacct::health {

namespace {

std::string fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

// Entries of one flow buffer: flows, and the packets its overflow buckets
// took (flows that did not fit).
struct BufferUse {
  uint64_t flows = 0;
  uint64_t overflow_packets = 0;
};

Result<BufferUse> buffer_use(const std::string& path) {
  UniqueFd fd(bpf_obj_get(path.c_str()));
  if (!fd) return make_error("open pinned map", errno, path);
  BufferUse use;
  netacct_flow_key key{};
  netacct_flow_key next{};
  const void* previous = nullptr;
  while (bpf_map_get_next_key(fd.get(), previous, &next) == 0) {
    if (next.family != NETACCT_FAMILY_BUCKET) {
      use.flows++;
    } else if (next.protocol == NETACCT_BUCKET_OVERFLOW_V4 ||
               next.protocol == NETACCT_BUCKET_OVERFLOW_V6) {
      netacct_counters counters{};
      if (bpf_map_lookup_elem(fd.get(), &next, &counters) == 0)
        use.overflow_packets += counters.rx_packets + counters.tx_packets;
    }
    key = next;
    previous = &key;
  }
  if (errno != ENOENT) return make_error("walk pinned map", errno, path);
  return use;
}

// What the output file says about this tag.
struct OutputView {
  bool has_entry = false;
  int64_t written = -1;  // unix seconds of the last write
  Interface iface;       // from metadata; name "" when absent
  std::string ingress_mode;
};

Result<OutputView> read_output(const std::string& path, const std::string& tag) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return make_error("output file", errno, path);
  OutputView view;
  view.written = st.st_mtime;
  // Empty: logrotate's `create` made it and no harvest has written it yet.
  if (st.st_size == 0) return view;
  auto parsed = read_json_file(path);
  if (!parsed) return parsed.error();
  const boost::json::object* root = parsed->if_object();
  const boost::json::value* sources = root ? root->if_contains("sources") : nullptr;
  if (!sources || !sources->is_array())
    return Error{path + ": no \"sources\" array (not a netacct output file?)", 0, {}};
  for (const boost::json::value& source : sources->get_array()) {
    const boost::json::object* entry = source.if_object();
    const boost::json::value* id = entry ? entry->if_contains("id") : nullptr;
    if (!id || !id->is_string() || id->get_string() != tag) continue;
    view.has_entry = true;
    const boost::json::value* meta = entry->if_contains("metadata");
    if (!meta || !meta->is_object()) break;
    auto text = [&](const char* key) {
      const boost::json::value* v = meta->get_object().if_contains(key);
      return v && v->is_string() ? std::string(v->get_string()) : std::string();
    };
    if (int64_t stamp = parse_time(text("timestamp")); stamp >= 0) view.written = stamp;
    view.iface = Interface{text("interface"), text("namespace")};
    view.ingress_mode = text("ingress_mode");
    break;
  }
  return view;
}

// Which of ingress / egress are attached, and where (for the status line).
struct Attached {
  bool ingress = false;
  bool egress = false;
  std::string where;
  std::string how;  // "tc", "xdp native", ...
};

Result<Attached> find_attached(const std::string& pin_path, const OutputView& view) {
  Attached attached;
  if (!view.iface.name.empty()) {
    auto status = query_attachments(pin_path, view.iface);
    if (!status) return status.error();
    attached.where = view.iface.name + (view.iface.netns.empty() ? "" : "@" + view.iface.netns);
    if (!status->interface_present) {
      attached.where += " (interface missing)";
      return attached;
    }
    attached.ingress = status->tc_ingress || status->xdp != XdpMode::None;
    attached.egress = status->tc_egress;
    attached.how = status->xdp != XdpMode::None ? std::string("xdp ") + to_string(status->xdp)
                                                : std::string("tc");
    return attached;
  }
  // No file to say where: the scan over every namespace does.
  auto discovery = discover_attachments(pin_path);
  if (!discovery) return discovery.error();
  for (const FoundAttachment& found : discovery->found) {
    if (found.iface.name.empty()) continue;
    if (attached.where.empty())
      attached.where =
          found.iface.name + (found.iface.netns.empty() ? "" : "@" + found.iface.netns);
    if (found.kind == FoundAttachment::Kind::TcEgress) {
      attached.egress = true;
    } else {
      attached.ingress = true;
      attached.how = found.kind == FoundAttachment::Kind::Xdp
                         ? std::string("xdp ") + to_string(found.xdp_mode)
                         : std::string("tc");
    }
  }
  return attached;
}

}  // namespace

const char* state_name(State state) {
  switch (state) {
    case kOk: return "OK";
    case kWarning: return "WARNING";
    case kCritical: return "CRITICAL";
    case kUnknown: return "UNKNOWN";
  }
  return "UNKNOWN";
}

std::string Report::line() const {
  // Problems first, so a truncated line still shows why.
  std::vector<const Check*> ordered;
  for (const Check& check : checks) ordered.push_back(&check);
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const Check* a, const Check* b) { return a->state > b->state; });
  std::string text = std::string("NETACCT ") + state_name(state) + " - " + subject + ":";
  const char* separator = " ";
  for (const Check* check : ordered) {
    text += separator + check->text;
    separator = "; ";
  }
  if (!perfdata.empty()) text += " | " + perfdata;
  return text;
}

Report run_checks(const Settings& settings) {
  Report report;
  report.subject = "tag " + settings.tag;
  auto add = [&](State state, std::string text) {
    report.checks.push_back({state, std::move(text)});
    report.state = std::max(report.state, state);
  };

  auto dir = pin::PinDir::open_existing(settings.tag, settings.pin_base);
  if (!dir) {
    add(kCritical, (dir.error().err == ENOENT ? "nothing pinned in " + settings.pin_base + "/" +
                                                    settings.tag + " (not running?)"
                                              : dir.error().message()));
    return report;
  }
  const std::string pin_path = dir->path();

  // Maps pinned.
  std::vector<std::string> missing;
  for (const char* name : {"active_flows", "flows_a", "flows_b", "meta", "whitelist"})
    if (!dir->has(name)) missing.push_back(name);
  if (!missing.empty()) {
    std::string names;
    for (const std::string& name : missing) names += (names.empty() ? "" : ",") + name;
    add(kCritical, "maps not pinned: " + names);
    return report;
  }
  auto meta = read_pinned_meta(pin_path);
  if (!meta) {
    add(kCritical, meta.error().message());
    return report;
  }

  // The daemon: the flock on the tag directory.
  if (dir->held_by_other())
    add(kOk, "netacctd running");
  else
    add(kWarning, "no netacctd holds tag " + settings.tag + " (counting, but nothing harvested)");

  // Output freshness.
  OutputView view;
  if (!settings.output.empty()) {
    auto read = read_output(settings.output, settings.tag);
    if (!read) {
      add(kCritical, read.error().message());
    } else {
      view = read.value();
      int64_t age = static_cast<int64_t>(std::time(nullptr)) - view.written;
      if (age < 0) age = 0;
      std::string what =
          view.has_entry ? "output written " : "output (no entry for the tag) written ";
      if (static_cast<double>(age) > settings.max_age)
        add(kCritical, what + std::to_string(age) + " s ago, stale (max " +
                           fixed(settings.max_age, 0) + " s)");
      else
        add(view.has_entry ? kOk : kWarning, what + std::to_string(age) + " s ago");
      report.perfdata += "age=" + std::to_string(age) + "s;;" + fixed(settings.max_age, 0) + ";0; ";
    }
  }

  // Programs attached.
  auto attached = find_attached(pin_path, view);
  if (!attached) {
    add(kUnknown, "attachments not checked: " + attached.error().message());
  } else if (attached->ingress && attached->egress) {
    add(kOk, "attached " + attached->how + " ingress + tc egress on " + attached->where);
  } else {
    std::string lost = !attached->ingress && !attached->egress ? "ingress and egress"
                       : !attached->ingress                    ? "ingress"
                                                               : "egress";
    add(kCritical, "programs not attached: " + lost +
                       (attached->where.empty() ? std::string(" (found on no interface)")
                                                : " on " + attached->where));
  }

  // Flow-buffer utilisation: the fuller of the two buffers.
  uint64_t flows = 0;
  uint64_t overflow = 0;
  bool walked = true;
  for (const char* name : {"flows_a", "flows_b"}) {
    auto use = buffer_use(dir->object_path(name));
    if (!use) {
      add(kUnknown, use.error().message());
      walked = false;
      break;
    }
    flows = std::max(flows, use->flows);
    overflow += use->overflow_packets;
  }
  if (walked) {
    uint32_t capacity = meta->flow_capacity ? meta->flow_capacity : 1;
    double util = 100.0 * static_cast<double>(flows) / capacity;
    std::string text = "flows " + std::to_string(flows) + "/" + std::to_string(capacity) + " (" +
                       fixed(util, 1) + "%)";
    if (util >= settings.crit_util)
      add(kCritical, text + " >= " + fixed(settings.crit_util, 0) + "%");
    else if (util >= settings.warn_util)
      add(kWarning, text + " >= " + fixed(settings.warn_util, 0) + "%");
    else
      add(kOk, text);
    if (overflow > 0)
      add(kWarning, std::to_string(overflow) + " packets in overflow buckets (flow map full)");
    auto threshold = [&](double percent) {
      return std::to_string(static_cast<uint64_t>(std::ceil(percent * capacity / 100.0)));
    };
    report.perfdata += "flows=" + std::to_string(flows) + ";" + threshold(settings.warn_util) +
                       ";" + threshold(settings.crit_util) + ";0;" + std::to_string(capacity) +
                       " overflow_packets=" + std::to_string(overflow) + "c";
  }
  return report;
}

}  // namespace netacct::health
