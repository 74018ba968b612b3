// SPDX-License-Identifier: GPL-2.0-only
// IpfixTransport: what the exporter's worker sends through. The real one is
// a libfixbuf session (ipfix_session.hpp); tests substitute their own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "../common/collector_address.hpp"
#include "../common/result.hpp"
#include "ipfix_record.hpp"

namespace netacct {

class IpfixTransport {
 public:
  virtual ~IpfixTransport() = default;
  struct Sent {
    size_t accepted = 0;  // records[0, accepted) went out in accepted messages
    size_t refused = 0;   // the next `refused` records were in the message that failed
  };
  // Sends records[0, count) in as many IPFIX messages as they need, with
  // templates first when they are due. accepted < count means a message
  // failed and *error says why.
  virtual Sent send(const IpfixRecord* records, size_t count, int64_t now_ms, Error* error) = 0;
};

struct IpfixSessionConfig {
  CollectorAddress collector;
  uint32_t observation_domain = 0;
  double template_refresh = 600;  // UDP: seconds between template sets
};

// Opens a transport to the collector (no packet is sent yet).
using IpfixTransportFactory =
    std::function<Result<std::unique_ptr<IpfixTransport>>(const IpfixSessionConfig&)>;

}  // namespace netacct
