// SPDX-License-Identifier: GPL-2.0-only
#include "collector_address.hpp"

#include "listen_address.hpp"

namespace netacct {

Result<CollectorAddress> parse_collector_address(const std::string& text) {
  CollectorAddress out;
  out.text = text;
  std::string rest = text;
  if (rest.rfind("tcp:", 0) == 0) {
    out.transport = CollectorTransport::Tcp;
    rest = rest.substr(4);
  } else if (rest.rfind("udp:", 0) == 0) {
    rest = rest.substr(4);
  }
  auto split = split_host_port(rest);
  if (!split)
    return Error{"IPFIX collector '" + text + "': " + split.error().op +
                     " (form: [udp:|tcp:]HOST:PORT, [IPV6]:PORT)",
                 0,
                 {}};
  out.host = split->host;
  out.port = split->port_text;
  return out;
}

}  // namespace netacct
