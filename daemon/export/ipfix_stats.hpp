// SPDX-License-Identifier: GPL-2.0-only
// What one collector's exporter did: the /metrics view (plain data, so the
// metrics model needs nothing else of the exporter).
#pragma once

#include <cstdint>
#include <string>

namespace netacct {

struct IpfixCollectorStats {
  std::string collector;  // as configured
  uint64_t records_sent = 0;
  uint64_t records_dropped = 0;
  uint64_t bytes_unexported = 0;  // octetDeltaCount of the dropped records
  uint64_t queued_records = 0;
  bool up = true;  // the last attempt succeeded (or none failed yet)
};

}  // namespace netacct
