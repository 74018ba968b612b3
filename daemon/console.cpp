// SPDX-License-Identifier: GPL-2.0-only
#include "console.hpp"

#include <algorithm>
#include <vector>

#include "common/time_text.hpp"
#include "common/units.hpp"

namespace netacct {

void Console::on_harvest(const HarvestReport& report) {
  if (report.ok) print_table(out_, report, context_);
}

void print_table(std::FILE* out, const HarvestReport& report, const ConsoleContext& context) {
  const Delta& delta = report.harvest.delta;
  double seconds = report.interval > 0 ? report.interval : 0;
  auto rate = [&](uint64_t bytes) {
    return seconds > 0 ? human_rate(static_cast<double>(bytes) / seconds) : std::string("-");
  };
  const std::string rule(104, '=');
  const std::string thin(104, '-');
  std::fprintf(out, "%s\n", rule.c_str());
  std::fprintf(out, "Traffic in the last %.1f s - %s   Interface: %s%s%s\n", seconds,
               format_time(report.now).c_str(), context.interface.c_str(),
               context.netns.empty() ? "" : "  Namespace: ", context.netns.c_str());
  std::fprintf(out, "%s\n", rule.c_str());
  std::fprintf(out, "%-26s %-26s %-7s %12s %12s %9s %14s\n", "Local", "Remote", "Proto", "RX", "TX",
               "Packets", "Rate");
  std::fprintf(out, "%s\n", thin.c_str());
  std::vector<const FlowDelta*> rows;
  rows.reserve(delta.flows.size());
  for (const FlowDelta& flow : delta.flows) rows.push_back(&flow);
  auto bytes_of = [](const FlowDelta* f) { return f->counters.rx_bytes + f->counters.tx_bytes; };
  size_t shown = std::min(rows.size(), context.max_rows);
  std::partial_sort(
      rows.begin(), rows.begin() + static_cast<long>(shown), rows.end(),
      [&](const FlowDelta* a, const FlowDelta* b) { return bytes_of(a) > bytes_of(b); });
  for (size_t i = 0; i < shown; i++) {
    const FlowDelta& f = *rows[i];
    const netacct_counters& c = f.counters;
    std::fprintf(out, "%-26s %-26s %-7s %12s %12s %9llu %14s\n",
                 address_string(f.key.family, f.key.local).c_str(), remote_string(f.key).c_str(),
                 protocol_name(f.key.protocol).c_str(), human_bytes(c.rx_bytes).c_str(),
                 human_bytes(c.tx_bytes).c_str(),
                 static_cast<unsigned long long>(c.rx_packets + c.tx_packets),
                 rate(bytes_of(&f)).c_str());
  }
  if (rows.size() > shown) std::fprintf(out, "... %zu more flows\n", rows.size() - shown);
  netacct_counters total = delta.flow_total();
  std::fprintf(out, "%s\n", thin.c_str());
  std::fprintf(out, "%-61s %12s %12s %9llu %14s\n", "INTERVAL TOTAL",
               human_bytes(total.rx_bytes).c_str(), human_bytes(total.tx_bytes).c_str(),
               static_cast<unsigned long long>(total.rx_packets + total.tx_packets),
               rate(total.rx_bytes + total.tx_bytes).c_str());
  const netacct_counters& wl = delta.buckets[NETACCT_BUCKET_WHITELISTED];
  std::fprintf(out, "%-61s %12s %12s %9llu\n", "Whitelisted (not in flows)",
               human_bytes(wl.rx_bytes).c_str(), human_bytes(wl.tx_bytes).c_str(),
               static_cast<unsigned long long>(wl.rx_packets + wl.tx_packets));
  std::fprintf(out, "Totals: ledger %s, period export %s\n", context.ledger_path.c_str(),
               context.output_path.c_str());
  std::fflush(out);
}

}  // namespace netacct
