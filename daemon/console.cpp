// SPDX-License-Identifier: GPL-2.0-only
#include "console.hpp"

#include <algorithm>
#include <vector>

namespace netacct {

std::string human_bytes(uint64_t bytes) {
  static const char* units[] = {"B", "KB", "MB", "GB", "TB", "PB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024.0 && unit < 5) {
    value /= 1024.0;
    unit++;
  }
  char text[32];
  std::snprintf(text, sizeof text, "%.2f %s", value, units[unit]);
  return text;
}

void print_table(std::FILE* out, const Totals& totals, const ConsoleContext& context, int64_t now) {
  const std::string rule(96, '=');
  const std::string thin(96, '-');
  std::fprintf(out, "%s\n", rule.c_str());
  std::fprintf(out, "CUMULATIVE Network Traffic Statistics - %s\n", format_time(now).c_str());
  std::fprintf(out, "Interface: %s%s%s\n", context.interface.c_str(),
               context.netns.empty() ? "" : "  Namespace: ", context.netns.c_str());
  std::fprintf(out, "Whitelisted IPs: %zu (excluded from accounting)\n", context.whitelist_count);
  std::fprintf(out, "%s\n", rule.c_str());
  std::fprintf(out, "%-24s %-24s %-8s %-12s %-12s %-12s\n", "Source IP", "Dest IP", "Protocol",
               "RX Bytes", "TX Bytes", "Total");
  std::fprintf(out, "%s\n", thin.c_str());

  using Entry = std::pair<const netacct_flow_key*, const FlowTotals*>;
  std::vector<Entry> rows;
  rows.reserve(totals.flows.size());
  for (const auto& [key, flow] : totals.flows) rows.emplace_back(&key, &flow);
  auto bytes_of = [](const Entry& e) {
    return e.second->counters.rx_bytes + e.second->counters.tx_bytes;
  };
  size_t shown = std::min(rows.size(), context.max_rows);
  std::partial_sort(rows.begin(), rows.begin() + static_cast<long>(shown), rows.end(),
                    [&](const Entry& a, const Entry& b) { return bytes_of(a) > bytes_of(b); });
  for (size_t i = 0; i < shown; i++) {
    const netacct_flow_key& key = *rows[i].first;
    const netacct_counters& c = rows[i].second->counters;
    std::fprintf(out, "%-24s %-24s %-8s %-12s %-12s %-12s\n",
                 address_string(key.family, key.local).c_str(),
                 address_string(key.family, key.remote).c_str(),
                 protocol_name(key.protocol).c_str(), human_bytes(c.rx_bytes).c_str(),
                 human_bytes(c.tx_bytes).c_str(), human_bytes(c.rx_bytes + c.tx_bytes).c_str());
  }
  if (rows.size() > shown) std::fprintf(out, "... %zu more flows\n", rows.size() - shown);
  netacct_counters total = totals.flow_total();
  std::fprintf(out, "%s\n", thin.c_str());
  std::fprintf(out, "%-58s %-12s %-12s %-12s\n", "CUMULATIVE TOTAL",
               human_bytes(total.rx_bytes).c_str(), human_bytes(total.tx_bytes).c_str(),
               human_bytes(total.rx_bytes + total.tx_bytes).c_str());
  const netacct_counters& wl = totals.buckets[NETACCT_BUCKET_WHITELISTED];
  std::fprintf(out, "%-58s %-12s %-12s %-12s\n", "Whitelisted (not in flows)",
               human_bytes(wl.rx_bytes).c_str(), human_bytes(wl.tx_bytes).c_str(),
               human_bytes(wl.rx_bytes + wl.tx_bytes).c_str());
  std::fprintf(out, "\n");
  if (!context.whitelist_sample.empty())
    std::fprintf(out, "Whitelisted IPs: %s\n", context.whitelist_sample.c_str());
  std::fprintf(out, "Statistics written to %s\n", context.output_path.c_str());
  std::fflush(out);
}

}  // namespace netacct
