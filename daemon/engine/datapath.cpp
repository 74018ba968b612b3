// SPDX-License-Identifier: GPL-2.0-only
#include "datapath.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <optional>
#include <vector>

#include "../common/log.hpp"
#include "../common/unique_fd.hpp"
#include "netacct.skel.h"

namespace netacct {

void Datapath::SkelDeleter::operator()(netacct_bpf* skel) const {
  netacct_bpf::destroy(skel);
}
Datapath::~Datapath() = default;

int Datapath::xdp_ingress_fd() const {
  return bpf_program__fd(skel_->progs.netacct_xdp_in);
}
int Datapath::tc_ingress_fd() const {
  return bpf_program__fd(skel_->progs.netacct_tc_in);
}
int Datapath::tc_egress_fd() const {
  return bpf_program__fd(skel_->progs.netacct_tc_eg);
}
int Datapath::flows_fd(int index) const {
  return bpf_map__fd(index == 0 ? skel_->maps.flows_a : skel_->maps.flows_b);
}
int Datapath::active_slot_fd() const {
  return bpf_map__fd(skel_->maps.active_flows);
}
int Datapath::prefix_fd(int index) const {
  return bpf_map__fd(index == 0 ? skel_->maps.prefix_a : skel_->maps.prefix_b);
}
int Datapath::prefix_slot_fd() const {
  return bpf_map__fd(skel_->maps.active_prefix);
}
int Datapath::whitelist_fd() const {
  return bpf_map__fd(skel_->maps.whitelist);
}
int Datapath::meta_fd() const {
  return bpf_map__fd(skel_->maps.meta);
}
netacct_runtime& Datapath::runtime() {
  return skel_->bss->runtime;
}

Result<netacct_meta> read_pinned_meta(const std::string& pin_path) {
  std::string path = pin_path + "/meta";
  UniqueFd fd(bpf_obj_get(path.c_str()));
  if (!fd) return make_error("open pinned map", errno, path);
  netacct_meta meta{};
  uint32_t zero = 0;
  // A map of an older layout may have another value size: the kernel then
  // refuses the lookup with EINVAL before touching our buffer... unless it is
  // larger, so check the size first.
  bpf_map_info info{};
  uint32_t info_len = sizeof info;
  if (bpf_obj_get_info_by_fd(fd.get(), &info, &info_len) != 0)
    return make_error("inspect pinned map", errno, path);
  if (info.value_size != sizeof meta) {
    return Error{"pinned meta map has value size " + std::to_string(info.value_size) +
                     ", this build expects " + std::to_string(sizeof meta),
                 EPROTO, path};
  }
  if (bpf_map_lookup_elem(fd.get(), &zero, &meta) != 0)
    return make_error("read pinned map", errno, path);
  return meta;
}

Result<void> insert_bucket_keys(int flows_fd) {
  for (uint8_t bucket = NETACCT_BUCKET_FIRST; bucket <= NETACCT_BUCKET_LAST; bucket++) {
    netacct_flow_key key{};
    key.family = NETACCT_FAMILY_BUCKET;
    key.protocol = bucket;
    netacct_counters zero{};
    // NOEXIST: never reset a bucket that already holds counts.
    if (bpf_map_update_elem(flows_fd, &key, &zero, BPF_NOEXIST) != 0 && errno != EEXIST)
      return make_error("insert bucket key", errno, "bucket " + std::to_string(bucket));
  }
  return ok();
}

void Datapath::next_key_generation() {
  key_generation_ = (key_generation_ + 1) & NETACCT_KEY_GENERATION_MASK;
  runtime().key_generation = key_generation_;  // a plain store into the mmaped .bss
}

// The highest whitelist generation among the flow rows of a buffer, so a new
// process (whose .bss starts at 0) never reuses one an adopted row was
// counted under with another whitelist.
static Result<uint32_t> highest_key_generation(int fd) {
  constexpr uint32_t kBatch = 8192;
  std::vector<netacct_flow_key> keys(kBatch);
  std::vector<netacct_counters> values(kBatch);
  LIBBPF_OPTS(bpf_map_batch_opts, opts);
  uint32_t in_batch = 0, out_batch = 0, highest = 0;
  for (bool first = true;; first = false) {
    uint32_t count = kBatch;
    int err = bpf_map_lookup_batch(fd, first ? nullptr : &in_batch, &out_batch, keys.data(),
                                   values.data(), &count, &opts);
    if (err != 0 && errno != ENOENT) return make_error("scan flow buffer", errno);
    for (uint32_t i = 0; i < count; i++)
      if (keys[i].pad & NETACCT_KEY_KIND_MASK)
        highest = std::max<uint32_t>(highest, keys[i].pad & NETACCT_KEY_GENERATION_MASK);
    if (err != 0) return highest;
    in_batch = out_batch;
  }
}

Result<void> Datapath::renew_flow_buffer(int index) {
  bpf_map* map = index == 0 ? skel_->maps.flows_a : skel_->maps.flows_b;
  LIBBPF_OPTS(bpf_map_create_opts, create, .map_flags = bpf_map__map_flags(map));
  UniqueFd fresh(bpf_map_create(bpf_map__type(map), bpf_map__name(map), bpf_map__key_size(map),
                                bpf_map__value_size(map), bpf_map__max_entries(map), &create));
  if (!fresh) return make_error("create flow buffer", errno, tag_);
  if (auto inserted = insert_bucket_keys(fresh.get()); !inserted) return inserted.error();
  if (!pin_path_.empty()) {
    const std::string path = pin_path_ + "/" + bpf_map__name(map);
    const std::string temporary = path + pin::kRenewSuffix;
    ::unlink(temporary.c_str());
    if (bpf_obj_pin(fresh.get(), temporary.c_str()) != 0)
      return make_error("pin new flow buffer", errno, temporary);
    if (::rename(temporary.c_str(), path.c_str()) != 0) {
      int err = errno;
      ::unlink(temporary.c_str());
      return make_error("replace flow buffer pin", err, path);
    }
  }
  // The skeleton keeps its own duplicate; `fresh` closes ours.
  if (int err = bpf_map__reuse_fd(map, fresh.get()); err != 0)
    return make_error("adopt new flow buffer", -err, tag_);
  return ok();
}

static void read_boot_id(uint8_t out[16]) {
  std::memset(out, 0, 16);
  std::ifstream file("/proc/sys/kernel/random/boot_id");
  std::string text;
  std::getline(file, text);
  int filled = 0;
  for (size_t i = 0; i + 1 < text.size() && filled < 16; i++) {
    if (text[i] == '-') continue;
    out[filled++] = static_cast<uint8_t>(std::stoi(text.substr(i, 2), nullptr, 16));
    i++;
  }
}

// Checks an existing pin directory before libbpf tries to reuse it, so an
// incompatible layout gets a clear instruction instead of libbpf's
// "couldn't reuse pinned map".
static Result<bool> inspect_existing(const pin::PinDir& dir, DatapathOptions& options) {
  if (!dir.has("meta")) {
    for (const char* name : {"flows_a", "flows_b", "active_flows", "whitelist"}) {
      if (dir.has(name)) {
        return Error{"pin directory is incomplete (has " + std::string(name) +
                         " but no meta); remove it with: netacct-cleanup --force " + dir.tag(),
                     EPROTO, dir.path()};
      }
    }
    return false;
  }
  auto meta = read_pinned_meta(dir.path());
  if (!meta) {
    Error error = meta.error();
    error.op +=
        "; the pins come from an incompatible netacct build: harvest with that build, or "
        "remove them with 'netacct-cleanup --force " +
        dir.tag() + "' (loses counts not yet harvested)";
    return error;
  }
  if (meta->magic != NETACCT_META_MAGIC) return false;  // creation was interrupted: redo it
  if (meta->layout_version != NETACCT_LAYOUT_VERSION) {
    return Error{"pinned maps use layout v" + std::to_string(meta->layout_version) +
                     ", this build uses v" + std::to_string(NETACCT_LAYOUT_VERSION) +
                     ": harvest with the matching build, or remove them with 'netacct-cleanup "
                     "--force " +
                     dir.tag() + "' (loses counts not yet harvested)",
                 EPROTO, dir.path()};
  }
  if (meta->flow_capacity != options.flow_capacity ||
      meta->wl_capacity != options.whitelist_capacity) {
    NA_WARN(
        "pinned maps of tag %s hold %u flows / %u whitelist prefixes; keeping those "
        "(requested %u / %u applies after netacct-cleanup)",
        dir.tag().c_str(), meta->flow_capacity, meta->wl_capacity, options.flow_capacity,
        options.whitelist_capacity);
    options.flow_capacity = meta->flow_capacity;
    options.whitelist_capacity = meta->wl_capacity;
  }
  // The prefix buffers came later than layout v1: a pin directory of an
  // earlier build has none (libbpf creates them), one of this build keeps
  // its size, which libbpf would otherwise refuse to reuse.
  if (dir.has("prefix_a")) {
    std::string path = dir.object_path("prefix_a");
    UniqueFd fd(bpf_obj_get(path.c_str()));
    bpf_map_info info{};
    uint32_t info_len = sizeof info;
    if (!fd || bpf_obj_get_info_by_fd(fd.get(), &info, &info_len) != 0)
      return make_error("inspect pinned map", errno, path);
    if (info.max_entries != options.prefix_capacity) {
      NA_WARN("pinned prefix buffers of tag %s hold %u rows; keeping those (requested %u)",
              dir.tag().c_str(), info.max_entries, options.prefix_capacity);
      options.prefix_capacity = info.max_entries;
    }
  }
  return true;
}

static Result<void> pin_program(bpf_program* prog, const std::string& path) {
  // Replace the previous build's pin: attachments hold their own references.
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return make_error("unpin", errno, path);
  if (int err = bpf_program__pin(prog, path.c_str()); err != 0)
    return make_error("pin program", err, path);
  return ok();
}

Result<std::unique_ptr<Datapath>> Datapath::open(const DatapathOptions& requested) {
  DatapathOptions options = requested;
  if (options.flow_capacity == 0 || options.whitelist_capacity == 0 || options.prefix_capacity == 0)
    return Error{"map capacities must be positive", EINVAL, {}};
  if (options.prefix_len_v4 < 1 || options.prefix_len_v4 > 32 || options.prefix_len_v6 < 1 ||
      options.prefix_len_v6 > 128)
    return Error{"overflow prefix lengths must be 1..32 (IPv4) and 1..128 (IPv6)", EINVAL, {}};

  std::unique_ptr<Datapath> datapath(new Datapath());
  datapath->tag_ = options.tag;

  bool existing = false;
  std::optional<pin::PinDir> dir;
  if (options.pin) {
    auto opened = pin::PinDir::open(options.tag, options.pin_base);
    if (!opened) return opened.error();
    dir.emplace(std::move(opened.value()));
    auto inspected = inspect_existing(*dir, options);
    if (!inspected) return inspected.error();
    existing = inspected.value();
    datapath->pin_path_ = dir->path();
    // A renewal that a crash cut short: the old buffer's pin is still whole.
    for (const char* name : {"flows_a", "flows_b"})
      ::unlink((dir->object_path(name) + pin::kRenewSuffix).c_str());
  }

  LIBBPF_OPTS(bpf_object_open_opts, open_opts);
  if (options.pin) open_opts.pin_root_path = datapath->pin_path_.c_str();
  netacct_bpf* raw = netacct_bpf::open(&open_opts);
  if (!raw) return make_error("open BPF skeleton", errno);
  datapath->skel_.reset(raw);
  netacct_bpf* skel = raw;

  uint32_t flow_entries = options.flow_capacity + NETACCT_BUCKET_COUNT;
  // active_flows' inner template needs no size: the kernel does not compare
  // max_entries of hash inner maps (and libbpf 1.1 cannot resize it).
  for (bpf_map* map : {skel->maps.flows_a, skel->maps.flows_b}) {
    if (int err = bpf_map__set_max_entries(map, flow_entries); err != 0)
      return make_error("set flow capacity", err);
  }
  for (bpf_map* map : {skel->maps.prefix_a, skel->maps.prefix_b}) {
    if (int err = bpf_map__set_max_entries(map, options.prefix_capacity); err != 0)
      return make_error("set prefix buffer capacity", err);
  }
  skel->rodata->prefix_len_v4 = static_cast<uint8_t>(options.prefix_len_v4);
  skel->rodata->prefix_len_v6 = static_cast<uint8_t>(options.prefix_len_v6);
  // Twice the capacity: a reload inserts the new prefixes before it deletes
  // the old ones (so no address in both versions is ever counted), and for
  // that moment the trie may hold both. The trie is not preallocated, so the
  // headroom costs no memory.
  if (int err = bpf_map__set_max_entries(skel->maps.whitelist, options.whitelist_capacity * 2);
      err != 0)
    return make_error("set whitelist capacity", err);
  if (options.link_framing != NETACCT_LINK_ETHERNET && options.link_framing != NETACCT_LINK_IP)
    return Error{"unknown link framing " + std::to_string(options.link_framing), EINVAL, {}};
  skel->rodata->link_framing = options.link_framing;
  if (!options.pin) {
    for (bpf_map* map :
         {skel->maps.flows_a, skel->maps.flows_b, skel->maps.active_flows, skel->maps.prefix_a,
          skel->maps.prefix_b, skel->maps.active_prefix, skel->maps.whitelist, skel->maps.meta})
      bpf_map__set_pin_path(map, nullptr);
  }

  if (int err = netacct_bpf::load(skel); err != 0) {
    return make_error("load BPF programs (run 'make check' to see what the kernel lacks)", err,
                      options.pin ? datapath->pin_path_ : std::string("unpinned"));
  }

  netacct_meta meta{};
  uint32_t zero = 0;
  if (bpf_map_lookup_elem(datapath->meta_fd(), &zero, &meta) != 0)
    return make_error("read meta map", errno);
  if (meta.magic != NETACCT_META_MAGIC) {
    // New maps: the bucket keys go in first, the magic last, so a crash in
    // between is seen as "not initialised" and simply redone.
    for (int index = 0; index < 2; index++) {
      if (auto inserted = insert_bucket_keys(datapath->flows_fd(index)); !inserted)
        return inserted.error();
    }
    meta = netacct_meta{};
    meta.layout_version = NETACCT_LAYOUT_VERSION;
    meta.flow_capacity = options.flow_capacity;
    meta.wl_capacity = options.whitelist_capacity;
    meta.phase = NETACCT_PHASE_IDLE;
    read_boot_id(meta.boot_id);
    struct timespec now {};
    clock_gettime(CLOCK_REALTIME, &now);
    meta.created_ns =
        static_cast<uint64_t>(now.tv_sec) * 1000000000ull + static_cast<uint64_t>(now.tv_nsec);
    meta.magic = NETACCT_META_MAGIC;
    if (bpf_map_update_elem(datapath->meta_fd(), &zero, &meta, BPF_ANY) != 0)
      return make_error("initialise meta map", errno);
    existing = false;
  }

  if (options.pin) {
    struct Pin {
      bpf_program* prog;
      const char* name;
    };
    for (Pin p : {Pin{skel->progs.netacct_xdp_in, pin::kProgXdpIngress},
                  Pin{skel->progs.netacct_tc_in, pin::kProgTcIngress},
                  Pin{skel->progs.netacct_tc_eg, pin::kProgTcEgress}}) {
      if (auto pinned = pin_program(p.prog, dir->object_path(p.name)); !pinned)
        return pinned.error();
    }
  }

  datapath->adopted_ = existing;
  if (existing) {
    for (int index = 0; index < 2; index++) {
      auto highest = highest_key_generation(datapath->flows_fd(index));
      if (!highest) return highest.error();
      datapath->key_generation_ = std::max(datapath->key_generation_, highest.value());
    }
  }
  datapath->next_key_generation();
  datapath->flow_capacity_ = options.flow_capacity;
  datapath->whitelist_capacity_ = options.whitelist_capacity;
  datapath->prefix_capacity_ = options.prefix_capacity;
  datapath->link_framing_ = options.link_framing;
  NA_DEBUG("datapath %s: %s maps, %u flows, %u whitelist prefixes", options.tag.c_str(),
           existing ? "adopted" : "created", options.flow_capacity, options.whitelist_capacity);
  return datapath;
}

}  // namespace netacct
