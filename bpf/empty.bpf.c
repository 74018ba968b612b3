// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Empty XDP and TC programs: the baseline the benchmark divides by, so its
 * figures are ratios measured on the same hook in the same run.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int empty_xdp(struct xdp_md *ctx __attribute__((unused)))
{
	return XDP_PASS;
}

SEC("tc")
int empty_tc(struct __sk_buff *skb __attribute__((unused)))
{
	return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "GPL";
