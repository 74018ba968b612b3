// SPDX-License-Identifier: GPL-2.0-only
// Listening addresses as the command line and the configuration give them.
#pragma once

#include <sys/socket.h>

#include <string>

#include "result.hpp"

namespace netacct {

// "127.0.0.1:9464", "[::1]:9464", "0.0.0.0:9464": an address and a port.
Result<sockaddr_storage> parse_listen_address(const std::string& text);

}  // namespace netacct
