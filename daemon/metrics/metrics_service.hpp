// SPDX-License-Identifier: GPL-2.0-only
// MetricsService: what the reactor wires in for /metrics. It owns the
// MetricsModel and the HttpServer, takes the daemon's events on the loop
// thread (start totals, each finished harvest, whitelist changes),
// re-renders the exposition text after each, and the server answers every
// scrape with the last rendered text, so a scrape never waits for a harvest
// and a harvest never waits for a client.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "../config/options.hpp"
#include "../harvest_observer.hpp"
#include "../whitelist_service.hpp"
#include "http_server.hpp"
#include "metrics_model.hpp"

namespace netacct {

class MetricsService final : public HarvestObserver {
 public:
  // nullptr when metrics are off (--no-metrics). Binds the listening socket
  // now, before any kernel state changes: a taken --metrics-listen address
  // is a start-up error; a taken default address only disables metrics
  // (with a warning at start()), so several instances can run side by side.
  static Result<std::unique_ptr<MetricsService>> create(const DaemonOptions& options);

  // The ledger's lifetime totals at start, after crash recovery, read
  // through a read-only LedgerReader. Errors leave the counters at zero.
  Result<void> seed(const std::string& ledger_path, uint32_t flow_capacity);
  // Listens on the loop; logs where.
  void start(uv_loop_t* loop);
  void on_harvest(const HarvestReport& report) override;
  void on_whitelist(const WhitelistService& whitelist);
  void set_ingress(const std::string& ingress_mode, const std::string& xdp_mode);
  // Where the IPFIX exporters' counters come from; read after each harvest.
  void set_ipfix_source(std::function<std::vector<IpfixCollectorStats>()> source) {
    ipfix_source_ = std::move(source);
  }
  void close();

  const MetricsModel& model() const { return model_; }
  // Where /metrics is served once started; "" when it is not.
  std::string address() const;

 private:
  MetricsService(MetricsIdentity identity, std::unique_ptr<HttpServer> server, std::string warning);
  void publish();

  MetricsModel model_;
  std::unique_ptr<HttpServer> server_;
  std::string warning_;
  std::string notice_;
  std::function<std::vector<IpfixCollectorStats>()> ipfix_source_;
  bool started_ = false;  // the default port was taken: which one we took instead
};

}  // namespace netacct
