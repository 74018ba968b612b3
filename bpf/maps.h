/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The maps of netacct. Every map user space must find again after a restart
 * is pinned by name under the tag's pin directory (the loader passes
 * pin_root_path), so the programs keep counting while no daemon runs and a
 * restarted daemon continues with the counts in the kernel.
 *
 * Capacities below are defaults: the loader sets the real ones before load.
 */
#ifndef NETACCT_MAPS_H
#define NETACCT_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "netacct_shared.h"

/*
 * A flow buffer: key netacct_flow_key, value netacct_counters (shared, updated
 * with atomics). Written by all programs, read and cleared by the harvest.
 * Preallocated so an insert never allocates in the datapath; the bucket keys
 * are inserted by user space when a buffer is created or cleared, and
 * max_entries is the flow capacity plus those reserved entries.
 */
#ifdef NETACCT_PERCPU_VALUES
/*
 * Benchmark-only build (tools/bench): per-CPU values, added to without
 * atomics, to measure that alternative. Never loaded by the daemon.
 */
#define NETACCT_FLOW_BUFFER_DEF                                                                    \
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);                                                    \
	__type(key, struct netacct_flow_key);                                                      \
	__type(value, struct netacct_counters)
#else
#define NETACCT_FLOW_BUFFER_DEF                                                                    \
	__uint(type, BPF_MAP_TYPE_HASH);                                                           \
	__type(key, struct netacct_flow_key);                                                      \
	__type(value, struct netacct_counters)
#endif

/*
 * Template of the inner map of active_flows. libbpf refuses a pinned inner
 * def, and the kernel does not compare max_entries of hash inner maps, so
 * the template is tiny: libbpf creates it only for a moment.
 */
struct netacct_flow_buffer {
	NETACCT_FLOW_BUFFER_DEF;
	__uint(max_entries, 1);
};

/* The two flow buffers: one is active, the other idle (being harvested). */
struct {
	NETACCT_FLOW_BUFFER_DEF;
	__uint(max_entries, NETACCT_DEFAULT_FLOWS + NETACCT_BUCKET_COUNT);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} flows_a SEC(".maps"), flows_b SEC(".maps");

/*
 * One slot holding the active flow buffer. Programs look it up once per
 * packet; user space swaps buffers by updating the slot, and that update
 * returns only after every program that might still hold the old buffer has
 * finished (the kernel waits an RCU grace period for map-in-map updates), so
 * no packet is counted in the buffer after it was declared idle.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct netacct_flow_buffer); /* must be the last field */
} active_flows SEC(".maps") = {
	/* The cast: flows_a carries the pinning attribute the template must not. */
	.values = {[0] = (struct netacct_flow_buffer *)&flows_a},
};

/*
 * The prefix buffers: a flow that finds the active flow buffer full is
 * counted here instead, keyed by (local, remote prefix, protocol) with the
 * prefix length in key.pad. Same key and value as a flow buffer, no bucket
 * keys, smaller. Written by all programs, only on that overflow path; read
 * and cleared by the harvest together with the flow buffer of the same
 * letter. Only when this one is full too does a packet go to the overflow
 * bucket of its family.
 */
struct {
	NETACCT_FLOW_BUFFER_DEF;
	__uint(max_entries, NETACCT_DEFAULT_PREFIX_ROWS);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} prefix_a SEC(".maps"), prefix_b SEC(".maps");

/*
 * One slot holding the active prefix buffer, swapped by user space right
 * after active_flows (with the same RCU wait), so it always names the twin of
 * the active flow buffer except for the moment between the two updates; the
 * harvest drains both idle buffers only after both updates returned, and
 * re-aligns the slots first when a crash fell between them (harvester.cpp).
 * A separate outer map, so pin directories of the previous build are adopted
 * as they are: libbpf creates and pins the three new maps beside them.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct netacct_flow_buffer); /* must be the last field */
} active_prefix SEC(".maps") = {
	.values = {[0] = (struct netacct_flow_buffer *)&prefix_a},
};

/*
 * Whitelist: key netacct_wl_key (family + address prefix), value
 * netacct_wl_value. Written by user space (diffs on reload), read by programs.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, NETACCT_DEFAULT_WHITELIST);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct netacct_wl_key);
	__type(value, struct netacct_wl_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} whitelist SEC(".maps");

/*
 * Layout and harvest state: key 0, value netacct_meta. Only user space reads
 * or writes it; it is pinned so the state outlives the daemon.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct netacct_meta);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} meta SEC(".maps");

#endif /* NETACCT_MAPS_H */
