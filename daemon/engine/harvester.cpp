// SPDX-License-Identifier: GPL-2.0-only
#include "harvester.hpp"

#include <bpf/bpf.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <optional>

#include "../common/unique_fd.hpp"

namespace netacct {

namespace {

uint64_t now_ns() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

Result<uint32_t> map_id(int fd) {
  bpf_map_info info{};
  uint32_t len = sizeof info;
  if (bpf_obj_get_info_by_fd(fd, &info, &len) != 0) return make_error("inspect map", errno);
  return info.id;
}

}  // namespace

Harvester::Harvester(Datapath& datapath, uint32_t batch_size)
    : datapath_(datapath), batch_size_(batch_size) {}

// Which of the two maps (fd_of(0), fd_of(1)) the one-slot outer map holds.
template <typename FdOf>
Result<int> slot_index(int slot_fd, FdOf fd_of, const char* what) {
  uint32_t zero = 0;
  uint32_t inner_id = 0;
  // A lookup on a map-of-maps from user space yields the inner map's id.
  if (bpf_map_lookup_elem(slot_fd, &zero, &inner_id) != 0)
    return make_error(std::string("read ") + what + " slot", errno);
  for (int index = 0; index < 2; index++) {
    auto id = map_id(fd_of(index));
    if (!id) return id.error();
    if (id.value() == inner_id) return index;
  }
  return Error{std::string(what) + " slot points at neither buffer", EPROTO, {}};
}

Result<int> Harvester::active_index() {
  if (active_index_ >= 0) return active_index_;
  auto index = slot_index(
      datapath_.active_slot_fd(), [&](int i) { return datapath_.flows_fd(i); }, "active flow");
  if (!index) return index.error();
  active_index_ = index.value();
  if (auto aligned = align_prefix_slot(); !aligned) {
    active_index_ = -1;
    return aligned.error();
  }
  return active_index_;
}

Result<void> Harvester::set_prefix_slot(int index) {
  int fd = datapath_.prefix_fd(index);
  uint32_t zero = 0;
  // Returns after synchronize_rcu(), like the flow slot's update.
  if (bpf_map_update_elem(datapath_.prefix_slot_fd(), &zero, &fd, BPF_ANY) != 0)
    return make_error("swap prefix buffers", errno, datapath_.tag());
  prefix_index_ = index;
  return ok();
}

Result<void> Harvester::align_prefix_slot() {
  if (prefix_index_ < 0) {
    auto index = slot_index(
        datapath_.prefix_slot_fd(), [&](int i) { return datapath_.prefix_fd(i); }, "active prefix");
    if (!index) return index.error();
    prefix_index_ = index.value();
  }
  if (prefix_index_ == active_index_) return ok();
  return set_prefix_slot(active_index_);
}

int Harvester::idle_fd() {
  return datapath_.flows_fd(1 - active_index_);
}

int Harvester::idle_prefix_fd() {
  return datapath_.prefix_fd(1 - active_index_);
}

Result<void> Harvester::swap(uint64_t* elapsed_ns) {
  auto current = active_index();
  if (!current) return current.error();
  int next = 1 - current.value();
  int next_fd = datapath_.flows_fd(next);
  uint32_t zero = 0;
  uint64_t start = now_ns();
  // Returns after synchronize_rcu(): no program still writes the old buffer.
  if (bpf_map_update_elem(datapath_.active_slot_fd(), &zero, &next_fd, BPF_ANY) != 0)
    return make_error("swap flow buffers", errno, datapath_.tag());
  active_index_ = next;
  if (auto aligned = align_prefix_slot(); !aligned) return aligned.error();
  if (elapsed_ns) *elapsed_ns = now_ns() - start;
  return ok();
}

Result<void> Harvester::read_buffer(int fd, Delta& out, std::vector<netacct_flow_key>& drained) {
  keys_.resize(batch_size_);
  values_.resize(batch_size_);
  LIBBPF_OPTS(bpf_map_batch_opts, opts);
  uint32_t in_batch = 0;
  uint32_t out_batch = 0;
  bool first = true;
  // A flow counted under several whitelist generations has a row for each:
  // their sum is the flow's. Rare (a whitelist update in the interval), so
  // the merge runs only when it happens.
  std::optional<uint16_t> generation;
  bool mixed_generations = false;
  for (;;) {
    uint32_t count = static_cast<uint32_t>(keys_.size());
    int err = bpf_map_lookup_batch(fd, first ? nullptr : &in_batch, &out_batch, keys_.data(),
                                   values_.data(), &count, &opts);
    if (err != 0 && errno == ENOSPC && count == 0) {
      // One hash bucket holds more entries than fit: retry with more room.
      keys_.resize(keys_.size() * 2);
      values_.resize(values_.size() * 2);
      continue;
    }
    if (err != 0 && errno != ENOENT) return make_error("read flow buffer", errno, datapath_.tag());
    for (uint32_t i = 0; i < count; i++) {
      netacct_flow_key key = keys_[i];
      if (is_bucket(key)) {
        if (key.protocol >= NETACCT_BUCKET_FIRST && key.protocol <= NETACCT_BUCKET_LAST)
          out.buckets[key.protocol] += values_[i];
        continue;
      }
      drained.push_back(key);  // the row as the kernel keys it, for clear_idle
      const uint16_t kind = key.pad & NETACCT_KEY_KIND_MASK;
      if (kind == NETACCT_KEY_WHITELISTED) {
        out.buckets[NETACCT_BUCKET_WHITELISTED] += values_[i];
        continue;
      }
      if (kind == NETACCT_KEY_FLOW || key.pad == 0) {
        const uint16_t row_generation = key.pad & NETACCT_KEY_GENERATION_MASK;
        if (generation && *generation != row_generation) mixed_generations = true;
        generation = row_generation;
        key.pad = 0;  // a flow, whatever generation counted it
      }
      out.flows.push_back(FlowDelta{key, values_[i]});
    }
    if (batch_hook_) batch_hook_();
    if (err != 0) break;  // ENOENT: that was the last batch
    in_batch = out_batch;
    first = false;
  }
  if (mixed_generations) merge_duplicate_flows(out);
  return ok();
}

void Harvester::merge_duplicate_flows(Delta& delta) {
  std::sort(delta.flows.begin(), delta.flows.end(), [](const FlowDelta& a, const FlowDelta& b) {
    return std::memcmp(&a.key, &b.key, sizeof a.key) < 0;
  });
  std::vector<FlowDelta> merged;
  merged.reserve(delta.flows.size());
  for (const FlowDelta& flow : delta.flows) {
    if (!merged.empty() && merged.back().key == flow.key)
      merged.back().counters += flow.counters;
    else
      merged.push_back(flow);
  }
  delta.flows = std::move(merged);
}

Result<Delta> Harvester::read_idle() {
  if (auto current = active_index(); !current) return current.error();
  // A swap whose prefix half failed: the prefix slot must follow first.
  if (auto aligned = align_prefix_slot(); !aligned) return aligned.error();
  Delta delta;
  uint64_t start = now_ns();
  drained_flow_keys_.clear();
  drained_prefix_keys_.clear();
  if (auto read = read_buffer(idle_fd(), delta, drained_flow_keys_); !read) return read.error();
  if (auto read = read_buffer(idle_prefix_fd(), delta, drained_prefix_keys_); !read)
    return read.error();
  delta.read_ns = now_ns() - start;
  return delta;
}

Result<void> Harvester::clear_idle(Delta& read) {
  if (auto current = active_index(); !current) return current.error();
  if (auto aligned = align_prefix_slot(); !aligned) return aligned.error();
  int fd = idle_fd();
  uint64_t start = now_ns();
  // The rows read_idle saw, as the kernel keys them (the Delta's flow keys
  // are stripped of their whitelist generation and merged).
  if (renew_pays_off(drained_flow_keys_.size())) {
    // A fresh buffer costs about what deleting capacity / kRenewFraction
    // keys costs, whatever it held: cheaper once the buffer was that full.
    if (auto renewed = datapath_.renew_flow_buffer(1 - active_index_); !renewed)
      return renewed.error();
  } else {
    if (auto deleted = delete_keys(fd, drained_flow_keys_); !deleted) return deleted.error();
    for (uint8_t bucket = NETACCT_BUCKET_FIRST; bucket <= NETACCT_BUCKET_LAST; bucket++) {
      netacct_flow_key key{};
      key.family = NETACCT_FAMILY_BUCKET;
      key.protocol = bucket;
      netacct_counters zero{};
      if (bpf_map_update_elem(fd, &key, &zero, BPF_ANY) != 0)
        return make_error("reset bucket", errno, bucket_name(bucket));
    }
  }
  if (auto deleted = delete_keys(idle_prefix_fd(), drained_prefix_keys_); !deleted)
    return deleted.error();
  read.clear_ns = now_ns() - start;
  return ok();
}

bool Harvester::renew_pays_off(size_t keys) const {
  return keys > 0 && keys >= datapath_.flow_capacity() / kRenewFraction;
}

Result<void> Harvester::delete_keys(int fd, const std::vector<netacct_flow_key>& keys) {
  LIBBPF_OPTS(bpf_map_batch_opts, opts);
  size_t done = 0;
  while (done < keys.size()) {
    uint32_t count = static_cast<uint32_t>(std::min<size_t>(batch_size_, keys.size() - done));
    // The batch call takes a non-const pointer but only reads the keys.
    auto* batch = const_cast<netacct_flow_key*>(keys.data() + done);
    if (bpf_map_delete_batch(fd, batch, &count, &opts) != 0) {
      // ENOENT: a key is already gone (a repeated clear after a crash):
      // skip it and go on with the rest of the batch.
      if (errno != ENOENT) return make_error("clear flow buffer", errno, datapath_.tag());
      done += count + 1;
      continue;
    }
    done += count;
    if (batch_hook_) batch_hook_();
  }
  return ok();
}

Result<Delta> Harvester::harvest() {
  uint64_t swap_ns = 0;
  if (auto swapped = swap(&swap_ns); !swapped) return swapped.error();
  auto delta = read_idle();
  if (!delta) return delta.error();
  delta->swap_ns = swap_ns;
  if (auto cleared = clear_idle(delta.value()); !cleared) return cleared.error();
  return delta;
}

Result<netacct_meta> Harvester::meta() {
  netacct_meta value{};
  uint32_t zero = 0;
  if (bpf_map_lookup_elem(datapath_.meta_fd(), &zero, &value) != 0)
    return make_error("read meta map", errno, datapath_.tag());
  return value;
}

Result<void> Harvester::set_state(uint64_t generation, uint32_t phase) {
  auto current = meta();
  if (!current) return current.error();
  current->generation = generation;
  current->phase = phase;
  uint32_t zero = 0;
  if (bpf_map_update_elem(datapath_.meta_fd(), &zero, &current.value(), BPF_ANY) != 0)
    return make_error("write meta map", errno, datapath_.tag());
  return ok();
}

}  // namespace netacct
