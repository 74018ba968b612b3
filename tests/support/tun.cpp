// SPDX-License-Identifier: GPL-2.0-only
#include "tun.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <stdexcept>
#include <utility>
#include <vector>

#include "daemon/engine/netns.hpp"
#include "tests/support/topology.hpp"

namespace netacct::test {

namespace {

void swap_bytes(uint8_t* a, uint8_t* b, size_t n) {
  for (size_t i = 0; i < n; i++) std::swap(a[i], b[i]);
}

}  // namespace

TunReflector::TunReflector(const std::string& netns, const std::string& name,
                           const std::string& local4, const std::string& peer4,
                           const std::string& local6, const std::string& peer6, uint32_t copies)
    : copies_(copies) {
  if (inet_pton(AF_INET, peer4.c_str(), peer4_) != 1 ||
      inet_pton(AF_INET6, peer6.c_str(), peer6_) != 1)
    throw std::invalid_argument("TunReflector: bad peer address");
  {
    // The device is created in the namespace the descriptor was opened in.
    auto scope = NetnsScope::enter(netns);
    if (!scope) throw std::runtime_error(scope.error().message());
    fd_.reset(::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
    if (!fd_) throw std::runtime_error("open /dev/net/tun: " + std::string(strerror(errno)));
    ifreq request{};
    request.ifr_flags = IFF_TUN | IFF_NO_PI;
    std::strncpy(request.ifr_name, name.c_str(), IFNAMSIZ - 1);
    if (::ioctl(fd_.get(), TUNSETIFF, &request) != 0)
      throw std::runtime_error("TUNSETIFF " + name + ": " + std::string(strerror(errno)));
  }
  const std::string ip = "ip -n " + netns + " ";
  const std::string dev = " dev " + name;
  run_ok(ip + "addr add " + local4 + "/24" + dev + " && " + ip + "addr add " + local6 + "/64" +
         dev + " nodad && " + ip + "link set" + dev + " up");
  thread_ = std::thread([this] { run(); });
}

TunReflector::~TunReflector() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void TunReflector::run() {
  std::vector<uint8_t> packet(65536);
  while (!stop_) {
    pollfd waiting{fd_.get(), POLLIN, 0};
    if (::poll(&waiting, 1, 20) <= 0) continue;
    ssize_t n = ::read(fd_.get(), packet.data(), packet.size());
    if (n <= 0) continue;
    uint8_t* p = packet.data();
    size_t len = static_cast<size_t>(n);
    if (len >= 28 && (p[0] >> 4) == 4 && p[9] == IPPROTO_UDP &&
        std::memcmp(p + 16, peer4_, 4) == 0) {
      size_t ihl = (p[0] & 0xf) * 4u;
      if (len < ihl + 8) continue;
      swap_bytes(p + 12, p + 16, 4);
      swap_bytes(p + ihl, p + ihl + 2, 2);
    } else if (len >= 48 && (p[0] >> 4) == 6 && p[6] == IPPROTO_UDP &&
               std::memcmp(p + 24, peer6_, 16) == 0) {
      swap_bytes(p + 8, p + 24, 16);
      swap_bytes(p + 40, p + 42, 2);
    } else {
      continue;  // router solicitations, MLD reports: not ours to answer
    }
    for (uint32_t i = 0; i < copies_; i++)
      if (::write(fd_.get(), p, len) == n) reflected_++;
  }
}

EchoResult udp_echo(const std::string& netns, const std::string& local, const std::string& peer,
                    uint16_t port, uint32_t count, uint32_t payload, uint32_t copies) {
  bool v6 = local.find(':') != std::string::npos;
  int family = v6 ? AF_INET6 : AF_INET;
  sockaddr_storage here{}, there{};
  socklen_t length = 0;
  auto fill = [&](sockaddr_storage& out, const std::string& text, uint16_t p) {
    if (v6) {
      auto* a = reinterpret_cast<sockaddr_in6*>(&out);
      a->sin6_family = AF_INET6;
      a->sin6_port = htons(p);
      if (inet_pton(AF_INET6, text.c_str(), &a->sin6_addr) != 1) throw std::invalid_argument(text);
      length = sizeof *a;
    } else {
      auto* a = reinterpret_cast<sockaddr_in*>(&out);
      a->sin_family = AF_INET;
      a->sin_port = htons(p);
      if (inet_pton(AF_INET, text.c_str(), &a->sin_addr) != 1) throw std::invalid_argument(text);
      length = sizeof *a;
    }
  };
  fill(here, local, port);
  fill(there, peer, static_cast<uint16_t>(port + 1));
  UniqueFd sock;
  {
    auto scope = NetnsScope::enter(netns);
    if (!scope) throw std::runtime_error(scope.error().message());
    sock.reset(::socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  }
  if (!sock) throw std::runtime_error("socket: " + std::string(strerror(errno)));
  if (::bind(sock.get(), reinterpret_cast<sockaddr*>(&here), length) != 0 ||
      ::connect(sock.get(), reinterpret_cast<sockaddr*>(&there), length) != 0)
    throw std::runtime_error("bind/connect " + local + ": " + std::string(strerror(errno)));

  EchoResult result;
  std::vector<uint8_t> out(payload, 0x5a), in(payload + 64);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  const uint32_t window = 8;
  for (uint32_t done = 0; done < count && std::chrono::steady_clock::now() < deadline;) {
    uint32_t batch = std::min(window, count - done);
    for (uint32_t i = 0; i < batch; i++)
      if (::send(sock.get(), out.data(), out.size(), 0) == static_cast<ssize_t>(payload))
        result.sent++;
    done += batch;
    uint64_t want = result.sent * copies;
    auto window_end = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (result.received < want && std::chrono::steady_clock::now() < window_end) {
      pollfd waiting{sock.get(), POLLIN, 0};
      if (::poll(&waiting, 1, 50) <= 0) continue;
      ssize_t got = ::recv(sock.get(), in.data(), in.size(), MSG_DONTWAIT);
      if (got < 0) continue;
      result.received++;
      result.received_bytes += static_cast<uint64_t>(got);
    }
    if (result.received < want) break;  // lost: the caller's exact check fails
  }
  return result;
}

}  // namespace netacct::test
