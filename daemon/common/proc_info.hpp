// SPDX-License-Identifier: GPL-2.0-only
// What /proc says about this process's surroundings, in words for a log
// line: which network namespace we are in, and who listens on a TCP port.
#pragma once

#include <cstdint>
#include <string>

namespace netacct {

// "the host network namespace", "network namespace blue" (a name under
// /var/run/netns), or "network namespace net:[4026532...]".
std::string describe_own_netns();

// Who listens on TCP `port` in our network namespace: "netacctd (tag eth0,
// pid 1234)", "nginx (pid 99)", or "" when nobody (or nothing readable).
std::string describe_listener(uint16_t port);

}  // namespace netacct
