// SPDX-License-Identifier: GPL-2.0-only
#include "service_notifier.hpp"

#include <systemd/sd-daemon.h>

#include <cstdio>

#include "common/log.hpp"
#include "common/time_text.hpp"

namespace netacct {

void ServiceNotifier::start(uv_loop_t* loop) {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return;
  watchdog_usec_ = usec;
  watchdog_.init(uv_timer_init, loop);
  uint64_t period_ms = usec / 2000 > 0 ? usec / 2000 : 1;
  uv_timer_start(
      watchdog_.get(), [](uv_timer_t*) { sd_notify(0, "WATCHDOG=1"); }, 0, period_ms);
  NA_INFO("systemd watchdog: %.3g s, fed every %.3g s", static_cast<double>(usec) / 1e6,
          static_cast<double>(period_ms) / 1e3);
}

std::string ServiceNotifier::status_text(const HarvestReport& report) {
  char text[256];
  if (!report.ok) {
    std::snprintf(text, sizeof text, "harvest failed at %s, retrying: %s",
                  format_time(report.now).c_str(), report.error.c_str());
    return text;
  }
  netacct_counters total = report.harvest.delta.flow_total();
  std::snprintf(text, sizeof text, "last harvest %s: %zu flows, %llu bytes, %llu packets",
                format_time(report.now).c_str(), report.harvest.delta.flows.size(),
                static_cast<unsigned long long>(total.rx_bytes + total.tx_bytes),
                static_cast<unsigned long long>(total.rx_packets + total.tx_packets));
  return text;
}

void ServiceNotifier::on_harvest(const HarvestReport& report) {
  std::string status = "STATUS=" + status_text(report);
  if (!ready_) {
    ready_ = true;
    NA_INFO("ready: first harvest done (%s)", status_text(report).c_str());
    status = "READY=1\n" + status;
  }
  sd_notify(0, status.c_str());
}

void ServiceNotifier::stopping() {
  sd_notify(0, "STOPPING=1\nSTATUS=stopping: final harvest");
}

void ServiceNotifier::close() {
  watchdog_.close();
}

}  // namespace netacct
