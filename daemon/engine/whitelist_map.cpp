// SPDX-License-Identifier: GPL-2.0-only
#include "whitelist_map.hpp"

#include <bpf/bpf.h>

#include <chrono>
#include <cstring>
#include <optional>
#include <utility>
#include <vector>

namespace netacct {

namespace {

netacct_wl_key to_key(const Prefix& prefix) {
  netacct_wl_key key{};
  key.prefixlen = NETACCT_WL_KEY_PREFIX_BITS + prefix.length;
  key.family = prefix.family;
  std::memcpy(key.addr, prefix.addr, 16);
  return key;
}

Prefix from_key(const netacct_wl_key& key) {
  Prefix prefix;
  prefix.family = key.family;
  prefix.length = static_cast<uint8_t>(key.prefixlen - NETACCT_WL_KEY_PREFIX_BITS);
  std::memcpy(prefix.addr, key.addr, 16);
  return prefix;
}

bool needs_local(const std::map<Prefix, uint32_t>& entries) {
  for (const auto& [prefix, match] : entries)
    if (match & NETACCT_WL_MATCH_LOCAL) return true;
  return false;
}

}  // namespace

void WhitelistMap::set_runtime(size_t entries, bool local_match) {
  // Plain stores into the mmaped .bss: programs read them per packet.
  datapath_.runtime().whitelist_entries = static_cast<uint32_t>(entries);
  datapath_.runtime().local_match = local_match ? 1 : 0;
  // Rows counted so far keep the answer they got; later packets ask anew.
  datapath_.next_key_generation();
}

Result<void> WhitelistMap::load_current() {
  current_.clear();
  int fd = datapath_.whitelist_fd();
  netacct_wl_key key{}, next{};
  netacct_wl_key* previous = nullptr;
  while (bpf_map_get_next_key(fd, previous, &next) == 0) {
    netacct_wl_value value{};
    if (bpf_map_lookup_elem(fd, &next, &value) == 0) current_[from_key(next)] = value.match;
    key = next;
    previous = &key;
  }
  if (errno != ENOENT) return make_error("read whitelist map", errno, datapath_.tag());
  set_runtime(current_.size(), needs_local(current_));
  return ok();
}

Result<void> WhitelistMap::roll_back(
    const std::vector<std::pair<Prefix, std::optional<uint32_t>>>& undo) {
  int fd = datapath_.whitelist_fd();
  Result<void> result = ok();
  // Removals first: they free the room the restored values may need.
  for (auto it = undo.rbegin(); it != undo.rend(); ++it) {
    if (it->second) continue;
    netacct_wl_key key = to_key(it->first);
    if (bpf_map_delete_elem(fd, &key) != 0 && errno != ENOENT && result)
      result = make_error("whitelist delete " + it->first.to_string(), errno, datapath_.tag());
    current_.erase(it->first);
  }
  for (auto it = undo.rbegin(); it != undo.rend(); ++it) {
    if (!it->second) continue;
    netacct_wl_key key = to_key(it->first);
    netacct_wl_value value{*it->second, 0};
    if (bpf_map_update_elem(fd, &key, &value, BPF_ANY) != 0 && result)
      result = make_error("whitelist restore " + it->first.to_string(), errno, datapath_.tag());
    current_[it->first] = *it->second;
  }
  set_runtime(current_.size(), needs_local(current_));
  return result;
}

Result<WhitelistApplyStats> WhitelistMap::apply(const std::map<Prefix, uint32_t>& entries) {
  auto started = std::chrono::steady_clock::now();
  if (entries.size() > datapath_.whitelist_capacity()) {
    return Error{"whitelist has " + std::to_string(entries.size()) + " prefixes; the capacity is " +
                     std::to_string(datapath_.whitelist_capacity()) +
                     " (raise --max-whitelist and run netacct-cleanup on the tag)",
                 0, datapath_.tag()};
  }
  WhitelistApplyStats stats;
  int fd = datapath_.whitelist_fd();

  // Lookups must be on while both versions are in the trie.
  set_runtime(std::max(entries.size(), current_.size()),
              needs_local(entries) || needs_local(current_));

  // What each insert replaced, so a failure part way can be undone: the
  // previous whitelist is then in force again, complete.
  std::vector<std::pair<Prefix, std::optional<uint32_t>>> undo;
  for (const auto& [prefix, match] : entries) {
    auto it = current_.find(prefix);
    if (it != current_.end() && it->second == match) continue;
    netacct_wl_key key = to_key(prefix);
    netacct_wl_value value{match, 0};
    int rc = fail_insert_at_ && undo.size() + 1 == fail_insert_at_
                 ? -EIO
                 : bpf_map_update_elem(fd, &key, &value, BPF_ANY);
    if (rc != 0) {
      int err = rc < 0 && rc != -1 ? -rc : errno;
      Error error = make_error("whitelist insert " + prefix.to_string(), err, datapath_.tag());
      if (auto undone = roll_back(undo); !undone)
        error.op += "; rolling back failed too: " + undone.error().message();
      else
        error.op += " (the previous whitelist stays in force)";
      return error;
    }
    undo.emplace_back(prefix, it == current_.end() ? std::nullopt : std::optional(it->second));
    (it == current_.end() ? stats.added : stats.changed)++;
    current_[prefix] = match;
  }
  std::vector<Prefix> gone;
  for (const auto& [prefix, match] : current_)
    if (!entries.count(prefix)) gone.push_back(prefix);
  for (const Prefix& prefix : gone) {
    netacct_wl_key key = to_key(prefix);
    if (bpf_map_delete_elem(fd, &key) != 0 && errno != ENOENT)
      return make_error("whitelist delete " + prefix.to_string(), errno, datapath_.tag());
    current_.erase(prefix);
    stats.removed++;
  }
  set_runtime(current_.size(), needs_local(current_));
  stats.total = current_.size();
  stats.elapsed_ns = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                               std::chrono::steady_clock::now() - started)
                                               .count());
  return stats;
}

}  // namespace netacct
