// SPDX-License-Identifier: GPL-2.0-only
// A quota as the configuration states it: a byte limit per local address
// or prefix per day or month ("10.0.0.0/24:month:50G"). Checked by the
// ledger (ledger/quota.hpp).
#pragma once

#include <cstdint>
#include <string>

#include "result.hpp"

namespace netacct {

enum class QuotaPeriod { Day, Month };

struct Quota {
  std::string local;  // "10.0.0.1" or "10.0.0.0/24" (IPv4 or IPv6)
  QuotaPeriod period = QuotaPeriod::Month;
  uint64_t bytes = 0;  // rx + tx
};

// "LOCAL[/N]:day|month:BYTES" (units k, M, G, T: powers of 1000; Ki, Mi,
// Gi, Ti: powers of 1024). Errors name the text.
Result<Quota> parse_quota(const std::string& text);
// The canonical text form: "10.0.0.0/24:month:50000000000".
std::string quota_name(const Quota& quota);
// Whether the address text `local` is inside `prefix` (an address: equal).
bool address_in(const std::string& local, const std::string& prefix);

}  // namespace netacct
