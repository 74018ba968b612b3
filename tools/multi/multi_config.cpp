// SPDX-License-Identifier: GPL-2.0-only
#include "multi_config.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <climits>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "daemon/common/json_file.hpp"
#include "daemon/config/whitelist.hpp"

namespace netacct::multi {

namespace json = boost::json;

namespace {

Error config_error(const std::string& text) {
  return Error{text, 0, {}};
}

std::string parent_dir(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// The file's directory must exist and be writable (netacctd replaces the
// file by rename, so the directory is what is written); an existing file
// must be a regular file.
Result<void> check_writable(const std::string& label, const char* field, const std::string& path) {
  std::string where = label + ": " + field + " '" + path + "'";
  std::string dir = parent_dir(path);
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0)
    return config_error(where + ": directory " + dir + " does not exist");
  if (!S_ISDIR(st.st_mode)) return config_error(where + ": " + dir + " is not a directory");
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    return config_error(where + ": directory " + dir + " is not writable");
  if (::stat(path.c_str(), &st) == 0) {
    if (!S_ISREG(st.st_mode)) return config_error(where + ": is not a regular file");
    if (::access(path.c_str(), W_OK) != 0) return config_error(where + ": is not writable");
  }
  return ok();
}

// A whitelist that exists must be valid now: netacctd would refuse to start
// with it, and the supervisor would only restart it again and again.
Result<void> check_whitelist(const std::string& label, const DaemonOptions& opts) {
  if (opts.whitelist_file.empty()) return ok();
  struct stat st {};
  if (::stat(opts.whitelist_file.c_str(), &st) != 0) {
    if (errno == ENOENT) return ok();  // missing = empty whitelist, as in netacctd
    return config_error(label + ": whitelist_file '" + opts.whitelist_file +
                        "': " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode))
    return config_error(label + ": whitelist_file '" + opts.whitelist_file +
                        "' is not a regular file");
  auto loaded = load_whitelist_file(opts.whitelist_file, opts.max_whitelist);
  if (!loaded) return config_error(label + ": " + loaded.error().message());
  if (loaded->entries.size() > opts.max_whitelist)
    return config_error(label + ": whitelist_file '" + opts.whitelist_file + "' has " +
                        std::to_string(loaded->entries.size()) +
                        " prefixes, more than max_whitelist " + std::to_string(opts.max_whitelist));
  return ok();
}

// One name for one namespace: "" is the host, a bare name lives under
// /var/run/netns, and when the file exists its inode identifies it (so a
// name and a path to the same namespace are recognised as the same).
std::string namespace_identity(const std::string& netns) {
  if (netns.empty()) return "host";
  std::string path = netns.find('/') == std::string::npos ? "/var/run/netns/" + netns : netns;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0)
    return "inode:" + std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  char resolved[PATH_MAX];
  if (::realpath(path.c_str(), resolved)) return resolved;
  return path;
}

std::string hook_names(const DaemonOptions& a, const DaemonOptions& b) {
  // Egress is always TC; ingress is XDP or TC.
  if (a.xdp != b.xdp) return "tc egress hook";
  return a.xdp ? "xdp and tc egress hooks" : "tc ingress and tc egress hooks";
}

Result<Instance> load_instance(const json::value& value, size_t index, const std::string& path,
                               const ConfigDefaults& defaults) {
  Instance instance;
  instance.index = index;
  instance.label = path + ": instances[" + std::to_string(index) + "]";
  if (!value.is_object()) return config_error(instance.label + ": must be a JSON object");
  const json::object& object = value.get_object();
  if (const json::value* tag = object.if_contains("tag"); tag && tag->is_string())
    instance.label += " (tag '" + std::string(tag->get_string()) + "')";

  DaemonOptions& opts = instance.options;
  opts.log_dir = defaults.log_dir;
  opts.config_dir = defaults.config_dir;
  if (auto applied = apply_instance_object(object, instance.label, opts); !applied)
    return applied.error();
  if (opts.interface.empty()) return config_error(instance.label + ": 'interface' is required");
  bool had_tag = !opts.tag.empty();
  if (auto finalized = finalize_options(opts); !finalized)
    return config_error(instance.label + ": " + finalized.error().message());
  if (!had_tag) instance.label += " (tag '" + opts.tag + "')";
  opts.console =
      ConsoleMode::Off;  // children's stdout is not shown; the summary replaces their tables

  if (auto checked = check_writable(instance.label, "output_file", opts.output_file); !checked)
    return checked.error();
  if (auto checked = check_writable(instance.label, "ledger", opts.ledger_file); !checked)
    return checked.error();
  if (!opts.log_file.empty()) {
    if (auto checked = check_writable(instance.label, "log_file", opts.log_file); !checked)
      return checked.error();
  }
  if (auto checked = check_whitelist(instance.label, opts); !checked) return checked.error();

  json::object child = object;
  if (opts.metrics && !object.if_contains("metrics_listen")) {
    opts.metrics_listen =
        "127.0.0.1:" + std::to_string(defaults.metrics_base_port + static_cast<int>(index));
    child["metrics_listen"] = opts.metrics_listen;
  }
  child["tag"] = opts.tag;
  child["output_file"] = opts.output_file;
  // The supervisor reads the summary from the ledger: both must agree on it.
  child["ledger"] = opts.ledger_file;
  child["whitelist_file"] =
      opts.whitelist_file.empty() ? json::value(nullptr) : json::value(opts.whitelist_file);
  if (!opts.log_file.empty()) child["log_file"] = opts.log_file;
  instance.child_config = pretty_json(child) + "\n";
  return instance;
}

int listen_port(const std::string& address) {
  auto colon = address.rfind(':');
  return colon == std::string::npos ? 0 : std::atoi(address.c_str() + colon + 1);
}

}  // namespace

Result<MultiConfig> parse_multi_config(const std::string& text, const std::string& path,
                                       const ConfigDefaults& defaults) {
  auto parsed = parse_json_text(text, path);
  if (!parsed) return parsed.error();
  if (std::string key = find_duplicate_key(text); !key.empty())
    return config_error(path + ": key '" + key + "' appears twice");
  const json::value& root = parsed.value();
  if (!root.is_object())
    return config_error(path + ": the config must be a JSON object {\"instances\": [...]}");
  for (const auto& member : root.get_object()) {
    if (member.key() != "instances")
      return config_error(path + ": unknown key '" + std::string(member.key()) +
                          "' (expected only \"instances\")");
  }
  const json::value* list = root.get_object().if_contains("instances");
  if (!list) return config_error(path + ": 'instances' is missing");
  if (!list->is_array()) return config_error(path + ": 'instances' must be an array");
  if (list->get_array().empty()) return config_error(path + ": 'instances' is empty");

  MultiConfig config;
  config.path = path;
  for (size_t i = 0; i < list->get_array().size(); i++) {
    auto instance = load_instance(list->get_array()[i], i, path, defaults);
    if (!instance) return instance.error();
    const DaemonOptions& mine = instance->options;
    for (const Instance& earlier : config.instances) {
      const DaemonOptions& theirs = earlier.options;
      std::string earlier_name = "instances[" + std::to_string(earlier.index) + "]";
      if (theirs.tag == mine.tag)
        return config_error(instance->label + ": tag '" + mine.tag + "' is already used by " +
                            earlier_name);
      // Every child serves /metrics in the supervisor's network namespace.
      if (mine.metrics && theirs.metrics &&
          listen_port(mine.metrics_listen) == listen_port(theirs.metrics_listen))
        return config_error(instance->label + ": metrics_listen port " +
                            std::to_string(listen_port(mine.metrics_listen)) +
                            " is already used by " + earlier_name + " (tag '" + theirs.tag + "')");
      if (theirs.interface == mine.interface &&
          namespace_identity(theirs.netns) == namespace_identity(mine.netns))
        return config_error(
            instance->label + ": interface '" + mine.interface + "' in " +
            (mine.netns.empty() ? "the host namespace" : "namespace '" + mine.netns + "'") +
            " is already monitored by " + earlier_name + " (tag '" + theirs.tag +
            "'): both would attach to its " + hook_names(theirs, mine));
    }
    config.instances.push_back(std::move(instance.value()));
  }
  return config;
}

Result<MultiConfig> load_multi_config(const std::string& path, const ConfigDefaults& defaults) {
  auto text = read_regular_file(path, "config file", kMaxConfigBytes);
  if (!text) return text.error();
  return parse_multi_config(text.value(), path, defaults);
}

std::string default_multi_config_path() {
  return default_config_dir() + "/multi_accounting_config.json";
}

}  // namespace netacct::multi
