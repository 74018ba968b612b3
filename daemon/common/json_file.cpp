// SPDX-License-Identifier: GPL-2.0-only
#include "json_file.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <random>
#include <utility>

#include "unique_fd.hpp"

namespace netacct {

Result<boost::json::value> parse_json_text(const std::string& text, const std::string& file) {
  boost::json::stream_parser parser;
  boost::system::error_code ec;
  size_t consumed = parser.write_some(text.data(), text.size(), ec);
  if (!ec) parser.finish(ec);
  if (ec) {
    if (consumed > text.size()) consumed = text.size();
    size_t line = 1, column = 1;
    for (size_t i = 0; i < consumed; i++) {
      if (text[i] == '\n') {
        line++;
        column = 1;
      } else {
        column++;
      }
    }
    return Error{file + ":" + std::to_string(line) + ":" + std::to_string(column) +
                     ": invalid JSON: " + ec.message(),
                 0,
                 {}};
  }
  return parser.release();
}

static const char* kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  if (S_ISLNK(mode)) return "a symbolic link";
  return "not a regular file";
}

Result<std::string> read_regular_file(const std::string& path, const std::string& what,
                                      size_t max_bytes) {
  std::string name = what.empty() ? path : what + " " + path;
  // O_NONBLOCK: opening a FIFO must not wait for a writer.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (!fd) return make_error(what.empty() ? "read " + path : name, errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return make_error("stat " + name, errno);
  if (!S_ISREG(st.st_mode))
    return Error{name + " is " + kind_of(st.st_mode) + ", not a regular file", EINVAL, {}};
  if (static_cast<uint64_t>(st.st_size) > max_bytes)
    return Error{name + " is " + std::to_string(st.st_size) + " bytes, more than the limit of " +
                     std::to_string(max_bytes),
                 EFBIG,
                 {}};
  std::string text;
  text.resize(static_cast<size_t>(st.st_size));
  size_t got = 0;
  for (;;) {
    if (got == text.size()) {
      if (text.size() > max_bytes) break;  // grew while we read
      text.resize(text.size() + 4096);
    }
    ssize_t n = ::read(fd.get(), text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error("read " + name, errno);
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  text.resize(got);
  if (got > max_bytes)
    return Error{
        name + " grew beyond the limit of " + std::to_string(max_bytes) + " bytes", EFBIG, {}};
  return text;
}

Result<boost::json::value> read_json_file(const std::string& path, size_t max_bytes) {
  auto text = read_regular_file(path, "", max_bytes);
  if (!text) return text.error();
  return parse_json_text(text.value(), path);
}

std::string temp_name_for(const std::string& path) {
  static thread_local std::mt19937_64 random{std::random_device{}()};
  char suffix[17];
  std::snprintf(suffix, sizeof suffix, "%016llx", static_cast<unsigned long long>(random()));
  return path + kTempMarker + std::to_string(::getpid()) + "." + suffix;
}

size_t remove_stale_temp_files(const std::string& path) {
  std::string dir = path.rfind('/') == std::string::npos ? "." : path.substr(0, path.rfind('/'));
  if (dir.empty()) dir = "/";
  std::string base = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
  std::string prefix = base + kTempMarker;
  UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd) return 0;
  DIR* listing = ::fdopendir(::dup(dir_fd.get()));
  if (!listing) return 0;
  size_t removed = 0;
  while (struct dirent* entry = ::readdir(listing)) {
    std::string name = entry->d_name;
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    // Our own naming only, and only plain files (a link or directory of
    // that name is someone else's, left alone).
    struct stat st {};
    if (::fstatat(dir_fd.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (!S_ISREG(st.st_mode) || st.st_uid != ::geteuid()) continue;
    // A live writer's file: its pid still runs (another process of ours).
    size_t dot = name.find('.', prefix.size());
    std::string pid_text = name.substr(prefix.size(), dot - prefix.size());
    if (dot != std::string::npos && !pid_text.empty() &&
        pid_text.find_first_not_of("0123456789") == std::string::npos) {
      pid_t pid = static_cast<pid_t>(std::stol(pid_text));
      if (pid != ::getpid() && ::kill(pid, 0) == 0) continue;
    }
    if (::unlinkat(dir_fd.get(), name.c_str(), 0) == 0) removed++;
  }
  ::closedir(listing);
  return removed;
}

static std::string directory_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Result<void> write_file_atomic(const std::string& path, const std::string& content, mode_t mode) {
  // A fresh, unpredictable name, never followed if a link: a file planted
  // under that name makes the write fail instead of writing through it.
  remove_stale_temp_files(path);
  std::string temp = temp_name_for(path);
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) return make_error("create " + temp, errno);
  ::fchmod(fd, mode);
  size_t written = 0;
  while (written < content.size()) {
    ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      ::unlink(temp.c_str());
      return make_error("write " + temp, err);
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    ::unlink(temp.c_str());
    return make_error("fsync " + temp, err);
  }
  ::close(fd);
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(temp.c_str());
    return make_error("rename " + temp + " to " + path, err);
  }
  // The rename itself must reach the disk before we call the data durable.
  int dir = ::open(directory_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return ok();
}

static void pretty_print(std::string& out, const boost::json::value& value, int indent) {
  std::string pad(static_cast<size_t>(indent) * 2, ' ');
  std::string inner(static_cast<size_t>(indent + 1) * 2, ' ');
  if (value.is_object()) {
    const auto& object = value.get_object();
    if (object.empty()) {
      out += "{}";
      return;
    }
    out += "{\n";
    bool first = true;
    for (const auto& member : object) {
      if (!first) out += ",\n";
      first = false;
      out += inner + boost::json::serialize(boost::json::value(member.key())) + ": ";
      pretty_print(out, member.value(), indent + 1);
    }
    out += "\n" + pad + "}";
  } else if (value.is_array()) {
    const auto& array = value.get_array();
    if (array.empty()) {
      out += "[]";
      return;
    }
    out += "[\n";
    bool first = true;
    for (const auto& element : array) {
      if (!first) out += ",\n";
      first = false;
      out += inner;
      pretty_print(out, element, indent + 1);
    }
    out += "\n" + pad + "]";
  } else {
    out += boost::json::serialize(value);
  }
}

std::string pretty_json(const boost::json::value& value, int indent) {
  std::string out;
  pretty_print(out, value, indent);
  out += "\n";
  return out;
}

Result<FileLock> FileLock::acquire(const std::string& data_path) {
  std::string lock_path = data_path + ".lock";
  // The lock file stays between runs, so O_EXCL cannot be used; O_NOFOLLOW
  // refuses a link planted at its name, and a non-regular file is refused.
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
  if (fd < 0) return make_error("open lock file " + lock_path, errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Error{"lock file " + lock_path + " is not a regular file", EINVAL, {}};
  }
  if (::flock(fd, LOCK_EX) != 0) {
    int err = errno;
    ::close(fd);
    return make_error("lock " + lock_path, err);
  }
  return FileLock(fd);
}

FileLock::FileLock(FileLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

}  // namespace netacct

#include <boost/json/basic_parser_impl.hpp>
#include <set>
#include <vector>

namespace netacct {
namespace {

// A basic_parser handler that only tracks object keys.
struct DuplicateKeyFinder {
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);

  struct Frame {
    bool is_object;
    std::string name;  // key this container sits under ("" for array items)
    std::set<std::string> keys;
  };
  std::vector<Frame> stack;
  std::string pending_key;
  std::string key_buffer;
  std::string duplicate;

  std::string path(const std::string& last) const {
    std::string out;
    for (const Frame& frame : stack) {
      if (frame.name.empty()) continue;
      out += (out.empty() ? "" : ".") + frame.name;
    }
    return out.empty() ? last : out + "." + last;
  }
  void open(bool is_object) {
    stack.push_back({is_object, pending_key, {}});
    pending_key.clear();
  }
  using ec_t = boost::system::error_code;
  using sv = boost::json::string_view;
  bool on_document_begin(ec_t&) { return true; }
  bool on_document_end(ec_t&) { return true; }
  bool on_array_begin(ec_t&) {
    open(false);
    return true;
  }
  bool on_array_end(std::size_t, ec_t&) {
    stack.pop_back();
    return true;
  }
  bool on_object_begin(ec_t&) {
    open(true);
    return true;
  }
  bool on_object_end(std::size_t, ec_t&) {
    stack.pop_back();
    return true;
  }
  bool on_string_part(sv, std::size_t, ec_t&) { return true; }
  bool on_string(sv, std::size_t, ec_t&) {
    pending_key.clear();
    return true;
  }
  bool on_key_part(sv s, std::size_t, ec_t&) {
    key_buffer.append(s.data(), s.size());
    return true;
  }
  bool on_key(sv s, std::size_t, ec_t&) {
    key_buffer.append(s.data(), s.size());
    if (!stack.empty() && !stack.back().keys.insert(key_buffer).second && duplicate.empty())
      duplicate = path(key_buffer);
    pending_key = key_buffer;
    key_buffer.clear();
    return true;
  }
  bool on_number_part(sv, ec_t&) { return true; }
  bool on_int64(int64_t, sv, ec_t&) {
    pending_key.clear();
    return true;
  }
  bool on_uint64(uint64_t, sv, ec_t&) {
    pending_key.clear();
    return true;
  }
  bool on_double(double, sv, ec_t&) {
    pending_key.clear();
    return true;
  }
  bool on_bool(bool, ec_t&) {
    pending_key.clear();
    return true;
  }
  bool on_null(ec_t&) {
    pending_key.clear();
    return true;
  }
  bool on_comment_part(sv, ec_t&) { return true; }
  bool on_comment(sv, ec_t&) { return true; }
};

}  // namespace

std::string find_duplicate_key(const std::string& text) {
  boost::json::basic_parser<DuplicateKeyFinder> parser{boost::json::parse_options{}};
  boost::system::error_code ec;
  parser.write_some(false, text.data(), text.size(), ec);
  if (ec) return {};
  return parser.handler().duplicate;
}

}  // namespace netacct
