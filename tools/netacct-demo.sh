#!/usr/bin/env bash
# netacct demo: builds its own pair of network namespaces joined by a veth
# pair, sends bounded IPv4/IPv6 traffic between them, and runs netacctd on
# one end with the live table. Nothing touches the host's own interfaces;
# everything created is removed on exit (Ctrl+C included).
#
#   tools/netacct-demo.sh [--xdp] [SECONDS]   (default: until Ctrl+C, at most 10 min)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
NETACCTD=$BUILD/bin/netacctd

xdp=()
if [ "${1:-}" = "--xdp" ]; then xdp=(--xdp); shift; fi
seconds=${1:-600}

ns_a=netacct-demo-a
ns_b=netacct-demo-b
pids=()

cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  ip netns del "$ns_a" 2>/dev/null || true
  ip netns del "$ns_b" 2>/dev/null || true
  rm -rf /sys/fs/bpf/netacct/demo 2>/dev/null || true
}
trap cleanup EXIT INT TERM

[ "$(id -u)" -eq 0 ] || { echo "netacct demo: run as root (it creates namespaces)" >&2; exit 1; }
[ -x "$NETACCTD" ] || { echo "netacct demo: $NETACCTD missing; run 'make' first" >&2; exit 1; }

ip netns del "$ns_a" 2>/dev/null || true
ip netns del "$ns_b" 2>/dev/null || true
ip netns add "$ns_a"
ip netns add "$ns_b"
ip link add demo0 netns "$ns_a" type veth peer name demo1 netns "$ns_b"
ip -n "$ns_a" addr add 10.213.0.1/24 dev demo0
ip -n "$ns_b" addr add 10.213.0.2/24 dev demo1
ip -n "$ns_a" addr add fd00:213::1/64 dev demo0 nodad
ip -n "$ns_b" addr add fd00:213::2/64 dev demo1 nodad
ip -n "$ns_a" link set demo0 up
ip -n "$ns_b" link set demo1 up

# Bounded traffic, in both families, between the two namespaces only.
ip netns exec "$ns_b" ping -q -c 3000 -i 0.2 10.213.0.1 >/dev/null 2>&1 & pids+=($!)
ip netns exec "$ns_a" ping -q -c 3000 -i 0.3 -s 1000 fd00:213::2 >/dev/null 2>&1 & pids+=($!)
ip netns exec "$ns_b" bash -c 'for i in $(seq 1 1200); do
    head -c 512 /dev/zero > /dev/udp/10.213.0.1/5353; sleep 0.5; done' 2>/dev/null & pids+=($!)

mkdir -p logs
echo "netacct demo: counting on demo0 in netns $ns_a for ${seconds}s (Ctrl+C stops)"
timeout --signal=INT "$seconds" "$NETACCTD" "${xdp[@]}" --namespace "$ns_a" --tag demo \
  --interval 2 --debug --cleanup-on-exit demo0 logs/demo_traffic_stats.json || true
echo "netacct demo: totals are in logs/demo_traffic_stats.json"
