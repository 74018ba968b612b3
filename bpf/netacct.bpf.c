// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * netacct kernel programs: XDP ingress, TC ingress and TC egress, sharing one
 * accounting core. Each packet is parsed, keyed by (family, local address,
 * remote address, protocol) and added to the active flow buffer, or to one of
 * the buckets (whitelisted, non-IP, malformed, overflow) stored in the same
 * buffer. A flow that finds the buffer full is counted under its remote
 * prefix in the prefix buffer, and only when that is full too in the
 * overflow bucket. The programs never drop, redirect or modify a packet.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include "netacct_shared.h"
#include "maps.h"
#include "parse.h"

/*
 * The interface's link-layer framing (NETACCT_LINK_*), set by the loader
 * before load from the device type; the verifier drops the other branch.
 */
const volatile __u32 link_framing = NETACCT_LINK_ETHERNET;

/*
 * Remote prefix lengths of prefix rows (1..32, 1..128), set by the loader
 * (--overflow-prefix-v4/-v6); constants, so the masking below folds.
 */
const volatile __u8 prefix_len_v4 = NETACCT_DEFAULT_PREFIX_V4;
const volatile __u8 prefix_len_v6 = NETACCT_DEFAULT_PREFIX_V6;

/* Runtime switches; user space writes them through the skeleton's .bss. */
struct netacct_runtime runtime = {};

enum direction {
	DIR_INGRESS = 0, /* local = destination, remote = source */
	DIR_EGRESS = 1,	 /* local = source, remote = destination */
};

static __always_inline void add_counters(struct netacct_counters *counters, enum direction dir,
					 __u64 bytes, __u64 packets)
{
#ifdef NETACCT_PERCPU_VALUES
	/* Benchmark-only build: this CPU's own copy, no other writer. */
	if (dir == DIR_INGRESS) {
		counters->rx_bytes += bytes;
		counters->rx_packets += packets;
	} else {
		counters->tx_bytes += bytes;
		counters->tx_packets += packets;
	}
#else
	/* Shared values: several CPUs may hit one flow at once. */
	if (dir == DIR_INGRESS) {
		__sync_fetch_and_add(&counters->rx_bytes, bytes);
		__sync_fetch_and_add(&counters->rx_packets, packets);
	} else {
		__sync_fetch_and_add(&counters->tx_bytes, bytes);
		__sync_fetch_and_add(&counters->tx_packets, packets);
	}
#endif
}

/* Adds to key's counters if the key is in the buffer; returns whether it was. */
static __always_inline int add_to_existing(void *buffer, struct netacct_flow_key *key,
					   enum direction dir, __u64 bytes, __u64 packets)
{
	struct netacct_counters *counters = bpf_map_lookup_elem(buffer, key);

	if (!counters)
		return 0;
	add_counters(counters, dir, bytes, packets);
	return 1;
}

/*
 * Adds to key's counters, inserting the key when it is new. Returns 0, or a
 * negative errno when the key could not be inserted (the buffer is full).
 */
static __always_inline int add_to_key(void *buffer, struct netacct_flow_key *key,
				      enum direction dir, __u64 bytes, __u64 packets)
{
	struct netacct_counters *counters = bpf_map_lookup_elem(buffer, key);

	if (counters) {
		add_counters(counters, dir, bytes, packets);
		return 0;
	}

	struct netacct_counters initial = {};
	if (dir == DIR_INGRESS) {
		initial.rx_bytes = bytes;
		initial.rx_packets = packets;
	} else {
		initial.tx_bytes = bytes;
		initial.tx_packets = packets;
	}
	long err = bpf_map_update_elem(buffer, key, &initial, BPF_NOEXIST);
	if (err != -17 /* EEXIST: another CPU inserted it first */)
		return (int)err;

	counters = bpf_map_lookup_elem(buffer, key);
	if (!counters)
		return -2; /* deleted in between: cannot happen in an active buffer */
	add_counters(counters, dir, bytes, packets);
	return 0;
}

static __always_inline void add_to_bucket(void *buffer, __u8 bucket, enum direction dir,
					  __u64 bytes, __u64 packets)
{
	struct netacct_flow_key key = {
		.family = NETACCT_FAMILY_BUCKET,
		.protocol = bucket,
	};

	add_to_key(buffer, &key, dir, bytes, packets);
}

/*
 * A flow that did not fit: count it in the active prefix buffer under its
 * remote prefix. Returns 0, or a negative errno when that buffer is full too.
 */
static __always_inline int add_to_prefix_row(const struct netacct_flow_key *flow,
					     enum direction dir, __u64 bytes, __u64 packets)
{
	__u32 zero = 0;
	void *buffer = bpf_map_lookup_elem(&active_prefix, &zero);

	if (!buffer)
		return -2;

	struct netacct_flow_key key = *flow;
	__u32 prefix = flow->family == NETACCT_FAMILY_IPV4 ? prefix_len_v4 : prefix_len_v6;

	key.pad = (__u16)prefix;
#pragma unroll
	for (int i = 0; i < 16; i++) {
		int keep = (int)prefix - 8 * i; /* bits of this byte inside the prefix */

		if (keep <= 0)
			key.remote[i] = 0;
		else if (keep < 8)
			key.remote[i] &= (__u8)(0xff << (8 - keep));
	}
	return add_to_key(buffer, &key, dir, bytes, packets);
}

static __always_inline int whitelist_match(__u8 family, const __u8 *addr, __u32 wanted)
{
	struct netacct_wl_key key = {
		.prefixlen = NETACCT_WL_KEY_PREFIX_BITS + 128,
		.family = family,
	};

	__builtin_memcpy(key.addr, addr, 16);
	struct netacct_wl_value *value = bpf_map_lookup_elem(&whitelist, &key);
	return value && (value->match & wanted);
}

static __always_inline int is_whitelisted(const struct netacct_flow_key *key)
{
	if (runtime.whitelist_entries == 0)
		return 0;
	if (whitelist_match(key->family, key->remote, NETACCT_WL_MATCH_REMOTE))
		return 1;
	return runtime.local_match &&
	       whitelist_match(key->family, key->local, NETACCT_WL_MATCH_LOCAL);
}

/*
 * The accounting core, for a parsed packet. frame_len is the frame's full
 * length; gso_segs and gso_size describe a TC super-packet (0 for XDP and for
 * plain packets).
 */
static __always_inline void account(int parsed, const struct packet_info *parsed_info,
				    __u64 frame_len, __u32 gso_segs, __u32 gso_size,
				    enum direction dir)
{
	__u32 zero = 0;
	void *buffer = bpf_map_lookup_elem(&active_flows, &zero);

	if (!buffer)
		return; /* only before user space fills the slot: nothing to count into */

	const struct packet_info info = *parsed_info;

	/* Frames without a (valid) IP layer are counted by their frame bytes. */
	if (parsed == PARSE_NON_IP) {
		add_to_bucket(buffer, NETACCT_BUCKET_NON_IP, dir, frame_len, 1);
		return;
	}
	if (parsed != PARSE_IP) {
		add_to_bucket(buffer, NETACCT_BUCKET_MALFORMED, dir, frame_len, 1);
		return;
	}

	__u64 bytes = info.ip_bytes;
	__u64 packets = 1;

	if (gso_size) {
		/*
		 * A GSO/GRO super-packet leaves as several segments, each with
		 * its own copy of the headers (a tunnel's inner ones too).
		 */
		__u32 headers = info.segment_headers;
		__u64 ip_len = frame_len - info.l3_offset;
		__u32 segs = gso_segs;

		if (!segs && ip_len > headers)
			segs = (ip_len - headers + gso_size - 1) / gso_size;
		if (segs > 1) {
			packets = segs;
			bytes = ip_len + (__u64)(segs - 1) * headers;
		}
	}

	__u16 generation = runtime.key_generation & NETACCT_KEY_GENERATION_MASK;
	struct netacct_flow_key key = {
		.family = info.family,
		.protocol = info.protocol,
		.pad = NETACCT_KEY_FLOW | generation,
	};
	if (dir == DIR_INGRESS) {
		__builtin_memcpy(key.local, info.dst, 16);
		__builtin_memcpy(key.remote, info.src, 16);
	} else {
		__builtin_memcpy(key.local, info.src, 16);
		__builtin_memcpy(key.remote, info.dst, 16);
	}

	/*
	 * A flow already counted in this buffer and whitelist generation: one
	 * lookup, no trie. Only its first packet asks the trie, and the answer
	 * is kept as the row's kind.
	 */
	if (add_to_existing(buffer, &key, dir, bytes, packets))
		return;
	if (runtime.whitelist_entries) {
		key.pad = NETACCT_KEY_WHITELISTED | generation;
		if (add_to_existing(buffer, &key, dir, bytes, packets))
			return;
		if (is_whitelisted(&key)) {
			/* A full buffer: the bucket directly (the trie again next time). */
			if (add_to_key(buffer, &key, dir, bytes, packets) != 0)
				add_to_bucket(buffer, NETACCT_BUCKET_WHITELISTED, dir, bytes,
					      packets);
			return;
		}
		key.pad = NETACCT_KEY_FLOW | generation;
	}
	if (add_to_key(buffer, &key, dir, bytes, packets) == 0)
		return;
	if (add_to_prefix_row(&key, dir, bytes, packets) == 0)
		return;
	add_to_bucket(buffer,
		      info.family == NETACCT_FAMILY_IPV4 ? NETACCT_BUCKET_OVERFLOW_V4
							 : NETACCT_BUCKET_OVERFLOW_V6,
		      dir, bytes, packets);
}

SEC("xdp")
int netacct_xdp_in(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct packet_info info = {};

	/*
	 * The program is not loaded with BPF_F_XDP_HAS_FRAGS, so the kernel only
	 * gives it linear frames: their length is data_end - data, no helper
	 * call, and a header cut short by data_end is cut short in the frame.
	 */
	int parsed = parse_packet(data, data_end, data_end - data, 0,
				  link_framing == NETACCT_LINK_IP, 0, 1, &info);

	account(parsed, &info, data_end - data, 0, 0, DIR_INGRESS);
	return XDP_PASS;
}

/*
 * The most a TC program pulls into the linear area, once, for a packet whose
 * headers run past it: the longest header chain the parser walks (two VLAN
 * tags, IPv6 with eight extension headers of up to 2 KiB, a tunnel's inner
 * headers). Usual packets never need it: their headers are in the head.
 */
#define TC_PULL_MAX (22 + 40 + 8 * 2048 + 256)

/*
 * TC: parse the headers where they are. Only when one runs past the linear
 * part (PARSE_SHORT) pull the headers in, once, and parse again: pulling a
 * cloned skb (every TCP egress packet) reallocates its head, so it is kept
 * for the rare packet that needs it.
 */
/*
 * One parse of an skb. A global function: the verifier checks it once, not
 * once per call, so the retry below costs no second copy of the parser.
 */
__noinline int parse_skb(struct __sk_buff *skb, int last_try, struct packet_info *info)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;

	if (!info)
		return PARSE_MALFORMED;
	return parse_packet(data, data_end, skb->len, skb->gso_size != 0,
			    link_framing == NETACCT_LINK_IP, (__be16)skb->protocol, last_try, info);
}

static __always_inline void account_skb(struct __sk_buff *skb, enum direction dir)
{
	struct packet_info info = {};
	int parsed = parse_skb(skb, 0, &info);

	if (parsed == PARSE_SHORT) {
		bpf_skb_pull_data(skb, skb->len < TC_PULL_MAX ? skb->len : TC_PULL_MAX);
		__builtin_memset(&info, 0, sizeof(info));
		parsed = parse_skb(skb, 1, &info);
	}
	account(parsed, &info, skb->len, skb->gso_segs, skb->gso_size, dir);
}

/*
 * TC_ACT_UNSPEC, not TC_ACT_OK: it lets the filters after ours (a foreign
 * filter at a later priority) still see the packet.
 */
SEC("tc")
int netacct_tc_in(struct __sk_buff *skb)
{
	account_skb(skb, DIR_INGRESS);
	return TC_ACT_UNSPEC;
}

SEC("tc")
int netacct_tc_eg(struct __sk_buff *skb)
{
	account_skb(skb, DIR_EGRESS);
	return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "GPL";
