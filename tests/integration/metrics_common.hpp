// SPDX-License-Identifier: GPL-2.0-only
// Helpers of the /metrics integration tests. Everything network-facing runs
// inside the test's namespace A, never on the host's interfaces: the daemon
// is started in A (its 127.0.0.1 is A's own lo), raw HTTP clients open their
// sockets in A (a thread that setns()es, so the socket belongs to A), and
// curl, promtool and prometheus run under `ip netns exec A`.
#pragma once

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/daemon_process.hpp"
#include "tests/support/netns_process.hpp"
#include "tests/support/topology.hpp"

namespace netacct::test {

inline constexpr uint16_t kMetricsPort = 9464;

// A TCP socket created inside `netns` and connected to 127.0.0.1:port there;
// -1 if the connection failed. Receives time out after timeout_ms.
inline int connect_in_netns(const std::string& netns, uint16_t port, int timeout_ms = 3000) {
  int fd = -1;
  std::thread([&] {
    int ns = ::open(("/var/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC);
    if (ns < 0) return;
    if (::setns(ns, CLONE_NEWNET) == 0) fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ::close(ns);
  }).join();
  if (fd < 0) return -1;
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

inline bool send_all(int fd, const std::string& data) {
  size_t at = 0;
  while (at < data.size()) {
    ssize_t n = ::send(fd, data.data() + at, data.size() - at, MSG_NOSIGNAL);
    if (n <= 0) return false;
    at += static_cast<size_t>(n);
  }
  return true;
}

// Reads until the peer closes (or a receive times out / fails).
inline std::string read_until_close(int fd) {
  std::string out;
  char buffer[65536];
  for (;;) {
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    out.append(buffer, static_cast<size_t>(n));
  }
  return out;
}

// "HTTP/1.1 404 Not Found..." -> 404; 0 when there is no status line.
inline int status_of(const std::string& response) {
  if (response.rfind("HTTP/1.1 ", 0) != 0 || response.size() < 12) return 0;
  return std::atoi(response.c_str() + 9);
}

// One request on its own connection; the whole response (the request should
// ask for Connection: close, or be one the server closes after).
inline std::string http_once(const std::string& netns, const std::string& request,
                             uint16_t port = kMetricsPort) {
  int fd = connect_in_netns(netns, port);
  if (fd < 0) return {};
  send_all(fd, request);
  std::string response = read_until_close(fd);
  ::close(fd);
  return response;
}

// The body of GET /metrics; "" if it failed.
inline std::string scrape(const std::string& netns, uint16_t port = kMetricsPort) {
  std::string response =
      http_once(netns, "GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", port);
  if (status_of(response) != 200) return {};
  auto body = response.find("\r\n\r\n");
  return body == std::string::npos ? std::string() : response.substr(body + 4);
}

// "name{labels}" -> value of every sample line.
inline std::map<std::string, double> metric_samples(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto space = line.rfind(' ');
    if (space == std::string::npos) continue;
    out[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return out;
}

// The value of the first sample of metric `name` (any labels); -1 if none.
inline double metric_value(const std::string& text, const std::string& name) {
  for (const auto& [key, value] : metric_samples(text))
    if (key == name || key.rfind(name + "{", 0) == 0) return value;
  return -1;
}

// Starts netacctd inside topo A with /metrics on 127.0.0.1:kMetricsPort of
// A's own lo, and waits for its first harvest and its endpoint.
inline void start_metrics_daemon(DaemonProcess& daemon, const Topology& topo,
                                 const std::string& tag, const std::string& output,
                                 const std::string& log, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"--tag",
                                   tag,
                                   "--interval",
                                   "0.5",
                                   "--metrics-listen",
                                   "127.0.0.1:" + std::to_string(kMetricsPort)};
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back(topo.a().ifname);
  args.push_back(output);
  daemon.start(args, log, topo.a().netns);
  bool ready = wait_until(
      [&] {
        return (!read_source(output, tag).is_null() && !scrape(topo.a().netns).empty()) ||
               !daemon.running();
      },
      15000);
  INFO("daemon log:\n" << read_text(log));
  REQUIRE(ready);
  REQUIRE(daemon.running());
}

// SIGTERM: the final harvest, then a clean exit (code 0) within 15 s.
inline void stop_metrics_daemon(DaemonProcess& daemon, const std::string& log) {
  daemon.signal(SIGTERM);
  int code = daemon.wait(15000);
  INFO("daemon log:\n" << read_text(log));
  CHECK(code == 0);
}

// A Prometheus server inside a namespace, scraping the daemon every second,
// with its storage in a temporary directory; killed by the destructor.
class PrometheusServer {
 public:
  PrometheusServer(const std::string& netns, const std::string& dir, uint16_t target_port,
                   uint16_t web_port)
      : netns_(netns), web_port_(web_port), log_(dir + "/prometheus.log") {
    std::string config = dir + "/prometheus.yml";
    std::ofstream(config) << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                             "scrape_configs:\n  - job_name: netacct\n    static_configs:\n"
                             "      - targets: ['127.0.0.1:"
                          << target_port << "']\n";
    ::mkdir((dir + "/tsdb").c_str(), 0700);
    process_ = std::make_unique<NetnsProcess>(
        netns,
        std::vector<std::string>{"/usr/bin/prometheus", "--config.file=" + config,
                                 "--storage.tsdb.path=" + dir + "/tsdb",
                                 "--web.listen-address=127.0.0.1:" + std::to_string(web_port),
                                 "--log.level=warn"},
        log_);
  }
  PrometheusServer(const PrometheusServer&) = delete;
  PrometheusServer& operator=(const PrometheusServer&) = delete;

  const std::string& log() const { return log_; }

  // The value of an instant query that returns one sample; nullopt when it
  // returns none (yet) or the server is not up.
  std::optional<double> query(const std::string& promql) const {
    std::string out;
    int rc = run("ip netns exec " + netns_ +
                     " curl -sfG --max-time 3 http://127.0.0.1:" + std::to_string(web_port_) +
                     "/api/v1/query --data-urlencode 'query=" + promql + "'",
                 &out);
    if (rc != 0) return std::nullopt;
    boost::system::error_code ec;
    boost::json::value reply = boost::json::parse(out, ec);
    if (ec || !reply.is_object()) return std::nullopt;
    const auto* data = reply.as_object().if_contains("data");
    if (!data || !data->is_object()) return std::nullopt;
    const auto* result = data->as_object().if_contains("result");
    if (!result || !result->is_array() || result->as_array().size() != 1) return std::nullopt;
    const auto& value = result->as_array()[0].as_object().at("value").as_array();
    return std::stod(std::string(value[1].as_string()));
  }

 private:
  std::string netns_;
  uint16_t web_port_;
  std::string log_;
  std::unique_ptr<NetnsProcess> process_;
};

}  // namespace netacct::test
