// SPDX-License-Identifier: GPL-2.0-only
#include "output_scanner.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <boost/json/basic_parser_impl.hpp>

#include "../common/json_file.hpp"
#include "../common/time_text.hpp"
#include "../common/unique_fd.hpp"

namespace netacct {

namespace json = boost::json;

namespace {

// Depths of the containers we care about (root object = 1).
constexpr int kSourcesDepth = 2;  // the "sources" array
constexpr int kEntryDepth = 3;    // one source entry object
constexpr int kRowsDepth = 4;     // its "traffic_data" array
constexpr int kRowDepth = 5;      // one row object

Result<uint64_t> row_number(const json::object& row, const char* key, const std::string& where) {
  const json::value* v = row.if_contains(key);
  if (!v) return uint64_t{0};
  if (v->is_uint64()) return v->get_uint64();
  if (v->is_int64() && v->get_int64() >= 0) return static_cast<uint64_t>(v->get_int64());
  return Error{where + key + " must be a non-negative integer", 0, {}};
}

std::string row_text(const json::object& row, const char* key) {
  const json::value* v = row.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

class Handler {
 public:
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);
  using ec_t = boost::system::error_code;
  using sv = json::string_view;

  Handler(const std::string& path, const ScanOptions& options) : path_(path), options_(options) {}

  ScanResult result;
  std::optional<Error> failure;

  bool on_document_begin(ec_t&) { return true; }
  bool on_document_end(ec_t&) { return true; }
  bool on_object_begin(ec_t& ec) { return open(true, ec); }
  bool on_array_begin(ec_t& ec) { return open(false, ec); }
  bool on_object_end(std::size_t n, ec_t& ec) { return close(true, n, ec); }
  bool on_array_end(std::size_t n, ec_t& ec) { return close(false, n, ec); }

  bool on_key_part(sv s, std::size_t, ec_t&) {
    key_.append(s.data(), s.size());
    return true;
  }
  bool on_key(sv s, std::size_t, ec_t&) {
    key_.append(s.data(), s.size());
    if (depth_ == 1) sources_key_ = key_ == "sources";
    // Only inside "sources": the same names elsewhere are just data (fuzz:
    // a "traffic_data" array outside it opened the rows with nothing
    // captured, and closing a row then popped an empty value stack).
    member_ = depth_ == kEntryDepth && sources_open_ ? key_ : std::string();
    if (depth_ == kEntryDepth && key_ == "traffic_data") {
      rows_key_ = true;  // not pushed: the rows are handled one by one
    } else if (capturing()) {
      stack().push_key(key_);
    }
    key_.clear();
    return true;
  }
  bool on_string_part(sv s, std::size_t, ec_t&) {
    if (capturing()) stack().push_chars(s);
    if (depth_ == kEntryDepth && member_ == "id") id_part_.append(s.data(), s.size());
    return true;
  }
  bool on_string(sv s, std::size_t, ec_t& ec) {
    if (!scalar(ec)) return false;
    if (capturing()) stack().push_string(s);
    if (depth_ == kEntryDepth && member_ == "id") {
      id_part_.append(s.data(), s.size());
      entry_id_ = std::move(id_part_);
      id_part_.clear();
      id_seen_ = true;
    }
    return true;
  }
  bool on_number_part(sv, ec_t&) { return true; }
  bool on_int64(int64_t i, sv, ec_t& ec) {
    if (!scalar(ec)) return false;
    if (capturing()) stack().push_int64(i);
    return true;
  }
  bool on_uint64(uint64_t u, sv, ec_t& ec) {
    if (!scalar(ec)) return false;
    if (capturing()) stack().push_uint64(u);
    return true;
  }
  bool on_double(double d, sv, ec_t& ec) {
    if (!scalar(ec)) return false;
    if (capturing()) stack().push_double(d);
    return true;
  }
  bool on_bool(bool b, ec_t& ec) {
    if (!scalar(ec)) return false;
    if (capturing()) stack().push_bool(b);
    return true;
  }
  bool on_null(ec_t& ec) {
    if (!scalar(ec)) return false;
    if (capturing()) stack().push_null();
    return true;
  }
  bool on_comment_part(sv, ec_t&) { return true; }
  bool on_comment(sv, ec_t&) { return true; }

 private:
  bool capturing() const { return depth_ >= kEntryDepth && sources_open_; }
  bool in_rows() const { return rows_open_ && depth_ >= kRowDepth; }
  json::value_stack& stack() { return in_rows() ? row_stack_ : entry_stack_; }

  // A scalar value: checks it is not where the rows array or a row belongs.
  bool scalar(ec_t& ec) {
    if (depth_ == kRowsDepth && rows_open_)
      return fail(Error{path_ + ": traffic_data rows must be objects", 0, {}}, ec);
    if (depth_ == kEntryDepth && member_ == "traffic_data")
      return fail(Error{path_ + ": traffic_data must be an array", 0, {}}, ec);
    return true;
  }

  bool fail(Error error, ec_t& ec) {
    failure = std::move(error);
    ec = json::make_error_code(json::error::exception);
    return false;
  }

  bool open(bool is_object, ec_t& ec) {
    depth_++;
    if (depth_ == 1 && !is_object)
      return fail(Error{path_ + ": top level must be an object", 0, {}}, ec);
    if (depth_ == kSourcesDepth && sources_key_ && !is_object) sources_open_ = true;
    if (depth_ == kSourcesDepth && sources_key_ && is_object)
      return fail(Error{path_ + ": 'sources' must be an array", 0, {}}, ec);
    if (depth_ == kEntryDepth && sources_open_) {
      member_.clear();
      id_seen_ = false;
      entry_id_.clear();
      entry_stack_.reset();
      entry_rows_ = 0;
      entry_row_text_.clear();
      rows_key_ = false;
    }
    if (depth_ == kRowsDepth && sources_open_ && member_ == "traffic_data") {
      if (is_object) return fail(Error{path_ + ": traffic_data must be an array", 0, {}}, ec);
      rows_open_ = true;
    }
    if (depth_ == kRowsDepth) member_.clear();
    if (depth_ == kRowDepth && rows_open_) {
      if (!is_object) bad_row_ = true;
      row_stack_.reset();
    }
    return true;
  }

  bool close(bool is_object, std::size_t n, ec_t& ec) {
    if (depth_ == kRowDepth && rows_open_) {
      if (is_object)
        row_stack_.push_object(n);
      else
        row_stack_.push_array(n);
      depth_--;
      json::value row = row_stack_.release();
      return finish_row(row, ec);
    }
    if (depth_ == kRowsDepth && rows_open_) {
      rows_open_ = false;
      depth_--;
      if (bad_row_) return fail(Error{path_ + ": traffic_data rows must be objects", 0, {}}, ec);
      member_.clear();
      return true;
    }
    if (capturing()) {
      // The swallowed traffic_data key is not among the members pushed.
      size_t members = n - (depth_ == kEntryDepth && rows_key_ ? 1 : 0);
      if (is_object)
        stack().push_object(members);
      else
        stack().push_array(members);
    }
    if (depth_ == kEntryDepth && sources_open_) {
      depth_--;
      return finish_entry(is_object, ec);
    }
    if (depth_ == kSourcesDepth) sources_open_ = false;
    depth_--;
    return true;
  }

  bool finish_row(json::value& value, ec_t& ec) {
    entry_rows_++;
    if (!value.is_object())
      return fail(Error{path_ + ": traffic_data rows must be objects", 0, {}}, ec);
    if (current_is_ours()) {
      if (!options_.on_our_row) return true;
      auto done = deliver_row(value.get_object(), entry_rows_ - 1);
      if (!done) return fail(done.error(), ec);
      return true;
    }
    // Another source's row (or the id is not known yet): keep its text.
    entry_row_text_.push_back(json::serialize(value));
    return true;
  }

  bool current_is_ours() const {
    // Our own writer puts "id" first, so it is known before the rows; an
    // entry written otherwise is decided at its end.
    return !options_.our_id.empty() && id_seen_ && entry_id_ == options_.our_id;
  }

  Result<void> deliver_row(const json::object& row, uint64_t index) {
    std::string where = path_ + ": traffic_data[" + std::to_string(index) + "].";
    std::string local = row_text(row, "source_ip"), remote = row_text(row, "destination_ip");
    std::string protocol = row_text(row, "protocol");
    int number = protocol_number(protocol);
    if (number < 0) return Error{where + "protocol '" + protocol + "' is unknown", 0, {}};
    netacct_flow_key key{};
    // A folded row ("*") or a prefix row keeps its text; its family comes
    // from the local address.
    std::string remote_address = remote.substr(0, remote.find('/'));
    if (!make_flow_key(local, remote_address == "*" ? local : remote_address,
                       static_cast<uint8_t>(number), key))
      return Error{where + "source_ip/destination_ip are not two addresses of one family", 0, {}};
    FlowRow out;
    out.local = local;
    out.remote = remote;
    out.protocol = static_cast<uint8_t>(number);
    for (auto [field, slot] : {std::pair{"rx_bytes", &out.counters.rx_bytes},
                               {"rx_packets", &out.counters.rx_packets},
                               {"tx_bytes", &out.counters.tx_bytes},
                               {"tx_packets", &out.counters.tx_packets}}) {
      auto value = row_number(row, field, where);
      if (!value) return value.error();
      *slot = value.value();
    }
    out.first_seen = parse_time(row_text(row, "first_seen"));
    out.last_seen = parse_time(row_text(row, "last_updated"));
    if (out.first_seen < 0) out.first_seen = 0;
    if (out.last_seen < out.first_seen) out.last_seen = out.first_seen;
    return options_.on_our_row(out, key.family);
  }

  bool finish_entry(bool is_object, ec_t& ec) {
    json::value entry = entry_stack_.release();
    if (!is_object || !entry.is_object()) return true;  // not a source: dropped
    ScannedSource source;
    source.header = std::move(entry.get_object());
    if (const json::value* id = source.header.if_contains("id"); id && id->is_string())
      source.id = std::string(id->get_string());
    source.rows = entry_rows_;
    bool ours = !options_.our_id.empty() && source.id == options_.our_id;
    if (ours) {
      if (!id_seen_ && options_.on_our_row && !entry_row_text_.empty()) {
        // Rows came before the id: hand them over now.
        uint64_t index = 0;
        for (const std::string& text : entry_row_text_) {
          json::value row = json::parse(text);
          auto done = deliver_row(row.get_object(), index++);
          if (!done) return fail(done.error(), ec);
        }
      }
      result.ours = std::move(source);
    } else {
      source.text = render_entry(source.header, entry_row_text_);
      result.others.push_back(std::move(source));
    }
    id_seen_ = false;
    entry_id_.clear();
    return true;
  }

  static std::string render_entry(const json::object& header,
                                  const std::vector<std::string>& rows) {
    std::string text = pretty_json(header, 2);
    text.erase(text.rfind('}'));
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    text += ",\n      \"traffic_data\": [";
    for (size_t i = 0; i < rows.size(); i++) text += (i ? ",\n        " : "\n        ") + rows[i];
    text += rows.empty() ? "]" : "\n      ]";
    text += "\n    }";
    return text;
  }

 private:
  const std::string& path_;
  const ScanOptions& options_;
  int depth_ = 0;
  std::string key_;
  bool sources_key_ = false;
  bool sources_open_ = false;
  bool rows_key_ = false;
  bool rows_open_ = false;
  bool bad_row_ = false;
  bool id_seen_ = false;
  std::string entry_id_;
  std::string id_part_;
  std::string member_;  // the entry member whose value is being read
  uint64_t entry_rows_ = 0;
  std::vector<std::string> entry_row_text_;
  json::value_stack entry_stack_;
  json::value_stack row_stack_;
};

}  // namespace

Result<ScanResult> scan_output_file(const std::string& path, const ScanOptions& options) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return make_error("read " + path, errno);
  json::basic_parser<Handler> parser(json::parse_options{}, path, options);
  std::vector<char> buffer(1 << 16);
  uint64_t total = 0, line = 1, column = 1;
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error("read " + path, errno);
    }
    boost::system::error_code ec;
    size_t used = 0;
    if (n == 0) {
      if (total == 0) {
        ScanResult empty;
        empty.empty = true;
        return empty;
      }
      used = parser.write_some(false, nullptr, 0, ec);
    } else {
      used = parser.write_some(true, buffer.data(), static_cast<size_t>(n), ec);
    }
    if (ec) {
      if (parser.handler().failure) return *parser.handler().failure;
      for (size_t i = 0; i < used && i < static_cast<size_t>(n); i++) {
        if (buffer[i] == '\n') {
          line++;
          column = 1;
        } else {
          column++;
        }
      }
      return Error{path + ":" + std::to_string(line) + ":" + std::to_string(column) +
                       ": invalid JSON: " + ec.message(),
                   0,
                   {}};
    }
    for (ssize_t i = 0; i < n; i++) {
      if (buffer[static_cast<size_t>(i)] == '\n') {
        line++;
        column = 1;
      } else {
        column++;
      }
    }
    total += static_cast<uint64_t>(n);
    if (n == 0) break;
  }
  return std::move(parser.handler().result);
}

}  // namespace netacct

namespace netacct {

Result<BucketCounters> buckets_of(const boost::json::object& header, const std::string& file) {
  BucketCounters buckets{};
  const boost::json::value* all = header.if_contains("buckets");
  if (!all) return buckets;
  if (!all->is_object()) return Error{file + ": buckets must be an object", 0, {}};
  for (uint8_t id = NETACCT_BUCKET_FIRST; id <= NETACCT_BUCKET_LAST; id++) {
    const boost::json::value* bucket = all->get_object().if_contains(bucket_name(id));
    if (!bucket) continue;
    if (!bucket->is_object())
      return Error{file + ": buckets." + bucket_name(id) + " must be an object", 0, {}};
    std::string where = file + ": buckets." + bucket_name(id) + ".";
    netacct_counters& c = buckets[id];
    for (auto [field, slot] : {std::pair{"rx_bytes", &c.rx_bytes},
                               {"rx_packets", &c.rx_packets},
                               {"tx_bytes", &c.tx_bytes},
                               {"tx_packets", &c.tx_packets}}) {
      auto value = row_number(bucket->get_object(), field, where);
      if (!value) return value.error();
      *slot = value.value();
    }
  }
  return buckets;
}

std::string metadata_text(const boost::json::object& header, const char* key) {
  const boost::json::value* metadata = header.if_contains("metadata");
  if (!metadata || !metadata->is_object()) return {};
  const boost::json::value* v = metadata->get_object().if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

uint64_t metadata_number(const boost::json::object& header, const char* key) {
  const boost::json::value* metadata = header.if_contains("metadata");
  if (!metadata || !metadata->is_object()) return 0;
  const boost::json::value* v = metadata->get_object().if_contains(key);
  if (!v) return 0;
  if (v->is_uint64()) return v->get_uint64();
  if (v->is_int64() && v->get_int64() >= 0) return static_cast<uint64_t>(v->get_int64());
  return 0;
}

}  // namespace netacct
