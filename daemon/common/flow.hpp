// SPDX-License-Identifier: GPL-2.0-only
// C++ views of the shared structs: address formatting, protocol names,
// bucket names, hashing for use as map keys in user space.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>

#include "../../bpf/netacct_shared.h"

// The shared structs live in the global namespace, so their operators must
// too (argument-dependent lookup finds them there).
inline bool operator==(const netacct_flow_key& a, const netacct_flow_key& b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

inline netacct_counters& operator+=(netacct_counters& a, const netacct_counters& b) {
  a.rx_bytes += b.rx_bytes;
  a.rx_packets += b.rx_packets;
  a.tx_bytes += b.tx_bytes;
  a.tx_packets += b.tx_packets;
  return a;
}

inline bool operator==(const netacct_counters& a, const netacct_counters& b) {
  return a.rx_bytes == b.rx_bytes && a.rx_packets == b.rx_packets && a.tx_bytes == b.tx_bytes &&
         a.tx_packets == b.tx_packets;
}

namespace netacct {

// The layout both sides rely on; a mismatch here is a build error.
static_assert(sizeof(netacct_flow_key) == 36);
static_assert(offsetof(netacct_flow_key, local) == 4);
static_assert(offsetof(netacct_flow_key, remote) == 20);
static_assert(sizeof(netacct_counters) == 32);
static_assert(sizeof(netacct_wl_key) == 24);
static_assert(offsetof(netacct_wl_key, addr) == 8);
static_assert(sizeof(netacct_wl_value) == 8);
static_assert(sizeof(netacct_meta) == 96);
static_assert(offsetof(netacct_meta, generation) == 16);
static_assert(sizeof(netacct_runtime) == 12);

struct FlowKeyHash {
  size_t operator()(const netacct_flow_key& key) const noexcept {
    // FNV-1a over the 36 bytes: keys are few enough that this is not hot.
    const auto* bytes = reinterpret_cast<const unsigned char*>(&key);
    uint64_t hash = 1469598103934665603ull;
    for (size_t i = 0; i < sizeof key; i++) hash = (hash ^ bytes[i]) * 1099511628211ull;
    return static_cast<size_t>(hash);
  }
};

inline bool is_bucket(const netacct_flow_key& key) {
  return key.family == NETACCT_FAMILY_BUCKET;
}

// "10.0.0.1", "fd00::1"; "-" for a bucket key.
std::string address_string(uint8_t family, const uint8_t addr[16]);
// The remote side as the ledger and the JSON name it: the address, or
// "203.0.113.0/24" for a prefix row (key.pad holds the prefix length).
std::string remote_string(const netacct_flow_key& key);
// "TCP", "UDP", "ICMP", "ICMPv6", else the number.
std::string protocol_name(uint8_t protocol);
// Inverse of protocol_name; -1 when the text names no protocol.
int protocol_number(const std::string& name);
// "whitelisted", "non_ip", "malformed", "overflow_v4", "overflow_v6".
std::string bucket_name(uint8_t bucket);

// Builds a flow key from text addresses; false if either does not parse or
// the families differ. For tests and tools.
bool make_flow_key(const std::string& local, const std::string& remote, uint8_t protocol,
                   netacct_flow_key& out);

}  // namespace netacct
