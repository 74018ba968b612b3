/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The contract between the kernel programs and user space: map keys and
 * values, bucket ids, the layout version. Plain C with fixed-width types and
 * explicit padding, so the C++ side can static_assert every size and offset.
 *
 * Change anything here that a pinned map stores and you must bump
 * NETACCT_LAYOUT_VERSION: an existing pin directory is then refused with a
 * clear message instead of being silently misread.
 */
#ifndef NETACCT_SHARED_H
#define NETACCT_SHARED_H

#include <linux/types.h>

#define NETACCT_LAYOUT_VERSION 1
#define NETACCT_META_MAGIC 0x4e414354u /* "NACT" */

/* Default capacities; the loader overrides them at load time. */
#define NETACCT_DEFAULT_FLOWS 65536
#define NETACCT_DEFAULT_WHITELIST 16384
#define NETACCT_DEFAULT_PREFIX_ROWS 4096

/* Default remote prefix lengths of prefix rows (overflow with attribution). */
#define NETACCT_DEFAULT_PREFIX_V4 24
#define NETACCT_DEFAULT_PREFIX_V6 48

/*
 * Address families in flow keys. NETACCT_FAMILY_BUCKET marks the reserved
 * keys that hold the buckets (see below) inside each flow buffer, so a
 * buffer swap moves flows and buckets at the same instant.
 */
#define NETACCT_FAMILY_BUCKET 0
#define NETACCT_FAMILY_IPV4 4
#define NETACCT_FAMILY_IPV6 6

/* Bucket ids, stored in netacct_flow_key.protocol when family == BUCKET. */
#define NETACCT_BUCKET_WHITELISTED 1 /* remote (or local, match=any) in the whitelist */
#define NETACCT_BUCKET_NON_IP 2	     /* ARP, LLDP, anything not IPv4/IPv6 */
#define NETACCT_BUCKET_MALFORMED 3   /* truncated or invalid L2/L3 headers */
#define NETACCT_BUCKET_OVERFLOW_V4 4 /* IPv4 packets whose flow did not fit */
#define NETACCT_BUCKET_OVERFLOW_V6 5 /* IPv6 packets whose flow did not fit */
#define NETACCT_BUCKET_FIRST 1
#define NETACCT_BUCKET_LAST 5
#define NETACCT_BUCKET_COUNT 5

/*
 * One flow: this host's address (local), the peer's (remote), IP protocol.
 * IPv4 addresses use the first 4 bytes of the 16-byte fields, rest zero.
 *
 * `pad` says what kind of row the key is (part of the hashed key):
 * - a prefix row (a flow that did not fit into the flow buffer, counted in
 *   the prefix buffer instead): the remote masked to a prefix, pad = that
 *   prefix length (1..32 or 1..128);
 * - a flow: NETACCT_KEY_FLOW | whitelist generation (or 0 from builds before
 *   generations);
 * - a whitelisted flow: NETACCT_KEY_WHITELISTED | generation. Its counts
 *   belong to the whitelisted bucket; the row only remembers the trie's
 *   answer, so later packets of the flow skip the trie.
 * The generation (runtime.key_generation) changes with every whitelist
 * update: packets after it get new keys and a fresh answer, while rows
 * counted before it keep theirs. User space strips pad from flow keys and
 * adds up the generations of one flow (Harvester::read_buffer).
 */
#define NETACCT_KEY_FLOW 0x4000
#define NETACCT_KEY_WHITELISTED 0x8000
#define NETACCT_KEY_KIND_MASK 0xc000
#define NETACCT_KEY_GENERATION_MASK 0x3fff
struct netacct_flow_key {
	__u8 family;   /* NETACCT_FAMILY_* */
	__u8 protocol; /* IPPROTO_* of the upper layer, or a bucket id */
	__u16 pad;     /* the row's kind (above): part of the hashed key */
	__u8 local[16];
	__u8 remote[16];
};

/* Per-flow (and per-bucket) counters. Bytes are IP-layer bytes. */
struct netacct_counters {
	__u64 rx_bytes;
	__u64 rx_packets;
	__u64 tx_bytes;
	__u64 tx_packets;
};

/*
 * Whitelist LPM key. The family byte and 3 zero bytes lead the data, so one
 * trie holds both families: prefixlen = 32 + address prefix length.
 */
struct netacct_wl_key {
	__u32 prefixlen;
	__u8 family; /* NETACCT_FAMILY_IPV4 / IPV6 */
	__u8 pad[3];
	__u8 addr[16];
};

#define NETACCT_WL_KEY_PREFIX_BITS 32 /* family + pad bits before the address */

/* Whitelist value flags: which side of the packet the prefix applies to. */
#define NETACCT_WL_MATCH_REMOTE 0x1
#define NETACCT_WL_MATCH_LOCAL 0x2

struct netacct_wl_value {
	__u32 match; /* NETACCT_WL_MATCH_* */
	__u32 pad;
};

/*
 * The single entry of the pinned "meta" map: the layout this pin directory
 * was created with, plus the harvest state machine user space keeps next to
 * the counters so that a crash can be resumed exactly (see engine/harvest).
 */
struct netacct_meta {
	__u32 magic;	      /* NETACCT_META_MAGIC once initialised */
	__u32 layout_version; /* NETACCT_LAYOUT_VERSION at creation */
	__u32 flow_capacity;  /* user-visible flow capacity */
	__u32 wl_capacity;    /* whitelist prefixes */
	__u64 generation;     /* number of the last harvest begun */
	__u32 phase;	      /* NETACCT_PHASE_* of that harvest */
	__u32 pad;
	__u8 boot_id[16]; /* kernel boot the pins were created in */
	__u64 created_ns; /* CLOCK_REALTIME at creation */
	__u64 reserved[5];
};

#define NETACCT_PHASE_IDLE 0	 /* idle buffer is empty */
#define NETACCT_PHASE_DRAINING 1 /* swapped; idle buffer holds generation's data */

/*
 * Link-layer framing of the interface the programs are attached to, decided
 * by user space from the device type (ARPHRD_*) before load and written to
 * the programs' read-only data (netacct.bpf.c: link_framing). Not stored in
 * any pinned map: the programs are loaded fresh on every start.
 */
#define NETACCT_LINK_ETHERNET 0 /* Ethernet, up to two VLAN tags (NICs, veth, bridge, lo) */
#define NETACCT_LINK_IP 1	/* no link header, IP first (tun, WireGuard, ipip, GRE, sit) */

/* Runtime switches the programs read from .bss; user space sets them. */
struct netacct_runtime {
	__u32 whitelist_entries; /* 0 skips the trie lookup entirely */
	__u32 local_match;	 /* non-zero if any prefix has MATCH_LOCAL */
	__u32 key_generation; /* changes with every whitelist update (NETACCT_KEY_GENERATION_MASK)
			       */
};

#endif /* NETACCT_SHARED_H */
