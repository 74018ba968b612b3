// SPDX-License-Identifier: GPL-2.0-only
// Traffic between two test namespaces with ground truth that does not come
// from netacct: a forked child enters the sending namespace and counts what
// its socket sent; the receiving socket, bound inside the other namespace
// (so no ICMP port-unreachable is ever generated), counts what arrived.
// Every transfer is bounded in size and in time.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace netacct::test {

struct UdpSpec {
  std::string from_netns;
  std::string to_netns;
  std::string to_address;  // IPv4 or IPv6 text, bound by the receiver
  uint16_t port = 40000;
  uint32_t count = 1000;   // datagrams
  uint32_t payload = 100;  // bytes of UDP payload each
  // The sender sleeps `pause` after every `burst` datagrams, so neither the
  // backlog queue nor the receive buffer overflows (both would lose packets
  // the test counted as sent).
  uint32_t burst = 32;
  std::chrono::microseconds pause{200};
  std::chrono::seconds timeout{20};
};

struct UdpResult {
  uint64_t sent = 0;      // datagrams the sender's socket accepted
  uint64_t received = 0;  // datagrams the receiver's socket delivered
  uint64_t received_bytes = 0;
};

// A paced spec (bursts of 10, a pause of `pause` between them, 40 s at
// most): what the daemon tests send while they harvest, crash or rotate.
UdpSpec paced_udp(const std::string& from_netns, const std::string& to_netns,
                  const std::string& to_address, uint32_t count, uint32_t payload, uint16_t port,
                  std::chrono::microseconds pause = std::chrono::milliseconds(3));

// Sends spec.count datagrams. `tick`, when set, is called about every
// `tick_every` while the transfer runs (the race test harvests there).
// Throws std::runtime_error on setup failures or timeout.
UdpResult udp_transfer(const UdpSpec& spec, const std::function<void()>& tick = {},
                       std::chrono::microseconds tick_every = std::chrono::milliseconds(3));

struct TcpSpec {
  std::string from_netns;
  std::string to_netns;
  std::string to_address;
  uint16_t port = 41000;
  uint64_t bytes = 20u << 20;
  std::chrono::seconds timeout{30};
};

struct TcpResult {
  uint64_t sent = 0;             // bytes the sender wrote
  uint64_t received = 0;         // bytes the receiver read
  uint64_t sender_segs_out = 0;  // TCP_INFO tcpi_segs_out at the end (informative)
  uint64_t sender_segs_in = 0;
  uint64_t sender_bytes_sent = 0;      // TCP_INFO tcpi_bytes_sent: payload, retransmissions too
  uint64_t sender_bytes_received = 0;  // TCP_INFO tcpi_bytes_received: payload
};

// One connection from from_netns to to_address; the sender shuts down its
// side after `bytes`, the receiver closes after EOF, and the sender waits for
// that close, so every segment of the connection was sent when this returns.
TcpResult tcp_transfer(const TcpSpec& spec);

// IP-layer bytes of one UDP datagram: IP header + 8 + payload.
uint64_t udp_ip_bytes(const std::string& address, uint32_t payload);

}  // namespace netacct::test
