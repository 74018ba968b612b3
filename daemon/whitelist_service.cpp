// SPDX-License-Identifier: GPL-2.0-only
#include "whitelist_service.hpp"

#include <unistd.h>

#include <ctime>

#include "common/log.hpp"
#include "common/time_text.hpp"

namespace netacct {

namespace json = boost::json;

WhitelistService::WhitelistService(std::string path, Datapath& datapath)
    : path_(std::move(path)), datapath_(datapath), map_(datapath) {}

Result<std::optional<Whitelist>> WhitelistService::preload(const std::string& path,
                                                           size_t max_entries) {
  if (path.empty() || ::access(path.c_str(), F_OK) != 0) return std::optional<Whitelist>{};
  auto loaded = load_whitelist_file(path, max_entries);
  if (!loaded) return loaded.error();
  return std::optional<Whitelist>(std::move(loaded.value()));
}

Result<void> WhitelistService::start(std::optional<Whitelist> initial) {
  if (auto read = map_.load_current(); !read) return read.error();
  if (!initial) {
    NA_INFO("no whitelist file at %s: nothing excluded (create it to whitelist peers)",
            path_.c_str());
    initial = Whitelist{};
  }
  for (const std::string& warning : initial->warnings) NA_WARN("%s", warning.c_str());
  auto applied = map_.apply(initial->entries);
  if (!applied) return applied.error();
  active_ = std::move(initial);
  record(true, "ok", &applied.value());
  NA_INFO("whitelist: %zu prefixes in %zu enabled groups (%zu added, %zu removed, %.1f ms)",
          applied->total, active_->enabled_group_count(), applied->added, applied->removed,
          static_cast<double>(applied->elapsed_ns) / 1e6);
  return ok();
}

void WhitelistService::record(bool ok, const std::string& result,
                              const WhitelistApplyStats* stats) {
  last_ok_ = ok;
  last_result_ = result;
  last_time_ = static_cast<int64_t>(std::time(nullptr));
  if (stats) last_stats_ = *stats;
  reloads_++;
}

bool WhitelistService::reload(Trigger trigger) {
  const char* why = trigger == Trigger::Signal ? "SIGHUP" : "file changed";
  if (trigger == Trigger::FileChange && !auto_reload()) {
    NA_INFO("whitelist %s changed; auto_reload is off, send SIGHUP to apply", path_.c_str());
    return false;
  }
  if (::access(path_.c_str(), F_OK) != 0) {
    NA_WARN("whitelist %s is gone (%s): keeping the last good version (%zu prefixes)",
            path_.c_str(), why, count());
    record(false, "error: file missing; kept last good version", nullptr);
    return false;
  }
  auto loaded = load_whitelist_file(path_, datapath_.whitelist_capacity());
  if (!loaded) {
    NA_ERROR("whitelist reload rejected, keeping the last good version: %s",
             loaded.error().message().c_str());
    record(false, "error: " + loaded.error().message(), nullptr);
    return false;
  }
  for (const std::string& warning : loaded->warnings) NA_WARN("%s", warning.c_str());
  auto applied = map_.apply(loaded->entries);
  if (!applied) {
    NA_ERROR("whitelist reload failed: %s", applied.error().message().c_str());
    record(false, "error: " + applied.error().message(), nullptr);
    return false;
  }
  active_ = std::move(loaded.value());
  record(true, "ok", &applied.value());
  NA_INFO("whitelist reloaded (%s): %zu prefixes, +%zu -%zu ~%zu in %.1f ms", why, applied->total,
          applied->added, applied->removed, applied->changed,
          static_cast<double>(applied->elapsed_ns) / 1e6);
  return true;
}

std::string WhitelistService::sample_text(size_t n) const {
  std::string text;
  if (!active_) return text;
  for (const std::string& item : active_->sample(n)) text += (text.empty() ? "" : ", ") + item;
  return text;
}

json::value WhitelistService::info_json() const {
  json::array samples, groups;
  if (active_) {
    for (const std::string& item : active_->sample(5)) samples.emplace_back(item);
    for (const WhitelistGroup& group : active_->groups) {
      groups.push_back(json::object{
          {"name", group.name},
          {"description", group.description},
          {"enabled", group.enabled},
          {"match", (group.match & NETACCT_WL_MATCH_LOCAL) ? "any" : "remote"},
          {"ips", group.ips.size()},
          {"cidrs", group.cidrs.size()},
      });
    }
  }
  return json::object{
      {"enabled", count() > 0},
      {"count", count()},
      {"sample_ips", std::move(samples)},
      {"file", path_},
      {"auto_reload", auto_reload()},
      {"groups", std::move(groups)},
      {"reloads", reloads_},
      {"last_reload",
       json::object{
           {"time", format_time(last_time_)},
           {"result", last_result_},
           {"ok", last_ok_},
           {"added", last_stats_.added},
           {"removed", last_stats_.removed},
           {"changed", last_stats_.changed},
           {"elapsed_ms", static_cast<double>(last_stats_.elapsed_ns) / 1e6},
       }},
  };
}

}  // namespace netacct
