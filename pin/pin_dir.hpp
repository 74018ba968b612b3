// SPDX-License-Identifier: GPL-2.0-only
// The pin directory of one tag: /sys/fs/bpf/netacct/<tag>/. It holds the
// maps, the programs and the links (XDP, tcx) that must outlive any one process.
//
// This module knows the path scheme, validates tags before they touch a
// path, mounts bpffs when absent, takes the per-tag lock, and removes pins.
// It knows nothing of map contents, JSON or libuv.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "../daemon/common/result.hpp"
#include "../daemon/common/unique_fd.hpp"

namespace netacct::pin {

inline constexpr const char* kBpffsRoot = "/sys/fs/bpf";
inline constexpr const char* kDefaultBase = "/sys/fs/bpf/netacct";

// Names of the pinned objects inside a tag's directory. Maps are pinned by
// libbpf under their map names; these are the ones we pin ourselves.
inline constexpr const char* kProgXdpIngress = "prog_xdp_in";
inline constexpr const char* kProgTcIngress = "prog_tc_in";
inline constexpr const char* kProgTcEgress = "prog_tc_eg";
inline constexpr const char* kLinkXdp = "link_xdp";
// The tcx links of TC ingress and egress (kernels with tcx, see attach.hpp).
inline constexpr const char* kLinkTcIngress = "link_tc_in";
inline constexpr const char* kLinkTcEgress = "link_tc_eg";
// A renewed flow buffer is pinned as "<map>_renew" (bpffs refuses a "." in
// a pin name), then renamed over the map's pin; one left by a crash in
// between is stale and removed at open.
inline constexpr const char* kRenewSuffix = "_renew";
// A directory (bpffs holds no regular files) named
// "clsact@<netns dev>:<netns inode>:<ifindex>" records that this tag created
// the clsact qdisc of that interface, so any process may later remove it
// when it holds nothing else (see daemon/engine/attach.hpp).
inline constexpr const char* kClsactMarkerPrefix = "clsact@";

// A tag is [a-z0-9_-]{1,32}: it becomes a directory name and a unit instance.
bool valid_tag(std::string_view tag);
// Empty string when valid, else a one-line reason naming the tag.
std::string tag_error(std::string_view tag);

// Mounts bpffs at /sys/fs/bpf when nothing of type bpf is mounted there.
Result<void> ensure_bpffs(const std::string& root = kBpffsRoot);
bool is_bpffs(const std::string& path);

// Tags that have a pin directory under base.
std::vector<std::string> list_tags(const std::string& base = kDefaultBase);

// The pid of the process holding the flock of the directory at `path`
// (from /proc/locks), or 0 when nobody holds it or it cannot be told.
int lock_holder_pid(const std::string& path);

class PinDir {
 public:
  // Creates the directory (and base) when missing. Does not lock. A base
  // that is not on bpffs is refused before anything is created under it.
  static Result<PinDir> open(const std::string& tag, const std::string& base = kDefaultBase);
  // Like open(), but fails with ENOENT instead of creating it.
  static Result<PinDir> open_existing(const std::string& tag,
                                      const std::string& base = kDefaultBase);

  PinDir(PinDir&&) = default;
  PinDir& operator=(PinDir&&) = default;

  const std::string& tag() const { return tag_; }
  const std::string& path() const { return path_; }
  std::string object_path(std::string_view name) const { return path_ + "/" + std::string(name); }
  bool has(std::string_view name) const;
  // True when open() created the tag's directory / the base directory.
  bool created() const { return created_; }
  bool created_base() const { return created_base_; }
  std::vector<std::string> entries() const;

  // Exclusive, non-blocking flock on the directory, held until this object
  // dies. EWOULDBLOCK means another process (a daemon) holds the tag.
  Result<void> lock();
  bool locked() const { return locked_; }
  // True if some other process holds the lock right now.
  bool held_by_other() const;
  // The pid of the process holding the lock (0: none, or not known).
  int holder_pid() const { return lock_holder_pid(path_); }

  // Removes every pinned object and the directory itself. Pinned maps and
  // programs are freed by the kernel once nothing else references them.
  Result<void> remove_all();
  // Removes the entries that are not in `keep` (a start's rollback: what
  // existed before it stays), then the directory and the base when open()
  // created them and they are empty.
  Result<void> remove_except(const std::vector<std::string>& keep);

 private:
  PinDir(std::string tag, std::string path, UniqueFd dir_fd)
      : tag_(std::move(tag)), path_(std::move(path)), dir_fd_(std::move(dir_fd)) {}

  std::string tag_;
  std::string path_;
  UniqueFd dir_fd_;
  bool locked_ = false;
  bool created_ = false;
  bool created_base_ = false;
};

}  // namespace netacct::pin
