// SPDX-License-Identifier: GPL-2.0-only
// Listening addresses as the command line and the configuration give them.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>

#include "result.hpp"

namespace netacct {

struct HostPort {
  std::string host;  // without the brackets of "[::1]:4739"
  std::string port_text;
  uint16_t port = 0;
};

// "HOST:PORT" or "[IPV6]:PORT" split, the port checked (1..65535); the host
// is only required to be non-empty.
Result<HostPort> split_host_port(const std::string& text);

// "127.0.0.1:9464", "[::1]:9464", "0.0.0.0:9464": an address and a port.
Result<sockaddr_storage> parse_listen_address(const std::string& text);

}  // namespace netacct
