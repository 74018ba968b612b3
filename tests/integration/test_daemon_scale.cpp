// SPDX-License-Identifier: GPL-2.0-only
// netacctd at 65,536 flows: frames from 65,536 distinct remote addresses
// (crafted, sent with AF_PACKET from namespace B) are each counted exactly,
// and the daemon's RSS and CPU time per harvest are reported.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "tests/support/daemon_process.hpp"
#include "tests/support/packet.hpp"
#include "tests/support/topology.hpp"

using namespace netacct;
using namespace netacct::test;

namespace {

constexpr uint32_t kFlows = 65536;

std::string remote_of(uint32_t i) {
  return "10.201." + std::to_string(i / 256) + "." + std::to_string(i % 256);
}

// Sends one frame from each of `count` remotes to A, from inside B.
// Paced so the veth backlog never overflows. Returns the frames sent.
template <typename RemoteOf>
uint32_t send_frames(const Topology& topo, uint32_t count, RemoteOf remote, uint32_t payload) {
  pid_t child = ::fork();
  if (child == 0) {
    int ns = ::open(("/var/run/netns/" + topo.b().netns).c_str(), O_RDONLY | O_CLOEXEC);
    if (ns < 0 || ::setns(ns, CLONE_NEWNET) != 0) ::_exit(2);
    int fd = ::socket(AF_PACKET, SOCK_RAW, 0);
    if (fd < 0) ::_exit(3);
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_ifindex = static_cast<int>(if_nametoindex(topo.b().ifname.c_str()));
    to.sll_halen = 6;
    uint32_t sent = 0;
    for (uint32_t i = 0; i < count; i++) {
      Packet p = build_packet(
          {.src = remote(i), .dst = topo.a().ipv4, .protocol = 17, .payload = payload});
      std::sscanf(topo.a().mac.c_str(), "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &p.frame[0], &p.frame[1],
                  &p.frame[2], &p.frame[3], &p.frame[4], &p.frame[5]);
      if (::sendto(fd, p.frame.data(), p.frame.size(), 0, reinterpret_cast<sockaddr*>(&to),
                   sizeof to) == static_cast<ssize_t>(p.frame.size()))
        sent++;
      if (i % 200 == 199) ::usleep(1000);  // well under the 1,000-packet backlog
    }
    ::_exit(sent == count ? 0 : 4);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  return count;
}

uint32_t send_round(const Topology& topo, uint32_t payload) {
  return send_frames(topo, kFlows, remote_of, payload);
}

uint64_t cpu_ticks(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream fields(text.substr(text.rfind(')') + 2));
  std::string skip;
  for (int i = 0; i < 11; i++) fields >> skip;  // fields 3..13
  uint64_t utime = 0, stime = 0;
  fields >> utime >> stime;
  return utime + stime;
}

long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

}  // namespace

TEST_CASE("daemon: 65,536 flows are each counted exactly; RSS and CPU per harvest reported") {
  Topology topo;
  TagGuard tag("scale");
  char dir_template[] = "/tmp/netacct-scale-XXXXXX";
  std::string dir = ::mkdtemp(dir_template);
  std::string output = dir + "/out.json", log = dir + "/daemon.log";
  DaemonProcess daemon;
  daemon.start({"--namespace", topo.a().netns, "--tag", tag.tag(), "--interval", "1", "--max-flows",
                "70000", topo.a().ifname, output},
               log);
  REQUIRE(wait_until([&] { return !read_source(output, tag.tag()).is_null(); }, 15000));

  const uint32_t rounds = 3, payload = 40;
  for (uint32_t r = 0; r < rounds; r++) send_round(topo, payload);
  // Let harvests with all flows in the file run, then time a few of them.
  uint64_t generation = source_generation(read_source(output, tag.tag()));
  REQUIRE(wait_until(
      [&] { return source_generation(read_source(output, tag.tag())) > generation + 1; }, 20000));
  generation = source_generation(read_source(output, tag.tag()));
  uint64_t ticks_before = cpu_ticks(daemon.pid());
  REQUIRE(wait_until(
      [&] { return source_generation(read_source(output, tag.tag())) >= generation + 5; }, 30000));
  uint64_t harvests = source_generation(read_source(output, tag.tag())) - generation;
  uint64_t ticks = cpu_ticks(daemon.pid()) - ticks_before;
  long rss = rss_kib(daemon.pid());
  double ms_per_harvest = static_cast<double>(ticks) * 1000.0 /
                          static_cast<double>(sysconf(_SC_CLK_TCK)) / static_cast<double>(harvests);
  MESSAGE("65,536 flows: RSS " << rss / 1024 << " MiB, CPU " << ms_per_harvest
                               << " ms per harvest (" << harvests << " harvests)");
  daemon.signal(SIGTERM);
  REQUIRE(daemon.wait(20000) == 0);

  boost::json::value source = read_source(output, tag.tag());
  REQUIRE(source.is_object());
  const uint64_t ip_bytes = 20 + 8 + payload;
  uint64_t exact = 0, wrong = 0;
  for (const boost::json::value& row : source.at("traffic_data").as_array()) {
    const boost::json::object& r = row.as_object();
    if (r.at("destination_ip").as_string().starts_with("10.201.")) {
      bool ok = r.at("rx_packets").to_number<uint64_t>() == rounds &&
                r.at("rx_bytes").to_number<uint64_t>() == rounds * ip_bytes &&
                r.at("tx_packets").to_number<uint64_t>() == 0;
      (ok ? exact : wrong)++;
    }
  }
  CHECK(exact == kFlows);
  CHECK(wrong == 0);
  CHECK(source.at("summary").at("flows_dropped") == 0);
  run("rm -rf " + dir);
}

TEST_CASE("daemon: a full flow map counts into prefix rows, then the bucket: the sums are exact") {
  // 16 flow slots and 4 prefix rows for 200 remotes in twenty /24s, three
  // rounds: every frame sent from B is in a 10.202.* flow, a 10.202.x.0/24
  // prefix row or the IPv4 overflow bucket, exactly once, across harvests.
  // Whichever harvest gets the larger half of a round sees at least ten
  // /24s, 16 remotes of which fit as flows: the bucket must take some.
  Topology topo;
  TagGuard tag("prefixrows");
  char dir_template[] = "/tmp/netacct-prefix-XXXXXX";
  std::string dir = ::mkdtemp(dir_template);
  std::string output = dir + "/out.json", log = dir + "/daemon.log";
  DaemonProcess daemon;
  daemon.start({"--namespace", topo.a().netns, "--tag", tag.tag(), "--interval", "0.5",
                "--max-flows", "16", "--max-prefix-rows", "4", topo.a().ifname, output},
               log);
  REQUIRE(wait_until([&] { return !read_source(output, tag.tag()).is_null(); }, 15000));
  auto remote = [](uint32_t i) {
    return "10.202." + std::to_string(i / 10) + "." + std::to_string(i % 10 + 1);
  };
  const uint32_t rounds = 3, payload = 40, per_round = 200;
  uint64_t sent = 0;
  for (uint32_t r = 0; r < rounds; r++) sent += send_frames(topo, per_round, remote, payload);
  daemon.signal(SIGTERM);
  REQUIRE(daemon.wait(20000) == 0);

  boost::json::value source = read_source(output, tag.tag());
  REQUIRE(source.is_object());
  const uint64_t ip_bytes = 20 + 8 + payload;
  uint64_t flow_packets = 0, flow_bytes = 0, row_packets = 0, row_bytes = 0, rows = 0;
  for (const boost::json::value& row : source.at("traffic_data").as_array()) {
    const boost::json::object& r = row.as_object();
    std::string remote_text(r.at("destination_ip").as_string());
    if (!remote_text.starts_with("10.202.")) continue;
    uint64_t packets = r.at("rx_packets").to_number<uint64_t>();
    uint64_t bytes = r.at("rx_bytes").to_number<uint64_t>();
    if (remote_text.ends_with(".0/24")) {
      rows++;
      row_packets += packets;
      row_bytes += bytes;
    } else {
      CHECK(remote_text.find('/') == std::string::npos);
      flow_packets += packets;
      flow_bytes += bytes;
    }
  }
  const boost::json::value& bucket = source.at("buckets").at("overflow_v4");
  uint64_t bucket_packets = bucket.at("rx_packets").to_number<uint64_t>();
  uint64_t bucket_bytes = bucket.at("rx_bytes").to_number<uint64_t>();
  MESSAGE("flows " << flow_packets << " + prefix rows " << row_packets << " (" << rows
                   << " rows) + bucket " << bucket_packets << " = " << sent);
  CHECK(flow_packets + row_packets + bucket_packets == sent);
  CHECK(flow_bytes + row_bytes + bucket_bytes == sent * ip_bytes);
  CHECK(rows >= 1);
  CHECK(row_packets > 0);
  CHECK(bucket_packets > 0);
  run("rm -rf " + dir);
}
