// SPDX-License-Identifier: GPL-2.0-only
// Crafts Ethernet frames for BPF_PROG_TEST_RUN: IPv4/IPv6, VLAN tags, IPv6
// extension headers, fragments, TCP/UDP/ICMP. Lengths and checksums are
// filled in; the IP-layer length of each frame is known exactly to the test.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace netacct::test {

struct Ipv6Ext {
  uint8_t type;                 // IPPROTO_HOPOPTS, ROUTING, DSTOPTS, FRAGMENT, AH
  uint16_t length;              // bytes of this header (multiple of 8; AH multiple of 4)
  uint16_t frag_offset = 0;     // FRAGMENT only: offset in 8-byte units
  bool more_fragments = false;  // FRAGMENT only: the M flag (offset 0 + M = a first fragment)
};

struct PacketSpec {
  std::string src;  // IPv4 or IPv6 text; both of one family
  std::string dst;
  uint8_t protocol = 17;        // upper layer
  uint32_t payload = 64;        // bytes after the transport header
  std::vector<uint16_t> vlans;  // TPIDs, outermost first (0x8100, 0x88a8)
  std::vector<Ipv6Ext> ipv6_ext;
  uint8_t ipv4_options = 0;       // bytes of IPv4 options (multiple of 4)
  uint16_t ipv4_frag_offset = 0;  // in 8-byte units; non-zero = later fragment
  bool ipv4_more_fragments = false;
  uint8_t tcp_options = 0;  // bytes of TCP options (multiple of 4, at most 40)
};

struct Packet {
  std::vector<uint8_t> frame;
  uint32_t ip_bytes = 0;   // IP header + payload: what netacct must count
  uint32_t l3_offset = 0;  // where the IP header starts in the frame
  uint32_t l4_offset = 0;  // where the upper layer (or a later fragment's data) starts
};

Packet build_packet(const PacketSpec& spec);
// A frame of the given EtherType with `length` bytes in total (no IP).
std::vector<uint8_t> build_non_ip(uint16_t ethertype, uint32_t length);

}  // namespace netacct::test
