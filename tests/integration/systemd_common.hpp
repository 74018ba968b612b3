// SPDX-License-Identifier: GPL-2.0-only
// Shared by the tests that run netacctd@TAG under the container's systemd
// (test_systemd.cpp, test_package.cpp): the instance config, unit
// properties, and exact IPv4 traffic on veth-a with its expected counters.
#pragma once

#include <doctest/doctest.h>

#include <fstream>
#include <string>

#include "tests/integration/it_common.hpp"
#include "tests/support/container.hpp"
#include "tests/support/daemon_process.hpp"

namespace netacct::test {

inline void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

inline std::string unit_property(const Container& box, const std::string& unit,
                                 const std::string& name) {
  std::string out;
  box.exec("systemctl show -p " + name + " --value " + unit, &out);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// Waits until the unit runs under another main pid than `old_pid`.
inline bool restarted(const Container& box, const std::string& unit, const std::string& old_pid,
                      int timeout_ms) {
  return wait_until(
      [&] {
        std::string pid = unit_property(box, unit, "MainPID");
        return pid != old_pid && pid != "0" && unit_property(box, unit, "ActiveState") == "active";
      },
      timeout_ms);
}

// /etc/netacct/TAG.json in the container: veth-a of `topo`, output
// /var/lib/netacct/TAG.json, a harvest a second, no /metrics.
inline void write_instance_config(const Container& box, const Topology& topo,
                                  const std::string& tag, const std::string& whitelist_file = "") {
  run_ok("mkdir -p " + box.root() + "/etc/netacct");
  write_file(
      box.root() + "/etc/netacct/" + tag + ".json",
      "{\"tag\": \"" + tag + "\", \"namespace\": \"" + topo.a().netns + "\", \"interface\": \"" +
          topo.a().ifname + "\", \"output_file\": \"" + tag + ".json\", " +
          (whitelist_file.empty() ? "" : "\"whitelist_file\": \"" + whitelist_file + "\", ") +
          "\"interval\": 1, \"metrics\": false}");
}

// The source entry of the tag in a JSON file (null while it is missing or
// empty, e.g. just after logrotate's `create`).
inline boost::json::value source_in(const std::string& path, const std::string& tag) {
  try {
    return read_source(path, tag);
  } catch (const std::exception&) {
    return nullptr;
  }
}

// UDP both ways between A and B over IPv4 (every datagram arrived), and
// the counters the tag on veth-a must show for that flow.
class ExactTraffic {
 public:
  ExactTraffic(const Topology& topo, std::string output, std::string tag)
      : topo_(topo), output_(std::move(output)), tag_(std::move(tag)) {}
  void send(uint16_t port) {
    udp_exact(topo_.a().netns, topo_.b().netns, topo_.b().ipv4, 200, 100, port);
    udp_exact(topo_.b().netns, topo_.a().netns, topo_.a().ipv4, 100, 1000, port);
    expected += udp_expect(topo_.a().ipv4, 200, 100, 100, 1000);
  }
  netacct_counters counted(const std::string& path = "") const {
    return flow_counters(source_in(path.empty() ? output_ : path, tag_), topo_.a().ipv4,
                         topo_.b().ipv4, "UDP");
  }
  // Waits up to 10 s for the output to show exactly `expected`.
  bool exact() const {
    wait_until([&] { return counted() == expected; }, 10000);
    CHECK(counted() == expected);
    return counted() == expected;
  }
  netacct_counters expected{};

 private:
  const Topology& topo_;
  std::string output_, tag_;
};

}  // namespace netacct::test
