// SPDX-License-Identifier: GPL-2.0-only
// IpfixService: the harvest observer behind --ipfix. On the loop thread it
// maps each successful harvest's delta to IPFIX records once and hands the
// same batch to every collector's exporter (daemon/export/), whose worker
// threads send it; nothing here waits for a collector.
#pragma once

#include <memory>
#include <vector>

#include "config/options.hpp"
#include "export/ipfix_exporter.hpp"
#include "harvest_observer.hpp"

namespace netacct {

class IpfixService final : public HarvestObserver {
 public:
  // nullptr when no collector is configured. Logs each collector.
  static std::unique_ptr<IpfixService> create(const DaemonOptions& options, uint32_t ifindex,
                                              IpfixTransportFactory factory);
  void on_harvest(const HarvestReport& report) override;
  std::vector<IpfixCollectorStats> stats() const;

 private:
  explicit IpfixService(uint32_t ifindex) : ifindex_(ifindex) {}

  uint32_t ifindex_;
  double interval_ = 0;
  uint64_t last_end_ms_ = 0;  // the end of the previous harvest's window
  std::vector<std::unique_ptr<IpfixExporter>> exporters_;
};

}  // namespace netacct
