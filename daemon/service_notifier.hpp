// SPDX-License-Identifier: GPL-2.0-only
// ServiceNotifier: netacctd's side of systemd's service protocol
// (sd_notify(3)), for `Type=notify` and `WatchdogSec=`. Outside systemd
// (no NOTIFY_SOCKET, no WATCHDOG_USEC) every call does nothing.
//
// - READY=1 after the first harvest: by then the programs are attached and
//   the ledger's state is loaded and committed, so `systemctl start`
//   returns when the instance is counting into its ledger.
// - STATUS= after every harvest: its time, flows and bytes (or its error),
//   shown by `systemctl status`.
// - WATCHDOG=1 from a libuv timer at half the watchdog interval: a loop
//   that stops turning (stuck, SIGSTOP) stops feeding it, and systemd
//   restarts the service. Harvests run on the thread pool, so a slow
//   harvest does not starve the watchdog; a stuck loop does.
// - STOPPING=1 when a stop signal begins the final harvest.
#pragma once

#include <uv.h>

#include <cstdint>
#include <string>

#include "harvest_observer.hpp"
#include "loop/handle.hpp"

namespace netacct {

class ServiceNotifier final : public HarvestObserver {
 public:
  ServiceNotifier() = default;
  ServiceNotifier(const ServiceNotifier&) = delete;
  ServiceNotifier& operator=(const ServiceNotifier&) = delete;

  // Starts the watchdog timer on `loop` when systemd asked for one.
  void start(uv_loop_t* loop);
  void on_harvest(const HarvestReport& report) override;
  void stopping();
  void close();

  // Watchdog interval systemd asked for (0: none); known after start().
  uint64_t watchdog_usec() const { return watchdog_usec_; }
  // The STATUS= text of one harvest (pure, for tests).
  static std::string status_text(const HarvestReport& report);

 private:
  loop::Handle<uv_timer_t> watchdog_;
  uint64_t watchdog_usec_ = 0;
  bool ready_ = false;
};

}  // namespace netacct
