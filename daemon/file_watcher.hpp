// SPDX-License-Identifier: GPL-2.0-only
// FileWatcher: calls back (debounced) when a file changes, however it was
// saved. It watches the file's directory with inotify, not the file, so
// editors that save by rename, cp, mv, truncate-and-write and
// delete-then-create are all seen. The inotify fd is polled by the loop.
#pragma once

#include <uv.h>

#include <functional>
#include <string>

#include "common/result.hpp"
#include "common/unique_fd.hpp"
#include "loop/handle.hpp"

namespace netacct {

class FileWatcher {
 public:
  FileWatcher(uv_loop_t* loop, std::string path, std::function<void()> on_change,
              uint64_t debounce_ms = 200);
  ~FileWatcher();
  FileWatcher(const FileWatcher&) = delete;
  FileWatcher& operator=(const FileWatcher&) = delete;

  Result<void> start();
  void stop();

 private:
  static void on_readable(uv_poll_t* handle, int status, int events);
  void drain_events();

  uv_loop_t* loop_;
  std::string directory_;
  std::string basename_;
  std::function<void()> on_change_;
  uint64_t debounce_ms_;
  UniqueFd inotify_fd_;
  loop::Handle<uv_poll_t> poll_;
  loop::Handle<uv_timer_t> debounce_;
};

}  // namespace netacct
