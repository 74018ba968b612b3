// SPDX-License-Identifier: GPL-2.0-only
// netacct-health's checks for one tag, Nagios style: each check yields a
// state and a phrase; the worst state is the exit code and one status line
// says it all ("NETACCT OK - tag eth0: ... | perfdata").
#pragma once

#include <string>
#include <vector>

namespace netacct::health {

enum State { kOk = 0, kWarning = 1, kCritical = 2, kUnknown = 3 };
const char* state_name(State state);

struct Settings {
  std::string tag;
  std::string ledger;  // the tag's ledger database; "" = no freshness check
  std::string pin_base;
  double max_age = 300;   // seconds without a harvest before the tag is stale
  double warn_util = 80;  // flow-buffer utilisation, percent
  double crit_util = 95;
};

struct Check {
  State state = kOk;
  std::string text;
};

struct Report {
  State state = kOk;    // the worst of the checks
  std::string subject;  // "tag eth0"
  std::vector<Check> checks;
  std::string perfdata;
  std::string line() const;  // the one status line, without newline
};

Report run_checks(const Settings& settings);

}  // namespace netacct::health
