// SPDX-License-Identifier: GPL-2.0-only
// IPFIX export end to end, with Debian's own collectors: nfcapd (nfdump) on
// 127.0.0.1 and pmacct's nfacctd on ::1, both inside the test's namespace A
// (its own lo), next to netacctd counting veth-a. Known IPv4 and IPv6 UDP
// crosses the veth both ways over several harvests; what the collectors'
// own readers print (nfdump -o csv, nfacctd's print plugin) must equal the
// ground truth and the ledger, per flow and direction. A second test stops
// the collector mid-run: drops are counted in /metrics, the harvests keep
// their pace, the ledger stays exact, and down/recovery are logged once. A
// third exports over TCP to a collector that only starts listening later:
// the queue holds the batches and every record arrives, none twice.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>
#include <tuple>

#include "it_common.hpp"
#include "metrics_common.hpp"
#include "tests/support/netns_process.hpp"
#include "tests/support/traffic.hpp"

using namespace netacct::test;

namespace {

constexpr uint16_t kNfcapdPort = 2055;
constexpr uint16_t kNfacctdPort = 2056;

// (source, destination, protocol as the reader prints it) -> totals.
using FlowTotals = std::map<std::tuple<std::string, std::string, std::string>, netacct_counters>;

std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream in(line);
  std::string field;
  while (std::getline(in, field, ',')) out.push_back(field);
  return out;
}

// Packets and bytes land in rx_* (a collector record has one direction).
void add(FlowTotals& totals, const std::string& src, const std::string& dst,
         const std::string& proto, uint64_t packets, uint64_t bytes) {
  netacct_counters& c = totals[{src, dst, proto}];
  c.rx_packets += packets;
  c.rx_bytes += bytes;
}

uint64_t number(const std::string& text) {
  return text.empty() ? 0 : std::stoull(text);
}

// `nfdump -R DIR -o csv` (nfdump 1.7): a header line naming the columns,
// one line per record, then an empty line and a summary.
FlowTotals read_nfdump(const std::string& dir, std::string* raw) {
  std::string out;
  run("nfdump -R " + dir + " -o csv 2>&1", &out);
  if (raw) *raw = out;
  FlowTotals totals;
  std::stringstream in(out);
  std::string line;
  std::map<std::string, size_t> column;
  while (std::getline(in, line)) {
    if (line.empty() || line == "Summary") break;
    std::vector<std::string> fields = split_csv(line);
    if (column.empty()) {
      for (size_t i = 0; i < fields.size(); i++) column[fields[i]] = i;
      if (!column.count("sa") || !column.count("ibyt")) return {};
      continue;
    }
    if (fields.size() <= column["ibyt"]) continue;
    add(totals, fields[column["sa"]], fields[column["da"]], fields[column["pr"]],
        number(fields[column["ipkt"]]), number(fields[column["ibyt"]]));
  }
  return totals;
}

// nfacctd's print plugin, CSV, appended each refresh:
// SRC_IP,DST_IP,PROTOCOL,PACKETS,BYTES.
FlowTotals read_nfacctd(const std::string& path) {
  FlowTotals totals;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> fields = split_csv(line);
    if (fields.size() != 5 || fields[0] == "SRC_IP") continue;
    add(totals, fields[0], fields[1], fields[2], number(fields[3]), number(fields[4]));
  }
  return totals;
}

// A collector record's view of one direction of a ledger flow.
netacct_counters one_way(uint64_t packets, uint64_t bytes) {
  netacct_counters c{};
  c.rx_packets = packets;
  c.rx_bytes = bytes;
  return c;
}

std::unique_ptr<NetnsProcess> start_nfcapd(const std::string& netns, const std::string& dir) {
  run_ok("mkdir -p " + dir);
  auto nfcapd = std::make_unique<NetnsProcess>(
      netns,
      std::vector<std::string>{"/usr/bin/nfcapd", "-w", dir, "-p", std::to_string(kNfcapdPort),
                               "-b", "127.0.0.1", "-t", "3600"},
      dir + ".log");
  bool up = wait_until(
      [&] { return read_text(dir + ".log").find("Startup nfcapd.") != std::string::npos; }, 10000);
  INFO("nfcapd log:\n" << read_text(dir + ".log"));
  REQUIRE(up);
  return nfcapd;
}

std::unique_ptr<NetnsProcess> start_nfacctd(const std::string& netns, const std::string& dir) {
  const std::string config = dir + "/nfacctd.conf";
  std::ofstream(config) << "daemonize: false\n"
                           "nfacctd_ip: ::1\n"
                           "nfacctd_port: "
                        << kNfacctdPort
                        << "\n"
                           "plugins: print\n"
                           "print_output: csv\n"
                           "print_output_file: "
                        << dir
                        << "/nfacctd.csv\n"
                           "print_output_file_append: true\n"
                           "print_refresh_time: 1\n"
                           "aggregate: src_host,dst_host,proto\n";
  auto nfacctd = std::make_unique<NetnsProcess>(
      netns, std::vector<std::string>{"/usr/sbin/nfacctd", "-f", config}, dir + "/nfacctd.log",
      SIGINT);  // nfacctd ends on SIGINT; SIGTERM does not stop it
  bool up = wait_until(
      [&] {
        return read_text(dir + "/nfacctd.log").find("waiting for NetFlow/IPFIX data") !=
               std::string::npos;
      },
      10000);
  INFO("nfacctd log:\n" << read_text(dir + "/nfacctd.log"));
  REQUIRE(up);
  return nfacctd;
}

// Sum of one metric's samples for one collector.
double collector_metric(const std::string& text, const std::string& name,
                        const std::string& collector) {
  double sum = 0;
  for (const auto& [series, value] : metric_samples(text))
    if (series.rfind(name + "{", 0) == 0 &&
        series.find("collector=\"" + collector + "\"") != std::string::npos)
      sum += value;
  return sum;
}

size_t occurrences(const std::string& text, const std::string& what) {
  size_t count = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) count++;
  return count;
}

// A minimal IPFIX-over-TCP collector for the test (Debian's nfcapd and
// nfacctd take UDP only): listens on 127.0.0.1:port inside `netns` from
// listen() on, accepts one exporter, and decodes the data sets of netacct's
// two templates (256: IPv4, 50-byte records; 257: IPv6, 74 bytes) field by
// field, independently of libfixbuf.
class TcpCollector {
 public:
  TcpCollector(std::string netns, uint16_t port) : netns_(std::move(netns)), port_(port) {}
  ~TcpCollector() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  void listen() {
    thread_ = std::thread([this] { run(); });
  }
  // Waits for the exporter to close the connection (it does at exit).
  bool wait_closed(int timeout_ms) {
    return wait_until([&] { return closed_.load(); }, timeout_ms);
  }
  FlowTotals totals() {
    std::lock_guard<std::mutex> lock(mutex_);
    return totals_;
  }
  int template_sets() const { return template_sets_; }

 private:
  void run() {
    int ns = ::open(("/var/run/netns/" + netns_).c_str(), O_RDONLY | O_CLOEXEC);
    if (ns < 0 || ::setns(ns, CLONE_NEWNET) != 0) return;
    ::close(ns);
    int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port_);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(server, 4) != 0) {
      ::close(server);
      return;
    }
    int fd = -1;
    for (int waited = 0; fd < 0 && !stop_ && waited < 60000; waited += 100) {
      pollfd p{server, POLLIN, 0};
      if (::poll(&p, 1, 100) == 1) fd = ::accept4(server, nullptr, nullptr, SOCK_CLOEXEC);
    }
    ::close(server);
    if (fd < 0) return;
    std::string stream;
    char buffer[65536];
    while (!stop_) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 100) != 1) continue;
      ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      stream.append(buffer, static_cast<size_t>(n));
      while (stream.size() >= 16) {
        size_t length = u16(stream, 2);
        if (u16(stream, 0) != 10 || length < 16) {
          ::close(fd);
          return;  // not IPFIX: decode nothing more
        }
        if (stream.size() < length) break;
        message(stream.substr(0, length));
        stream.erase(0, length);
      }
    }
    ::close(fd);
    closed_ = true;
  }
  static uint64_t be(const std::string& data, size_t at, size_t bytes) {
    uint64_t value = 0;
    for (size_t i = 0; i < bytes; i++) value = (value << 8) | static_cast<uint8_t>(data[at + i]);
    return value;
  }
  static size_t u16(const std::string& data, size_t at) { return be(data, at, 2); }
  static std::string address(const std::string& data, size_t at, bool v6) {
    char text[INET6_ADDRSTRLEN] = {};
    ::inet_ntop(v6 ? AF_INET6 : AF_INET, data.data() + at, text, sizeof text);
    return text;
  }
  void message(const std::string& m) {
    for (size_t at = 16; at + 4 <= m.size();) {
      size_t id = u16(m, at), length = u16(m, at + 2);
      if (length < 4 || at + length > m.size()) return;
      if (id == 2) template_sets_++;
      const bool v6 = id == 257;
      const size_t size = v6 ? 74 : 50;
      if (id == 256 || id == 257) {
        for (size_t r = at + 4; r + size <= at + length; r += size) {
          // start, end, octets, packets, source, destination, in, out, protocol
          uint64_t octets = be(m, r + 16, 8), packets = be(m, r + 24, 8);
          std::string src = address(m, r + 32, v6), dst = address(m, r + (v6 ? 48 : 36), v6);
          std::string proto = std::to_string(be(m, r + (v6 ? 72 : 48), 1));
          std::lock_guard<std::mutex> lock(mutex_);
          add(totals_, src, dst, proto, packets, octets);
        }
      }
      at += length;
    }
  }

  std::string netns_;
  uint16_t port_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> closed_{false};
  std::atomic<int> template_sets_{0};
  std::mutex mutex_;
  FlowTotals totals_;
};

// One round of known traffic across veth-a: both directions, both
// families. The expected ledger rows (local = A) grow by it.
struct Traffic {
  const Topology& topo;
  netacct_counters v4{};
  netacct_counters v6{};
  uint16_t port = 41000;

  void round() {
    const Endpoint& a = topo.a();
    const Endpoint& b = topo.b();
    udp_exact(a.netns, b.netns, b.ipv4, 50, 200, port);
    udp_exact(b.netns, a.netns, a.ipv4, 40, 700, port);
    udp_exact(a.netns, b.netns, b.ipv6, 30, 300, port);
    udp_exact(b.netns, a.netns, a.ipv6, 20, 1200, port);
    v4 += udp_expect(a.ipv4, 50, 200, 40, 700);
    v6 += udp_expect(a.ipv6, 30, 300, 20, 1200);
  }

  // Waits (bounded) until the ledger, through the JSON it renders, holds
  // exactly the traffic sent so far.
  bool ledger_exact(const std::string& output, const std::string& tag) const {
    return wait_until(
        [&] {
          boost::json::value source = read_source(output, tag);
          return flow_counters(source, topo.a().ipv4, topo.b().ipv4, "UDP") == v4 &&
                 flow_counters(source, topo.a().ipv6, topo.b().ipv6, "UDP") == v6;
        },
        10000);
  }
};

}  // namespace

TEST_CASE("ipfix: nfcapd and nfacctd receive per-flow totals equal to the ground truth") {
  Topology topo;
  TagGuard tag("ipfix");
  std::string dir = make_temp_dir("netacct-ipfix");
  std::string output = dir + "/out.json", log = dir + "/daemon.log";
  const std::string& ns = topo.a().netns;
  auto nfcapd = start_nfcapd(ns, dir + "/nfcapd");
  auto nfacctd = start_nfacctd(ns, dir);

  DaemonProcess daemon;
  start_metrics_daemon(daemon, topo, tag.tag(), output, log,
                       {"--ipfix", "127.0.0.1:" + std::to_string(kNfcapdPort), "--ipfix",
                        "[::1]:" + std::to_string(kNfacctdPort)});
  Traffic traffic{topo};
  for (int i = 0; i < 3; i++) {  // three rounds, each in a harvest of its own
    traffic.round();
    ::usleep(700000);
  }
  const Endpoint& a = topo.a();
  const Endpoint& b = topo.b();
  REQUIRE(traffic.ledger_exact(output, tag.tag()));
  stop_metrics_daemon(daemon, log);  // the final harvest is exported, then drained
  const std::string metrics_log = read_text(log);
  CHECK(metrics_log.find("unreachable") == std::string::npos);

  // nfacctd prints every second; nfcapd writes its file when it stops.
  const std::string csv = dir + "/nfacctd.csv";
  auto expect_in = [&](const FlowTotals& got, const std::string& udp) {
    CHECK(got.count({a.ipv4, b.ipv4, udp}) == 1);
    CHECK(got.count({b.ipv4, a.ipv4, udp}) == 1);
    // tx: local -> remote; rx: remote -> local.
    CHECK(got.at({a.ipv4, b.ipv4, udp}) == one_way(traffic.v4.tx_packets, traffic.v4.tx_bytes));
    CHECK(got.at({b.ipv4, a.ipv4, udp}) == one_way(traffic.v4.rx_packets, traffic.v4.rx_bytes));
    CHECK(got.at({a.ipv6, b.ipv6, udp}) == one_way(traffic.v6.tx_packets, traffic.v6.tx_bytes));
    CHECK(got.at({b.ipv6, a.ipv6, udp}) == one_way(traffic.v6.rx_packets, traffic.v6.rx_bytes));
  };
  bool printed = wait_until(
      [&] {
        FlowTotals got = read_nfacctd(csv);
        auto it = got.find({b.ipv6, a.ipv6, "udp"});
        return it != got.end() && it->second.rx_packets == traffic.v6.rx_packets;
      },
      10000);
  CHECK(nfacctd->stop());
  INFO("nfacctd print output:\n" << read_text(csv));
  CHECK(printed);
  expect_in(read_nfacctd(csv), "udp");

  REQUIRE(nfcapd->stop());
  std::string raw;
  FlowTotals nfdump = read_nfdump(dir + "/nfcapd", &raw);
  INFO("nfdump -o csv:\n" << raw);
  REQUIRE_FALSE(nfdump.empty());
  expect_in(nfdump, "UDP");

  // Independently of the JSON: the datagrams' own sizes.
  CHECK(traffic.v4.tx_bytes == 3 * 50 * uint64_t{20 + 8 + 200});
  CHECK(traffic.v6.rx_bytes == 3 * 20 * uint64_t{40 + 8 + 1200});

  // Reconcile: everything nfcapd received (flows and bucket records) sums
  // to the JSON's flows plus its buckets.
  uint64_t collector_bytes = 0;
  for (const auto& [key, c] : nfdump) collector_bytes += c.rx_bytes;
  boost::json::value source = read_source(output, tag.tag());
  const auto& object = source.as_object();
  uint64_t ledger_bytes = object.at("summary").at("total_bytes").to_number<uint64_t>();
  for (const auto& bucket : object.at("buckets").as_object())
    ledger_bytes += bucket.value().at("rx_bytes").to_number<uint64_t>() +
                    bucket.value().at("tx_bytes").to_number<uint64_t>();
  CHECK(collector_bytes == ledger_bytes);
  run("rm -rf " + dir);
}

TEST_CASE("ipfix: a collector stopped mid-run: drops counted, harvests on time, ledger exact") {
  Topology topo;
  TagGuard tag("ipfixdown");
  std::string dir = make_temp_dir("netacct-ipfix");
  std::string output = dir + "/out.json", log = dir + "/daemon.log";
  const std::string& ns = topo.a().netns;
  const std::string collector = "127.0.0.1:" + std::to_string(kNfcapdPort);
  auto nfcapd = start_nfcapd(ns, dir + "/nfcapd");
  DaemonProcess daemon;
  start_metrics_daemon(daemon, topo, tag.tag(), output, log, {"--ipfix", collector});

  Traffic traffic{topo};
  traffic.round();
  REQUIRE(wait_until(
      [&] {
        return collector_metric(scrape(ns), "netacct_ipfix_records_sent_total", collector) > 0;
      },
      10000));
  REQUIRE(nfcapd->stop());  // the collector goes away

  auto started = std::chrono::steady_clock::now();
  double harvests0 = metric_value(scrape(ns), "netacct_harvests_total");
  double dropped = 0, unexported = 0, up = 1;
  for (int i = 0; i < 8; i++) {  // 8 rounds over about 5 s
    traffic.round();
    ::usleep(600000);
  }
  bool counted = wait_until(
      [&] {
        std::string text = scrape(ns);
        dropped = collector_metric(text, "netacct_ipfix_records_dropped_total", collector);
        unexported = collector_metric(text, "netacct_ipfix_bytes_unexported_total", collector);
        up = collector_metric(text, "netacct_ipfix_up", collector);
        return dropped > 0 && unexported > 0 && up == 0;
      },
      10000);
  INFO("dropped " << dropped << ", bytes unexported " << unexported << ", up " << up);
  CHECK(counted);
  double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  double harvests1 = metric_value(scrape(ns), "netacct_harvests_total");
  INFO("elapsed " << elapsed << " s, harvests " << harvests0 << " -> " << harvests1);
  CHECK(harvests1 - harvests0 >= 0.8 * elapsed / 0.5 - 2);  // interval 0.5 s kept
  MESSAGE("collector down " << elapsed << " s: " << harvests1 - harvests0 << " harvests, "
                            << dropped << " records dropped, " << unexported
                            << " bytes unexported");

  // The collector comes back: the exporter says so once.
  auto back = start_nfcapd(ns, dir + "/nfcapd-back");
  bool recovered = wait_until(
      [&] {
        traffic.round();
        ::usleep(500000);
        return read_text(log).find("sending again") != std::string::npos;
      },
      30000);
  CHECK(recovered);

  // The ledger is exact whatever the collector did.
  CHECK(traffic.ledger_exact(output, tag.tag()));
  stop_metrics_daemon(daemon, log);
  const std::string text = read_text(log);
  INFO("daemon log:\n" << text);
  CHECK(occurrences(text, "IPFIX collector " + collector + " unreachable") == 1);
  CHECK(occurrences(text, "IPFIX collector " + collector + ": sending again") == 1);
  run("rm -rf " + dir);
}

TEST_CASE("ipfix: over TCP a collector that is not there yet gets every record once it listens") {
  Topology topo;
  TagGuard tag("ipfixtcp");
  std::string dir = make_temp_dir("netacct-ipfix");
  std::string output = dir + "/out.json", log = dir + "/daemon.log";
  const std::string& ns = topo.a().netns;
  const uint16_t port = 4739;
  const std::string collector = "tcp:127.0.0.1:" + std::to_string(port);
  DaemonProcess daemon;
  start_metrics_daemon(daemon, topo, tag.tag(), output, log, {"--ipfix", collector});

  // Nobody listens: connections are refused, the batches wait in the queue.
  Traffic traffic{topo};
  for (int i = 0; i < 3; i++) {
    traffic.round();
    ::usleep(600000);
  }
  REQUIRE(wait_until(
      [&] { return collector_metric(scrape(ns), "netacct_ipfix_up", collector) == 0; }, 10000));
  std::string text = scrape(ns);
  CHECK(collector_metric(text, "netacct_ipfix_queue_records", collector) > 0);
  CHECK(collector_metric(text, "netacct_ipfix_records_dropped_total", collector) == 0);

  TcpCollector stub(ns, port);
  stub.listen();
  traffic.round();
  REQUIRE(
      wait_until([&] { return read_text(log).find("sending again") != std::string::npos; }, 30000));
  REQUIRE(traffic.ledger_exact(output, tag.tag()));
  stop_metrics_daemon(daemon, log);  // the final harvest goes out, then the socket closes
  REQUIRE(stub.wait_closed(10000));

  const Endpoint& a = topo.a();
  const Endpoint& b = topo.b();
  FlowTotals got = stub.totals();
  const std::string udp = std::to_string(IPPROTO_UDP);
  CHECK(stub.template_sets() >= 1);
  CHECK(got[{a.ipv4, b.ipv4, udp}] == one_way(traffic.v4.tx_packets, traffic.v4.tx_bytes));
  CHECK(got[{b.ipv4, a.ipv4, udp}] == one_way(traffic.v4.rx_packets, traffic.v4.rx_bytes));
  CHECK(got[{a.ipv6, b.ipv6, udp}] == one_way(traffic.v6.tx_packets, traffic.v6.tx_bytes));
  CHECK(got[{b.ipv6, a.ipv6, udp}] == one_way(traffic.v6.rx_packets, traffic.v6.rx_bytes));
  const std::string daemon_log = read_text(log);
  CHECK(occurrences(daemon_log, "IPFIX collector " + collector + " unreachable") == 1);
  CHECK(daemon_log.find("not sent at exit") == std::string::npos);
  run("rm -rf " + dir);
}
