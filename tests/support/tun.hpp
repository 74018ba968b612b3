// SPDX-License-Identifier: GPL-2.0-only
// An L3 device for tests: a tun device (no link-layer header, ARPHRD_NONE)
// inside a test namespace, whose far end is this process. A thread reads
// every packet the kernel sends out of the device and, for UDP to the peer
// address, writes it back `copies` times with source and destination
// (addresses and ports) swapped, so the local socket receives echoes that
// arrive on the device (checksums stay valid: a swap keeps the sums).
//
// The ground truth is the local socket's: datagrams sent and echoes
// received (udp_echo). The device is not persistent: it disappears when
// the reflector closes its descriptor, or with the namespace.
//
// Why tun: this kernel has no ipip, gre, sit or wireguard (no modules can be
// loaded), and tun is what OpenVPN and userspace WireGuard use.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

#include "daemon/common/unique_fd.hpp"

namespace netacct::test {

class TunReflector {
 public:
  // Creates `name` in `netns` with local/peer addresses (IPv4 /24, IPv6 /64
  // without DAD) and starts echoing. Throws on failure.
  TunReflector(const std::string& netns, const std::string& name, const std::string& local4,
               const std::string& peer4, const std::string& local6, const std::string& peer6,
               uint32_t copies = 1);
  ~TunReflector();
  TunReflector(const TunReflector&) = delete;
  TunReflector& operator=(const TunReflector&) = delete;

  uint64_t reflected() const { return reflected_.load(); }

 private:
  void run();

  UniqueFd fd_;
  uint8_t peer4_[4]{};
  uint8_t peer6_[16]{};
  uint32_t copies_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> reflected_{0};
  std::thread thread_;
};

struct EchoResult {
  uint64_t sent = 0;      // datagrams the socket accepted
  uint64_t received = 0;  // echoes the socket delivered
  uint64_t received_bytes = 0;
};

// From a socket bound to local:port inside netns, sends `count` datagrams of
// `payload` bytes to peer:port+1 in windows of 8, and receives the echoes
// (expected: `copies` per datagram). Bounded: 20 s in total, 2 s per window.
EchoResult udp_echo(const std::string& netns, const std::string& local, const std::string& peer,
                    uint16_t port, uint32_t count, uint32_t payload, uint32_t copies);

}  // namespace netacct::test
