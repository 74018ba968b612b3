// SPDX-License-Identifier: GPL-2.0-only
#include "ipfix_record.hpp"

#include <cstring>

namespace netacct {

namespace {

void add_directions(std::vector<IpfixRecord>& out, IpfixRecord base, const uint8_t local[16],
                    const uint8_t remote[16], const netacct_counters& counters, uint32_t ifindex) {
  if (counters.rx_packets || counters.rx_bytes) {
    IpfixRecord rx = base;
    std::memcpy(rx.source.data(), remote, 16);
    std::memcpy(rx.destination.data(), local, 16);
    rx.octets = counters.rx_bytes;
    rx.packets = counters.rx_packets;
    rx.direction = kIpfixIngress;
    rx.ingress_interface = ifindex;
    out.push_back(rx);
  }
  if (counters.tx_packets || counters.tx_bytes) {
    IpfixRecord tx = base;
    std::memcpy(tx.source.data(), local, 16);
    std::memcpy(tx.destination.data(), remote, 16);
    tx.octets = counters.tx_bytes;
    tx.packets = counters.tx_packets;
    tx.direction = kIpfixEgress;
    tx.egress_interface = ifindex;
    out.push_back(tx);
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
