// SPDX-License-Identifier: GPL-2.0-only
#include "json_export.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <map>
#include <unordered_map>

#include "../common/json_file.hpp"
#include "../common/log.hpp"
#include "../common/time_text.hpp"
#include "../common/unique_fd.hpp"

namespace netacct {

namespace json = boost::json;

namespace {

std::string directory_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

json::object counters_json(const netacct_counters& c) {
  return {{"rx_bytes", c.rx_bytes},
          {"rx_packets", c.rx_packets},
          {"tx_bytes", c.tx_bytes},
          {"tx_packets", c.tx_packets}};
}

// Buffered writes to a file descriptor; the first error sticks.
class FileWriter {
 public:
  explicit FileWriter(int fd) : fd_(fd) { buffer_.reserve(kFlushAt + 4096); }
  void append(std::string_view text) {
    buffer_.append(text.data(), text.size());
    if (buffer_.size() >= kFlushAt) (void)flush();  // an error sticks and is returned later
  }
  void number(uint64_t value) {
    char digits[24];
    auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
    buffer_.append(digits, end);
  }
  Result<void> flush() {
    size_t done = 0;
    while (error_ == 0 && done < buffer_.size()) {
      ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        error_ = errno;
        break;
      }
      done += static_cast<size_t>(n);
    }
    written_ += done;
    buffer_.clear();
    if (error_ != 0) return make_error("write", error_);
    return ok();
  }
  uint64_t written() const { return written_; }

 private:
  static constexpr size_t kFlushAt = 1 << 20;
  int fd_;
  int error_ = 0;
  uint64_t written_ = 0;
  std::string buffer_;
};

// Formats the few distinct timestamps of an export once each (the seed's
// local time and its UTC ISO-8601 companion); bounded.
class TimeCache {
 public:
  const std::string& operator()(int64_t t) { return lookup(local_, t, format_time); }
  const std::string& utc(int64_t t) { return lookup(utc_, t, format_time_utc); }

 private:
  using Cache = std::unordered_map<int64_t, std::string>;
  static const std::string& lookup(Cache& cache, int64_t t, std::string (*format)(int64_t)) {
    auto it = cache.find(t);
    if (it != cache.end()) return it->second;
    if (cache.size() >= 4096) cache.clear();
    return cache.emplace(t, format(t)).first->second;
  }
  Cache local_, utc_;
};

void write_row(FileWriter& out, const FlowRow& row, TimeCache& times, bool first) {
  // By hand rather than through a json::object: an export of a million rows
  // must not build a million objects. Every string here is an address, a
  // protocol name, "*" or a timestamp: nothing needs escaping.
  const netacct_counters& c = row.counters;
  out.append(first ? "\n        {\"source_ip\":\"" : ",\n        {\"source_ip\":\"");
  out.append(row.local);
  out.append("\",\"destination_ip\":\"");
  out.append(row.remote);
  out.append("\",\"protocol\":\"");
  out.append(protocol_name(row.protocol));
  out.append("\",\"rx_bytes\":");
  out.number(c.rx_bytes);
  out.append(",\"tx_bytes\":");
  out.number(c.tx_bytes);
  out.append(",\"total_bytes\":");
  out.number(c.rx_bytes + c.tx_bytes);
  out.append(",\"rx_packets\":");
  out.number(c.rx_packets);
  out.append(",\"tx_packets\":");
  out.number(c.tx_packets);
  out.append(",\"first_seen\":\"");
  out.append(times(row.first_seen));
  out.append("\",\"last_updated\":\"");
  out.append(times(row.last_seen));
  out.append("\",\"first_seen_utc\":\"");
  out.append(times.utc(row.first_seen));
  out.append("\",\"last_updated_utc\":\"");
  out.append(times.utc(row.last_seen));
  out.append("\"}");
}

// Folds rows idle since before `cutoff` into one row per (local, protocol)
// with remote "*", as rows arrive in (local, remote, protocol) order.
class Folder {
 public:
  Folder(int64_t cutoff, FileWriter& out, TimeCache& times)
      : cutoff_(cutoff), out_(out), times_(times) {}
  void add(const FlowRow& row) {
    if (row.local != local_) flush_local(), local_ = std::string(row.local);
    if (cutoff_ > 0 && row.last_seen < cutoff_) {
      Folded& folded = folded_[row.protocol];
      folded.counters += row.counters;
      folded.first_seen =
          folded.rows ? std::min(folded.first_seen, row.first_seen) : row.first_seen;
      folded.last_seen = std::max(folded.last_seen, row.last_seen);
      folded.rows++;
      return;
    }
    emit(row);
  }
  void finish() { flush_local(); }
  uint64_t rows() const { return rows_; }

 private:
  struct Folded {
    netacct_counters counters{};
    int64_t first_seen = 0;
    int64_t last_seen = 0;
    uint64_t rows = 0;
  };
  void emit(const FlowRow& row) {
    write_row(out_, row, times_, rows_ == 0);
    rows_++;
  }
  void flush_local() {
    for (const auto& [protocol, folded] : folded_) {
      FlowRow row;
      row.local = local_;
      row.remote = "*";
      row.protocol = protocol;
      row.counters = folded.counters;
      row.first_seen = folded.first_seen;
      row.last_seen = folded.last_seen;
      emit(row);
    }
    folded_.clear();
  }
  int64_t cutoff_;
  FileWriter& out_;
  TimeCache& times_;
  std::string local_;
  std::map<uint8_t, Folded> folded_;
  uint64_t rows_ = 0;
};

}  // namespace

JsonExport::JsonExport(SqliteStore& store, Options options)
    : store_(store), options_(std::move(options)) {}

void JsonExport::set_info(SourceInfo info) {
  std::lock_guard<std::mutex> lock(info_mutex_);
  options_.info = std::move(info);
  metadata_changed_ = true;
}

void JsonExport::set_whitelist_info(json::value info) {
  std::lock_guard<std::mutex> lock(info_mutex_);
  whitelist_info_ = std::move(info);
  metadata_changed_ = true;
}

Result<void> JsonExport::recover() {
  auto state = store_.queries().export_state();
  if (!state) return state.error();
  struct stat st {};
  if (state->pending_seq == 0) {
    // A temporary file a kill left while writing (before the pending mark):
    // nothing refers to it. Only a plain file of our naming is removed.
    if (::lstat(temp_path().c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::unlink(temp_path().c_str()) == 0)
      NA_INFO("removed a stale temporary file %s", temp_path().c_str());
    return ok();
  }
  if (::lstat(temp_path().c_str(), &st) == 0 && FileIdentity::of(st).same_inode(state->pending)) {
    // Steps 3-5 did not finish: the file never reached PATH.
    ::unlink(temp_path().c_str());
    NA_INFO("export %llu of %s was interrupted before it replaced the file: it will be redone",
            static_cast<unsigned long long>(state->pending_seq), options_.path.c_str());
    return store_.export_abandoned();
  }
  // The rename happened (5), step 6 did not: complete it. If PATH is that
  // file it is our export; if it was moved away since, the next export
  // sees a rotation, and what the moved file holds is not unexported.
  FileIdentity identity = state->pending;
  if (::stat(options_.path.c_str(), &st) == 0 && FileIdentity::of(st).same_inode(state->pending))
    identity = FileIdentity::of(st);
  NA_INFO("export %llu of %s reached the file before a crash: recorded",
          static_cast<unsigned long long>(state->pending_seq), options_.path.c_str());
  return store_.export_done(state->pending_seq, identity, state->written);
}

Result<void> JsonExport::check_existing() {
  struct stat st {};
  if (::stat(options_.path.c_str(), &st) != 0) return ok();
  if (!S_ISREG(st.st_mode))
    return Error{"output " + options_.path + " is not a regular file", EISDIR, {}};
  if (st.st_size == 0) return ok();
  auto state = store_.queries().export_state();
  if (!state) return state.error();
  if (state->has_file && FileIdentity::of(st) == state->file) return ok();
  ScanOptions scan_options;
  scan_options.our_id = options_.info.tag;
  auto scanned = scan_output_file(options_.path, scan_options);
  if (!scanned)
    return Error{
        scanned.error().message() + " (fix it, or move it aside to start a new file)", 0, {}};
  others_.clear();
  for (ScannedSource& other : scanned->others)
    others_.emplace_back(std::move(other.id), std::move(other.text));
  others_loaded_ = true;
  return ok();
}

Result<bool> JsonExport::needed() {
  {
    std::lock_guard<std::mutex> lock(info_mutex_);
    if (metadata_changed_) return true;
  }
  auto unexported = store_.has_unexported();
  if (!unexported) return unexported.error();
  if (unexported.value()) return true;
  auto state = store_.queries().export_state();
  if (!state) return state.error();
  if (!state->has_file) return false;
  // Rotated while idle (moved away, or logrotate's `create` left an empty
  // file): export now, so the period boundary is drawn at once. A file
  // rewritten by another source sharing it is checked at the next export.
  struct stat st {};
  if (::stat(options_.path.c_str(), &st) != 0) return true;
  return st.st_size == 0 && !(FileIdentity::of(st) == state->file);
}

Result<bool> JsonExport::holds_our_export(const ExportState& state, const LedgerInfo& info,
                                          int64_t now) {
  struct stat st {};
  if (::stat(options_.path.c_str(), &st) != 0) {
    others_.clear();
    others_loaded_ = true;
    return false;
  }
  if (!S_ISREG(st.st_mode))
    return Error{"output " + options_.path + " is not a regular file", EISDIR, {}};
  // Exactly the file our last export left (or the file a new ledger was
  // seeded from): ours; read it only to learn the other sources' entries.
  bool identical = state.has_file && FileIdentity::of(st) == state.file;
  if (identical && others_loaded_) return true;

  ScanOptions scan_options;
  scan_options.our_id = options_.info.tag;
  auto scanned = scan_output_file(options_.path, scan_options);
  others_.clear();
  others_loaded_ = true;
  if (!scanned) {
    // Unreadable as an output file: keep it aside rather than lose or keep
    // failing on it. Whatever it held is not ours to count again.
    std::string aside = options_.path + ".corrupt-" + std::to_string(now);
    NA_WARN("%s; moved to %s", scanned.error().message().c_str(), aside.c_str());
    ::rename(options_.path.c_str(), aside.c_str());
    return false;
  }
  for (ScannedSource& other : scanned->others)
    others_.emplace_back(std::move(other.id), std::move(other.text));
  if (identical) return true;
  if (!scanned->ours || !state.has_file) return false;
  const json::object& header = scanned->ours->header;
  return metadata_text(header, "ledger_id") == info.ledger_id &&
         metadata_number(header, "period") == static_cast<uint64_t>(info.period_id) &&
         metadata_number(header, "export_seq") == state.seq;
}

Result<void> JsonExport::render(int fd, int64_t now, const LedgerInfo& info, uint64_t seq,
                                ExportReport& report) {
  ledger_schema::Queries& queries = store_.queries();
  auto totals = queries.totals(Scope::Period);
  if (!totals) return totals.error();
  auto locals = queries.distinct(Scope::Period, "local");
  if (!locals) return locals.error();
  auto remotes = queries.distinct(Scope::Period, "remote");
  if (!remotes) return remotes.error();

  SourceInfo source;
  json::value whitelist_info;
  {
    std::lock_guard<std::mutex> lock(info_mutex_);
    source = options_.info;
    whitelist_info = whitelist_info_;
    metadata_changed_ = false;
  }
  uint64_t whitelisted_count = 0;
  if (const json::object* w = whitelist_info.if_object())
    if (const json::value* count = w->if_contains("count"); count && count->is_number())
      whitelisted_count = count->to_number<uint64_t>();

  json::object protocols;
  std::map<std::string, ProtocolTotals> by_name;
  for (const auto& [key, p] : totals->by_protocol) {
    ProtocolTotals& named = by_name[protocol_name(key.second)];
    named.flows += p.flows;
    named.counters += p.counters;
  }
  for (const auto& [name, p] : by_name) {
    json::object entry = counters_json(p.counters);
    entry["count"] = p.flows;
    protocols[name] = std::move(entry);
  }
  json::object buckets;
  for (uint8_t id = NETACCT_BUCKET_FIRST; id <= NETACCT_BUCKET_LAST; id++)
    buckets[bucket_name(id)] = counters_json(totals->buckets[id]);
  const BucketCounters& b = totals->buckets;
  uint64_t flows_dropped =
      b[NETACCT_BUCKET_OVERFLOW_V4].rx_packets + b[NETACCT_BUCKET_OVERFLOW_V4].tx_packets +
      b[NETACCT_BUCKET_OVERFLOW_V6].rx_packets + b[NETACCT_BUCKET_OVERFLOW_V6].tx_packets;
  netacct_counters total = totals->flow_total();

  json::object metadata{
      {"timestamp", format_time(now)},
      {"timestamp_utc", format_time_utc(now)},
      {"interface", source.interface},
      {"namespace", source.netns.empty() ? json::value(nullptr) : json::value(source.netns)},
      {"total_entries", totals->flows},
      {"whitelisted_ips_count", whitelisted_count},
      {"tag", source.tag},
      {"schema_version", kOutputSchemaVersion},
      {"ingress_mode", source.ingress_mode},
      {"xdp_mode", source.xdp_mode},
      {"flow_capacity", source.flow_capacity},
      {"boot_id", info.boot_id},
      {"pin_instance", info.pin_instance},
      {"generation", info.generation},
      {"started", format_time(info.period_started)},
      {"started_utc", format_time_utc(info.period_started)},
      {"ledger", store_.path()},
      {"ledger_id", info.ledger_id},
      {"period", info.period_id},
      {"export_seq", seq},
      {"max_idle_days", options_.max_idle_days},
  };
  json::object summary{
      {"total_rx_bytes", total.rx_bytes},
      {"total_tx_bytes", total.tx_bytes},
      {"total_bytes", total.rx_bytes + total.tx_bytes},
      {"total_rx_packets", total.rx_packets},
      {"total_tx_packets", total.tx_packets},
      {"total_packets", total.rx_packets + total.tx_packets},
      {"unique_source_ips", locals.value()},
      {"unique_destination_ips", remotes.value()},
      {"whitelisted_bytes",
       b[NETACCT_BUCKET_WHITELISTED].rx_bytes + b[NETACCT_BUCKET_WHITELISTED].tx_bytes},
      {"flows_dropped", flows_dropped},
  };
  json::object header{
      {"id", source.tag},
      {"metadata", std::move(metadata)},
      {"summary", std::move(summary)},
      {"protocol_breakdown", std::move(protocols)},
      {"buckets", std::move(buckets)},
      {"whitelist_info",
       whitelist_info.is_null() ? json::value(json::object{{"enabled", false}}) : whitelist_info},
  };
  std::string ours = pretty_json(header, 2);
  ours.erase(ours.rfind('}'));
  while (!ours.empty() && (ours.back() == '\n' || ours.back() == ' ')) ours.pop_back();

  FileWriter out(fd);
  out.append("{\n  \"sources\": [\n");
  // Entries in id order, so the file reads the same whoever wrote last.
  bool first = true, placed = false;
  auto separator = [&] {
    if (!first) out.append(",\n");
    first = false;
  };
  auto write_ours = [&]() -> Result<void> {
    separator();
    out.append("    ");
    out.append(ours);
    out.append(",\n      \"traffic_data\": [");
    TimeCache times;
    int64_t cutoff = options_.max_idle_days > 0 ? now - options_.max_idle_days * 86400 : 0;
    Folder folder(cutoff, out, times);
    auto rows = queries.for_each_flow(Scope::Period, [&](const FlowRow& row) {
      folder.add(row);
      return true;
    });
    if (!rows) return rows.error();
    folder.finish();
    out.append(folder.rows() ? "\n      ]\n    }" : "]\n    }");
    report.rows = folder.rows();
    placed = true;
    return ok();
  };
  for (const auto& [id, text] : others_) {
    if (!placed && source.tag < id)
      if (auto done = write_ours(); !done) return done;
    separator();
    out.append("    ");
    out.append(text);
  }
  if (!placed)
    if (auto done = write_ours(); !done) return done;
  out.append("\n  ]\n}\n");
  if (auto flushed = out.flush(); !flushed) return flushed;
  report.bytes = out.written();
  return ok();
}

Result<ExportReport> JsonExport::write(int64_t now) {
  ExportReport report;
  auto lock = FileLock::acquire(options_.path);
  if (!lock) return lock.error();
  if (auto recovered = recover(); !recovered) return recovered.error();
  auto state = store_.queries().export_state();
  if (!state) return state.error();
  auto info = store_.queries().info();
  if (!info) return info.error();

  auto ours = holds_our_export(state.value(), info.value(), now);
  if (!ours) return ours.error();
  if (state->has_file && !ours.value()) {
    if (auto rotated = store_.rotate(now, "rotated"); !rotated) return rotated.error();
    report.rotated = true;
    NA_INFO(
        "output %s was rotated: it holds the period up to the last export; a new period "
        "starts with what was counted since",
        options_.path.c_str());
    state = store_.queries().export_state();
    if (!state) return state.error();
    info = store_.queries().info();
    if (!info) return info.error();
  }

  uint64_t seq = state->seq + 1;
  std::string temp = temp_path();
  ::unlink(temp.c_str());  // a stale one of ours (recover() settled its export)
  // O_EXCL|O_NOFOLLOW after the unlink: a file or link planted in between
  // fails the export instead of being written through.
  UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                     static_cast<mode_t>(options_.file_mode)));
  if (!fd) return make_error("create " + temp, errno);
  ::fchmod(fd.get(), static_cast<mode_t>(options_.file_mode));
  auto abandon = [&](Error error) -> Result<ExportReport> {
    ::unlink(temp.c_str());
    return error;
  };
  if (auto rendered = render(fd.get(), now, info.value(), seq, report); !rendered)
    return abandon(Error{rendered.error().op + " " + temp, rendered.error().err, {}});
  if (::fsync(fd.get()) != 0) return abandon(make_error("fsync " + temp, errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return abandon(make_error("stat " + temp, errno));
  fd.reset();
  if (auto pending = store_.export_pending(seq, FileIdentity::of(st)); !pending)
    return abandon(pending.error());
  if (::rename(temp.c_str(), options_.path.c_str()) != 0) {
    int err = errno;
    ::unlink(temp.c_str());
    (void)store_.export_abandoned();
    return make_error("rename " + temp + " to " + options_.path, err);
  }
  UniqueFd dir(::open(directory_of(options_.path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir) ::fsync(dir.get());
  FileIdentity identity = FileIdentity::of(st);
  if (::stat(options_.path.c_str(), &st) == 0) identity = FileIdentity::of(st);
  if (auto done = store_.export_done(seq, identity, now); !done) return done.error();
  report.written = true;
  return report;
}

Result<bool> JsonExport::import_existing(int64_t now) {
  if (!store_.created()) return false;
  struct stat st {};
  if (::stat(options_.path.c_str(), &st) != 0) return false;
  if (!S_ISREG(st.st_mode))
    return Error{"output " + options_.path + " is not a regular file", EISDIR, {}};
  if (st.st_size == 0) return false;
  auto import = store_.begin_import();
  if (!import) return import.error();
  ScanOptions scan_options;
  scan_options.our_id = options_.info.tag;
  scan_options.on_our_row = [&](const FlowRow& row, uint8_t family) {
    return import->add_flow(row, family);
  };
  auto scanned = scan_output_file(options_.path, scan_options);
  if (!scanned) return scanned.error();
  if (!scanned->ours) return false;  // the import transaction rolls back: nothing was ours
  const json::object& header = scanned->ours->header;
  auto buckets = buckets_of(header, options_.path);
  if (!buckets) return buckets.error();
  for (uint8_t id = NETACCT_BUCKET_FIRST; id <= NETACCT_BUCKET_LAST; id++)
    if (auto added = import->add_bucket(id, buckets.value()[id]); !added) return added.error();
  Binding binding{metadata_text(header, "pin_instance"), metadata_number(header, "generation")};
  int64_t started = parse_time(metadata_text(header, "started"));
  if (auto done = import->finish(binding, started > 0 ? started : now, FileIdentity::of(st), now);
      !done)
    return done.error();
  NA_INFO("ledger %s: seeded from %s (%llu flows, generation %llu of %s): totals continue",
          store_.path().c_str(), options_.path.c_str(),
          static_cast<unsigned long long>(scanned->ours->rows),
          static_cast<unsigned long long>(binding.generation),
          binding.instance.empty() ? "no pinned maps" : binding.instance.c_str());
  return true;
}

}  // namespace netacct
