// SPDX-License-Identifier: GPL-2.0-only
// NetnsScope: runs the current thread inside another network namespace for
// the scope's lifetime and returns it to the original one on destruction.
// Netlink sockets and ifindexes are per namespace, so every attach, detach
// and query for an interface inside a namespace happens in such a scope.
#pragma once

#include <string>

#include "../common/result.hpp"
#include "../common/unique_fd.hpp"

namespace netacct {

// "" = the current namespace; "NAME" = /var/run/netns/NAME; a path
// containing '/' is used as is (/proc/PID/ns/net).
std::string netns_path(const std::string& netns);

class NetnsScope {
 public:
  // Enters `netns` (no-op for ""). Fails with a message naming it if it
  // does not exist.
  static Result<NetnsScope> enter(const std::string& netns);
  NetnsScope(NetnsScope&& other) noexcept = default;
  NetnsScope& operator=(NetnsScope&&) = delete;
  NetnsScope(const NetnsScope&) = delete;
  ~NetnsScope();

 private:
  explicit NetnsScope(UniqueFd original) : original_(std::move(original)) {}
  UniqueFd original_;  // invalid when no switch was made
};

}  // namespace netacct
