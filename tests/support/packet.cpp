// SPDX-License-Identifier: GPL-2.0-only
#include "packet.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>
#include <stdexcept>

namespace netacct::test {
namespace {

void put16(std::vector<uint8_t>& out, uint16_t value) {
  out.push_back(static_cast<uint8_t>(value >> 8));
  out.push_back(static_cast<uint8_t>(value));
}

void put_bytes(std::vector<uint8_t>& out, const void* data, size_t len) {
  const auto* bytes = static_cast<const uint8_t*>(data);
  out.insert(out.end(), bytes, bytes + len);
}

uint32_t l4_header_size(uint8_t protocol, uint8_t tcp_options) {
  switch (protocol) {
    case IPPROTO_TCP: return 20u + tcp_options;
    case IPPROTO_UDP: return 8;
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6: return 8;
    default: return 0;
  }
}

void put_l4(std::vector<uint8_t>& out, uint8_t protocol, uint8_t tcp_options, uint32_t payload) {
  uint32_t header = l4_header_size(protocol, tcp_options);
  size_t start = out.size();
  out.resize(start + header + payload, 0xab);
  uint8_t* l4 = out.data() + start;
  std::memset(l4, 0, header);
  if (protocol == IPPROTO_TCP) {
    l4[0] = 0x30;
    l4[1] = 0x39;  // ports 12345 -> 80
    l4[2] = 0x00;
    l4[3] = 0x50;
    l4[12] = static_cast<uint8_t>((header / 4) << 4);  // data offset in words
    l4[13] = 0x18;                                     // PSH|ACK
    for (uint32_t i = 20; i < header; i++) l4[i] = 1;  // NOP options
  } else if (protocol == IPPROTO_UDP) {
    l4[0] = 0x30;
    l4[1] = 0x39;
    l4[2] = 0x00;
    l4[3] = 0x35;
    uint16_t len = static_cast<uint16_t>(header + payload);
    l4[4] = static_cast<uint8_t>(len >> 8);
    l4[5] = static_cast<uint8_t>(len);
  } else if (protocol == IPPROTO_ICMP || protocol == IPPROTO_ICMPV6) {
    l4[0] = protocol == IPPROTO_ICMP ? 8 : 128;  // echo request
  }
}

}  // namespace

Packet build_packet(const PacketSpec& spec) {
  uint8_t src[16] = {}, dst[16] = {};
  bool v4 = inet_pton(AF_INET, spec.src.c_str(), src) == 1;
  if (v4) {
    if (inet_pton(AF_INET, spec.dst.c_str(), dst) != 1) throw std::invalid_argument(spec.dst);
  } else if (inet_pton(AF_INET6, spec.src.c_str(), src) != 1 ||
             inet_pton(AF_INET6, spec.dst.c_str(), dst) != 1) {
    throw std::invalid_argument(spec.src + " / " + spec.dst);
  }

  Packet packet;
  std::vector<uint8_t>& out = packet.frame;
  const uint8_t dst_mac[6] = {0x02, 0, 0, 0, 0, 0x02};
  const uint8_t src_mac[6] = {0x02, 0, 0, 0, 0, 0x01};
  put_bytes(out, dst_mac, 6);
  put_bytes(out, src_mac, 6);
  for (uint16_t tpid : spec.vlans) {
    put16(out, tpid);
    put16(out, 100);  // TCI: VLAN 100
  }
  put16(out, v4 ? 0x0800 : 0x86dd);

  bool later_fragment = spec.ipv4_frag_offset != 0;
  for (const Ipv6Ext& ext : spec.ipv6_ext)
    if (ext.type == IPPROTO_FRAGMENT && ext.frag_offset != 0) later_fragment = true;
  if (spec.tcp_options % 4 != 0 || spec.tcp_options > 40)
    throw std::invalid_argument("tcp_options must be a multiple of 4, at most 40");
  uint32_t l4 = later_fragment ? 0 : l4_header_size(spec.protocol, spec.tcp_options);

  size_t l3 = out.size();
  packet.l3_offset = static_cast<uint32_t>(l3);
  if (v4) {
    uint32_t header = 20 + spec.ipv4_options;
    uint32_t total = header + l4 + spec.payload;
    out.resize(l3 + header, 0);
    uint8_t* ip = out.data() + l3;
    ip[0] = static_cast<uint8_t>(0x40 | (header / 4));
    ip[2] = static_cast<uint8_t>(total >> 8);
    ip[3] = static_cast<uint8_t>(total);
    uint16_t frag = static_cast<uint16_t>(spec.ipv4_frag_offset & 0x1fff);
    if (spec.ipv4_more_fragments) frag |= 0x2000;
    ip[6] = static_cast<uint8_t>(frag >> 8);
    ip[7] = static_cast<uint8_t>(frag);
    ip[8] = 64;
    ip[9] = spec.protocol;
    std::memcpy(ip + 12, src, 4);
    std::memcpy(ip + 16, dst, 4);
    for (uint32_t i = 20; i < header; i++) ip[i] = 1;  // NOP options
    packet.ip_bytes = total;
  } else {
    uint32_t ext_bytes = 0;
    for (const Ipv6Ext& ext : spec.ipv6_ext) ext_bytes += ext.length;
    uint32_t payload_len = ext_bytes + l4 + spec.payload;
    out.resize(l3 + 40, 0);
    uint8_t* ip = out.data() + l3;
    ip[0] = 0x60;
    ip[4] = static_cast<uint8_t>(payload_len >> 8);
    ip[5] = static_cast<uint8_t>(payload_len);
    ip[6] = spec.ipv6_ext.empty() ? spec.protocol : spec.ipv6_ext[0].type;
    ip[7] = 64;
    std::memcpy(ip + 8, src, 16);
    std::memcpy(ip + 24, dst, 16);
    for (size_t i = 0; i < spec.ipv6_ext.size(); i++) {
      const Ipv6Ext& ext = spec.ipv6_ext[i];
      uint8_t next = i + 1 < spec.ipv6_ext.size() ? spec.ipv6_ext[i + 1].type : spec.protocol;
      size_t start = out.size();
      out.resize(start + ext.length, 0);
      uint8_t* h = out.data() + start;
      h[0] = next;
      if (ext.type == IPPROTO_FRAGMENT) {
        uint16_t off = static_cast<uint16_t>(ext.frag_offset << 3 | (ext.more_fragments ? 1 : 0));
        h[2] = static_cast<uint8_t>(off >> 8);
        h[3] = static_cast<uint8_t>(off);
      } else if (ext.type == IPPROTO_AH) {
        h[1] = static_cast<uint8_t>(ext.length / 4 - 2);
      } else {
        h[1] = static_cast<uint8_t>(ext.length / 8 - 1);
      }
    }
    packet.ip_bytes = 40 + payload_len;
  }
  packet.l4_offset = static_cast<uint32_t>(out.size());
  if (later_fragment) {
    out.resize(out.size() + spec.payload, 0xcd);
  } else {
    put_l4(out, spec.protocol, spec.tcp_options, spec.payload);
  }
  return packet;
}

std::vector<uint8_t> build_non_ip(uint16_t ethertype, uint32_t length) {
  std::vector<uint8_t> out(length < 14 ? 14 : length, 0);
  std::memset(out.data(), 0xff, 6);
  out[6] = 0x02;
  out[11] = 0x01;
  out[12] = static_cast<uint8_t>(ethertype >> 8);
  out[13] = static_cast<uint8_t>(ethertype);
  return out;
}

}  // namespace netacct::test
