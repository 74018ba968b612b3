// SPDX-License-Identifier: GPL-2.0-only
// Handle<T>: the owner of one libuv handle (uv_timer_t, uv_signal_t,
// uv_poll_t, ...), written once for the whole project.
//
// libuv handles must stay at a fixed address from init until the close
// callback has run, which is after uv_close() returns. So the handle lives
// on the heap; close() (or the destructor) calls uv_close, and the memory is
// freed in the close callback, never earlier. An owner may therefore be
// destroyed right after closing, while the loop still finishes the close.
// `data` points at whatever the owner chose (usually itself).
#pragma once

#include <uv.h>

#include <utility>

namespace netacct::loop {

template <typename T>
class Handle {
 public:
  Handle() : handle_(new T{}) {}
  ~Handle() { close(); }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle(Handle&& other) noexcept
      : handle_(std::exchange(other.handle_, nullptr)), live_(std::exchange(other.live_, false)) {}

  // Closes the current handle and starts over with a fresh one (restart).
  void reset() {
    close();
    handle_ = new T{};
  }

  // Runs uv_*_init(loop, handle, args...); the handle is live if it succeeds.
  template <typename Init, typename... Args>
  int init(Init init_fn, uv_loop_t* loop, Args&&... args) {
    int rc = init_fn(loop, handle_, std::forward<Args>(args)...);
    live_ = rc == 0;
    return rc;
  }

  T* get() const { return handle_; }
  T* operator->() const { return handle_; }
  bool live() const { return live_ && handle_ != nullptr; }
  uv_handle_t* base() const { return reinterpret_cast<uv_handle_t*>(handle_); }

  // Closes a live handle (the memory goes in its close callback) or frees
  // one that was never initialised. Idempotent.
  void close() {
    if (!handle_) return;
    T* handle = std::exchange(handle_, nullptr);
    if (!live_) {
      delete handle;
      return;
    }
    live_ = false;
    uv_close(reinterpret_cast<uv_handle_t*>(handle),
             [](uv_handle_t* closed) { delete reinterpret_cast<T*>(closed); });
  }

 private:
  T* handle_;
  bool live_ = false;
};

}  // namespace netacct::loop
