// SPDX-License-Identifier: GPL-2.0-only
#include "file_watcher.hpp"

#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "common/log.hpp"

namespace netacct {

FileWatcher::FileWatcher(uv_loop_t* loop, std::string path, std::function<void()> on_change,
                         uint64_t debounce_ms)
    : loop_(loop), path_(path), on_change_(std::move(on_change)), debounce_ms_(debounce_ms) {
  auto slash = path.rfind('/');
  directory_ = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  basename_ = slash == std::string::npos ? path : path.substr(slash + 1);
}

FileWatcher::~FileWatcher() {
  stop();
}

Result<void> FileWatcher::start() {
  stop();
  inotify_fd_.reset(inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!inotify_fd_) return make_error("inotify_init1", errno);
  // Every way a file can come to hold new contents, as seen from its directory.
  uint32_t mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_MODIFY;
  if (inotify_add_watch(inotify_fd_.get(), directory_.c_str(), mask) < 0) {
    int err = errno;
    inotify_fd_.reset();
    return make_error("watch directory " + directory_, err);
  }
  poll_.reset();
  poll_->data = this;
  poll_.init(uv_poll_init, loop_, inotify_fd_.get());
  uv_poll_start(poll_.get(), UV_READABLE, &FileWatcher::on_readable);
  debounce_.reset();
  debounce_->data = this;
  debounce_.init(uv_timer_init, loop_);
  identity_changed();
  return ok();
}

bool FileWatcher::identity_changed() {
  Identity now;
  struct stat st {};
  if (::stat(path_.c_str(), &st) == 0) {
    now.dev = st.st_dev;
    now.ino = st.st_ino;
    now.size = st.st_size;
    now.mtime_ns = int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
    now.ctime_ns = int64_t{st.st_ctim.tv_sec} * 1000000000 + st.st_ctim.tv_nsec;
  }
  if (now == identity_) return false;
  identity_ = now;
  return true;
}

void FileWatcher::stop() {
  if (poll_.live()) uv_poll_stop(poll_.get());
  poll_.close();
  debounce_.close();
  inotify_fd_.reset();
}

void FileWatcher::on_readable(uv_poll_t* handle, int status, int) {
  if (status < 0) return;
  static_cast<FileWatcher*>(handle->data)->drain_events();
}

void FileWatcher::drain_events() {
  alignas(inotify_event) char buffer[4096];
  bool ours = false;
  for (;;) {
    ssize_t n = ::read(inotify_fd_.get(), buffer, sizeof buffer);
    if (n <= 0) break;  // EAGAIN: all read
    for (ssize_t offset = 0; offset < n;) {
      const auto* event = reinterpret_cast<const inotify_event*>(buffer + offset);
      if (event->len > 0 && basename_ == event->name) ours = true;
      offset += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
    }
  }
  // Another name changed: ours only if our path now resolves elsewhere
  // (a ConfigMap's ..data swap). Note the identity either way.
  if (identity_changed()) ours = true;
  if (!ours) return;
  // Editors save in bursts of events: act once, after the burst.
  uv_timer_start(
      debounce_.get(),
      [](uv_timer_t* timer) {
        auto* self = static_cast<FileWatcher*>(timer->data);
        try {
          self->on_change_();
        } catch (...) {
          NA_ERROR("file watch callback failed");
        }
      },
      debounce_ms_, 0);
}

}  // namespace netacct
