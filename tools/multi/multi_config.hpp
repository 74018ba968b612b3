// SPDX-License-Identifier: GPL-2.0-only
// netacct-multi's configuration: the seed's {"instances": [...]} file. Every
// instance is checked with netacctd's own rules (apply_instance_object and
// finalize_options), then the instances against each other (tags, interface
// and hook) and their paths against the file system. Errors are one line
// naming the file, the instance index and tag, and the field.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "daemon/common/result.hpp"
#include "daemon/config/options.hpp"

namespace netacct::multi {

struct Instance {
  size_t index = 0;
  std::string label;      // "multi.json: instances[1] (tag 'b')": prefix of its errors
  DaemonOptions options;  // finalized: tag filled, paths resolved
  // The instance object handed to its netacctd with --config: the object as
  // written, with the tag and every path replaced by their resolved values
  // (so the child needs no directory defaults of its own, and keys this
  // tool does not interpret still reach netacctd).
  std::string child_config;
};

struct MultiConfig {
  std::string path;
  std::vector<Instance> instances;
};

// Where netacctd's defaults come from; tests point them at temporary dirs.
struct ConfigDefaults {
  std::string log_dir;     // "" = default_log_dir()
  std::string config_dir;  // "" = default_config_dir()
  // Instance i without its own "metrics_listen" serves /metrics on
  // 127.0.0.1:(metrics_base_port + i), so children never compete for a port.
  int metrics_base_port = 9464;
};

// Reads and validates the whole file; nothing is started when this fails.
Result<MultiConfig> load_multi_config(const std::string& path, const ConfigDefaults& defaults = {});
// The same, from text (unit tests); `path` only names the file in errors.
Result<MultiConfig> parse_multi_config(const std::string& text, const std::string& path,
                                       const ConfigDefaults& defaults = {});

// The default location of the multi config, as `make multi-run` uses it.
std::string default_multi_config_path();

}  // namespace netacct::multi
