/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Header parsing for netacct: Ethernet with up to two VLAN tags (802.1Q and
 * 802.1ad), or no link-layer header at all (L3 devices: parse_l3_frame),
 * then IPv4 (any header length, fragments) and IPv6 with a bounded walk over
 * extension headers.
 *
 * Contract: parse_frame() reads only between data and data_end, never writes
 * to the packet, and fills a struct packet_info. It returns PARSE_IP with the
 * addresses, upper-layer protocol and IP-layer length filled in, PARSE_NON_IP
 * for frames that carry no IP packet, PARSE_MALFORMED when a header we need
 * is invalid or cut short by the frame's end, or PARSE_SHORT when it only
 * runs past the linear part of a longer frame (the TC caller then pulls the
 * headers in once and parses again; XDP frames are linear, so a short XDP
 * frame is malformed).
 *
 * For a GSO super-packet (gso non-zero) it also fills info->segment_headers:
 * the bytes every segment repeats on the wire, from the IP header to the end
 * of the transport header, through the inner headers of a VXLAN, Geneve,
 * GRE or IP-in-IP tunnel.
 */
#ifndef NETACCT_PARSE_H
#define NETACCT_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include "netacct_shared.h"

#define VLAN_MAX_DEPTH 2
#define IPV6_EXT_MAX 8 /* extension headers walked before giving up */
#define IP_OFFSET_MASK 0x1fff
#define IPV6_FRAG_OFFSET 0xfff8	     /* fragment offset, 8-byte units << 3 */
#define IPV6_FRAG_OFFSET_MORE 0xfff9 /* offset, or the More Fragments flag */

enum parse_result {
	PARSE_IP = 0,
	PARSE_NON_IP = 1,
	PARSE_MALFORMED = 2,
	PARSE_SHORT = 3,
};

/* Well-known UDP ports of tunnels whose GSO packets repeat inner headers. */
#define VXLAN_PORT 4789
#define VXLAN_LINUX_PORT 8472 /* Linux's default when no dstport is given */
#define GENEVE_PORT 6081
#define ETH_P_TEB 0x6558 /* transparent Ethernet bridging: an Ethernet frame inside */

struct packet_info {
	__u8 family;   /* NETACCT_FAMILY_IPV4 / IPV6 */
	__u8 protocol; /* upper-layer protocol */
	__u8 has_l4;   /* the upper-layer header is in this packet (not a later fragment) */
	__u8 pad;
	__u32 l3_offset;       /* offset of the IP header from the frame start */
	__u32 l4_offset;       /* offset of the upper-layer header */
	__u32 ip_bytes;	       /* IP header + payload as the IP header states it */
	__u32 segment_headers; /* GSO only: IP header to end of the (inner) transport header */
	__u8 src[16];
	__u8 dst[16];
};

struct vlan_hdr_raw {
	__be16 tci;
	__be16 encapsulated_proto;
};

/* The generic extension-header layout shared by hop-by-hop, routing,
 * destination options, mobility and AH. */
struct ipv6_ext_raw {
	__u8 nexthdr;
	__u8 hdrlen;
};

struct ipv6_frag_raw {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off; /* offset in 8-byte units << 3 | flags */
	__be32 identification;
};

/*
 * A header that does not fit before data_end: the frame may go on past the
 * linear part (PARSE_SHORT), or it really ends there (PARSE_MALFORMED).
 */
static __always_inline int cut_short(void *data, void *data_end, __u64 frame_len)
{
	return frame_len > (__u64)(data_end - data) ? PARSE_SHORT : PARSE_MALFORMED;
}

static __always_inline int is_vlan_proto(__be16 proto)
{
	return proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD);
}

static __always_inline int parse_ipv4(void *data, void *data_end, __u32 offset, __u64 frame_len,
				      int gso, struct packet_info *info)
{
	struct iphdr *iph = data + offset;

	if ((void *)(iph + 1) > data_end)
		return cut_short(data, data_end, frame_len);
	if (iph->version != 4 || iph->ihl < 5)
		return PARSE_MALFORMED;

	__u32 header_len = iph->ihl * 4;
	/* Options must be present too: the verifier knows header_len <= 60. */
	if (data + offset + header_len > data_end)
		return cut_short(data, data_end, frame_len);

	__u32 total_len = bpf_ntohs(iph->tot_len);
	/* IPv4 BIG TCP: a GSO packet above 64 KiB says 0; the skb has the length. */
	if (total_len == 0 && gso && frame_len > offset)
		total_len = frame_len - offset;
	if (total_len < header_len)
		return PARSE_MALFORMED;
	if (frame_len < offset + (__u64)total_len)
		return PARSE_MALFORMED; /* truncated: fewer bytes than the header claims */

	info->family = NETACCT_FAMILY_IPV4;
	info->protocol = iph->protocol;
	info->has_l4 = (iph->frag_off & bpf_htons(IP_OFFSET_MASK)) == 0;
	info->l3_offset = offset;
	info->l4_offset = offset + header_len;
	info->ip_bytes = total_len;
	__builtin_memcpy(info->src, &iph->saddr, 4);
	__builtin_memcpy(info->dst, &iph->daddr, 4);
	return PARSE_IP;
}

static __always_inline int is_ipv6_ext(__u8 nexthdr)
{
	return nexthdr == IPPROTO_HOPOPTS || nexthdr == IPPROTO_ROUTING ||
	       nexthdr == IPPROTO_FRAGMENT || nexthdr == IPPROTO_DSTOPTS || nexthdr == IPPROTO_AH ||
	       nexthdr == IPPROTO_MH;
}

static __always_inline int parse_ipv6(void *data, void *data_end, __u32 offset, __u64 frame_len,
				      int gso, struct packet_info *info)
{
	struct ipv6hdr *ip6h = data + offset;

	if ((void *)(ip6h + 1) > data_end)
		return cut_short(data, data_end, frame_len);
	if (ip6h->version != 6)
		return PARSE_MALFORMED;

	__u32 payload_len = bpf_ntohs(ip6h->payload_len);
	__u32 total_len = sizeof(*ip6h) + payload_len;
	/*
	 * A jumbogram says 0 here (RFC 2675), and so does an IPv6 BIG TCP GSO
	 * packet without the jumbo option: its length is the frame's.
	 */
	if (payload_len == 0 && (ip6h->nexthdr == IPPROTO_HOPOPTS || gso) && frame_len > offset)
		total_len = frame_len - offset;
	if (frame_len < offset + (__u64)total_len)
		return PARSE_MALFORMED;

	__u8 nexthdr = ip6h->nexthdr;
	__u32 cursor = offset + sizeof(*ip6h);
	__u8 has_l4 = 1;
	__u8 fragment = 0;

#pragma unroll
	for (int i = 0; i < IPV6_EXT_MAX; i++) {
		if (!is_ipv6_ext(nexthdr))
			break;
		if (nexthdr == IPPROTO_FRAGMENT) {
			struct ipv6_frag_raw *frag = data + cursor;

			if ((void *)(frag + 1) > data_end)
				return cut_short(data, data_end, frame_len);
			nexthdr = frag->nexthdr;
			cursor += sizeof(*frag);
			if (frag->frag_off & bpf_htons(IPV6_FRAG_OFFSET_MORE)) {
				/*
				 * A fragment of a larger datagram (an atomic one,
				 * offset 0 without More, is a whole packet and is
				 * walked on). Every fragment, first or later, is keyed
				 * by the Fragment header's Next Header: RFC 8200 makes
				 * it name the first header of the fragmentable part in
				 * every fragment alike, so all fragments of one
				 * datagram share one key without any state. That is
				 * the upper-layer protocol itself unless an extension
				 * header (destination options, AH) follows the
				 * Fragment header; then all of them are keyed by that
				 * header's number. Walking on in the first fragment
				 * would key it apart from the later ones, which carry
				 * only data after the Fragment header.
				 */
				fragment = 1;
				has_l4 = (frag->frag_off & bpf_htons(IPV6_FRAG_OFFSET)) == 0 &&
					 !is_ipv6_ext(nexthdr);
				break;
			}
			continue;
		}
		struct ipv6_ext_raw *ext = data + cursor;

		if ((void *)(ext + 1) > data_end)
			return cut_short(data, data_end, frame_len);
		__u32 ext_len =
			nexthdr == IPPROTO_AH ? (ext->hdrlen + 2) * 4 : (ext->hdrlen + 1) * 8;
		nexthdr = ext->nexthdr;
		cursor += ext_len;
		/* The header must end inside the packet, not only start there. */
		if (data + cursor > data_end)
			return cut_short(data, data_end, frame_len);
	}
	if (!fragment && is_ipv6_ext(nexthdr))
		return PARSE_MALFORMED; /* longer chain than we walk */
	if (cursor > offset + total_len)
		return PARSE_MALFORMED; /* extension headers run past the payload */

	info->family = NETACCT_FAMILY_IPV6;
	info->protocol = nexthdr;
	info->has_l4 = has_l4;
	info->l3_offset = offset;
	info->l4_offset = cursor;
	info->ip_bytes = total_len;
	__builtin_memcpy(info->src, &ip6h->saddr, 16);
	__builtin_memcpy(info->dst, &ip6h->daddr, 16);
	return PARSE_IP;
}

/* The IP packet at offset, by its EtherType (or skb->protocol). */
static __always_inline int parse_ip(void *data, void *data_end, __u32 offset, __be16 proto,
				    __u64 frame_len, int gso, struct packet_info *info)
{
	if (proto == bpf_htons(ETH_P_IP))
		return parse_ipv4(data, data_end, offset, frame_len, gso, info);
	if (proto == bpf_htons(ETH_P_IPV6))
		return parse_ipv6(data, data_end, offset, frame_len, gso, info);
	return PARSE_NON_IP;
}

/*
 * An L3 device (NETACCT_LINK_IP): the frame is the IP packet. l3_proto is
 * skb->protocol at TC; 0 at XDP, where the version nibble decides.
 */
static __always_inline int parse_l3_frame(void *data, void *data_end, __u64 frame_len, int gso,
					  __be16 l3_proto, struct packet_info *info)
{
	if (!l3_proto) {
		__u8 *first = data;

		if ((void *)(first + 1) > data_end)
			return cut_short(data, data_end, frame_len);
		if ((*first >> 4) == 4)
			l3_proto = bpf_htons(ETH_P_IP);
		else if ((*first >> 4) == 6)
			l3_proto = bpf_htons(ETH_P_IPV6);
		else
			return PARSE_NON_IP;
	}
	return parse_ip(data, data_end, 0, l3_proto, frame_len, gso, info);
}

/*
 * frame_len is the whole frame's length (it may exceed data_end - data when
 * the packet is not linear); it is used only to detect truncated IP packets,
 * and for a GSO packet (gso non-zero) whose IP length field is 0.
 */
static __always_inline int parse_frame(void *data, void *data_end, __u64 frame_len, int gso,
				       struct packet_info *info)
{
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return cut_short(data, data_end, frame_len);

	__be16 proto = eth->h_proto;
	__u32 offset = sizeof(*eth);

#pragma unroll
	for (int i = 0; i < VLAN_MAX_DEPTH; i++) {
		if (!is_vlan_proto(proto))
			break;
		struct vlan_hdr_raw *vlan = data + offset;

		if ((void *)(vlan + 1) > data_end)
			return cut_short(data, data_end, frame_len);
		proto = vlan->encapsulated_proto;
		offset += sizeof(*vlan);
	}

	/* Includes frames with a third VLAN tag: we do not look deeper. */
	return parse_ip(data, data_end, offset, proto, frame_len, gso, info);
}

/*
 * GSO accounting: a super-packet leaves as segments that each repeat every
 * header from the (outer) IP header to the end of the (inner) transport
 * header. The helpers below find where those headers end. They return
 * PARSE_IP with *end set, or PARSE_SHORT / PARSE_MALFORMED as above; a
 * header they do not know ends the walk where it starts.
 */
static __always_inline int transport_header_end(void *data, void *data_end, __u64 frame_len,
						__u32 offset, __u8 protocol, __u32 *end)
{
	*end = offset;
	if (protocol == IPPROTO_TCP) {
		struct tcphdr *tcp = data + offset;

		if ((void *)(tcp + 1) > data_end)
			return cut_short(data, data_end, frame_len);
		*end = offset + tcp->doff * 4;
	} else if (protocol == IPPROTO_UDP) {
		*end = offset + 8;
	}
	return PARSE_IP;
}

/* The inner IP packet of a tunnel (no extension-header walk inside). */
static __always_inline int inner_ip_end(void *data, void *data_end, __u64 frame_len, __u32 offset,
					__be16 proto, __u32 *end)
{
	*end = offset;
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = data + offset;

		if ((void *)(iph + 1) > data_end)
			return cut_short(data, data_end, frame_len);
		return transport_header_end(data, data_end, frame_len, offset + iph->ihl * 4,
					    iph->protocol, end);
	}
	if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6h = data + offset;

		if ((void *)(ip6h + 1) > data_end)
			return cut_short(data, data_end, frame_len);
		return transport_header_end(data, data_end, frame_len, offset + sizeof(*ip6h),
					    ip6h->nexthdr, end);
	}
	return PARSE_IP;
}

/* The inner Ethernet frame of a VXLAN, Geneve or GRETAP tunnel. */
static __always_inline int inner_eth_end(void *data, void *data_end, __u64 frame_len, __u32 offset,
					 __u32 *end)
{
	struct ethhdr *eth = data + offset;

	*end = offset;
	if ((void *)(eth + 1) > data_end)
		return cut_short(data, data_end, frame_len);
	return inner_ip_end(data, data_end, frame_len, offset + sizeof(*eth), eth->h_proto, end);
}

/* A UDP header, and the tunnel behind it when its port names one. */
static __always_inline int udp_segment_end(void *data, void *data_end, __u64 frame_len,
					   __u32 offset, __u32 *end)
{
	struct udphdr_raw {
		__be16 source;
		__be16 dest;
		__be16 len;
		__be16 check;
	} *udp = data + offset;

	*end = offset + sizeof(*udp);
	if ((void *)(udp + 1) > data_end)
		return cut_short(data, data_end, frame_len);
	__u32 tunnel = offset + sizeof(*udp);

	if (udp->dest == bpf_htons(VXLAN_PORT) || udp->dest == bpf_htons(VXLAN_LINUX_PORT))
		return inner_eth_end(data, data_end, frame_len, tunnel + 8, end);
	if (udp->dest == bpf_htons(GENEVE_PORT)) {
		__u8 *geneve = data + tunnel; /* ver:2 opt_len:6, flags, protocol type */

		if ((void *)(geneve + 8) > data_end)
			return cut_short(data, data_end, frame_len);
		__u32 inner = tunnel + 8 + (geneve[0] & 0x3f) * 4;
		__be16 proto = *(__be16 *)(geneve + 2);

		if (proto == bpf_htons(ETH_P_TEB))
			return inner_eth_end(data, data_end, frame_len, inner, end);
		return inner_ip_end(data, data_end, frame_len, inner, proto, end);
	}
	return PARSE_IP;
}

/* A GRE header (RFC 2784/2890: optional checksum, key, sequence) and its payload. */
static __always_inline int gre_segment_end(void *data, void *data_end, __u64 frame_len,
					   __u32 offset, __u32 *end)
{
	__be16 *gre = data + offset; /* flags and version, protocol type */

	*end = offset;
	if ((void *)(gre + 2) > data_end)
		return cut_short(data, data_end, frame_len);
	__u16 flags = bpf_ntohs(gre[0]);
	__u32 inner = offset + 4 + ((flags & 0x8000) ? 4 : 0) + ((flags & 0x2000) ? 4 : 0) +
		      ((flags & 0x1000) ? 4 : 0);

	*end = inner;
	if (gre[1] == bpf_htons(ETH_P_TEB))
		return inner_eth_end(data, data_end, frame_len, inner, end);
	return inner_ip_end(data, data_end, frame_len, inner, gre[1], end);
}

/* Fills info->segment_headers for a GSO super-packet. */
static __always_inline int parse_segment_headers(void *data, void *data_end, __u64 frame_len,
						 struct packet_info *info)
{
	__u32 end = info->l4_offset;
	int result = PARSE_IP;

	if (!info->has_l4)
		; /* a later fragment: only the IP headers repeat */
	else if (info->protocol == IPPROTO_UDP)
		result = udp_segment_end(data, data_end, frame_len, info->l4_offset, &end);
	else if (info->protocol == IPPROTO_GRE)
		result = gre_segment_end(data, data_end, frame_len, info->l4_offset, &end);
	else if (info->protocol == IPPROTO_IPIP)
		result = inner_ip_end(data, data_end, frame_len, info->l4_offset,
				      bpf_htons(ETH_P_IP), &end);
	else if (info->protocol == IPPROTO_IPV6)
		result = inner_ip_end(data, data_end, frame_len, info->l4_offset,
				      bpf_htons(ETH_P_IPV6), &end);
	else
		result = transport_header_end(data, data_end, frame_len, info->l4_offset,
					      info->protocol, &end);
	info->segment_headers = end - info->l3_offset;
	return result;
}

/*
 * The whole parse: the frame by the interface's framing, then, for a GSO
 * super-packet, the headers its segments repeat.
 */
static __always_inline int parse_packet(void *data, void *data_end, __u64 frame_len, int gso,
					int l3_framing, __be16 l3_proto, int last_try,
					struct packet_info *info)
{
	int parsed = l3_framing ? parse_l3_frame(data, data_end, frame_len, gso, l3_proto, info)
				: parse_frame(data, data_end, frame_len, gso, info);

	if (parsed != PARSE_IP || !gso)
		return parsed;
	/*
	 * The IP layer is known, so the packet counts under its flow whatever
	 * follows; inner headers cut short (on the last try) or invalid only
	 * leave segment_headers at what was seen before them.
	 */
	parsed = parse_segment_headers(data, data_end, frame_len, info);
	return parsed == PARSE_SHORT && !last_try ? PARSE_SHORT : PARSE_IP;
}

#endif /* NETACCT_PARSE_H */
