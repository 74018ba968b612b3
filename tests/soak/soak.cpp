// SPDX-License-Identifier: GPL-2.0-only
// The soak: netacctd runs for SOAK_S seconds (default 60; `make soak` 300)
// while continuous IPv4 and IPv6 traffic of known size crosses the monitored
// veth, and everything that can go wrong goes wrong at random moments: the
// interval changes, the whitelist is reloaded (valid and broken versions),
// logrotate rotates the output (signalled at once, late, or never), the
// daemon is killed with SIGKILL and restarted, the interface is deleted and
// re-created, the flow map is overfilled, the state directory's filesystem
// fills up and is freed again, and the IPFIX collector (nfcapd) comes and
// goes.
//
// At the end the ledger's lifetime totals and the sum of every rotated JSON
// file plus the current one must equal the ground truth exactly: what the
// sockets sent (each round requires the receiver to have got every datagram)
// and what the raw injector put on the wire. The daemon's fd count and RSS
// are sampled and printed, and every fault that must be reported (a broken
// whitelist, a full disk) must have left a log line.
#define DOCTEST_CONFIG_IMPLEMENT
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <thread>

#include "bpf/netacct_shared.h"
#include "tests/integration/tc_programs.hpp"
#include "tests/support/daemon_process.hpp"
#include "tests/support/netns_process.hpp"
#include "tests/support/packet.hpp"
#include "tests/support/topology.hpp"
#include "tests/support/traffic.hpp"

using namespace netacct::test;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

struct Direction {
  uint64_t bytes = 0;
  uint64_t packets = 0;
};

// Truth and counts, per direction as seen on the monitored side (A).
struct Tally {
  Direction rx;
  Direction tx;
  uint64_t bytes() const { return rx.bytes + tx.bytes; }
};

// Lets the traffic threads run rounds until a fault needs the wire quiet (an
// interface flap: what crosses a re-created link before the daemon has
// re-attached is nobody's count, so no traffic is sent then).
class TrafficGate {
 public:
  void enter() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return !paused_; });
    active_++;
  }
  void leave() {
    std::lock_guard lock(mutex_);
    active_--;
    changed_.notify_all();
  }
  void pause() {
    std::unique_lock lock(mutex_);
    paused_ = true;
    changed_.wait(lock, [&] { return active_ == 0; });
  }
  void resume() {
    std::lock_guard lock(mutex_);
    paused_ = false;
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool paused_ = false;
  int active_ = 0;
};

// A tmpfs of its own for the state directory, so "disk full" can be made and
// undone without touching the machine's filesystems.
class TmpfsMount {
 public:
  TmpfsMount(const std::string& path, const std::string& size) : path_(path) {
    fs::create_directories(path);
    std::string options = "size=" + size + ",mode=0755";
    REQUIRE_MESSAGE(::mount("tmpfs", path.c_str(), "tmpfs", 0, options.c_str()) == 0,
                    "mount tmpfs on " << path << ": " << std::strerror(errno));
  }
  ~TmpfsMount() { ::umount2(path_.c_str(), MNT_DETACH); }
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;

 private:
  std::string path_;
};

struct Sample {
  double at_s;
  pid_t pid;
  int fds;
  uint64_t rss_kib;
};

std::optional<Sample> sample_process(pid_t pid, double at_s) {
  std::error_code error;
  int fds = 0;
  for (auto it = fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", error);
       !error && it != fs::directory_iterator(); it.increment(error))
    fds++;
  if (error) return std::nullopt;
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  uint64_t rss = 0;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) rss = std::stoull(line.substr(6));
  if (rss == 0) return std::nullopt;
  return Sample{at_s, pid, fds, rss};
}

// Sends `count` crafted IPv4 UDP frames from fresh sources in 10.77.0.0/16
// out of B's end of the veth (AF_PACKET, from a child inside B's namespace):
// each is a new flow at A's ingress, so the flow map overfills. Returns the
// frames the socket sent and their IP-layer bytes.
Direction inject_new_flows(const Endpoint& from, const Endpoint& to, uint32_t count,
                           uint32_t seed) {
  int pipe_fds[2];
  REQUIRE(::pipe2(pipe_fds, O_CLOEXEC) == 0);
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    Direction sent;
    int ns = ::open(("/var/run/netns/" + from.netns).c_str(), O_RDONLY | O_CLOEXEC);
    if (ns >= 0 && ::setns(ns, CLONE_NEWNET) == 0) {
      int fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
      sockaddr_ll where{};
      where.sll_family = AF_PACKET;
      where.sll_ifindex = static_cast<int>(::if_nametoindex(from.ifname.c_str()));
      where.sll_halen = ETH_ALEN;
      unsigned mac[6];
      std::sscanf(to.mac.c_str(), "%x:%x:%x:%x:%x:%x", &mac[0], &mac[1], &mac[2], &mac[3], &mac[4],
                  &mac[5]);
      std::mt19937 random(seed);
      for (uint32_t i = 0; fd >= 0 && i < count; i++) {
        PacketSpec spec;
        spec.src = "10.77." + std::to_string(random() % 256) + "." + std::to_string(i % 250 + 1);
        spec.dst = to.ipv4;
        spec.payload = 20 + random() % 200;
        Packet packet = build_packet(spec);
        for (int b = 0; b < 6; b++) {
          packet.frame[b] = static_cast<uint8_t>(mac[b]);
          where.sll_addr[b] = static_cast<uint8_t>(mac[b]);
        }
        ssize_t n = ::sendto(fd, packet.frame.data(), packet.frame.size(), 0,
                             reinterpret_cast<sockaddr*>(&where), sizeof where);
        if (n == static_cast<ssize_t>(packet.frame.size())) {
          sent.packets++;
          sent.bytes += packet.ip_bytes;
        }
        if (i % 16 == 15) ::usleep(1000);  // the peer's backlog must never overflow
      }
    }
    (void)!::write(pipe_fds[1], &sent, sizeof sent);
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  Direction sent;
  ssize_t n = ::read(pipe_fds[0], &sent, sizeof sent);
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  REQUIRE(n == static_cast<ssize_t>(sizeof sent));
  return sent;
}

// Is `text` (an address, or a prefix row "a.b.c.0/24") inside `prefix/bits`?
bool within(std::string text, const std::string& prefix, int bits) {
  if (auto slash = text.find('/'); slash != std::string::npos) text.resize(slash);
  auto bytes_of = [](const std::string& address, uint8_t* out) {
    if (address.find(':') != std::string::npos)
      return ::inet_pton(AF_INET6, address.c_str(), out) == 1 ? 16 : 0;
    return ::inet_pton(AF_INET, address.c_str(), out) == 1 ? 4 : 0;
  };
  uint8_t a[16] = {}, b[16] = {};
  int la = bytes_of(text, a), lb = bytes_of(prefix, b);
  if (la == 0 || la != lb) return false;
  for (int bit = 0; bit < bits; bit++)
    if (((a[bit / 8] >> (7 - bit % 8)) & 1) != ((b[bit / 8] >> (7 - bit % 8)) & 1)) return false;
  return true;
}

// What netacct counted, from a set of rows: the traffic the soak sent (its
// networks, UDP) plus the overflow buckets. Anything else must be IPv6
// link chatter (MLD, router solicitations after a re-created link), which
// is reported, not compared; any other row is unexpected.
struct Counted {
  Tally tally;
  uint64_t chatter_packets = 0;
  uint64_t unexpected_rows = 0;
  uint64_t whitelisted_packets = 0;
};

struct SoakNetworks {
  std::vector<std::pair<std::string, int>> prefixes;
  bool ours(const std::string& remote) const {
    for (auto& [prefix, bits] : prefixes)
      if (within(remote, prefix, bits)) return true;
    return false;
  }
};

void add_row(Counted& counted, const SoakNetworks& networks, const std::string& remote,
             int protocol, const netacct_counters& c) {
  if (protocol == 17 && networks.ours(remote)) {
    counted.tally.rx.bytes += c.rx_bytes;
    counted.tally.rx.packets += c.rx_packets;
    counted.tally.tx.bytes += c.tx_bytes;
    counted.tally.tx.packets += c.tx_packets;
  } else if (protocol == 58) {
    counted.chatter_packets += c.rx_packets + c.tx_packets;
  } else {
    counted.unexpected_rows++;
    MESSAGE("unexpected row: remote " << remote << " protocol " << protocol);
  }
}

void add_overflow(Counted& counted, const netacct_counters& c) {
  counted.tally.rx.bytes += c.rx_bytes;
  counted.tally.rx.packets += c.rx_packets;
  counted.tally.tx.bytes += c.tx_bytes;
  counted.tally.tx.packets += c.tx_packets;
}

int protocol_number(const boost::json::value& value) {
  if (value.is_int64()) return static_cast<int>(value.as_int64());
  std::string name(value.as_string());
  if (name == "UDP") return 17;
  if (name == "TCP") return 6;
  if (name == "ICMPv6" || name == "IPv6-ICMP") return 58;
  if (name == "ICMP") return 1;
  return -1;
}

netacct_counters counters_of(const boost::json::object& row) {
  auto u = [&](const char* key) {
    return row.contains(key) ? row.at(key).to_number<uint64_t>() : 0;
  };
  return {u("rx_bytes"), u("rx_packets"), u("tx_bytes"), u("tx_packets")};
}

// The ledger's lifetime rows and overflow buckets (read after the daemon stopped).
Counted ledger_counts(const std::string& db_path, const SoakNetworks& networks) {
  Counted counted;
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  auto each = [&](const char* sql, auto&& row) {
    sqlite3_stmt* stmt = nullptr;
    REQUIRE_MESSAGE(sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK,
                    sqlite3_errmsg(db));
    while (sqlite3_step(stmt) == SQLITE_ROW) row(stmt);
    sqlite3_finalize(stmt);
  };
  auto counters = [](sqlite3_stmt* s, int first) {
    return netacct_counters{static_cast<uint64_t>(sqlite3_column_int64(s, first)),
                            static_cast<uint64_t>(sqlite3_column_int64(s, first + 1)),
                            static_cast<uint64_t>(sqlite3_column_int64(s, first + 2)),
                            static_cast<uint64_t>(sqlite3_column_int64(s, first + 3))};
  };
  each("SELECT remote, protocol, rx_bytes, rx_packets, tx_bytes, tx_packets FROM flows",
       [&](sqlite3_stmt* s) {
         add_row(counted, networks, reinterpret_cast<const char*>(sqlite3_column_text(s, 0)),
                 sqlite3_column_int(s, 1), counters(s, 2));
       });
  each(
      "SELECT bucket, rx_bytes, rx_packets, tx_bytes, tx_packets FROM buckets "
      "WHERE scope = 'lifetime'",
      [&](sqlite3_stmt* s) {
        int bucket = sqlite3_column_int(s, 0);
        netacct_counters c = counters(s, 1);
        if (bucket == NETACCT_BUCKET_OVERFLOW_V4 || bucket == NETACCT_BUCKET_OVERFLOW_V6)
          add_overflow(counted, c);
        if (bucket == NETACCT_BUCKET_WHITELISTED)
          counted.whitelisted_packets += c.rx_packets + c.tx_packets;
      });
  sqlite3_close(db);
  return counted;
}

// Every JSON file of the output (rotated ones and the current), summed: each
// holds exactly its period, so together they hold the whole run.
Counted json_counts(const std::string& dir, const std::string& output_name, const std::string& tag,
                    const SoakNetworks& networks, int* files) {
  Counted counted;
  *files = 0;
  for (auto& entry : fs::directory_iterator(dir)) {
    std::string name = entry.path().filename();
    if (name != output_name && name.rfind(output_name + ".", 0) != 0) continue;
    // Rotated files are OUTPUT.1, OUTPUT.2, ...; not the lock or a temporary.
    std::string suffix = name.substr(output_name.size());
    if (!suffix.empty() && suffix.find_first_not_of(".0123456789") != std::string::npos) continue;
    boost::json::value source = read_source(entry.path(), tag);
    if (source.is_null()) continue;
    (*files)++;
    for (auto& row : source.at("traffic_data").as_array()) {
      const auto& object = row.as_object();
      add_row(counted, networks, std::string(object.at("destination_ip").as_string()),
              protocol_number(object.at("protocol")), counters_of(object));
    }
    const auto& buckets = source.at("buckets").as_object();
    for (const char* overflow : {"overflow_v4", "overflow_v6"})
      if (buckets.contains(overflow))
        add_overflow(counted, counters_of(buckets.at(overflow).as_object()));
    if (buckets.contains("whitelisted")) {
      netacct_counters c = counters_of(buckets.at("whitelisted").as_object());
      counted.whitelisted_packets += c.rx_packets + c.tx_packets;
    }
  }
  return counted;
}

int count_lines_with(const std::string& text, const std::vector<std::string>& needles) {
  int lines = 0;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    for (auto& needle : needles)
      if (line.find(needle) != std::string::npos) {
        lines++;
        break;
      }
  return lines;
}

void write_file(const std::string& path, const std::string& text) {
  std::string temp = path + ".soak-new";
  {
    std::ofstream out(temp, std::ios::trunc);
    out << text;
  }
  REQUIRE(::rename(temp.c_str(), path.c_str()) == 0);
}

std::string whitelist_json(std::mt19937& random, bool broken) {
  if (broken) {
    switch (random() % 3) {
      case 0: return "{\"whitelist\": {\"soak\": {\"enabled\": true, \"ips\": [\"10.99.0.1\"";
      case 1:
        return "{\"whitelist\": {\"soak\": {\"enabled\": true, \"cidrs\": [\"10.99.0.0/33\"]}}}";
      default: return "{\"whitelist\": {\"soak\": {\"enabled\": true, \"ips\": [\"not-an-ip\"]}}}";
    }
  }
  // Peers the soak never talks to: a reload must apply without moving a byte.
  std::string cidrs;
  int n = 1 + static_cast<int>(random() % 20);
  for (int i = 0; i < n; i++)
    cidrs += (i ? ", " : "") + std::string("\"10.99.") + std::to_string(random() % 256) + ".0/24\"";
  return "{\"whitelist\": {\"soak\": {\"enabled\": true, \"ips\": [\"fd00:99::" +
         std::to_string(random() % 1000) + "\"], \"cidrs\": [" + cidrs + "]}}}";
}

constexpr int kCollectorPort = 4739;

double env_seconds(const char* name, double fallback) {
  const char* value = std::getenv(name);
  return value && *value ? std::atof(value) : fallback;
}

}  // namespace

TEST_CASE(
    "soak: traffic, kills, reloads, rotations, flaps, full disk, overfill, collector: exact") {
  const double soak_s = env_seconds("SOAK_S", 60);
  Topology topo;
  TagGuard tag("soak");
  std::string dir = make_temp_dir("netacct-soak");
  std::string state = dir + "/state";
  TmpfsMount tmpfs(state, "48m");
  const std::string output_name = "out.json";
  std::string output = state + "/" + output_name, whitelist = dir + "/whitelist.json",
              config = dir + "/netacctd.json", log = dir + "/daemon.log";
  std::mt19937 random(static_cast<unsigned>(::getpid()) ^ static_cast<unsigned>(::time(nullptr)));

  // A re-created link makes IPv6 chatter (DAD, router solicitations, MLD
  // reports). Counted as flows it is told apart, but in an overflow bucket it
  // would mix with the soak's own traffic: new links in these namespaces send
  // no DAD or RS, and no overfill follows a flap until its MLD reports are over.
  // The first link's router solicitations (sent with a growing backoff)
  // stop with accept_ra=0 on it.
  for (const Endpoint* end : {&topo.a(), &topo.b()})
    run_ok("ip netns exec " + end->netns +
           " sysctl -qw net.ipv6.conf.default.accept_ra=0 net.ipv6.conf.default.accept_dad=0 "
           "net.ipv6.conf.default.router_solicitations=0 net.ipv6.conf." +
           end->ifname + ".accept_ra=0 net.ipv6.conf." + end->ifname + ".router_solicitations=0");
  double interval = 0.5;
  auto write_config = [&] {
    boost::json::object conf{{"tag", tag.tag()},
                             {"namespace", topo.a().netns},
                             {"interface", topo.a().ifname},
                             {"output_file", output},
                             {"whitelist_file", whitelist},
                             {"interval", interval},
                             {"max_flows", 256},
                             {"ipfix", "127.0.0.1:" + std::to_string(kCollectorPort)}};
    write_file(config, boost::json::serialize(conf));
  };
  write_config();
  write_file(whitelist, whitelist_json(random, false));
  std::string logrotate_conf = dir + "/logrotate.conf";
  write_file(logrotate_conf, output + " {\n  rotate 100000\n  nocompress\n  missingok\n}\n");

  auto daemon = std::make_unique<DaemonProcess>();
  // Starts netacctd and waits until it counts (its "counting on" line): a
  // fault must not hit a daemon still starting (a start without the
  // interface is refused, by design).
  auto start_daemon = [&] {
    int before = count_lines_with(read_text(log), {"] info: counting on "});
    daemon = std::make_unique<DaemonProcess>();
    daemon->start({"--config", config, "--state-dir", state}, log, topo.a().netns);
    REQUIRE_MESSAGE(
        wait_until(
            [&] { return count_lines_with(read_text(log), {"] info: counting on "}) > before; },
            20000),
        read_text(log));
  };
  start_daemon();
  REQUIRE_MESSAGE(wait_until([&] { return !read_source(output, tag.tag()).is_null(); }, 15000),
                  read_text(log));

  // ---- traffic: IPv4 B->A (A receives) and IPv6 A->B (A sends) ----
  TrafficGate gate;
  std::atomic<bool> stop{false};
  std::mutex truth_mutex;
  Tally truth;
  std::string traffic_error;
  auto traffic = [&](bool v6, uint16_t port, unsigned seed) {
    std::mt19937 rng(seed);
    const uint32_t payloads[] = {16, 100, 400, 900, 1400};
    try {
      // A port per round: the last round's receiver may still be closing.
      for (uint32_t round = 0; !stop; round++) {
        gate.enter();
        uint32_t payload = payloads[rng() % 5], count = 100 + rng() % 200;
        UdpSpec spec = v6 ? paced_udp(topo.a().netns, topo.b().netns, topo.b().ipv6, count, payload,
                                      static_cast<uint16_t>(port + round % 50))
                          : paced_udp(topo.b().netns, topo.a().netns, topo.a().ipv4, count, payload,
                                      static_cast<uint16_t>(port + round % 50));
        UdpResult result = udp_transfer(spec);
        gate.leave();
        std::lock_guard lock(truth_mutex);
        if (result.sent != result.received || result.sent != count) {
          traffic_error = "round lost datagrams: sent " + std::to_string(result.sent) +
                          " received " + std::to_string(result.received) + " of " +
                          std::to_string(count);
          stop = true;
          return;
        }
        Direction& d = v6 ? truth.tx : truth.rx;
        d.packets += count;
        d.bytes += count * udp_ip_bytes(spec.to_address, payload);
      }
    } catch (const std::exception& e) {
      gate.leave();
      std::lock_guard lock(truth_mutex);
      traffic_error = e.what();
      stop = true;
    }
  };
  std::thread v4_thread(traffic, false, 40600, random());
  std::thread v6_thread(traffic, true, 40700, random());
  // A failed REQUIRE below must still stop and join the traffic threads.
  struct Joiner {
    std::atomic<bool>& stop;
    TrafficGate& gate;
    std::thread& a;
    std::thread& b;
    ~Joiner() {
      stop = true;
      gate.resume();
      if (a.joinable()) a.join();
      if (b.joinable()) b.join();
    }
  } joiner{stop, gate, v4_thread, v6_thread};

  // ---- faults ----
  enum Fault { Interval, Whitelist, Rotate, Kill, Flap, DiskFull, Overfill, Collector, kFaults };
  const char* fault_names[] = {"interval", "whitelist", "rotate",   "kill",
                               "flap",     "disk_full", "overfill", "collector"};
  // The IPFIX collector, in A's namespace like the daemon; it comes and goes.
  std::unique_ptr<NetnsProcess> collector;
  auto start_collector = [&] {
    run_ok("mkdir -p " + dir + "/nfcapd");
    collector = std::make_unique<NetnsProcess>(
        topo.a().netns,
        std::vector<std::string>{"/usr/bin/nfcapd", "-w", dir + "/nfcapd", "-p",
                                 std::to_string(kCollectorPort), "-b", "127.0.0.1", "-t", "3600"},
        dir + "/nfcapd.log");
  };
  start_collector();
  int done[kFaults] = {};
  int broken_reloads = 0, late_signals = 0, unsignalled = 0, silent_errors = 0;
  std::vector<Sample> samples;
  auto started = Clock::now();
  auto elapsed_s = [&] { return std::chrono::duration<double>(Clock::now() - started).count(); };
  std::optional<Clock::time_point> late_usr1;
  auto errors_in_log = [&] {
    return count_lines_with(read_text(log), {"] error:", "] warning:", "] warn:"});
  };

  // A failure that repeats is logged when it starts and when it ends
  // (FailureStreak): while one is still open from an earlier episode, a new
  // episode of the same cause is already reported.
  auto failure_streak_open = [&] {
    bool harvest = false, writing = false;
    std::istringstream in(read_text(log));
    std::string line;
    while (std::getline(in, line)) {
      if (line.find("] info: counting on ") != std::string::npos) harvest = writing = false;
      bool failing = line.find("] error: ") != std::string::npos &&
                     (line.find("failed, will retry") != std::string::npos ||
                      line.find("still failing") != std::string::npos);
      bool recovered = line.find(" recovered after ") != std::string::npos;
      if (line.find("] error: harvest ") != std::string::npos ||
          line.find("] info: harvest recovered") != std::string::npos)
        harvest = failing || (!recovered && harvest);
      if (line.find("] error: writing ") != std::string::npos ||
          line.find("] info: writing ") != std::string::npos)
        writing = failing || (!recovered && writing);
    }
    return harvest || writing;
  };
  auto silent = [&](const char* what) {
    silent_errors++;
    MESSAGE("no log line for " << what << "; log tail:\n"
                               << read_text(log).substr(read_text(log).size() > 3000
                                                            ? read_text(log).size() - 3000
                                                            : 0));
  };

  auto do_fault = [&](Fault fault) {
    switch (fault) {
      case Interval: {
        const double choices[] = {0.2, 0.3, 0.5, 1.0, 1.5};
        interval = choices[random() % 5];
        write_config();
        daemon->signal(SIGHUP);
        break;
      }
      case Whitelist: {
        bool broken = done[Whitelist] % 2 == 1;  // every other version is broken
        int errors_before = errors_in_log();
        write_file(whitelist, whitelist_json(random, broken));
        if (broken) {
          broken_reloads++;
          if (!wait_until([&] { return errors_in_log() > errors_before; }, 5000))
            silent("a broken whitelist");
          write_file(whitelist, whitelist_json(random, false));  // the next good version
        }
        break;
      }
      case Rotate: {
        std::string out;
        if (run("logrotate -f -s " + dir + "/logrotate.state " + logrotate_conf, &out) != 0)
          FAIL("logrotate: " << out);
        switch (random() % 3) {
          case 0: daemon->signal(SIGUSR1); break;
          case 1:
            late_usr1 = Clock::now() + std::chrono::milliseconds(200 + random() % 2000);
            late_signals++;
            break;
          default: unsignalled++; break;
        }
        break;
      }
      case Kill: {
        daemon->signal(SIGKILL);
        daemon->wait(5000);
        ::usleep(static_cast<useconds_t>(random() % 800) * 1000);
        start_daemon();
        break;
      }
      case Flap: {
        gate.pause();
        run_ok("ip -n " + topo.a().netns + " link del " + topo.a().ifname);
        ::usleep(static_cast<useconds_t>(200 + random() % 1000) * 1000);
        topo.recreate_link();
        // Traffic resumes only once the daemon has attached to the new link.
        bool attached = wait_until(
            [&] {
              // tcx links or clsact filters, whichever this kernel uses.
              std::string in = tc_programs_text(topo.a().netns, topo.a().ifname, "ingress");
              std::string eg = tc_programs_text(topo.a().netns, topo.a().ifname, "egress");
              return in.find("netacct") != std::string::npos &&
                     eg.find("netacct") != std::string::npos;
            },
            15000);
        gate.resume();
        REQUIRE_MESSAGE(attached, "not re-attached after the flap:\n" << read_text(log));
        ::sleep(3);  // MLD's unsolicited reports (robustness 2, 1 s apart) end
        break;
      }
      case DiskFull: {
        int errors_before = errors_in_log();
        bool already_reported = failure_streak_open();
        std::string filler = state + "/filler";
        run("dd if=/dev/zero of=" + filler + " bs=1M count=64 2>/dev/null");
        ::sleep(static_cast<unsigned>(2 + random() % 3));
        if (!already_reported && !wait_until([&] { return errors_in_log() > errors_before; }, 5000))
          silent("a full disk");
        ::unlink(filler.c_str());
        break;
      }
      case Overfill: {
        Direction sent =
            inject_new_flows(topo.b(), topo.a(), 1200, static_cast<uint32_t>(random()));
        std::lock_guard lock(truth_mutex);
        truth.rx.bytes += sent.bytes;
        truth.rx.packets += sent.packets;
        break;
      }
      case Collector: {
        if (collector && collector->running()) {
          collector->stop();
          collector.reset();
        } else {
          start_collector();
        }
        break;
      }
      default: break;
    }
    done[fault]++;
  };

  // Every fault once, in a random order, then random ones until the time is up.
  std::vector<Fault> plan;
  for (int f = 0; f < kFaults; f++) plan.push_back(static_cast<Fault>(f));
  plan.push_back(Whitelist);  // a valid and a broken version, at least
  std::shuffle(plan.begin(), plan.end(), random);
  double next_sample = 0;
  size_t planned = 0;
  while (elapsed_s() < soak_s && !stop) {
    if (elapsed_s() >= next_sample) {
      if (auto s = sample_process(daemon->pid(), elapsed_s())) samples.push_back(*s);
      next_sample += std::max(1.0, soak_s / 30);
    }
    if (late_usr1 && Clock::now() >= *late_usr1) {
      daemon->signal(SIGUSR1);
      late_usr1.reset();
    }
    Fault fault = planned < plan.size() ? plan[planned++] : static_cast<Fault>(random() % kFaults);
    do_fault(fault);
    CHECK_MESSAGE(daemon->running(), "netacctd died after " << fault_names[fault] << ":\n"
                                                            << read_text(log));
    if (!daemon->running()) break;
    ::usleep(static_cast<useconds_t>(300 + random() % 1500) * 1000);
  }
  stop = true;
  v4_thread.join();
  v6_thread.join();
  if (late_usr1) daemon->signal(SIGUSR1);
  REQUIRE_MESSAGE(traffic_error.empty(), traffic_error);

  // The last counts: a clean stop harvests and writes once more.
  ::usleep(300000);
  daemon->signal(SIGTERM);
  int code = daemon->wait(20000);
  REQUIRE_MESSAGE(code == 0, read_text(log));

  SoakNetworks networks;
  networks.prefixes = {{topo.b().ipv4, 24}, {"10.77.0.0", 16}, {topo.b().ipv6, 48}};
  Counted ledger = ledger_counts(state + "/" + tag.tag() + ".db", networks);
  int files = 0;
  Counted json = json_counts(state, output_name, tag.tag(), networks, &files);

  for (auto& s : samples)
    std::printf("soak-sample: t=%.1fs pid=%d fds=%d rss_kib=%llu\n", s.at_s,
                static_cast<int>(s.pid), s.fds, static_cast<unsigned long long>(s.rss_kib));
  auto lost = [&](const Counted& c) {
    auto short_of = [](uint64_t want, uint64_t got) { return want > got ? want - got : 0; };
    return short_of(truth.rx.bytes, c.tally.rx.bytes) + short_of(truth.tx.bytes, c.tally.tx.bytes);
  };
  auto duplicated = [&](const Counted& c) {
    auto over = [](uint64_t want, uint64_t got) { return got > want ? got - want : 0; };
    return over(truth.rx.bytes, c.tally.rx.bytes) + over(truth.tx.bytes, c.tally.tx.bytes);
  };
  std::ostringstream summary;
  summary << "soak: seconds=" << static_cast<int>(elapsed_s()) << " kills=" << done[Kill]
          << " reloads=" << done[Whitelist] << " rotations=" << done[Rotate]
          << " flaps=" << done[Flap] << " disk_full=" << done[DiskFull]
          << " overfills=" << done[Overfill] << " collector_flaps=" << done[Collector]
          << " interval_changes=" << done[Interval] << " broken_whitelists=" << broken_reloads
          << " late_signals=" << late_signals << " unsignalled_rotations=" << unsignalled
          << " silent_errors=" << silent_errors << " bytes_truth=" << truth.bytes()
          << " bytes_counted=" << ledger.tally.bytes() << " lost=" << lost(ledger)
          << " duplicated=" << duplicated(ledger);
  std::printf("%s\n", summary.str().c_str());
  std::printf("soak-json: files=%d bytes_counted=%llu lost=%llu duplicated=%llu\n", files,
              static_cast<unsigned long long>(json.tally.bytes()),
              static_cast<unsigned long long>(lost(json)),
              static_cast<unsigned long long>(duplicated(json)));
  std::fflush(stdout);

  INFO(summary.str());
  for (const Counted* c : {&ledger, &json}) {
    CHECK(c->tally.rx.bytes == truth.rx.bytes);
    CHECK(c->tally.rx.packets == truth.rx.packets);
    CHECK(c->tally.tx.bytes == truth.tx.bytes);
    CHECK(c->tally.tx.packets == truth.tx.packets);
    CHECK(c->unexpected_rows == 0);
    CHECK(c->whitelisted_packets == 0);
  }
  CHECK(silent_errors == 0);
  // Flat: no fd leak (a handful of fds of slack for sockets that come and go)
  // and no RSS growth beyond noise, within each daemon process's life.
  std::map<pid_t, std::pair<Sample, Sample>> per_process;
  std::map<pid_t, double> born;
  for (auto& s : samples) born.try_emplace(s.pid, s.at_s);
  for (auto& s : samples) {
    if (s.at_s < born[s.pid] + 5) continue;
    auto [it, fresh] = per_process.try_emplace(s.pid, s, s);
    if (!fresh) it->second.second = s;
  }
  // A process is judged from its first sample at least 5 s into its life
  // (its thread pool, metrics connections and exporter start lazily).
  for (auto& [pid, range] : per_process) {
    INFO("pid " << pid << ": fds " << range.first.fds << " -> " << range.second.fds << ", rss "
                << range.first.rss_kib << " -> " << range.second.rss_kib << " KiB");
    CHECK(range.second.fds <= range.first.fds + 4);
    CHECK(range.second.rss_kib <= range.first.rss_kib + 16 * 1024);
  }
  if (lost(ledger) == 0 && duplicated(ledger) == 0 && lost(json) == 0 && duplicated(json) == 0) {
    ::umount2(state.c_str(), MNT_DETACH);
    run("rm -rf " + dir);
  } else {
    MESSAGE("truth rx " << truth.rx.bytes << " B / " << truth.rx.packets << " pkts, tx "
                        << truth.tx.bytes << " B / " << truth.tx.packets << " pkts; ledger rx "
                        << ledger.tally.rx.bytes << " / " << ledger.tally.rx.packets << ", tx "
                        << ledger.tally.tx.bytes << " / " << ledger.tally.tx.packets
                        << "; ICMPv6 chatter packets " << ledger.chatter_packets);
    run("cp -a " + state + " " + dir + "/state-kept");  // the tmpfs goes; its files stay
    MESSAGE("kept for a post-mortem: " << dir);
  }
}

int main(int argc, char** argv) {
  if (const char* dir = std::getenv("NETACCT_STATE_DIR"); !dir)
    ::setenv("NETACCT_STATE_DIR", "/tmp", 0);
  doctest::Context context(argc, argv);
  return context.run();
}
