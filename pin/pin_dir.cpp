// SPDX-License-Identifier: GPL-2.0-only
#include "pin_dir.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

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

// Creates `path` when missing; `created` tells whether this call made it.
static Result<void> make_dir(const std::string& path, bool& created) {
  created = false;
  if (::mkdir(path.c_str(), 0700) == 0) {
    created = true;
    return ok();
  }
  if (errno == EEXIST) return ok();
  return make_error("create pin directory", errno, path);
}

int lock_holder_pid(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  // "1: FLOCK  ADVISORY  WRITE 1234 00:2d:5678 0 EOF"; blocked waiters
  // ("1: -> FLOCK ...") are not holders.
  char wanted[64];
  std::snprintf(wanted, sizeof wanted, "%02x:%02x:%lu", major(st.st_dev), minor(st.st_dev),
                static_cast<unsigned long>(st.st_ino));
  FILE* locks = std::fopen("/proc/locks", "re");
  if (!locks) return 0;
  int pid = 0;
  char line[256];
  while (pid == 0 && std::fgets(line, sizeof line, locks)) {
    char kind[16], mode[16], access[16], device[64];
    int holder = 0;
    if (std::sscanf(line, "%*[^:]: %15s %15s %15s %d %63s", kind, mode, access, &holder, device) !=
        5)
      continue;
    if (std::string(kind) == "FLOCK" && std::string(device) == wanted) pid = holder;
  }
  std::fclose(locks);
  return pid;
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
  struct stat st {};
  if (::stat(base.c_str(), &st) == 0 && !is_bpffs(base))
    return Error{"pin directory is not on a bpf filesystem", ENOTSUP, base};
  bool created_base = false;
  if (auto made = make_dir(base, created_base); !made) return made.error();
  if (!is_bpffs(base)) {
    if (created_base) ::rmdir(base.c_str());
    return Error{"pin directory is not on a bpf filesystem", ENOTSUP, base};
  }
  bool created = false;
  if (auto made = make_dir(base + "/" + tag, created); !made) {
    if (created_base) ::rmdir(base.c_str());
    return made.error();
  }
  auto opened = open_existing(tag, base);
  if (!opened) {
    if (created) ::rmdir((base + "/" + tag).c_str());
    if (created_base) ::rmdir(base.c_str());
    return opened.error();
  }
  opened->created_ = created;
  opened->created_base_ = created_base;
  return opened;
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

// Unpins one entry; a directory (a clsact marker) is removed as such.
static Result<void> remove_entry(int dir_fd, const std::string& name, const std::string& path) {
  struct stat st {};
  int flags = 0;
  if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
    flags = AT_REMOVEDIR;
  if (::unlinkat(dir_fd, name.c_str(), flags) != 0 && errno != ENOENT)
    return make_error("unpin", errno, path);
  return ok();
}

Result<void> PinDir::remove_all() {
  for (const std::string& name : entries()) {
    if (auto removed = remove_entry(dir_fd_.get(), name, object_path(name)); !removed)
      return removed;
  }
  if (::rmdir(path_.c_str()) != 0 && errno != ENOENT)
    return make_error("remove pin directory", errno, path_);
  return ok();
}

Result<void> PinDir::remove_except(const std::vector<std::string>& keep) {
  for (const std::string& name : entries()) {
    if (std::find(keep.begin(), keep.end(), name) != keep.end()) continue;
    if (auto removed = remove_entry(dir_fd_.get(), name, object_path(name)); !removed)
      return removed;
  }
  if (created_ && ::rmdir(path_.c_str()) != 0 && errno != ENOENT)
    return make_error("remove pin directory", errno, path_);
  if (created_base_) {
    std::string base = path_.substr(0, path_.rfind('/'));
    if (::rmdir(base.c_str()) != 0 && errno != ENOENT && errno != ENOTEMPTY)
      return make_error("remove pin base", errno, base);
  }
  return ok();
}

}  // namespace netacct::pin
