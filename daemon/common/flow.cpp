// SPDX-License-Identifier: GPL-2.0-only
#include "flow.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

namespace netacct {

std::string address_string(uint8_t family, const uint8_t addr[16]) {
  char text[INET6_ADDRSTRLEN] = "-";
  if (family == NETACCT_FAMILY_IPV4)
    inet_ntop(AF_INET, addr, text, sizeof text);
  else if (family == NETACCT_FAMILY_IPV6)
    inet_ntop(AF_INET6, addr, text, sizeof text);
  return text;
}

std::string protocol_name(uint8_t protocol) {
  switch (protocol) {
    case IPPROTO_TCP: return "TCP";
    case IPPROTO_UDP: return "UDP";
    case IPPROTO_ICMP: return "ICMP";
    case IPPROTO_ICMPV6: return "ICMPv6";
    case IPPROTO_SCTP: return "SCTP";
    case IPPROTO_GRE: return "GRE";
    case IPPROTO_ESP: return "ESP";
    case IPPROTO_AH: return "AH";
    default: return std::to_string(protocol);
  }
}

std::string remote_string(const netacct_flow_key& key) {
  std::string text = address_string(key.family, key.remote);
  if (key.pad != 0) text += "/" + std::to_string(key.pad);
  return text;
}

int protocol_number(const std::string& name) {
  for (int p = 0; p < 256; p++)
    if (protocol_name(static_cast<uint8_t>(p)) == name) return p;
  return -1;
}

std::string bucket_name(uint8_t bucket) {
  switch (bucket) {
    case NETACCT_BUCKET_WHITELISTED: return "whitelisted";
    case NETACCT_BUCKET_NON_IP: return "non_ip";
    case NETACCT_BUCKET_MALFORMED: return "malformed";
    case NETACCT_BUCKET_OVERFLOW_V4: return "overflow_v4";
    case NETACCT_BUCKET_OVERFLOW_V6: return "overflow_v6";
    default: return "bucket_" + std::to_string(bucket);
  }
}

static int parse_address(const std::string& text, uint8_t out[16]) {
  std::memset(out, 0, 16);
  if (inet_pton(AF_INET, text.c_str(), out) == 1) return NETACCT_FAMILY_IPV4;
  if (inet_pton(AF_INET6, text.c_str(), out) == 1) return NETACCT_FAMILY_IPV6;
  return -1;
}

bool make_flow_key(const std::string& local, const std::string& remote, uint8_t protocol,
                   netacct_flow_key& out) {
  out = netacct_flow_key{};
  int local_family = parse_address(local, out.local);
  int remote_family = parse_address(remote, out.remote);
  if (local_family < 0 || local_family != remote_family) return false;
  out.family = static_cast<uint8_t>(local_family);
  out.protocol = protocol;
  return true;
}

}  // namespace netacct
