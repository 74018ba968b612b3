// SPDX-License-Identifier: GPL-2.0-only
// SIGUSR1 storms against netacctd built with ThreadSanitizer and with
// AddressSanitizer + UBSan (`make sanitized`): the log is renamed and
// reopened hundreds of times while the harvest thread logs every harvest
// and traffic flows. The sanitizers must stay silent, every log line must
// be whole, and the counts must still be exact.
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <thread>

#include "tests/support/daemon_process.hpp"
#include "tests/support/topology.hpp"
#include "tests/support/traffic.hpp"

using namespace netacct;
using namespace netacct::test;

namespace {

void storm(const std::string& flavour) {
  const char* build = std::getenv("BUILD");
  std::string binary =
      std::string(build && *build ? build : "build") + "-" + flavour + "/bin/netacctd";
  INFO("binary " << binary << " (built by `make sanitized`)");
  REQUIRE(std::filesystem::exists(binary));

  Topology topo;
  TagGuard tag("san" + flavour.substr(0, 1));
  std::string dir = make_temp_dir("netacct-san");
  std::string output = dir + "/out.json", log = dir + "/netacctd.log", err = dir + "/stderr";
  DaemonProcess daemon;
  daemon.set_binary(binary);
  // A report makes the process exit at once with a code of its own.
  daemon.set_env("TSAN_OPTIONS", "halt_on_error=1 exitcode=66");
  daemon.set_env("ASAN_OPTIONS", "halt_on_error=1 exitcode=67 detect_leaks=1");
  daemon.set_env("UBSAN_OPTIONS", "halt_on_error=1 print_stacktrace=1");
  // IPFIX to collectors that are not there, on A's own loopback (the daemon
  // runs inside A): the exporter threads fail, log and reconnect while the
  // loop submits batches and reads their counters.
  daemon.start({"--namespace", topo.a().netns, "--tag", tag.tag(), "--interval", "0.1", "--debug",
                "--log-file", log, "--ipfix", "127.0.0.1:2055", "--ipfix", "tcp:127.0.0.1:4739",
                topo.a().ifname, output},
               err, topo.a().netns);
  bool started = wait_until([&] { return !read_source(output, tag.tag()).is_null(); }, 30000);
  INFO("log: " << read_text(log) << "\nstderr: " << read_text(err));
  REQUIRE(started);

  UdpSpec spec = paced_udp(topo.b().netns, topo.a().netns, topo.a().ipv4, 4000, 80, 40401,
                           std::chrono::milliseconds(2));
  int rotations = 0;
  auto rotate = [&] {
    if (rotations >= 300) return;
    std::rename(log.c_str(), (log + "." + std::to_string(++rotations)).c_str());
    daemon.signal(SIGUSR1);
  };
  UdpResult result = udp_transfer(spec, rotate, std::chrono::milliseconds(3));
  REQUIRE(result.received == spec.count);
  while (rotations < 300) {
    rotate();
    ::usleep(3000);
  }
  ::usleep(300000);
  daemon.signal(SIGTERM);
  int code = daemon.wait(30000);
  std::string errors = read_text(err);
  INFO("stderr: " << errors.substr(0, 4000));
  CHECK(code == 0);
  CHECK(errors.find("Sanitizer") == std::string::npos);
  CHECK(errors.find("runtime error") == std::string::npos);

  // Every line of every log file is one whole line of ours.
  const std::regex line_shape(
      R"(^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \[[^\]]+\] (debug|info|warn|error): .*$)");
  size_t lines = 0, harvest_lines = 0, broken = 0;
  for (int i = 0; i <= rotations; i++) {
    std::ifstream in(i == 0 ? log : log + "." + std::to_string(i));
    std::string line;
    while (std::getline(in, line)) {
      lines++;
      if (!std::regex_match(line, line_shape)) {
        if (broken++ < 3) MESSAGE("broken log line: " << line);
      }
      if (line.find("] debug: harvest ") != std::string::npos) harvest_lines++;
    }
  }
  MESSAGE(flavour << ": " << rotations << " SIGUSR1, " << lines << " log lines, " << harvest_lines
                  << " harvest lines");
  CHECK(broken == 0);
  CHECK(harvest_lines > 10);
  netacct_counters udp =
      flow_counters(read_source(output, tag.tag()), topo.a().ipv4, topo.b().ipv4, "UDP");
  CHECK(udp.rx_packets == spec.count);
  CHECK(udp.rx_bytes == spec.count * udp_ip_bytes(topo.a().ipv4, spec.payload));
  run("rm -rf " + dir);
}

}  // namespace

TEST_CASE("sanitizers: SIGUSR1 storm while harvests log, under TSan") {
  storm("tsan");
}

TEST_CASE("sanitizers: SIGUSR1 storm while harvests log, under ASan + UBSan") {
  storm("asan");
}
