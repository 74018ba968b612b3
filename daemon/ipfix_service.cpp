// SPDX-License-Identifier: GPL-2.0-only
#include "ipfix_service.hpp"

#include <chrono>
#include <cmath>

#include "common/log.hpp"

namespace netacct {

std::unique_ptr<IpfixService> IpfixService::create(const DaemonOptions& options, uint32_t ifindex,
                                                   IpfixTransportFactory factory) {
  if (options.ipfix.empty()) return nullptr;
  std::unique_ptr<IpfixService> service(new IpfixService(ifindex));
  service->interval_ = options.interval;
  const uint32_t domain = ipfix_observation_domain(options.tag);
  for (const CollectorAddress& collector : options.ipfix) {
    IpfixExporterConfig config;
    config.session.collector = collector;
    config.session.observation_domain = domain;
    config.session.template_refresh = options.ipfix_template_refresh;
    service->exporters_.push_back(std::make_unique<IpfixExporter>(config, factory));
    NA_INFO("IPFIX export to %s over %s, observation domain %u, ifindex %u", collector.text.c_str(),
            collector.transport == CollectorTransport::Tcp ? "TCP" : "UDP", domain, ifindex);
  }
  return service;
}

void IpfixService::on_harvest(const HarvestReport& report) {
  if (!report.ok) return;
  const uint64_t now_ms =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count());
  IpfixWindow window;
  window.end_ms = now_ms;
  const double span = report.interval > 0 ? report.interval : interval_;
  window.start_ms = last_end_ms_ > 0 && last_end_ms_ <= now_ms
                        ? last_end_ms_
                        : now_ms - static_cast<uint64_t>(std::llround(span * 1e3));
  window.ifindex = ifindex_;
  last_end_ms_ = now_ms;
  if (report.harvest.delta.empty()) return;
  auto batch =
      std::make_shared<const std::vector<IpfixRecord>>(ipfix_records(report.harvest.delta, window));
  for (auto& exporter : exporters_) exporter->submit(batch);
}

std::vector<IpfixCollectorStats> IpfixService::stats() const {
  std::vector<IpfixCollectorStats> out;
  for (const auto& exporter : exporters_) out.push_back(exporter->stats());
  return out;
}

}  // namespace netacct
