// SPDX-License-Identifier: GPL-2.0-only
// Hostile files and signals against a running netacctd in private
// namespaces: Kubernetes ConfigMap "..data" swaps of the whitelist are
// applied; a whitelist replaced by a FIFO, a directory or a 1 GB file keeps
// the last good one; an output, whitelist or database that is a link, a
// directory, a FIFO or 1 GB refuses the start in one line naming it; file
// and pin directory modes; a SIGUSR1 that arrives during a harvest is not
// lost.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "tests/integration/it_common.hpp"
#include "tests/support/daemon_process.hpp"

using namespace netacct;
using namespace netacct::test;

namespace {

std::string whitelist_text(const std::string& cidr) {
  return R"({"whitelist": {"peers": {"cidrs": [")" + cidr + R"("]}}})";
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

void sparse(const std::string& path, off_t bytes) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  REQUIRE(fd >= 0);
  REQUIRE(::ftruncate(fd, bytes) == 0);
  ::close(fd);
}

mode_t mode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

std::string state_dir() {
  const char* dir = ::getenv("NETACCT_STATE_DIR");
  REQUIRE(dir != nullptr);
  return dir;
}

struct Daemon {
  DaemonProcess process;
  std::string output, log;
  Daemon(const Topology& topo, const std::string& tag, const std::string& dir,
         const std::string& whitelist, std::vector<std::string> extra = {}) {
    output = dir + "/out.json";
    log = dir + "/daemon.log";
    // No /metrics: nothing listens on the host's loopback.
    std::vector<std::string> args = {"--namespace", topo.a().netns, "--tag", tag, "--no-metrics"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(topo.a().ifname);
    args.push_back(output);
    if (!whitelist.empty()) args.push_back(whitelist);
    ::unlink(output.c_str());  // ready = our entry in a file this run wrote
    process.start(args, log);
    bool ready = wait_until([&] { return !read_source(output, tag).is_null(); }, 20000);
    INFO(read_text(log));
    REQUIRE(ready);
  }
  void stop() {
    process.signal(SIGTERM);
    int code = process.wait(15000);
    INFO(read_text(log));
    INFO("exit signal " << process.exit_signal());
    REQUIRE(code == 0);
    // uv_loop_close returned 0: every libuv handle was closed.
    CHECK(read_text(log).find("libuv handles left open") == std::string::npos);
    CHECK(read_text(log).find("stopped after") != std::string::npos);
  }
};

}  // namespace

TEST_CASE("hostile: a ConfigMap ..data swap is seen and applied; hostile swaps keep the last") {
  Topology topo;
  TagGuard tag("cmap");
  std::string dir = make_temp_dir("netacct-cmap");
  // The layout kubelet makes: dir/whitelist.json -> ..data/whitelist.json,
  // dir/..data -> ..2026_01, the real file inside the timestamped directory.
  std::string volume = dir + "/config";
  run_ok("mkdir -p " + volume + "/..2026_01");
  write_file(volume + "/..2026_01/whitelist.json", whitelist_text("192.0.2.0/24"));
  REQUIRE(::symlink("..2026_01", (volume + "/..data").c_str()) == 0);
  REQUIRE(::symlink("..data/whitelist.json", (volume + "/whitelist.json").c_str()) == 0);
  Daemon daemon(topo, tag.tag(), dir, volume + "/whitelist.json", {"--interval", "0.3"});
  REQUIRE(pinned_prefixes(tag.pin_path()) == std::set<std::string>{"192.0.2.0/24"});

  // kubelet's update: a new directory, a new ..data_tmp link renamed over
  // ..data, the old directory removed.
  auto swap_to = [&](const std::string& name, const std::function<void(const std::string&)>& fill) {
    run_ok("mkdir -p " + volume + "/" + name);
    fill(volume + "/" + name + "/whitelist.json");
    REQUIRE(::symlink(name.c_str(), (volume + "/..data_tmp").c_str()) == 0);
    REQUIRE(::rename((volume + "/..data_tmp").c_str(), (volume + "/..data").c_str()) == 0);
  };
  swap_to("..2026_02",
          [](const std::string& p) { write_file(p, whitelist_text("198.51.100.0/24")); });
  run_ok("rm -rf " + volume + "/..2026_01");
  bool applied = wait_until(
      [&] { return pinned_prefixes(tag.pin_path()) == std::set<std::string>{"198.51.100.0/24"}; },
      5000);
  INFO(read_text(daemon.log));
  CHECK(applied);

  // Swaps to something hostile: each is refused with a line naming the
  // file, and the last good whitelist stays in the kernel.
  struct Hostile {
    std::string name, expect;
    std::function<void(const std::string&)> fill;
  };
  std::vector<Hostile> hostile = {
      {"..2026_03", "a FIFO",
       [](const std::string& p) { REQUIRE(::mkfifo(p.c_str(), 0600) == 0); }},
      {"..2026_04", "a directory",
       [](const std::string& p) { REQUIRE(::mkdir(p.c_str(), 0700) == 0); }},
      {"..2026_05", "more than the limit", [](const std::string& p) { sparse(p, off_t{1} << 30); }},
      {"..2026_06", "invalid JSON", [](const std::string& p) { write_file(p, "{ broken"); }},
  };
  for (const Hostile& h : hostile) {
    CAPTURE(h.name);
    swap_to(h.name, h.fill);
    bool logged = wait_until(
        [&] {
          std::string log = read_text(daemon.log);
          return log.find("whitelist reload rejected") != std::string::npos &&
                 log.find(h.expect) != std::string::npos;
        },
        5000);
    INFO(read_text(daemon.log));
    CHECK(logged);
    CHECK(pinned_prefixes(tag.pin_path()) == std::set<std::string>{"198.51.100.0/24"});
    CHECK(daemon.process.running());
  }
  // And a good one again.
  swap_to("..2026_07",
          [](const std::string& p) { write_file(p, whitelist_text("203.0.113.0/24")); });
  CHECK(wait_until(
      [&] { return pinned_prefixes(tag.pin_path()) == std::set<std::string>{"203.0.113.0/24"}; },
      5000));
  daemon.stop();
  run("rm -rf " + dir);
}

TEST_CASE("hostile: output, whitelist or database as a link, directory, FIFO or 1 GB refuse") {
  Topology topo;
  TagGuard tag("hfile");
  std::string dir = make_temp_dir("netacct-hfile");
  std::string elsewhere = dir + "/elsewhere";
  write_file(elsewhere, "precious");
  const std::string ledger = state_dir() + "/" + tag.tag() + ".db";
  enum class Kind { Link, Directory, Fifo, Huge };
  for (const char* role : {"output", "whitelist", "ledger"}) {
    for (Kind kind : {Kind::Link, Kind::Directory, Kind::Fifo, Kind::Huge}) {
      // A whitelist given as a link is followed (ConfigMaps are links).
      if (std::string(role) == "whitelist" && kind == Kind::Link) continue;
      std::string path = std::string(role) == "ledger" ? ledger : dir + "/" + role + ".json";
      run("rm -rf " + path);
      switch (kind) {
        case Kind::Link: REQUIRE(::symlink(elsewhere.c_str(), path.c_str()) == 0); break;
        case Kind::Directory: REQUIRE(::mkdir(path.c_str(), 0700) == 0); break;
        case Kind::Fifo: REQUIRE(::mkfifo(path.c_str(), 0600) == 0); break;
        case Kind::Huge: sparse(path, off_t{1} << 30); break;
      }
      std::vector<std::string> args = {"--tag",    tag.tag(), "--namespace",   topo.a().netns,
                                       "--ledger", ledger,    topo.a().ifname, dir + "/o.json"};
      if (std::string(role) == "output") args[7] = path;
      if (std::string(role) == "whitelist") args.push_back(path);
      CAPTURE(role);
      CAPTURE(static_cast<int>(kind));
      RunResult result = run_netacctd(args, 15000);
      INFO(result.output);
      CHECK(result.exit_code == 1);
      CHECK(result.output.find(path) != std::string::npos);
      // One line: the refusal (a libbpf or log line would come first).
      CHECK(std::count(result.output.begin(), result.output.end(), '\n') == 1);
      CHECK(read_text(elsewhere) == "precious");
      CHECK_FALSE(::access(tag.pin_path().c_str(), F_OK) == 0);
      run("rm -rf " + path + " " + dir + "/o.json " + ledger + "*");
    }
  }
  run("rm -rf " + dir);
}

TEST_CASE("hostile: output and ledger are 0640 (--file-mode), the pin directory 0700") {
  Topology topo;
  TagGuard tag("hmode");
  std::string dir = make_temp_dir("netacct-hmode");
  const std::string ledger = state_dir() + "/" + tag.tag() + ".db";
  {
    Daemon daemon(topo, tag.tag(), dir, "", {"--interval", "0.3"});
    CHECK(mode_of(daemon.output) == 0640);
    CHECK(mode_of(ledger) == 0640);
    CHECK(mode_of(tag.pin_path()) == 0700);
    daemon.stop();
  }
  run("rm -f " + dir + "/out.json " + ledger + "*");
  {
    Daemon daemon(topo, tag.tag(), dir, "", {"--interval", "0.3", "--file-mode", "0600"});
    CHECK(mode_of(daemon.output) == 0600);
    CHECK(mode_of(ledger) == 0600);
    daemon.stop();
  }
  run("rm -rf " + dir);
}

TEST_CASE("hostile: a SIGUSR1 arriving while a harvest runs is not lost") {
  Topology topo;
  TagGuard tag("husr1");
  std::string dir = make_temp_dir("netacct-husr1");
  // No timer harvest during the test: only the signals write the file.
  Daemon daemon(topo, tag.tag(), dir, "", {"--interval", "3600"});
  uint64_t sent = 0;
  for (int round = 0; round < 20; round++) {
    // Traffic, a signal (a harvest starts), more traffic, a second signal
    // at once: it lands while the first harvest runs (or just after).
    UdpResult first = udp_transfer(paced_udp(topo.b().netns, topo.a().netns, topo.a().ipv4, 20, 100,
                                             static_cast<uint16_t>(41000 + round)));
    daemon.process.signal(SIGUSR1);
    UdpResult second = udp_transfer(paced_udp(topo.b().netns, topo.a().netns, topo.a().ipv4, 5, 100,
                                              static_cast<uint16_t>(41100 + round)));
    daemon.process.signal(SIGUSR1);
    REQUIRE(first.received == 20);
    REQUIRE(second.received == 5);
    sent += 25;
    // Every datagram sent before the second signal reaches the file.
    bool complete = wait_until(
        [&] {
          return flow_counters(read_source(daemon.output, tag.tag()), topo.a().ipv4, topo.b().ipv4,
                               "UDP")
                     .rx_packets == sent;
        },
        5000);
    INFO(read_text(daemon.log));
    REQUIRE(complete);
  }
  daemon.stop();
  run("rm -rf " + dir);
}

namespace {

// A /proc/PID/task/TID/status field ("CapEff") of every thread, as masks.
std::vector<uint64_t> thread_caps(pid_t pid, const std::string& field) {
  std::vector<uint64_t> out;
  std::string tasks;
  run("ls /proc/" + std::to_string(pid) + "/task", &tasks);
  std::istringstream ids(tasks);
  for (std::string tid; ids >> tid;) {
    std::istringstream status(
        read_text("/proc/" + std::to_string(pid) + "/task/" + tid + "/status"));
    for (std::string line; std::getline(status, line);)
      if (line.rfind(field + ":", 0) == 0)
        out.push_back(std::stoull(line.substr(field.size() + 1), nullptr, 16));
  }
  return out;
}

}  // namespace

TEST_CASE(
    "least privilege: once attached, every thread holds CAP_NET_ADMIN and CAP_SYS_ADMIN only") {
  Topology topo;
  TagGuard tag("hcaps");
  std::string dir = make_temp_dir("netacct-hcaps");
  const uint64_t kRuntime = (uint64_t{1} << 12) | (uint64_t{1} << 21);
  {
    Daemon daemon(topo, tag.tag(), dir, "", {"--interval", "0.2"});
    ::usleep(500000);  // harvests ran: libuv's worker threads exist
    auto effective = thread_caps(daemon.process.pid(), "CapEff");
    REQUIRE(effective.size() >= 2);
    for (uint64_t mask : effective) CHECK(mask == kRuntime);
    for (uint64_t mask : thread_caps(daemon.process.pid(), "CapPrm")) CHECK(mask == kRuntime);
    for (uint64_t mask : thread_caps(daemon.process.pid(), "CapBnd")) CHECK(mask == kRuntime);
    CHECK(read_text(daemon.log).find("capabilities: running with cap_net_admin,cap_sys_admin") !=
          std::string::npos);
    // Still able to do its job: the interface goes and comes back, and the
    // daemon re-attaches with what it kept.
    std::string ns = "ip -n " + topo.a().netns + " ";
    run_ok(ns + "link set " + topo.a().ifname + " down && " + ns + "link set " + topo.a().ifname +
           " up");
    UdpResult sent =
        udp_transfer(paced_udp(topo.b().netns, topo.a().netns, topo.a().ipv4, 50, 100, 41500));
    REQUIRE(sent.received == 50);
    CHECK(wait_until(
        [&] {
          return flow_counters(read_source(daemon.output, tag.tag()), topo.a().ipv4, topo.b().ipv4,
                               "UDP")
                     .rx_packets == 50;
        },
        5000));
    daemon.stop();
  }
  {
    Daemon daemon(topo, tag.tag(), dir, "", {"--interval", "0.2", "--keep-capabilities"});
    for (uint64_t mask : thread_caps(daemon.process.pid(), "CapEff")) CHECK(mask != kRuntime);
    daemon.stop();
  }
  run("rm -rf " + dir);
}
