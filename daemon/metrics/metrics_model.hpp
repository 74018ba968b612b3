// SPDX-License-Identifier: GPL-2.0-only
// MetricsModel: netacctd's Prometheus metric families, built with
// prometheus-cpp's core Registry and rendered with its TextSerializer.
//
// Counters start from the ledger's lifetime totals at start and then add
// each harvest's delta, so they never go backwards: not across a restart
// and not across a rotation (the ledger's lifetime totals never restart).
// Pure data: no libuv, no sockets, no kernel; the reactor feeds it on the
// loop thread.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "../common/delta.hpp"
#include "../common/flow.hpp"
#include "../export/ipfix_stats.hpp"
#include "../ledger/ledger_model.hpp"

namespace netacct {

// Constant labels of every series, and the per-flow cap.
struct MetricsIdentity {
  std::string tag;
  std::string interface;
  std::string netns;  // "" = the namespace netacctd runs in
  std::string version;
  uint32_t top_flows = 0;  // netacct_flow_bytes_total series for the top N flows; 0 = off
};

// One finished harvest, as the reactor saw it.
struct HarvestSample {
  bool ok = true;
  double duration_seconds = 0;
  int64_t now = 0;               // unix seconds
  const Delta* delta = nullptr;  // what was added to the totals (ok only)
};

class MetricsModel {
 public:
  explicit MetricsModel(MetricsIdentity identity);
  MetricsModel(const MetricsModel&) = delete;
  MetricsModel& operator=(const MetricsModel&) = delete;

  // The ledger's lifetime totals at start (after crash recovery). Call
  // once, before the first harvest; with top flows on, seed_flow() each
  // lifetime flow, then finish_seed().
  void seed(const ScopeTotals& lifetime, int64_t last_harvest);
  bool wants_flows() const { return identity_.top_flows > 0; }
  void seed_flow(const netacct_flow_key& key, const netacct_counters& counters);
  void finish_seed();
  void record_harvest(const HarvestSample& sample);
  void set_flow_capacity(uint32_t capacity);
  // netacct_ingress_info{ingress_mode, xdp_mode} = 1: what counts ingress
  // ("tc" also when --xdp fell back to TC ingress).
  void set_ingress(const std::string& ingress_mode, const std::string& xdp_mode);
  void set_whitelist(size_t entries, bool last_reload_ok, int64_t last_reload_time);
  // Quotas: exceeded (0/1) and bytes used in the current period.
  void set_quota(const std::string& local, const std::string& period, bool exceeded, uint64_t used,
                 uint64_t limit);
  // Each IPFIX collector's counters, as its exporter reports them (they
  // only grow; the series of a collector appear with its first report).
  void set_ipfix(const std::vector<IpfixCollectorStats>& collectors);
  // The exposition text (text format 0.0.4).
  std::string render() const;

 private:
  void add_flow(const netacct_flow_key& key, const netacct_counters& counters);
  void add_traffic(const netacct_flow_key& key, const netacct_counters& counters);
  void add_buckets(const std::array<netacct_counters, NETACCT_BUCKET_LAST + 1>& buckets);
  void refresh_top_flows();

  MetricsIdentity identity_;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* bytes_;
  prometheus::Family<prometheus::Counter>* packets_;
  prometheus::Family<prometheus::Counter>* bucket_bytes_;
  prometheus::Family<prometheus::Counter>* bucket_packets_;
  prometheus::Counter* flows_dropped_;
  prometheus::Gauge* active_flows_;
  prometheus::Gauge* flow_capacity_;
  prometheus::Family<prometheus::Gauge>* ingress_info_ = nullptr;
  prometheus::Gauge* ingress_series_ = nullptr;
  prometheus::Gauge* whitelist_entries_;
  prometheus::Gauge* whitelist_ok_;
  prometheus::Gauge* whitelist_time_;
  prometheus::Histogram* harvest_duration_;
  prometheus::Gauge* last_harvest_;
  prometheus::Counter* harvests_;
  prometheus::Counter* harvest_errors_;
  prometheus::Family<prometheus::Counter>* flow_bytes_ = nullptr;
  prometheus::Family<prometheus::Gauge>* quota_exceeded_ = nullptr;
  prometheus::Family<prometheus::Gauge>* quota_used_ = nullptr;
  prometheus::Family<prometheus::Gauge>* quota_limit_ = nullptr;
  prometheus::Family<prometheus::Counter>* ipfix_sent_ = nullptr;
  prometheus::Family<prometheus::Counter>* ipfix_dropped_ = nullptr;
  prometheus::Family<prometheus::Counter>* ipfix_unexported_ = nullptr;
  prometheus::Family<prometheus::Gauge>* ipfix_queued_ = nullptr;
  prometheus::Family<prometheus::Gauge>* ipfix_up_ = nullptr;

  // Series of one (protocol, family), both directions, made on first sight.
  struct TrafficSeries {
    prometheus::Counter* rx_bytes;
    prometheus::Counter* tx_bytes;
    prometheus::Counter* rx_packets;
    prometheus::Counter* tx_packets;
  };
  std::map<std::pair<uint8_t, uint8_t>, TrafficSeries> traffic_;  // (protocol, family)
  std::array<std::array<prometheus::Counter*, 2>, NETACCT_BUCKET_LAST + 1> bucket_bytes_series_{};
  std::array<std::array<prometheus::Counter*, 2>, NETACCT_BUCKET_LAST + 1> bucket_packets_series_{};
  // Per-flow cumulative counters, kept only when top_flows > 0: seeded from
  // the totals and grown by deltas, so they survive rotation like the rest.
  std::unordered_map<netacct_flow_key, netacct_counters, FlowKeyHash> flows_;
  std::vector<prometheus::Counter*> top_series_;
};

}  // namespace netacct
