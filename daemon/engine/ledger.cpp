// SPDX-License-Identifier: GPL-2.0-only
#include "ledger.hpp"

#include <sys/stat.h>

#include <vector>

#include "../common/json_file.hpp"
#include "../common/log.hpp"

namespace netacct {

namespace json = boost::json;

Ledger::Ledger(Datapath& datapath, Harvester& harvester, std::string output_path, SourceInfo info)
    : datapath_(datapath),
      harvester_(harvester),
      output_path_(std::move(output_path)),
      info_(std::move(info)) {}

// Finds our entry in a parsed output file; nullptr if absent.
static const json::object* find_source(const json::value& file, const std::string& id) {
  if (!file.is_object()) return nullptr;
  const json::value* sources = file.get_object().if_contains("sources");
  if (!sources || !sources->is_array()) return nullptr;
  for (const json::value& source : sources->get_array()) {
    if (!source.is_object()) continue;
    const json::value* source_id = source.get_object().if_contains("id");
    if (source_id && source_id->is_string() && source_id->get_string() == id)
      return &source.get_object();
  }
  return nullptr;
}

// Reads the output file; a missing or empty file (logrotate's `create`
// makes an empty one) is an empty store, returned as null.
static Result<json::value> read_store(const std::string& path) {
  auto file = read_json_file(path);
  if (file) return file;
  if (file.error().err == ENOENT) return json::value(nullptr);
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && st.st_size == 0) return json::value(nullptr);
  return file.error();
}

static Result<void> check_shape(const json::value& file, const std::string& path) {
  if (!file.is_object()) return Error{path + ": top level must be an object", 0, {}};
  const json::value* sources = file.get_object().if_contains("sources");
  if (sources && !sources->is_array()) return Error{path + ": 'sources' must be an array", 0, {}};
  return ok();
}

Result<void> Ledger::load() {
  auto meta = harvester_.meta();
  if (!meta) return meta.error();
  instance_ = pin_instance_id(meta.value());

  int64_t now = static_cast<int64_t>(std::time(nullptr));
  totals_ = Totals{};
  totals_.started = now;
  totals_.boot_id = boot_id_text(meta->boot_id);

  auto file = read_store(output_path_);
  if (!file) return file.error();
  if (file->is_null()) return ok();  // first start: nothing yet
  if (auto shape = check_shape(file.value(), output_path_); !shape) return shape.error();
  const json::object* source = find_source(file.value(), info_.tag);
  if (!source) return ok();
  auto loaded = totals_from_json(*source, output_path_);
  if (!loaded) return loaded.error();
  totals_ = std::move(loaded.value());
  if (totals_.started <= 0) totals_.started = now;
  totals_.boot_id = boot_id_text(meta->boot_id);
  if (totals_.pin_instance != instance_) {
    // Other pinned maps than the file's (a reboot, or a cleanup): their
    // generations are a new line; the file's totals simply continue.
    NA_INFO("output %s: continuing totals from %s (new pinned maps %s)", output_path_.c_str(),
            totals_.pin_instance.empty() ? "an earlier run" : totals_.pin_instance.c_str(),
            instance_.c_str());
  }
  return ok();
}

static bool same_file_state(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino && a.st_size == b.st_size &&
         a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec;
}

Result<void> Ledger::refresh_others(int64_t now) {
  struct stat now_stat {};
  if (::stat(output_path_.c_str(), &now_stat) != 0) {
    others_.clear();  // no file (first write, or rotated away)
    others_valid_ = true;
    return ok();
  }
  if (others_valid_ && same_file_state(now_stat, written_)) return ok();

  others_.clear();
  auto existing = read_store(output_path_);
  if (!existing) {
    // Unparseable: move it aside rather than lose or keep failing on it.
    std::string aside = output_path_ + ".corrupt-" + std::to_string(now);
    NA_WARN("%s; moved to %s", existing.error().message().c_str(), aside.c_str());
    ::rename(output_path_.c_str(), aside.c_str());
  } else if (!existing->is_null()) {
    if (auto shape = check_shape(existing.value(), output_path_); !shape) {
      NA_WARN("%s; rewriting it with this source only", shape.error().message().c_str());
    } else if (const json::value* sources = existing->get_object().if_contains("sources")) {
      for (const json::value& source : sources->get_array()) {
        const json::value* id =
            source.is_object() ? source.get_object().if_contains("id") : nullptr;
        std::string name = id && id->is_string() ? std::string(id->get_string()) : std::string();
        if (name == info_.tag) continue;
        others_.push_back({name, pretty_json(source, 2)});
      }
    }
  }
  others_valid_ = true;
  return ok();
}

Result<void> Ledger::write_file(int64_t now) {
  auto lock = FileLock::acquire(output_path_);
  if (!lock) return lock.error();
  // Other instances may share the file: keep their entries as they are.
  if (auto refreshed = refresh_others(now); !refreshed) return refreshed.error();

  json::value whitelist_info;
  {
    std::lock_guard<std::mutex> guard(whitelist_mutex_);
    whitelist_info = whitelist_info_;
  }
  std::string ours = render_source(totals_, info_, whitelist_info, now, 2);

  // Entries in id order, so the file reads the same whoever wrote last.
  std::vector<const std::string*> entries;
  bool placed = false;
  for (const OtherSource& other : others_) {
    if (!placed && info_.tag < other.id) {
      entries.push_back(&ours);
      placed = true;
    }
    entries.push_back(&other.text);
  }
  if (!placed) entries.push_back(&ours);
  std::string text = "{\n  \"sources\": [\n";
  for (size_t i = 0; i < entries.size(); i++) {
    text += "    " + *entries[i];
    text += i + 1 < entries.size() ? ",\n" : "\n";
  }
  text += "  ]\n}\n";
  if (auto written = write_file_atomic(output_path_, text); !written) {
    others_valid_ = false;
    return written;
  }
  if (::stat(output_path_.c_str(), &written_) != 0) others_valid_ = false;
  return ok();
}

Result<void> Ledger::commit(uint64_t generation, const Delta& delta, int64_t now) {
  TotalsUndo undo;  // a failed write must leave the totals exactly as before
  totals_.add(delta, now, &undo);
  totals_.generation = generation;
  totals_.pin_instance = instance_;
  if (auto written = write_file(now); !written) {
    undo.restore(totals_);
    return written.error();
  }
  return ok();
}

Result<void> Ledger::finish(uint64_t generation, Delta& delta) {
  if (auto cleared = harvester_.clear_idle(delta); !cleared) return cleared.error();
  return harvester_.set_state(generation, NETACCT_PHASE_IDLE);
}

Result<Delta> Ledger::recover(int64_t now) {
  auto meta = harvester_.meta();
  if (!meta) return meta.error();
  if (meta->phase != NETACCT_PHASE_DRAINING) return Delta{};
  uint64_t generation = meta->generation;
  auto delta = harvester_.read_idle();
  if (!delta) return delta.error();
  bool committed = totals_.pin_instance == instance_ && totals_.generation >= generation;
  if (committed) {
    NA_INFO("harvest %llu was already in %s: clearing its buffer",
            static_cast<unsigned long long>(generation), output_path_.c_str());
  } else {
    NA_INFO("completing interrupted harvest %llu (%zu flows)",
            static_cast<unsigned long long>(generation), delta->flows.size());
    if (auto done = commit(generation, delta.value(), now); !done) return done.error();
  }
  if (auto done = finish(generation, delta.value()); !done) return done.error();
  if (committed) return Delta{};
  return delta;
}

Result<Delta> Ledger::harvest(int64_t now) {
  auto pending = recover(now);
  if (!pending) return pending.error();

  auto meta = harvester_.meta();
  if (!meta) return meta.error();
  uint64_t generation = meta->generation + 1;
  if (auto marked = harvester_.set_state(generation, NETACCT_PHASE_DRAINING); !marked)
    return marked.error();
  uint64_t swap_ns = 0;
  if (auto swapped = harvester_.swap(&swap_ns); !swapped) return swapped.error();
  auto delta = harvester_.read_idle();
  if (!delta) return delta.error();
  delta->swap_ns = swap_ns;
  if (auto done = commit(generation, delta.value(), now); !done) return done.error();
  if (auto done = finish(generation, delta.value()); !done) return done.error();

  // Report what the interrupted harvest added too.
  for (const FlowDelta& flow : pending->flows) delta->flows.push_back(flow);
  for (size_t i = 0; i < delta->buckets.size(); i++) delta->buckets[i] += pending->buckets[i];
  return delta;
}

Result<bool> Ledger::reopen(int64_t now) {
  auto file = read_store(output_path_);
  bool present = false;
  if (file) {
    present = find_source(file.value(), info_.tag) != nullptr;
  } else {
    NA_WARN("%s", file.error().message().c_str());
  }
  if (present) return false;
  // Rotated: the old file keeps everything up to now, the new one starts at
  // zero. The generation binding continues, so crash recovery stays exact.
  Totals fresh;
  fresh.generation = totals_.generation;
  fresh.pin_instance = totals_.pin_instance;
  fresh.boot_id = totals_.boot_id;
  fresh.started = now;
  totals_ = std::move(fresh);
  return true;
}

}  // namespace netacct
