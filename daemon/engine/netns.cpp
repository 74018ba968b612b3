// SPDX-License-Identifier: GPL-2.0-only
#include "netns.hpp"

#include <fcntl.h>
#include <sched.h>

#include <cstdlib>
#include <cstring>

#include "../common/log.hpp"

namespace netacct {

std::string netns_path(const std::string& netns) {
  if (netns.empty() || netns.find('/') != std::string::npos) return netns;
  return "/var/run/netns/" + netns;
}

Result<NetnsScope> NetnsScope::enter(const std::string& netns) {
  if (netns.empty()) return NetnsScope(UniqueFd());
  // setns() moves only the calling thread, so the way back is this thread's
  // namespace, not the process's (/proc/self would name the main thread's).
  UniqueFd original(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!original) return make_error("open current network namespace", errno);
  std::string path = netns_path(netns);
  UniqueFd target(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!target) {
    int err = errno;
    return Error{"network namespace '" + netns + "' not found", err, path};
  }
  if (::setns(target.get(), CLONE_NEWNET) != 0)
    return make_error("enter network namespace '" + netns + "'", errno, path);
  return NetnsScope(std::move(original));
}

NetnsScope::~NetnsScope() {
  if (!original_) return;
  // Failing to return would leave the thread in the wrong namespace for
  // everything that follows; there is no way to report it from here, and
  // carrying on would attach to the wrong interfaces, so stop hard.
  if (::setns(original_.get(), CLONE_NEWNET) != 0) {
    NA_ERROR("cannot return to the original network namespace: %s", std::strerror(errno));
    std::abort();
  }
}

}  // namespace netacct
