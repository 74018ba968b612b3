// SPDX-License-Identifier: GPL-2.0-only
#include "health.hpp"

#include <bpf/bpf.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>

#include "daemon/common/unique_fd.hpp"
#include "daemon/engine/attach.hpp"
#include "daemon/engine/datapath.hpp"
#include "daemon/engine/discover.hpp"
#include "daemon/ledger/ledger_reader.hpp"
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
  uint64_t flows = 0;  // rows that are not buckets (flows, or prefix rows)
  uint64_t overflow_packets = 0;
  uint32_t capacity = 0;  // the map's max_entries
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
  bpf_map_info info{};
  uint32_t length = sizeof info;
  if (bpf_obj_get_info_by_fd(fd.get(), &info, &length) != 0)
    return make_error("inspect pinned map", errno, path);
  use.capacity = info.max_entries;
  return use;
}

// What the ledger says about this tag.
struct LedgerView {
  bool found = false;
  int64_t harvested = -1;  // unix seconds of the last harvest committed
  Interface iface;         // name "" when unknown
};

Result<LedgerView> read_ledger(const std::string& path) {
  LedgerView view;
  auto reader = LedgerReader::open(path);
  if (!reader) return reader.error();
  auto info = (*reader)->queries().info();
  if (!info) return info.error();
  view.found = true;
  view.harvested = info->last_harvest;
  view.iface = Interface{info->interface, info->netns};
  return view;
}

// Which of ingress / egress are attached, and where (for the status line).
struct Attached {
  bool ingress = false;
  bool egress = false;
  std::string where;
  std::string how;         // "tcx", "tc" (clsact), "xdp native", ...
  std::string egress_how;  // "tcx" or "tc"
  // Pinned tcx links attached to no interface here (named as problems).
  std::vector<std::string> defunct;
};

const char* tc_how(TcKind kind) {
  return kind == TcKind::Tcx ? "tcx" : "tc";
}

Result<Attached> find_attached(const std::string& pin_path, const LedgerView& view) {
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
                                                : std::string(tc_how(status->tc_ingress_kind));
    attached.egress_how = tc_how(status->tc_egress_kind);
    if (status->tcx_ingress_pinned && status->tc_ingress_kind != TcKind::Tcx)
      attached.defunct.push_back("ingress");
    if (status->tcx_egress_pinned && status->tc_egress_kind != TcKind::Tcx)
      attached.defunct.push_back("egress");
    return attached;
  }
  // No file to say where: the scan over every namespace does.
  auto discovery = discover_attachments(pin_path);
  if (!discovery) return discovery.error();
  attached.egress_how = "tc";
  for (const FoundAttachment& found : discovery->found) {
    if (found.iface.name.empty()) {
      if (found.tcx)
        attached.defunct.push_back(found.kind == FoundAttachment::Kind::TcIngress ? "ingress"
                                                                                  : "egress");
      continue;
    }
    if (attached.where.empty())
      attached.where =
          found.iface.name + (found.iface.netns.empty() ? "" : "@" + found.iface.netns);
    if (found.kind == FoundAttachment::Kind::TcEgress) {
      attached.egress = true;
      attached.egress_how = found.tcx ? "tcx" : "tc";
    } else {
      attached.ingress = true;
      attached.how = found.kind == FoundAttachment::Kind::Xdp
                         ? std::string("xdp ") + to_string(found.xdp_mode)
                         : std::string(found.tcx ? "tcx" : "tc");
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

  // Ledger freshness: every harvest commits, idle ones too, so the age of
  // the last commit says whether harvests run, whatever the JSON export does.
  LedgerView view;
  if (!settings.ledger.empty()) {
    auto read = read_ledger(settings.ledger);
    if (!read) {
      add(read.error().err == ENOENT ? kWarning : kCritical, read.error().message());
    } else {
      view = read.value();
      int64_t age = static_cast<int64_t>(std::time(nullptr)) - view.harvested;
      if (age < 0) age = 0;
      if (view.harvested <= 0)
        add(kWarning, "ledger has no harvest yet");
      else if (static_cast<double>(age) > settings.max_age)
        add(kCritical, "last harvest " + std::to_string(age) + " s ago, stale (max " +
                           fixed(settings.max_age, 0) + " s)");
      else
        add(kOk, "last harvest " + std::to_string(age) + " s ago");
      report.perfdata += "age=" + std::to_string(age) + "s;;" + fixed(settings.max_age, 0) + ";0; ";
    }
  }

  // Programs attached.
  auto attached = find_attached(pin_path, view);
  if (!attached) {
    add(kUnknown, "attachments not checked: " + attached.error().message());
  } else if (attached->ingress && attached->egress) {
    add(kOk, "attached " + attached->how + " ingress + " + attached->egress_how + " egress on " +
                 attached->where);
  } else {
    std::string lost = !attached->ingress && !attached->egress ? "ingress and egress"
                       : !attached->ingress                    ? "ingress"
                                                               : "egress";
    add(kCritical, "programs not attached: " + lost +
                       (attached->where.empty() ? std::string(" (found on no interface)")
                                                : " on " + attached->where));
  }

  if (attached)
    for (const std::string& direction : attached->defunct)
      add(kCritical,
          "pinned tcx " + direction + " link " + dir->path() + "/" +
              (direction == "ingress" ? pin::kLinkTcIngress : pin::kLinkTcEgress) +
              " is attached to no interface" +
              (attached->where.empty() ? std::string() : " (not to " + attached->where + ")"));

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

  // Prefix rows: flows that found the flow buffer full, counted by remote
  // prefix. Any is a warning (raise --max-flows); a full prefix buffer sends
  // flows to the overflow buckets. Pin directories older than prefix rows
  // have none.
  uint64_t rows = 0;
  uint32_t row_capacity = 0;
  bool rows_walked = std::filesystem::exists(dir->object_path("prefix_a"));
  for (const char* name : {"prefix_a", "prefix_b"}) {
    if (!rows_walked) break;
    auto use = buffer_use(dir->object_path(name));
    if (!use) {
      add(kUnknown, use.error().message());
      rows_walked = false;
      break;
    }
    rows = std::max(rows, use->flows);
    row_capacity = use->capacity;
  }
  if (rows_walked) {
    std::string text = "prefix rows " + std::to_string(rows) + "/" + std::to_string(row_capacity);
    if (rows >= row_capacity)
      add(kCritical, text + ": full, flows that do not fit go to the overflow buckets");
    else if (rows > 0)
      add(kWarning, text +
                        ": flows that did not fit are counted by remote prefix (raise "
                        "--max-flows)");
    else
      add(kOk, text);
    report.perfdata += " prefix_rows=" + std::to_string(rows) + ";1;" +
                       std::to_string(row_capacity) + ";0;" + std::to_string(row_capacity);
  }
  return report;
}

}  // namespace netacct::health
