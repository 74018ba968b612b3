// SPDX-License-Identifier: GPL-2.0-only
#include "metrics_service.hpp"

#include <cerrno>
#include <cstdlib>

#include "../common/log.hpp"
#include "../common/proc_info.hpp"
#include "../common/version.hpp"
#include "../ledger/ledger_reader.hpp"

namespace netacct {
namespace {

// Ports after the default one tried when it is taken.
constexpr int kFallbackPorts = 16;

uint16_t port_of(const std::string& address) {
  auto colon = address.rfind(':');
  return colon == std::string::npos ? 0
                                    : static_cast<uint16_t>(std::atoi(address.c_str() + colon + 1));
}

std::string with_port(const std::string& address, int port) {
  return address.substr(0, address.rfind(':') + 1) + std::to_string(port);
}

}  // namespace

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
  std::string warning, notice;
  auto server = HttpServer::bind_listener(options.metrics_listen);
  if (!server && options.metrics_listen_set) {
    if (server.error().err == EADDRINUSE)
      if (std::string holder = describe_listener(port_of(options.metrics_listen)); !holder.empty())
        return Error{server.error().message() + ": held by " + holder, 0, {}};
    return server.error();
  }
  if (!server && server.error().err == EADDRINUSE) {
    // The default port is taken (typically by another netacctd): never run
    // silently without metrics; take the next free port and say whose the
    // default one is.
    std::string holder = describe_listener(port_of(options.metrics_listen));
    std::string taken =
        options.metrics_listen + " is taken" + (holder.empty() ? std::string() : " by " + holder);
    for (int step = 1; step <= kFallbackPorts && !server; step++) {
      std::string next = with_port(options.metrics_listen, port_of(options.metrics_listen) + step);
      server = HttpServer::bind_listener(next);
    }
    if (server)
      notice = taken + "; serving metrics on " + server.value()->address() +
               " instead (set --metrics-listen to choose)";
    else
      warning = taken + ", and the next " + std::to_string(kFallbackPorts) +
                " ports too; metrics are off (set --metrics-listen, or --no-metrics)";
  } else if (!server) {
    warning = server.error().message() +
              "; metrics are off (set --metrics-listen to another address, or --no-metrics)";
  }
  auto service = std::unique_ptr<MetricsService>(new MetricsService(
      std::move(identity), server ? std::move(server.value()) : nullptr, std::move(warning)));
  service->notice_ = std::move(notice);
  return service;
}

Result<void> MetricsService::seed(const std::string& ledger_path, uint32_t flow_capacity) {
  model_.set_flow_capacity(flow_capacity);
  auto reader = LedgerReader::open(ledger_path);
  if (!reader) return reader.error();
  auto snapshot = (*reader)->snapshot();
  if (!snapshot) return snapshot.error();
  model_.seed(snapshot->lifetime, snapshot->info.last_harvest);
  if (model_.wants_flows()) {
    // Opt-in per-flow series: their counters start from each flow's total.
    auto rows = (*reader)->queries().for_each_flow(Scope::Lifetime, [&](const FlowRow& row) {
      netacct_flow_key key{};
      std::string remote(row.remote);
      uint8_t prefix = 0;
      if (auto slash = remote.find('/'); slash != std::string::npos) {
        prefix = static_cast<uint8_t>(std::atoi(remote.c_str() + slash + 1));
        remote.resize(slash);
      }
      if (make_flow_key(std::string(row.local), remote, row.protocol, key)) {
        key.pad = prefix;
        model_.seed_flow(key, row.counters);
      }
      return true;
    });
    if (!rows) return rows.error();
  }
  model_.finish_seed();
  return ok();
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
  started_ = true;
  if (!notice_.empty()) NA_WARN("%s", notice_.c_str());
  NA_INFO("metrics on http://%s/metrics in %s", server_->address().c_str(),
          describe_own_netns().c_str());
}

void MetricsService::on_harvest(const HarvestReport& report) {
  HarvestSample sample;
  sample.ok = report.ok;
  sample.duration_seconds = report.seconds;
  sample.now = report.now;
  sample.delta = report.ok ? &report.harvest.delta : nullptr;
  model_.record_harvest(sample);
  for (const QuotaState& quota : report.quotas)
    model_.set_quota(quota.quota.local, quota.quota.period == QuotaPeriod::Day ? "day" : "month",
                     quota.exceeded, quota.used, quota.quota.bytes);
  if (ipfix_source_) model_.set_ipfix(ipfix_source_());
  publish();
}

void MetricsService::on_whitelist(const WhitelistService& whitelist) {
  model_.set_whitelist(whitelist.count(), whitelist.last_reload_ok(), whitelist.last_reload_time());
  publish();
}

void MetricsService::set_ingress(const std::string& ingress_mode, const std::string& xdp_mode) {
  model_.set_ingress(ingress_mode, xdp_mode);
  publish();
}

void MetricsService::publish() {
  if (server_) server_->set_body(model_.render());
}

std::string MetricsService::address() const {
  return server_ && started_ ? server_->address() : std::string();
}

void MetricsService::close() {
  if (server_) server_->close();
}

}  // namespace netacct
