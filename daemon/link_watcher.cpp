// SPDX-License-Identifier: GPL-2.0-only
#include "link_watcher.hpp"

#include <netlink/cache.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>

#include "common/log.hpp"
#include "engine/netns.hpp"

namespace netacct {

LinkWatcher::LinkWatcher(uv_loop_t* loop, std::string interface, std::string netns,
                         Callback callback)
    : loop_(loop),
      interface_(std::move(interface)),
      netns_(std::move(netns)),
      callback_(std::move(callback)) {}

LinkWatcher::~LinkWatcher() {
  stop();
}

Result<void> LinkWatcher::start() {
  stop();
  // The netlink socket belongs to the namespace it is created in.
  auto scope = NetnsScope::enter(netns_);
  if (!scope) return scope.error();
  int err = nl_cache_mngr_alloc(nullptr, NETLINK_ROUTE, NL_AUTO_PROVIDE, &manager_);
  if (err < 0) return Error{"netlink cache manager: " + std::string(nl_geterror(err)), EIO, {}};
  nl_cache* cache = nullptr;
  err = nl_cache_mngr_add(manager_, "route/link", &LinkWatcher::on_change, this, &cache);
  if (err < 0) {
    nl_cache_mngr_free(manager_);
    manager_ = nullptr;
    return Error{"watch links: " + std::string(nl_geterror(err)), EIO, {}};
  }
  poll_.reset();
  poll_->data = this;
  poll_.init(uv_poll_init, loop_, nl_cache_mngr_get_fd(manager_));
  uv_poll_start(poll_.get(), UV_READABLE, &LinkWatcher::on_readable);
  return ok();
}

void LinkWatcher::stop() {
  if (poll_.live()) uv_poll_stop(poll_.get());
  poll_.close();
  if (manager_) {
    nl_cache_mngr_free(manager_);
    manager_ = nullptr;
  }
}

void LinkWatcher::on_readable(uv_poll_t* handle, int status, int) {
  auto* self = static_cast<LinkWatcher*>(handle->data);
  if (status < 0 || !self->manager_) return;
  // Reads what is queued without blocking (the socket is non-blocking).
  int err = nl_cache_mngr_data_ready(self->manager_);
  if (err < 0) NA_DEBUG("link watch: %s", nl_geterror(err));
}

void LinkWatcher::on_change(nl_cache*, nl_object* object, int action, void* data) {
  auto* self = static_cast<LinkWatcher*>(data);
  auto* link = reinterpret_cast<rtnl_link*>(object);
  const char* name = rtnl_link_get_name(link);
  if (!name || self->interface_ != name) return;
  bool present = action != NL_ACT_DEL;
  // No exception may cross this C callback.
  try {
    self->callback_(present);
  } catch (...) {
    NA_ERROR("link watch callback failed");
  }
}

}  // namespace netacct
