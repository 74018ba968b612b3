// SPDX-License-Identifier: GPL-2.0-only
// An IPFIX collector as --ipfix and the "ipfix" config key name it:
// "HOST:PORT" or "udp:HOST:PORT" (UDP), "tcp:HOST:PORT" (TCP); an IPv6
// address goes in brackets, "[::1]:4739". Checked when the options are
// read; resolved by the exporter.
#pragma once

#include <cstdint>
#include <string>

#include "result.hpp"

namespace netacct {

enum class CollectorTransport { Udp, Tcp };

struct CollectorAddress {
  CollectorTransport transport = CollectorTransport::Udp;
  std::string host;
  std::string port;  // as text, for getaddrinfo
  std::string text;  // as given: the label in /metrics and the log
};

Result<CollectorAddress> parse_collector_address(const std::string& text);

}  // namespace netacct
