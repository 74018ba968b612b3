// SPDX-License-Identifier: GPL-2.0-only
#include "pin_dir.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>

namespace netacct::pin {

bool valid_tag(std::string_view tag) {
  return tag_error(tag).empty();
}

std::string tag_error(std::string_view tag) {
  if (tag.empty() || tag.size() > 32)
    return "tag '" + std::string(tag) + "' must be 1 to 32 characters long";
  for (char c : tag) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return "tag '" + std::string(tag) + "' may contain only a-z, 0-9, '_' and '-'";
  }
  return {};
}

bool is_bpffs(const std::string& path) {
  struct statfs fs {};
  return ::statfs(path.c_str(), &fs) == 0 && fs.f_type == BPF_FS_MAGIC;
}

Result<void> ensure_bpffs(const std::string& root) {
  if (is_bpffs(root)) return ok();
  if (::mkdir(root.c_str(), 0700) != 0 && errno != EEXIST)
    return make_error("create bpffs mount point", errno, root);
  if (::mount("bpf", root.c_str(), "bpf", 0, "mode=0700") != 0)
    return make_error("mount bpffs (is this root, with CAP_SYS_ADMIN?)", errno, root);
  return ok();
}

static Result<void> make_dir(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) == 0 || errno == EEXIST) return ok();
  return make_error("create pin directory", errno, path);
}

std::vector<std::string> list_tags(const std::string& base) {
  std::vector<std::string> tags;
  DIR* dir = ::opendir(base.c_str());
  if (!dir) return tags;
  while (struct dirent* entry = ::readdir(dir)) {
    std::string name = entry->d_name;
    if (entry->d_type == DT_DIR && valid_tag(name)) tags.push_back(name);
  }
  ::closedir(dir);
  std::sort(tags.begin(), tags.end());
  return tags;
}

Result<PinDir> PinDir::open(const std::string& tag, const std::string& base) {
  if (std::string reason = tag_error(tag); !reason.empty()) return Error{reason, 0, {}};
  // Only a base on the real bpffs mount point may need the mount made.
  if (base.rfind(kBpffsRoot, 0) == 0) {
    if (auto mounted = ensure_bpffs(); !mounted) return mounted.error();
  }
  if (auto made = make_dir(base); !made) return made.error();
  if (auto made = make_dir(base + "/" + tag); !made) return made.error();
  if (!is_bpffs(base)) return Error{"pin directory is not on a bpf filesystem", ENOTSUP, base};
  return open_existing(tag, base);
}

Result<PinDir> PinDir::open_existing(const std::string& tag, const std::string& base) {
  if (std::string reason = tag_error(tag); !reason.empty()) return Error{reason, 0, {}};
  std::string path = base + "/" + tag;
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return make_error("open pin directory", errno, path);
  return PinDir(tag, path, UniqueFd(fd));
}

bool PinDir::has(std::string_view name) const {
  return ::faccessat(dir_fd_.get(), std::string(name).c_str(), F_OK, 0) == 0;
}

std::vector<std::string> PinDir::entries() const {
  std::vector<std::string> names;
  DIR* dir = ::opendir(path_.c_str());
  if (!dir) return names;
  while (struct dirent* entry = ::readdir(dir)) {
    std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

Result<void> PinDir::lock() {
  if (::flock(dir_fd_.get(), LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    if (err == EWOULDBLOCK)
      return Error{"tag '" + tag_ + "' is in use by another netacct process", err, path_};
    return make_error("lock pin directory", err, path_);
  }
  locked_ = true;
  return ok();
}

bool PinDir::held_by_other() const {
  if (locked_) return false;
  // Probe with a separate open file description: flock locks belong to it.
  UniqueFd probe(::open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!probe) return false;
  if (::flock(probe.get(), LOCK_EX | LOCK_NB) != 0) return errno == EWOULDBLOCK;
  ::flock(probe.get(), LOCK_UN);
  return false;
}

Result<void> PinDir::remove_all() {
  for (const std::string& name : entries()) {
    if (::unlinkat(dir_fd_.get(), name.c_str(), 0) != 0 && errno != ENOENT)
      return make_error("unpin", errno, object_path(name));
  }
  if (::rmdir(path_.c_str()) != 0 && errno != ENOENT)
    return make_error("remove pin directory", errno, path_);
  return ok();
}

}  // namespace netacct::pin
