// SPDX-License-Identifier: GPL-2.0-only
// `netacct status`: one line per tag from what is on disk — the pin
// directories, their locks and the ledgers — plus netacct-health's verdict
// for each. It links no libbpf: the kernel-side checks (attachments,
// flow-map use) are netacct-health's job, which it runs per tag.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace netacct::status {

struct TagStatus {
  std::string tag;
  std::string interface;  // "" when no ledger says
  std::string netns;      // "" = host
  std::string ingress_mode;
  // running: a netacctd holds the tag; counting: pinned and attached, no
  // daemon (by design: the next start harvests it); leftover: pinned but not
  // counting, or attached without pins; stopped: only a ledger remains.
  std::string state;
  int pid = 0;
  std::string metrics;            // while running; "" otherwise
  int64_t last_harvest_age = -1;  // seconds; -1 = never
  uint64_t flows = 0;             // in the buffer at the last harvest
  uint32_t flow_capacity = 0;
  std::string health;         // OK, WARNING, CRITICAL, UNKNOWN
  std::string health_detail;  // netacct-health's line
};

struct Settings {
  std::string pin_base;
  std::string state_dir;
  std::string health_tool;  // netacct-health, next to this binary
};

std::vector<TagStatus> collect(const Settings& settings);
std::string render_table(const std::vector<TagStatus>& tags);
std::string render_json(const std::vector<TagStatus>& tags);

}  // namespace netacct::status
