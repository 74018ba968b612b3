// SPDX-License-Identifier: GPL-2.0-only
#include "metrics_model.hpp"

#include <prometheus/text_serializer.h>

#include <algorithm>
#include <cstring>
#include <sstream>

namespace netacct {

namespace prom = prometheus;

namespace {

const char* family_label(uint8_t family) {
  return family == NETACCT_FAMILY_IPV6 ? "ipv6" : "ipv4";
}

uint64_t flow_bytes(const netacct_counters& c) {
  return c.rx_bytes + c.tx_bytes;
}

}  // namespace

MetricsModel::MetricsModel(MetricsIdentity identity)
    : identity_(std::move(identity)), registry_(std::make_shared<prom::Registry>()) {
  const prom::Labels constant = {
      {"tag", identity_.tag}, {"interface", identity_.interface}, {"namespace", identity_.netns}};
  auto counter = [&](const char* name, const char* help) -> prom::Family<prom::Counter>& {
    return prom::BuildCounter().Name(name).Help(help).Labels(constant).Register(*registry_);
  };
  auto gauge = [&](const char* name, const char* help) -> prom::Gauge& {
    return prom::BuildGauge().Name(name).Help(help).Labels(constant).Register(*registry_).Add({});
  };
  bytes_ = &counter("netacct_bytes_total",
                    "IP-layer bytes counted in flows, by direction, protocol and address family");
  packets_ = &counter("netacct_packets_total",
                      "Packets counted in flows, by direction, protocol and address family");
  bucket_bytes_ = &counter("netacct_bucket_bytes_total",
                           "Bytes counted outside flows: whitelisted, non-IP (frame bytes), "
                           "malformed (frame bytes) and flow-map overflow per family");
  bucket_packets_ = &counter("netacct_bucket_packets_total",
                             "Packets counted outside flows, by bucket and direction");
  flows_dropped_ = &counter("netacct_flows_dropped_total",
                            "Packets that found the flow map full (counted in an overflow bucket)")
                        .Add({});
  active_flows_ = &gauge("netacct_active_flows", "Flows the last harvest drained");
  auto gauges = [&](const char* name, const char* help) -> prom::Family<prom::Gauge>& {
    return prom::BuildGauge().Name(name).Help(help).Labels(constant).Register(*registry_);
  };
  quota_exceeded_ = &gauges("netacct_quota_exceeded",
                            "1 when the local address (or prefix) used more than its quota in "
                            "the current day or month");
  quota_used_ = &gauges("netacct_quota_used_bytes", "Bytes used in the quota's current period");
  quota_limit_ = &gauges("netacct_quota_limit_bytes", "The quota's byte limit per period");
  ipfix_sent_ = &counter("netacct_ipfix_records_sent_total",
                         "IPFIX records a collector's transport accepted (UDP: handed to the "
                         "socket), by collector");
  ipfix_dropped_ = &counter("netacct_ipfix_records_dropped_total",
                            "IPFIX records never sent: queue full, message refused (UDP) or "
                            "still queued at exit, by collector");
  ipfix_unexported_ = &counter("netacct_ipfix_bytes_unexported_total",
                               "Traffic bytes (octetDeltaCount) of the dropped IPFIX records, by "
                               "collector; the ledger still has them");
  ipfix_queued_ = &gauges("netacct_ipfix_queue_records", "IPFIX records waiting, by collector");
  ipfix_up_ =
      &gauges("netacct_ipfix_up", "1 if the last send to the IPFIX collector succeeded, else 0");
  flow_capacity_ = &gauge("netacct_flow_capacity", "Flows the flow map holds per harvest");
  whitelist_entries_ = &gauge("netacct_whitelist_entries", "Prefixes in the active whitelist");
  whitelist_ok_ = &gauge("netacct_whitelist_last_reload_success",
                         "1 if the last whitelist load or reload succeeded, else 0");
  whitelist_time_ = &gauge("netacct_whitelist_last_reload_timestamp_seconds",
                           "Unix time of the last whitelist load or reload attempt");
  harvest_duration_ =
      &prom::BuildHistogram()
           .Name("netacct_harvest_duration_seconds")
           .Help("Time one harvest took: swap, drain, file write and clear")
           .Labels(constant)
           .Register(*registry_)
           .Add({}, prom::Histogram::BucketBoundaries{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                      0.25, 0.5, 1, 2.5, 5, 10});
  last_harvest_ =
      &gauge("netacct_last_harvest_timestamp_seconds", "Unix time of the last successful harvest");
  harvests_ = &counter("netacct_harvests_total", "Harvests run (successful or not)").Add({});
  harvest_errors_ =
      &counter("netacct_harvest_errors_total",
               "Harvests that failed (their delta stays in the kernel and is retried)")
           .Add({});
  prom::BuildGauge()
      .Name("netacct_build_info")
      .Help("Always 1; the labels carry the netacctd version")
      .Labels(constant)
      .Register(*registry_)
      .Add({{"version", identity_.version}})
      .Set(1);
  if (identity_.top_flows > 0)
    flow_bytes_ = &counter("netacct_flow_bytes_total",
                           "IP-layer bytes of the top flows by total bytes (opt-in, capped by "
                           "--metrics-top-flows)");
  for (uint8_t bucket = NETACCT_BUCKET_FIRST; bucket <= NETACCT_BUCKET_LAST; bucket++) {
    for (int tx = 0; tx < 2; tx++) {
      prom::Labels labels = {{"bucket", bucket_name(bucket)}, {"direction", tx ? "tx" : "rx"}};
      bucket_bytes_series_[bucket][tx] = &bucket_bytes_->Add(labels);
      bucket_packets_series_[bucket][tx] = &bucket_packets_->Add(labels);
    }
  }
}

void MetricsModel::add_flow(const netacct_flow_key& key, const netacct_counters& counters) {
  add_traffic(key, counters);
  if (identity_.top_flows > 0) flows_[key] += counters;
}

void MetricsModel::add_traffic(const netacct_flow_key& key, const netacct_counters& counters) {
  auto id = std::make_pair(key.protocol, key.family);
  auto it = traffic_.find(id);
  if (it == traffic_.end()) {
    std::string protocol = protocol_name(key.protocol);
    std::string family = family_label(key.family);
    auto labels = [&](const char* direction) {
      return prom::Labels{{"direction", direction}, {"protocol", protocol}, {"family", family}};
    };
    TrafficSeries series{&bytes_->Add(labels("rx")), &bytes_->Add(labels("tx")),
                         &packets_->Add(labels("rx")), &packets_->Add(labels("tx"))};
    it = traffic_.emplace(id, series).first;
  }
  it->second.rx_bytes->Increment(static_cast<double>(counters.rx_bytes));
  it->second.tx_bytes->Increment(static_cast<double>(counters.tx_bytes));
  it->second.rx_packets->Increment(static_cast<double>(counters.rx_packets));
  it->second.tx_packets->Increment(static_cast<double>(counters.tx_packets));
}

void MetricsModel::add_buckets(
    const std::array<netacct_counters, NETACCT_BUCKET_LAST + 1>& buckets) {
  for (uint8_t bucket = NETACCT_BUCKET_FIRST; bucket <= NETACCT_BUCKET_LAST; bucket++) {
    const netacct_counters& c = buckets[bucket];
    bucket_bytes_series_[bucket][0]->Increment(static_cast<double>(c.rx_bytes));
    bucket_bytes_series_[bucket][1]->Increment(static_cast<double>(c.tx_bytes));
    bucket_packets_series_[bucket][0]->Increment(static_cast<double>(c.rx_packets));
    bucket_packets_series_[bucket][1]->Increment(static_cast<double>(c.tx_packets));
  }
  const netacct_counters& v4 = buckets[NETACCT_BUCKET_OVERFLOW_V4];
  const netacct_counters& v6 = buckets[NETACCT_BUCKET_OVERFLOW_V6];
  flows_dropped_->Increment(
      static_cast<double>(v4.rx_packets + v4.tx_packets + v6.rx_packets + v6.tx_packets));
}

void MetricsModel::seed(const ScopeTotals& lifetime, int64_t last_harvest) {
  for (const auto& [id, totals] : lifetime.by_protocol) {
    netacct_flow_key key{};
    key.family = id.first;
    key.protocol = id.second;
    add_traffic(key, totals.counters);
  }
  add_buckets(lifetime.buckets);
  if (last_harvest > 0) last_harvest_->Set(static_cast<double>(last_harvest));
}

void MetricsModel::seed_flow(const netacct_flow_key& key, const netacct_counters& counters) {
  if (identity_.top_flows > 0) flows_[key] += counters;
}

void MetricsModel::finish_seed() {
  refresh_top_flows();
}

void MetricsModel::set_quota(const std::string& local, const std::string& period, bool exceeded,
                             uint64_t used, uint64_t limit) {
  const prom::Labels labels = {{"local", local}, {"period", period}};
  quota_exceeded_->Add(labels).Set(exceeded ? 1 : 0);
  quota_used_->Add(labels).Set(static_cast<double>(used));
  quota_limit_->Add(labels).Set(static_cast<double>(limit));
}

void MetricsModel::set_ipfix(const std::vector<IpfixCollectorStats>& collectors) {
  auto raise = [](prom::Counter& counter, uint64_t total) {
    const double value = static_cast<double>(total);
    if (value > counter.Value()) counter.Increment(value - counter.Value());
  };
  for (const IpfixCollectorStats& stats : collectors) {
    const prom::Labels labels = {{"collector", stats.collector}};
    raise(ipfix_sent_->Add(labels), stats.records_sent);
    raise(ipfix_dropped_->Add(labels), stats.records_dropped);
    raise(ipfix_unexported_->Add(labels), stats.bytes_unexported);
    ipfix_queued_->Add(labels).Set(static_cast<double>(stats.queued_records));
    ipfix_up_->Add(labels).Set(stats.up ? 1 : 0);
  }
}

void MetricsModel::record_harvest(const HarvestSample& sample) {
  harvests_->Increment();
  harvest_duration_->Observe(sample.duration_seconds);
  if (!sample.ok || !sample.delta) {
    harvest_errors_->Increment();
    return;
  }
  for (const FlowDelta& flow : sample.delta->flows) add_flow(flow.key, flow.counters);
  add_buckets(sample.delta->buckets);
  active_flows_->Set(static_cast<double>(sample.delta->flows.size()));
  last_harvest_->Set(static_cast<double>(sample.now));
  if (!sample.delta->flows.empty()) refresh_top_flows();
}

void MetricsModel::set_flow_capacity(uint32_t capacity) {
  flow_capacity_->Set(static_cast<double>(capacity));
}

void MetricsModel::set_ingress(const std::string& ingress_mode, const std::string& xdp_mode) {
  if (!ingress_info_) {
    ingress_info_ = &prom::BuildGauge()
                         .Name("netacct_ingress_info")
                         .Help(
                             "Always 1; the labels say what counts ingress: ingress_mode tc or "
                             "xdp (tc also when --xdp fell back to TC), and the XDP mode")
                         .Labels({{"tag", identity_.tag},
                                  {"interface", identity_.interface},
                                  {"namespace", identity_.netns}})
                         .Register(*registry_);
  }
  if (ingress_series_) ingress_info_->Remove(ingress_series_);
  ingress_series_ = &ingress_info_->Add({{"ingress_mode", ingress_mode}, {"xdp_mode", xdp_mode}});
  ingress_series_->Set(1);
}

void MetricsModel::set_whitelist(size_t entries, bool last_reload_ok, int64_t last_reload_time) {
  whitelist_entries_->Set(static_cast<double>(entries));
  whitelist_ok_->Set(last_reload_ok ? 1 : 0);
  whitelist_time_->Set(static_cast<double>(last_reload_time));
}

void MetricsModel::refresh_top_flows() {
  if (!flow_bytes_) return;
  // The set of top flows changes between harvests: rebuild its series from
  // the cumulative per-flow counters (a flow that leaves and re-enters the
  // top N comes back with its full total, so its counter never decreases).
  for (prom::Counter* series : top_series_) flow_bytes_->Remove(series);
  top_series_.clear();
  using Entry = std::pair<const netacct_flow_key, netacct_counters>;
  std::vector<const Entry*> ranked;
  ranked.reserve(flows_.size());
  for (const Entry& entry : flows_) ranked.push_back(&entry);
  size_t n = std::min<size_t>(identity_.top_flows, ranked.size());
  auto larger = [](const Entry* a, const Entry* b) {
    uint64_t ab = flow_bytes(a->second), bb = flow_bytes(b->second);
    if (ab != bb) return ab > bb;
    return std::memcmp(&a->first, &b->first, sizeof a->first) < 0;  // stable order on ties
  };
  std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(n), ranked.end(),
                    larger);
  for (size_t i = 0; i < n; i++) {
    const netacct_flow_key& key = ranked[i]->first;
    const netacct_counters& c = ranked[i]->second;
    std::string local = address_string(key.family, key.local);
    std::string remote = address_string(key.family, key.remote);
    std::string protocol = protocol_name(key.protocol);
    for (int tx = 0; tx < 2; tx++) {
      prom::Counter& series = flow_bytes_->Add({{"local", local},
                                                {"remote", remote},
                                                {"protocol", protocol},
                                                {"direction", tx ? "tx" : "rx"}});
      series.Increment(static_cast<double>(tx ? c.tx_bytes : c.rx_bytes));
      top_series_.push_back(&series);
    }
  }
}

std::string MetricsModel::render() const {
  std::ostringstream out;
  prom::TextSerializer().Serialize(out, registry_->Collect());
  return out.str();
}

}  // namespace netacct
