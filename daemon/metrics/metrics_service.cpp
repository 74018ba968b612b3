// SPDX-License-Identifier: GPL-2.0-only
#include "metrics_service.hpp"

#include "../common/log.hpp"
#include "../version.hpp"

namespace netacct {

MetricsService::MetricsService(MetricsIdentity identity, std::unique_ptr<HttpServer> server,
                               std::string warning)
    : model_(std::move(identity)), server_(std::move(server)), warning_(std::move(warning)) {}

Result<std::unique_ptr<MetricsService>> MetricsService::create(const DaemonOptions& options) {
  if (!options.metrics) return std::unique_ptr<MetricsService>();
  MetricsIdentity identity;
  identity.tag = options.tag;
  identity.interface = options.interface;
  identity.netns = options.netns;
  identity.version = kVersion;
  identity.top_flows = options.metrics_top_flows;
  std::string warning;
  auto server = HttpServer::bind_listener(options.metrics_listen);
  if (!server) {
    if (options.metrics_listen_set) return server.error();
    warning = server.error().message() +
              "; metrics are off (set --metrics-listen to another address, or --no-metrics)";
  }
  return std::unique_ptr<MetricsService>(new MetricsService(
      std::move(identity), server ? std::move(server.value()) : nullptr, std::move(warning)));
}

void MetricsService::seed(const Totals& totals, uint32_t flow_capacity) {
  model_.seed(totals);
  model_.set_flow_capacity(flow_capacity);
}

void MetricsService::start(uv_loop_t* loop) {
  if (!server_) {
    if (!warning_.empty()) NA_WARN("%s", warning_.c_str());
    return;
  }
  if (auto started = server_->start(loop); !started) {
    NA_WARN("%s; metrics are off", started.error().message().c_str());
    server_->close();
    return;
  }
  publish();
  NA_INFO("metrics on http://%s/metrics", server_->address().c_str());
}

void MetricsService::on_harvest(const std::optional<Result<Delta>>& result, double seconds,
                                int64_t now) {
  HarvestSample sample;
  sample.ok = result && result->ok();
  sample.duration_seconds = seconds;
  sample.now = now;
  sample.delta = sample.ok ? &result->value() : nullptr;
  model_.record_harvest(sample);
  publish();
}

void MetricsService::on_whitelist(const WhitelistService& whitelist) {
  model_.set_whitelist(whitelist.count(), whitelist.last_reload_ok(), whitelist.last_reload_time());
  publish();
}

void MetricsService::publish() {
  if (server_) server_->set_body(model_.render());
}

void MetricsService::close() {
  if (server_) server_->close();
}

}  // namespace netacct
