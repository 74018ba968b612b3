// SPDX-License-Identifier: GPL-2.0-only
#include "listen_address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cerrno>
#include <cstdlib>

namespace netacct {

Result<HostPort> split_host_port(const std::string& text) {
  auto bad = [&](const std::string& why) -> Error { return Error{"'" + text + "' " + why, 0, {}}; };
  HostPort out;
  if (!text.empty() && text[0] == '[') {
    auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return bad("must be ADDR:PORT or [IPV6]:PORT");
    out.host = text.substr(1, close - 1);
    out.port_text = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string::npos || text.find(':') != colon)
      return bad("must be ADDR:PORT or [IPV6]:PORT");
    out.host = text.substr(0, colon);
    out.port_text = text.substr(colon + 1);
  }
  const std::string& port = out.port_text;
  char* end = nullptr;
  errno = 0;
  unsigned long number = std::strtoul(port.c_str(), &end, 10);
  if (port.empty() || *end != '\0' || errno != 0 || number < 1 || number > 65535 ||
      port[0] == '-' || port[0] == '+')
    return bad("has no valid port (1..65535)");
  if (out.host.empty()) return bad("has no address");
  out.port = static_cast<uint16_t>(number);
  return out;
}

Result<sockaddr_storage> parse_listen_address(const std::string& text) {
  auto bad = [&](const std::string& why) -> Error {
    return Error{"metrics listen address '" + text + "' " + why, 0, {}};
  };
  auto split = split_host_port(text);
  if (!split) return Error{"metrics listen address " + split.error().op, 0, {}};
  const std::string& host = split->host;
  const uint16_t number = split->port;
  sockaddr_storage storage{};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
  if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(number);
  } else if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(number);
  } else {
    return bad("has no valid IPv4 or IPv6 address");
  }
  return storage;
}

}  // namespace netacct
