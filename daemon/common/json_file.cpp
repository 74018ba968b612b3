// SPDX-License-Identifier: GPL-2.0-only
#include "json_file.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <utility>

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

Result<boost::json::value> read_json_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("read " + path, errno ? errno : ENOENT);
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return make_error("read " + path, errno ? errno : EIO);
  return parse_json_text(buffer.str(), path);
}

static std::string directory_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Result<void> write_file_atomic(const std::string& path, const std::string& content) {
  std::string temp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return make_error("create " + temp, errno);
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
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return make_error("open lock file " + lock_path, errno);
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
