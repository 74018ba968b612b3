// SPDX-License-Identifier: GPL-2.0-only
// FileWatcher: calls back (debounced) when a file changes, however it was
// saved. It watches the file's directory with inotify, not the file, so
// editors that save by rename, cp, mv, truncate-and-write and
// delete-then-create are all seen. The inotify fd is polled by the loop.
//
// An event for another name in the directory also counts when the file, as
// its path resolves now, is no longer the one last seen (device, inode,
// size, times): a Kubernetes ConfigMap swaps a "..data" symlink
// (whitelist.json -> ..data/whitelist.json, ..data -> ..2026_x) by renaming
// "..data_tmp" over it, and the file's own name sees no event at all.
#pragma once

#include <sys/types.h>
#include <uv.h>

#include <cstdint>
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
  // Whether the path resolves to another file than last seen (and note it).
  bool identity_changed();

  uv_loop_t* loop_;
  std::string directory_;
  std::string basename_;
  std::string path_;
  struct Identity {
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = -1;
    int64_t mtime_ns = 0, ctime_ns = 0;
    bool operator==(const Identity&) const = default;
  } identity_;
  std::function<void()> on_change_;
  uint64_t debounce_ms_;
  UniqueFd inotify_fd_;
  loop::Handle<uv_poll_t> poll_;
  loop::Handle<uv_timer_t> debounce_;
};

}  // namespace netacct
