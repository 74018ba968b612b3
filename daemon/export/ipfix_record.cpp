// SPDX-License-Identifier: GPL-2.0-only
#include "ipfix_record.hpp"

#include <cstring>

namespace netacct {

namespace {

void add_directions(std::vector<IpfixRecord>& out, IpfixRecord base, const uint8_t local[16],
                    const uint8_t remote[16], const netacct_counters& counters, uint32_t ifindex) {
  for (uint8_t direction : {kIpfixIngress, kIpfixEgress}) {
    const bool rx = direction == kIpfixIngress;
    IpfixRecord record = base;
    record.octets = rx ? counters.rx_bytes : counters.tx_bytes;
    record.packets = rx ? counters.rx_packets : counters.tx_packets;
    if (record.octets == 0 && record.packets == 0) continue;
    // As the packets travelled: received ones came from the remote side.
    std::memcpy(record.source.data(), rx ? remote : local, 16);
    std::memcpy(record.destination.data(), rx ? local : remote, 16);
    record.direction = direction;
    (rx ? record.ingress_interface : record.egress_interface) = ifindex;
    out.push_back(record);
  }
}

}  // namespace

std::vector<IpfixRecord> ipfix_records(const Delta& delta, const IpfixWindow& window) {
  std::vector<IpfixRecord> out;
  out.reserve(delta.flows.size() * 2 + 2 * NETACCT_BUCKET_COUNT);
  IpfixRecord base;
  base.start_ms = window.start_ms;
  base.end_ms = window.end_ms;
  for (const FlowDelta& flow : delta.flows) {
    base.family = flow.key.family;
    base.protocol = flow.key.protocol;
    add_directions(out, base, flow.key.local, flow.key.remote, flow.counters, window.ifindex);
  }
  base.family = NETACCT_FAMILY_IPV4;
  base.protocol = 0;
  const uint8_t zero[16] = {};
  for (uint8_t bucket = NETACCT_BUCKET_FIRST; bucket <= NETACCT_BUCKET_LAST; bucket++) {
    uint8_t address[16] = {0, 0, 0, bucket};
    // Received: from "nowhere" to the bucket; sent: from the bucket out.
    add_directions(out, base, address, zero, delta.buckets[bucket], window.ifindex);
  }
  return out;
}

uint32_t ipfix_observation_domain(const std::string& tag) {
  uint32_t hash = 2166136261u;
  for (unsigned char c : tag) hash = (hash ^ c) * 16777619u;
  return hash == 0 ? 1 : hash;
}

std::string ipfix_bucket_address(uint8_t bucket) {
  return "0.0.0." + std::to_string(bucket);
}

}  // namespace netacct
