// SPDX-License-Identifier: GPL-2.0-only
#include "traffic.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>
#include <vector>

#include "daemon/common/unique_fd.hpp"
#include "daemon/engine/netns.hpp"

namespace netacct::test {

UdpSpec paced_udp(const std::string& from_netns, const std::string& to_netns,
                  const std::string& to_address, uint32_t count, uint32_t payload, uint16_t port,
                  std::chrono::microseconds pause) {
  UdpSpec spec;
  spec.from_netns = from_netns;
  spec.to_netns = to_netns;
  spec.to_address = to_address;
  spec.count = count;
  spec.payload = payload;
  spec.burst = 10;
  spec.pause = pause;
  spec.port = port;
  spec.timeout = std::chrono::seconds(40);
  return spec;
}

namespace {

using Clock = std::chrono::steady_clock;

struct Address {
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family = AF_UNSPEC;
};

Address make_address(const std::string& text, uint16_t port) {
  Address address;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address.storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&address.storage);
  if (inet_pton(AF_INET, text.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    address.length = sizeof *v4;
    address.family = AF_INET;
  } else if (inet_pton(AF_INET6, text.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    address.length = sizeof *v6;
    address.family = AF_INET6;
  } else {
    throw std::invalid_argument("not an IP address: " + text);
  }
  return address;
}

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

// A socket that belongs to `netns`: a socket stays in the namespace it was
// created in, so the scope is needed only for the socket() call.
UniqueFd socket_in(const std::string& netns, int family, int type) {
  auto scope = NetnsScope::enter(netns);
  if (!scope) throw std::runtime_error(scope.error().message());
  UniqueFd fd(::socket(family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) fail("socket in " + netns);
  return fd;
}

UniqueFd open_netns(const std::string& netns) {
  UniqueFd fd(::open(netns_path(netns).c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) fail("open netns " + netns);
  return fd;
}

// The child side: only system calls between fork and _exit (the parent may
// be multi-threaded in principle, and the child must not touch its heap).
pid_t fork_in(int netns_fd, int report_fd, const std::function<void()>& body) {
  pid_t pid = ::fork();
  if (pid < 0) fail("fork");
  if (pid == 0) {
    if (::setns(netns_fd, CLONE_NEWNET) != 0) ::_exit(2);
    body();
    ::close(report_fd);
    ::_exit(0);
  }
  return pid;
}

void reap(pid_t pid, bool kill_first) {
  if (kill_first) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

// Kills and reaps the child if the parent leaves early (a failed check in a
// tick callback throws through the transfer loop).
class ChildGuard {
 public:
  explicit ChildGuard(pid_t pid) : pid_(pid) {}
  ~ChildGuard() {
    if (pid_ > 0) reap(pid_, true);
  }
  ChildGuard(const ChildGuard&) = delete;
  ChildGuard& operator=(const ChildGuard&) = delete;
  void reaped() { pid_ = -1; }

 private:
  pid_t pid_;
};

bool write_all(int fd, const void* data, size_t size) {
  const char* bytes = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, bytes, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

uint64_t udp_ip_bytes(const std::string& address, uint32_t payload) {
  bool v6 = address.find(':') != std::string::npos;
  return (v6 ? 40u : 20u) + 8u + payload;
}

UdpResult udp_transfer(const UdpSpec& spec, const std::function<void()>& tick,
                       std::chrono::microseconds tick_every) {
  Address to = make_address(spec.to_address, spec.port);
  UniqueFd rx = socket_in(spec.to_netns, to.family, SOCK_DGRAM);
  int rcvbuf = 32 << 20;
  // FORCE: root may exceed rmem_max; the buffer must hold a whole burst.
  ::setsockopt(rx.get(), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);
  if (::bind(rx.get(), reinterpret_cast<sockaddr*>(&to.storage), to.length) != 0)
    fail("bind " + spec.to_address);

  UniqueFd netns = open_netns(spec.from_netns);
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) fail("pipe");
  UniqueFd report_rd(pipe_fds[0]);
  UniqueFd report_wr(pipe_fds[1]);
  std::vector<char> payload(spec.payload, 'n');

  pid_t child = fork_in(netns.get(), report_wr.get(), [&] {
    int fd = ::socket(to.family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&to.storage), to.length) != 0)
      ::_exit(3);
    uint64_t sent = 0;
    for (uint32_t i = 0; i < spec.count; i++) {
      // ENOBUFS/EAGAIN: nothing left the socket; retry (bounded) later.
      int tries = 0;
      while (::send(fd, payload.data(), payload.size(), 0) < 0) {
        if ((errno != ENOBUFS && errno != EAGAIN) || ++tries > 1000) ::_exit(4);
        ::usleep(100);
      }
      sent++;
      if (spec.burst && (i + 1) % spec.burst == 0)
        ::usleep(static_cast<useconds_t>(spec.pause.count()));
    }
    if (!write_all(report_wr.get(), &sent, sizeof sent)) ::_exit(5);
  });
  report_wr.reset();
  ChildGuard guard(child);

  UdpResult result;
  bool done = false;
  auto deadline = Clock::now() + spec.timeout;
  auto last_tick = Clock::now();
  auto done_at = Clock::time_point::max();
  std::vector<char> buffer(65536);
  // Receive while the child sends; after it reports, wait until every sent
  // datagram arrived, or half a second without any.
  const auto grace = std::chrono::milliseconds(500);
  while (!done || (result.received < result.sent && Clock::now() - done_at < grace)) {
    if (Clock::now() > deadline) throw std::runtime_error("UDP transfer timed out");
    pollfd fds[2] = {{rx.get(), POLLIN, 0}, {report_rd.get(), POLLIN, 0}};
    int timeout_ms = tick ? 1 : 50;
    ::poll(fds, done ? 1 : 2, timeout_ms);
    for (;;) {
      ssize_t n = ::recv(rx.get(), buffer.data(), buffer.size(), MSG_DONTWAIT);
      if (n < 0) break;
      result.received++;
      result.received_bytes += static_cast<uint64_t>(n);
      if (!done) continue;
      done_at = Clock::now();  // still arriving: keep waiting
    }
    if (!done && (fds[1].revents & (POLLIN | POLLHUP))) {
      ssize_t n = ::read(report_rd.get(), &result.sent, sizeof result.sent);
      reap(child, false);
      guard.reaped();
      if (n != sizeof result.sent) throw std::runtime_error("UDP sender failed");
      done = true;
      done_at = Clock::now();
    }
    if (tick && Clock::now() - last_tick >= tick_every) {
      tick();
      last_tick = Clock::now();
    }
  }
  return result;
}

TcpResult tcp_transfer(const TcpSpec& spec) {
  Address to = make_address(spec.to_address, spec.port);
  UniqueFd listener = socket_in(spec.to_netns, to.family, SOCK_STREAM);
  int one = 1;
  ::setsockopt(listener.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(listener.get(), reinterpret_cast<sockaddr*>(&to.storage), to.length) != 0)
    fail("bind " + spec.to_address);
  if (::listen(listener.get(), 1) != 0) fail("listen");

  UniqueFd netns = open_netns(spec.from_netns);
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) fail("pipe");
  UniqueFd report_rd(pipe_fds[0]);
  UniqueFd report_wr(pipe_fds[1]);
  std::vector<char> chunk(1 << 16, 't');
  const uint64_t timeout_s = static_cast<uint64_t>(spec.timeout.count());

  pid_t child = fork_in(netns.get(), report_wr.get(), [&] {
    int fd = ::socket(to.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval limit{static_cast<time_t>(timeout_s), 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&to.storage), to.length) != 0)
      ::_exit(3);
    uint64_t report[5] = {0, 0, 0, 0, 0};
    while (report[0] < spec.bytes) {
      size_t want = static_cast<size_t>(std::min<uint64_t>(chunk.size(), spec.bytes - report[0]));
      ssize_t n = ::send(fd, chunk.data(), want, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) ::_exit(4);
      report[0] += static_cast<uint64_t>(n);
    }
    ::shutdown(fd, SHUT_WR);
    // Wait for the receiver's close: then the connection is over and every
    // segment of it (our last ACK included) has left this socket.
    char sink[256];
    while (::recv(fd, sink, sizeof sink, 0) > 0) {
    }
    tcp_info info{};
    socklen_t len = sizeof info;
    if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) == 0) {
      report[1] = info.tcpi_segs_out;
      report[2] = info.tcpi_segs_in;
      report[3] = info.tcpi_bytes_sent;
      report[4] = info.tcpi_bytes_received;
    }
    if (!write_all(report_wr.get(), report, sizeof report)) ::_exit(5);
  });
  report_wr.reset();
  ChildGuard guard(child);

  TcpResult result;
  auto deadline = Clock::now() + spec.timeout;
  UniqueFd conn;
  bool eof = false;
  std::vector<char> buffer(1 << 18);
  while (!eof) {
    if (Clock::now() > deadline) throw std::runtime_error("TCP transfer timed out");
    pollfd fds[2] = {{conn ? conn.get() : listener.get(), POLLIN, 0}, {report_rd.get(), POLLIN, 0}};
    ::poll(fds, 2, 50);
    if (!conn) {
      conn.reset(::accept4(listener.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
      if (!conn && (fds[1].revents & (POLLIN | POLLHUP)))
        throw std::runtime_error("TCP sender failed before connecting");
      continue;
    }
    for (;;) {
      ssize_t n = ::recv(conn.get(), buffer.data(), buffer.size(), 0);
      if (n > 0) {
        result.received += static_cast<uint64_t>(n);
        continue;
      }
      if (n == 0) eof = true;
      break;
    }
  }
  conn.reset();  // our FIN: the sender is waiting for it

  pollfd report_poll{report_rd.get(), POLLIN, 0};
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  ::poll(&report_poll, 1, static_cast<int>(std::max<int64_t>(left.count(), 0)));
  uint64_t report[5] = {0, 0, 0, 0, 0};
  ssize_t n = ::read(report_rd.get(), report, sizeof report);
  if (n != sizeof report) throw std::runtime_error("TCP sender did not report");
  reap(child, false);
  guard.reaped();
  result.sent = report[0];
  result.sender_segs_out = report[1];
  result.sender_segs_in = report[2];
  result.sender_bytes_sent = report[3];
  result.sender_bytes_received = report[4];
  return result;
}

}  // namespace netacct::test
