/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Header parsing for netacct: Ethernet with up to two VLAN tags (802.1Q and
 * 802.1ad), or no link-layer header at all (L3 devices: parse_l3_frame),
 * then IPv4 (any header length, fragments) and IPv6 with a bounded walk over
 * extension headers.
 *
 * Headers are read through a struct frame: straight from the linear area
 * when they are there (always at XDP, and for nearly every packet at TC),
 * otherwise, at TC only, with bpf_skb_load_bytes, which reads the paged
 * part of a non-linear skb in place. Nothing is pulled: the skb's head is
 * never reallocated, and headers of any length (SRv6, long option headers)
 * are read wherever they lie.
 *
 * Contract: parse_frame() never writes to the packet and fills a struct
 * packet_info. It returns PARSE_IP with the addresses, upper-layer protocol
 * and IP-layer length filled in, PARSE_NON_IP for frames that carry no IP
 * packet, or PARSE_MALFORMED when a header we need is cut short or invalid.
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
/*
 * Header offsets never exceed 14 + 8 + 40 + 8 * 2048 bytes (the longest
 * chain we walk); masking with this keeps data + offset a packet pointer
 * whose range the verifier can track (it drops ranges above 0xffff).
 */
#define FRAME_OFFSET_MASK 0x7fff

enum parse_result {
	PARSE_IP = 0,
	PARSE_NON_IP = 1,
	PARSE_MALFORMED = 2,
};

struct packet_info {
	__u8 family;   /* NETACCT_FAMILY_IPV4 / IPV6 */
	__u8 protocol; /* upper-layer protocol */
	__u8 has_l4;   /* the upper-layer header is in this packet (not a later fragment) */
	__u8 pad;
	__u32 l3_offset; /* offset of the IP header from the frame start */
	__u32 l4_offset; /* offset of the upper-layer header */
	__u32 ip_bytes;	 /* IP header + payload as the IP header states it */
	__u8 src[16];
	__u8 dst[16];
};

/*
 * The frame being parsed: its linear part [data, data_end), its full length,
 * and at TC the skb to read what lies beyond the linear part (NULL at XDP,
 * where the program only ever sees linear frames).
 */
struct frame {
	void *data;
	void *data_end;
	__u64 len;
	struct __sk_buff *skb;
};

/*
 * Copies len (a constant) bytes at offset off to `to`. Returns 0, or -1 when
 * the frame has fewer bytes.
 */
static __always_inline int frame_load(const struct frame *f, __u32 off, void *to, const __u32 len)
{
	off &= FRAME_OFFSET_MASK;
	if ((__u64)off + len > f->len)
		return -1;

	void *from = f->data + off;

	if (from + len <= f->data_end) {
		__builtin_memcpy(to, from, len);
		return 0;
	}
	if (!f->skb)
		return -1;
	return bpf_skb_load_bytes(f->skb, off, to, len) ? -1 : 0;
}

/*
 * Like frame_load, but at TC always with the helper: for the extension
 * header walk, where the two ways of frame_load in each of its steps would
 * multiply the verifier's states past its limit ("BPF program is too
 * large"). One helper call per extension header, only for IPv6 packets
 * that have them.
 */
static __always_inline int frame_load_walk(const struct frame *f, __u32 off, void *to,
					   const __u32 len)
{
	if (!f->skb)
		return frame_load(f, off, to, len);
	off &= FRAME_OFFSET_MASK;
	return bpf_skb_load_bytes(f->skb, off, to, len) ? -1 : 0;
}

static __always_inline int is_vlan_proto(__be16 proto)
{
	return proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD);
}

/* The fixed IPv4 header fields we read (bytes 0..19, no options). */
static __always_inline int parse_ipv4(const struct frame *f, __u32 offset, int gso,
				      struct packet_info *info)
{
	struct iphdr iph;

	if (frame_load(f, offset, &iph, sizeof(iph)))
		return PARSE_MALFORMED;
	if (iph.version != 4 || iph.ihl < 5)
		return PARSE_MALFORMED;

	__u32 header_len = iph.ihl * 4;
	/* Options must be present too (they are counted, never read). */
	if (f->len < offset + (__u64)header_len)
		return PARSE_MALFORMED;

	__u32 total_len = bpf_ntohs(iph.tot_len);
	/* IPv4 BIG TCP: a GSO packet above 64 KiB says 0; the skb has the length. */
	if (total_len == 0 && gso && f->len > offset)
		total_len = f->len - offset;
	if (total_len < header_len)
		return PARSE_MALFORMED;
	if (f->len < offset + (__u64)total_len)
		return PARSE_MALFORMED; /* truncated: fewer bytes than the header claims */

	info->family = NETACCT_FAMILY_IPV4;
	info->protocol = iph.protocol;
	info->has_l4 = (iph.frag_off & bpf_htons(IP_OFFSET_MASK)) == 0;
	info->l3_offset = offset;
	info->l4_offset = offset + header_len;
	info->ip_bytes = total_len;
	__builtin_memcpy(info->src, &iph.saddr, 4);
	__builtin_memcpy(info->dst, &iph.daddr, 4);
	return PARSE_IP;
}

static __always_inline int is_ipv6_ext(__u8 nexthdr)
{
	return nexthdr == IPPROTO_HOPOPTS || nexthdr == IPPROTO_ROUTING ||
	       nexthdr == IPPROTO_FRAGMENT || nexthdr == IPPROTO_DSTOPTS || nexthdr == IPPROTO_AH ||
	       nexthdr == IPPROTO_MH;
}

static __always_inline int parse_ipv6(const struct frame *f, __u32 offset, int gso,
				      struct packet_info *info)
{
	struct ipv6hdr ip6h;

	if (frame_load(f, offset, &ip6h, sizeof(ip6h)))
		return PARSE_MALFORMED;
	if (ip6h.version != 6)
		return PARSE_MALFORMED;

	__u32 payload_len = bpf_ntohs(ip6h.payload_len);
	__u32 total_len = sizeof(ip6h) + payload_len;
	/*
	 * A jumbogram says 0 here (RFC 2675), and so does an IPv6 BIG TCP GSO
	 * packet without the jumbo option: its length is the frame's.
	 */
	if (payload_len == 0 && (ip6h.nexthdr == IPPROTO_HOPOPTS || gso) && f->len > offset)
		total_len = f->len - offset;
	if (f->len < offset + (__u64)total_len)
		return PARSE_MALFORMED;

	__u8 nexthdr = ip6h.nexthdr;
	__u32 cursor = offset + sizeof(ip6h);
	__u8 has_l4 = 1;
	__u8 fragment = 0;

#pragma unroll
	for (int i = 0; i < IPV6_EXT_MAX; i++) {
		if (!is_ipv6_ext(nexthdr))
			break;
		/*
		 * The first 4 bytes of every extension header: next header and
		 * length, or for a Fragment header next header, reserved and
		 * the offset with the flags.
		 */
		__u8 ext[4];

		if (frame_load_walk(f, cursor, ext, sizeof(ext)))
			return PARSE_MALFORMED;
		if (nexthdr == IPPROTO_FRAGMENT) {
			__u16 frag_off = ((__u16)ext[2] << 8) | ext[3];

			nexthdr = ext[0];
			cursor += 8;
			if (frag_off & IPV6_FRAG_OFFSET_MORE) {
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
				has_l4 =
					(frag_off & IPV6_FRAG_OFFSET) == 0 && !is_ipv6_ext(nexthdr);
				break;
			}
			continue;
		}
		__u32 ext_len = nexthdr == IPPROTO_AH ? (ext[1] + 2) * 4 : (ext[1] + 1) * 8;

		nexthdr = ext[0];
		cursor += ext_len;
	}
	if (!fragment && is_ipv6_ext(nexthdr))
		return PARSE_MALFORMED; /* longer chain than we walk */
	/* The headers must end inside the packet, not only start there. */
	if (cursor > offset + total_len)
		return PARSE_MALFORMED; /* extension headers run past the payload */

	info->family = NETACCT_FAMILY_IPV6;
	info->protocol = nexthdr;
	info->has_l4 = has_l4;
	info->l3_offset = offset;
	info->l4_offset = cursor;
	info->ip_bytes = total_len;
	__builtin_memcpy(info->src, &ip6h.saddr, 16);
	__builtin_memcpy(info->dst, &ip6h.daddr, 16);
	return PARSE_IP;
}

/* The IP packet at offset, by its EtherType (or skb->protocol). */
static __always_inline int parse_ip(const struct frame *f, __u32 offset, __be16 proto, int gso,
				    struct packet_info *info)
{
	if (proto == bpf_htons(ETH_P_IP))
		return parse_ipv4(f, offset, gso, info);
	if (proto == bpf_htons(ETH_P_IPV6))
		return parse_ipv6(f, offset, gso, info);
	return PARSE_NON_IP;
}

/*
 * An L3 device (NETACCT_LINK_IP): the frame is the IP packet. l3_proto is
 * skb->protocol at TC; 0 at XDP, where the version nibble decides.
 */
static __always_inline int parse_l3_frame(const struct frame *f, int gso, __be16 l3_proto,
					  struct packet_info *info)
{
	if (!l3_proto) {
		__u8 first;

		if (frame_load(f, 0, &first, 1))
			return PARSE_MALFORMED;
		if ((first >> 4) == 4)
			l3_proto = bpf_htons(ETH_P_IP);
		else if ((first >> 4) == 6)
			l3_proto = bpf_htons(ETH_P_IPV6);
		else
			return PARSE_NON_IP;
	}
	return parse_ip(f, 0, l3_proto, gso, info);
}

/*
 * An Ethernet frame. gso is non-zero for a GSO packet, whose IP length field
 * may be 0 (BIG TCP): its length is then the frame's.
 */
static __always_inline int parse_frame(const struct frame *f, int gso, struct packet_info *info)
{
	__be16 proto;

	if (f->len < sizeof(struct ethhdr))
		return PARSE_MALFORMED;
	if (frame_load(f, 12 /* h_proto */, &proto, sizeof(proto)))
		return PARSE_MALFORMED;

	__u32 offset = sizeof(struct ethhdr);

#pragma unroll
	for (int i = 0; i < VLAN_MAX_DEPTH; i++) {
		if (!is_vlan_proto(proto))
			break;
		/* A tag: TCI, then the encapsulated EtherType. */
		if (frame_load(f, offset + 2, &proto, sizeof(proto)))
			return PARSE_MALFORMED;
		offset += 4;
	}

	/* Includes frames with a third VLAN tag: we do not look deeper. */
	return parse_ip(f, offset, proto, gso, info);
}

/*
 * Length of the upper-layer header for GSO accounting: every segment on the
 * wire repeats the IP and transport headers. Returns 0 when unknown.
 */
static __always_inline __u32 l4_header_len(const struct frame *f, const struct packet_info *info)
{
	if (!info->has_l4)
		return 0;
	if (info->protocol == IPPROTO_TCP) {
		__u8 doff_byte; /* data offset in the high nibble of byte 12 */

		if (frame_load(f, info->l4_offset + 12, &doff_byte, 1))
			return sizeof(struct tcphdr);
		return (doff_byte >> 4) * 4;
	}
	if (info->protocol == IPPROTO_UDP)
		return 8;
	return 0;
}

#endif /* NETACCT_PARSE_H */
