// SPDX-License-Identifier: GPL-2.0-only
// HarvestObserver: how the parts that publish a harvest (metrics, console,
// and the IPFIX exporter to come) learn of one, on the loop thread, without
// the reactor knowing any of them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ledger/json_export.hpp"
#include "ledger/ledger.hpp"
#include "ledger/quota.hpp"

namespace netacct {

struct HarvestReport {
  bool ok = false;
  std::string error;               // when !ok: the delta stays in the kernel, retried
  Harvest harvest;                 // when ok
  ExportReport exported;           // the JSON export that followed, if any
  std::string export_error;        // an export that failed (retried; the ledger is exact)
  double seconds = 0;              // user-space time of the job: commit + export
  double interval = 0;             // seconds since the previous successful harvest
  int64_t now = 0;                 // unix seconds
  std::vector<QuotaState> quotas;  // each configured quota in its current period
};

class HarvestObserver {
 public:
  virtual ~HarvestObserver() = default;
  virtual void on_harvest(const HarvestReport& report) = 0;
};

}  // namespace netacct
