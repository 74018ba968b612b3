// SPDX-License-Identifier: GPL-2.0-only
// The IPFIX view of a harvest: one record per flow and direction of the
// delta, and one per non-empty bucket and direction, as a collector must
// read them. Pure data and mapping (no library, no network), so the
// mapping is unit-tested on its own.
//
// Direction: a received (rx) record travelled remote -> local, so the
// remote address is the source, flowDirection is 0 (ingress) and
// ingressInterface is the monitored interface; a sent (tx) record is
// local -> remote, flowDirection 1 (egress), egressInterface set.
//
// Buckets (traffic the flows do not hold) are IPv4 records, protocol 0,
// whose local side is 0.0.0.<bucket id> and remote side 0.0.0.0 (so rx:
// 0.0.0.0 -> 0.0.0.<id>, tx: 0.0.0.<id> -> 0.0.0.0). 0.0.0.0/8 is never a
// real address on the wire, and every collector shows and sums these
// records without extra configuration (README, "Fleet export (IPFIX)").
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "../common/delta.hpp"

namespace netacct {

struct IpfixRecord {
  uint64_t start_ms = 0;  // flowStartMilliseconds: the harvest window
  uint64_t end_ms = 0;    // flowEndMilliseconds
  uint64_t octets = 0;    // octetDeltaCount (netacct's bytes: L3, see README)
  uint64_t packets = 0;   // packetDeltaCount
  uint32_t ingress_interface = 0;
  uint32_t egress_interface = 0;
  uint8_t family = NETACCT_FAMILY_IPV4;  // which template: IPv4 or IPv6 addresses
  uint8_t protocol = 0;                  // protocolIdentifier
  uint8_t direction = 0;                 // flowDirection: 0 ingress (rx), 1 egress (tx)
  std::array<uint8_t, 16> source{};      // IPv4 in the first 4 bytes, network order
  std::array<uint8_t, 16> destination{};
};

inline constexpr uint8_t kIpfixIngress = 0;
inline constexpr uint8_t kIpfixEgress = 1;

// The harvest window and the interface the records carry.
struct IpfixWindow {
  uint64_t start_ms = 0;
  uint64_t end_ms = 0;
  uint32_t ifindex = 0;
};

// Flow records first (in the delta's order, rx before tx), then the
// buckets in id order. Zero directions are left out.
std::vector<IpfixRecord> ipfix_records(const Delta& delta, const IpfixWindow& window);

// The observation domain of a tag: a stable, non-zero 32-bit hash of it
// (FNV-1a), so every host's instance "eth0" of a fleet lands in the same
// domain id and two tags of one host never share one.
uint32_t ipfix_observation_domain(const std::string& tag);

// "0.0.0.<id>": the local side of a bucket record.
std::string ipfix_bucket_address(uint8_t bucket);

}  // namespace netacct
