// SPDX-License-Identifier: GPL-2.0-only
// MetricsService: what the reactor wires in for /metrics. It owns the
// MetricsModel and the HttpServer, takes the daemon's events on the loop
// thread (start totals, each finished harvest, whitelist changes),
// re-renders the exposition text after each, and the server answers every
// scrape with the last rendered text, so a scrape never waits for a harvest
// and a harvest never waits for a client.
#pragma once

#include <uv.h>

#include <memory>
#include <optional>
#include <string>

#include "../options.hpp"
#include "../whitelist_service.hpp"
#include "http_server.hpp"
#include "metrics_model.hpp"

namespace netacct {

class MetricsService {
 public:
  // nullptr when metrics are off (--no-metrics). Binds the listening socket
  // now, before any kernel state changes: a taken --metrics-listen address
  // is a start-up error; a taken default address only disables metrics
  // (with a warning at start()), so several instances can run side by side.
  static Result<std::unique_ptr<MetricsService>> create(const DaemonOptions& options);

  // The cumulative totals loaded at start, after crash recovery.
  void seed(const Totals& totals, uint32_t flow_capacity);
  // Listens on the loop; logs where.
  void start(uv_loop_t* loop);
  void on_harvest(const std::optional<Result<Delta>>& result, double seconds, int64_t now);
  void on_whitelist(const WhitelistService& whitelist);
  void close();

  const MetricsModel& model() const { return model_; }

 private:
  MetricsService(MetricsIdentity identity, std::unique_ptr<HttpServer> server, std::string warning);
  void publish();

  MetricsModel model_;
  std::unique_ptr<HttpServer> server_;
  std::string warning_;
};

}  // namespace netacct
