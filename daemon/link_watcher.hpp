// SPDX-License-Identifier: GPL-2.0-only
// LinkWatcher: tells the reactor when the watched interface appears or
// disappears, from a libnl cache manager (route/link) opened inside the
// interface's network namespace and polled by the libuv loop.
#pragma once

#include <uv.h>

#include <functional>
#include <string>

#include "common/result.hpp"
#include "loop/handle.hpp"

struct nl_cache_mngr;
struct nl_cache;
struct nl_object;

namespace netacct {

class LinkWatcher {
 public:
  // present: true when a link of that name was added or changed, false
  // when it was deleted.
  using Callback = std::function<void(bool present)>;

  LinkWatcher(uv_loop_t* loop, std::string interface, std::string netns, Callback callback);
  ~LinkWatcher();
  LinkWatcher(const LinkWatcher&) = delete;
  LinkWatcher& operator=(const LinkWatcher&) = delete;

  // (Re)opens the netlink watch inside the namespace; call again when the
  // namespace itself was re-created.
  Result<void> start();
  void stop();

 private:
  static void on_readable(uv_poll_t* handle, int status, int events);
  static void on_change(nl_cache* cache, nl_object* object, int action, void* self);

  uv_loop_t* loop_;
  std::string interface_;
  std::string netns_;
  Callback callback_;
  nl_cache_mngr* manager_ = nullptr;
  loop::Handle<uv_poll_t> poll_;
};

}  // namespace netacct
