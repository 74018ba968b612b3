// SPDX-License-Identifier: GPL-2.0-only
#include "listen_address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cerrno>
#include <cstdlib>

namespace netacct {

Result<sockaddr_storage> parse_listen_address(const std::string& text) {
  auto bad = [&](const std::string& why) -> Error {
    return Error{"metrics listen address '" + text + "' " + why, 0, {}};
  };
  std::string host, port;
  if (!text.empty() && text[0] == '[') {
    auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return bad("must be ADDR:PORT or [IPV6]:PORT");
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string::npos || text.find(':') != colon)
      return bad("must be ADDR:PORT or [IPV6]:PORT");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  char* end = nullptr;
  errno = 0;
  unsigned long number = std::strtoul(port.c_str(), &end, 10);
  if (port.empty() || *end != '\0' || errno != 0 || number < 1 || number > 65535 ||
      port[0] == '-' || port[0] == '+')
    return bad("has no valid port (1..65535)");
  sockaddr_storage storage{};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
  if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(number));
  } else if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(number));
  } else {
    return bad("has no valid IPv4 or IPv6 address");
  }
  return storage;
}

}  // namespace netacct
