// SPDX-License-Identifier: GPL-2.0-only
#include "examples.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "../common/json_file.hpp"

namespace netacct {

static const char* kExampleWhitelist = R"json({
  "metadata": {
    "description": "Network Accounting Whitelist",
    "version": "1.0",
    "created": "2025-01-20T10:30:00",
    "auto_reload": true
  },
  "whitelist": {
    "localhost": {
      "description": "Localhost",
      "enabled": true,
      "ips": ["127.0.0.1", "::1"],
      "cidrs": []
    },
    "private_networks": {
      "description": "Private networks (RFC 1918)",
      "enabled": false,
      "ips": [],
      "cidrs": ["192.168.0.0/16", "10.0.0.0/8", "172.16.0.0/12"]
    },
    "dns_servers": {
      "description": "Public DNS servers",
      "enabled": false,
      "ips": ["8.8.8.8", "8.8.4.4", "1.1.1.1"],
      "cidrs": []
    }
  }
}
)json";

static const char* const kExampleMulti = R"json({
  "instances": [
    {
      "tag": "eth0",
      "namespace": "mynamespace",
      "interface": "eth0",
      "output_file": "eth0_traffic_stats.json",
      "whitelist_file": "eth0_whitelist.json",
      "xdp": false,
      "debug": false,
      "interval": 5
    },
    {
      "tag": "host",
      "namespace": null,
      "interface": "eth0",
      "output_file": "host_traffic_stats.json",
      "whitelist_file": "host_whitelist.json",
      "xdp": false,
      "debug": false,
      "interval": 5
    }
  ]
}
)json";

const char* example_multi_config() {
  return kExampleMulti;
}

int create_examples(const DaemonOptions& options, std::FILE* out) {
  std::string dir = options.config_dir.empty() ? default_config_dir() : options.config_dir;
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    std::fprintf(stderr, "netacctd: cannot create %s: %s\n", dir.c_str(), std::strerror(errno));
    return 1;
  }
  int status = 0;
  for (auto [name, content] : {std::pair{"whitelist.json", kExampleWhitelist},
                               std::pair{"multi_accounting_config.json", kExampleMulti}}) {
    std::string path = dir + "/" + name;
    if (::access(path.c_str(), F_OK) == 0) {
      std::fprintf(out, "kept existing %s\n", path.c_str());
      continue;
    }
    if (auto written = write_file_atomic(path, content); !written) {
      std::fprintf(stderr, "netacctd: %s\n", written.error().message().c_str());
      status = 1;
      continue;
    }
    std::fprintf(out, "wrote %s\n", path.c_str());
  }
  return status;
}

}  // namespace netacct
