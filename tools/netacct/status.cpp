// SPDX-License-Identifier: GPL-2.0-only
#include "status.hpp"

#include <sys/wait.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstdio>
#include <ctime>
#include <set>

#include "daemon/ledger/ledger_reader.hpp"
#include "ledgers.hpp"
#include "pin/pin_dir.hpp"

namespace netacct::status {
namespace {

namespace json = boost::json;

std::string quoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// netacct-health's first line and exit code.
std::pair<int, std::string> health_of(const Settings& settings, const std::string& tag,
                                      const std::string& ledger) {
  std::string command = quoted(settings.health_tool) + " " + quoted(tag) + " --ledger " +
                        quoted(ledger) + " --pin-base " + quoted(settings.pin_base) +
                        " 2>/dev/null";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return {3, "netacct-health could not run"};
  char line[1024] = "";
  if (!std::fgets(line, sizeof line, pipe)) line[0] = '\0';
  while (std::fgetc(pipe) != EOF) {
  }
  int status = ::pclose(pipe);
  std::string text = line;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 3;
  return {code > 3 ? 3 : code, text};
}

const char* verdict(int code) {
  static const char* const names[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};
  return names[code >= 0 && code <= 3 ? code : 3];
}

}  // namespace

std::vector<TagStatus> collect(const Settings& settings) {
  std::set<std::string> tags;
  for (const std::string& tag : pin::list_tags(settings.pin_base)) tags.insert(tag);
  for (const std::string& tag : ledger_tags(settings.state_dir)) tags.insert(tag);
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  std::vector<TagStatus> out;
  for (const std::string& tag : tags) {
    TagStatus status;
    status.tag = tag;
    std::string ledger = ledger_path(settings.state_dir, tag);
    if (auto reader = LedgerReader::open(ledger)) {
      if (auto info = (*reader)->queries().info()) {
        status.interface = info->interface;
        status.netns = info->netns;
        status.ingress_mode = info->ingress_mode;
        status.metrics = info->metrics;
        status.flows = info->last_flows;
        status.flow_capacity = info->flow_capacity;
        if (info->last_harvest > 0)
          status.last_harvest_age = std::max<int64_t>(0, now - info->last_harvest);
      }
    }
    std::string pin_path = settings.pin_base + "/" + tag;
    bool pinned = pin::PinDir::open_existing(tag, settings.pin_base).ok();
    status.pid = pinned ? pin::lock_holder_pid(pin_path) : 0;
    auto [code, line] = health_of(settings, tag, ledger);
    status.health = verdict(code);
    status.health_detail = line;
    bool attached = line.find("attached") != std::string::npos &&
                    line.find("not attached") == std::string::npos;
    if (status.pid > 0)
      status.state = "running";
    else if (pinned)
      status.state = attached ? "counting" : "leftover";
    else
      status.state = "stopped";
    if (status.state != "running") status.metrics.clear();
    out.push_back(std::move(status));
  }
  return out;
}

std::string render_table(const std::vector<TagStatus>& tags) {
  std::string out;
  char line[512];
  const char* format = "%-20s %-28s %-4s %-9s %-7s %-21s %9s %-15s %s\n";
  std::snprintf(line, sizeof line, format, "TAG", "INTERFACE", "MODE", "STATE", "PID", "METRICS",
                "HARVESTED", "FLOWS", "HEALTH");
  out += line;
  for (const TagStatus& t : tags) {
    std::string where =
        t.interface.empty() ? "?" : t.interface + "@" + (t.netns.empty() ? "host" : t.netns);
    std::string age =
        t.last_harvest_age < 0 ? "never" : std::to_string(t.last_harvest_age) + " s ago";
    std::string flows =
        t.flow_capacity ? std::to_string(t.flows) + "/" + std::to_string(t.flow_capacity) : "-";
    std::snprintf(line, sizeof line, format, t.tag.c_str(), where.c_str(),
                  t.ingress_mode.empty() ? "-" : t.ingress_mode.c_str(), t.state.c_str(),
                  t.pid ? std::to_string(t.pid).c_str() : "-",
                  t.metrics.empty() ? "-" : t.metrics.c_str(), age.c_str(), flows.c_str(),
                  t.health.c_str());
    out += line;
  }
  if (tags.empty()) out += "(no netacct tag: no pins, no ledgers)\n";
  return out;
}

std::string render_json(const std::vector<TagStatus>& tags) {
  json::array list;
  for (const TagStatus& t : tags) {
    json::object o;
    o["tag"] = t.tag;
    o["interface"] = t.interface.empty() ? json::value(nullptr) : json::value(t.interface);
    o["namespace"] = t.netns.empty() ? json::value(nullptr) : json::value(t.netns);
    o["ingress_mode"] = t.ingress_mode.empty() ? json::value(nullptr) : json::value(t.ingress_mode);
    o["state"] = t.state;
    o["pid"] = t.pid ? json::value(t.pid) : json::value(nullptr);
    o["metrics"] = t.metrics.empty() ? json::value(nullptr) : json::value(t.metrics);
    o["last_harvest_age_seconds"] =
        t.last_harvest_age < 0 ? json::value(nullptr) : json::value(t.last_harvest_age);
    o["flows"] = t.flows;
    o["flow_capacity"] = t.flow_capacity;
    o["health"] = t.health;
    o["health_detail"] = t.health_detail;
    list.push_back(std::move(o));
  }
  return json::serialize(json::object{{"tags", std::move(list)}}) + "\n";
}

}  // namespace netacct::status
