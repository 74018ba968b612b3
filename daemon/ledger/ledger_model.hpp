// SPDX-License-Identifier: GPL-2.0-only
// The ledger's data as its readers see it: rows, totals, scopes, the file
// identity of an export. Pure data shared by the store, the reader, the
// JSON export and the tools.
#pragma once

#include <sys/stat.h>

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "../common/delta.hpp"

namespace netacct {

// Which totals: everything ever counted, the current period (what the JSON
// export shows, since its last rotation), or what was committed since the
// last export reached the file (the next period's start if it was rotated).
enum class Scope { Lifetime, Period, Unexported };

struct FlowRow {
  std::string_view local;   // this host's address
  std::string_view remote;  // the peer, or a prefix "203.0.113.0/24"
  uint8_t protocol = 0;
  netacct_counters counters{};
  int64_t first_seen = 0;
  int64_t last_seen = 0;
};

struct ProtocolTotals {
  uint64_t flows = 0;
  netacct_counters counters{};
};

struct ScopeTotals {
  // (family, protocol) -> flows and counters
  std::map<std::pair<uint8_t, uint8_t>, ProtocolTotals> by_protocol;
  BucketCounters buckets{};
  uint64_t flows = 0;

  netacct_counters flow_total() const {
    netacct_counters total{};
    for (const auto& [key, p] : by_protocol) total += p.counters;
    return total;
  }
};

struct LedgerInfo {
  std::string tag;
  std::string ledger_id;  // random; names this ledger in the JSON export
  int64_t created = 0;
  std::string pin_instance;
  std::string boot_id;
  uint64_t generation = 0;
  uint64_t harvests = 0;
  int64_t last_harvest = 0;  // unix seconds of the last commit (idle ones too)
  int64_t last_traffic = 0;  // ... of the last commit that carried counts
  int64_t period_id = 0;
  int64_t period_started = 0;
  // Where the tag counts, as its daemon last said (tools use it).
  std::string interface;
  std::string netns;
  std::string ingress_mode;
  // What `netacct status` shows without touching the kernel (schema 2).
  uint64_t last_flows = 0;     // flows the last harvest drained
  uint32_t flow_capacity = 0;  // of each flow buffer
  std::string metrics;         // "127.0.0.1:9464", or "" when off
};

// Identifies one version of a file: replaced (rename), truncated or
// rewritten, it no longer matches.
struct FileIdentity {
  int64_t dev = 0;
  int64_t ino = 0;
  int64_t size = -1;
  int64_t mtime_ns = 0;

  static FileIdentity of(const struct stat& st) {
    return {static_cast<int64_t>(st.st_dev), static_cast<int64_t>(st.st_ino),
            static_cast<int64_t>(st.st_size),
            static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
  }
  bool same_inode(const FileIdentity& other) const { return dev == other.dev && ino == other.ino; }
  bool operator==(const FileIdentity& other) const {
    return same_inode(other) && size == other.size && mtime_ns == other.mtime_ns;
  }
};

// Where the JSON export stands (see json_export.hpp for the protocol).
struct ExportState {
  uint64_t seq = 0;       // exports completed, over the ledger's life
  bool has_file = false;  // `file` is the last export in place (this period)
  FileIdentity file;
  int64_t written = 0;       // unix seconds of the last completed export
  uint64_t pending_seq = 0;  // an export renamed or about to be; 0 = none
  FileIdentity pending;      // its temporary file (same inode after the rename)
};

}  // namespace netacct
