#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# TCP egress through a veth pair in namespaces of its own: kernel bpf_stats
# (run_time_ns / run_cnt) of netacct's TC egress program against an empty TC
# program on the same device in the same run (it runs after ours: we return
# TC_ACT_UNSPEC). Bounded: SECS seconds (default 3), at most 4 GiB. Enables
# kernel.bpf_stats_enabled for the run and restores it; removes everything
# it created on exit.   Usage: sudo tools/bench/tcp-egress-bpf-stats.sh
set -u
BUILD=${BUILD:-build}
ID=dpb$$
NA=${ID}a; NB=${ID}b; TAG=${ID}
PINBASE=/sys/fs/bpf/netacct
WORK=$(mktemp -d /tmp/dpbench.XXXXXX)
OLD_STATS=$(sysctl -n kernel.bpf_stats_enabled)
cleanup() {
  [ -n "${DPID:-}" ] && kill -TERM $DPID 2>/dev/null && wait $DPID 2>/dev/null
  $BUILD/bin/netacct-cleanup --force $TAG >/dev/null 2>&1
  ip netns del $NA 2>/dev/null; ip netns del $NB 2>/dev/null
  sysctl -qw kernel.bpf_stats_enabled=$OLD_STATS
  rm -rf $WORK
}
trap cleanup EXIT
ip netns add $NA; ip netns add $NB
ip -n $NA link add va type veth peer name vb netns $NB
ip -n $NA addr add 10.250.0.1/24 dev va; ip -n $NB addr add 10.250.0.2/24 dev vb
ip -n $NA link set va up; ip -n $NB link set vb up; ip -n $NA link set lo up; ip -n $NB link set lo up
$BUILD/bin/netacctd --namespace $NA --tag $TAG --interval 1 --no-metrics --no-console --log-file $WORK/log va $WORK/out.json &
DPID=$!
for i in $(seq 50); do [ -e $PINBASE/$TAG/prog_tc_eg ] && tc -n $NA filter show dev va egress | grep -q netacct && break; sleep 0.2; done
# The empty program after ours (we return UNSPEC, so it sees every packet).
ip netns exec $NA tc filter add dev va egress prio 60000 handle 7 bpf da obj $BUILD/bpf/empty.bpf.o sec tc
sysctl -qw kernel.bpf_stats_enabled=1
ip netns exec $NB python3 -c '
import socket
s=socket.socket(); s.bind(("10.250.0.2",5001)); s.listen(1); s.settimeout(30)
c,_=s.accept(); c.settimeout(30); n=0
while True:
    d=c.recv(1<<20)
    if not d: break
    n+=len(d)
print("received", n)
' &
RPID=$!
sleep 0.5
ip netns exec $NA python3 -c '
import socket, time
s=socket.create_connection(("10.250.0.2",5001), timeout=10)
buf=b"x"*(1<<20); total=0; end=time.time()+'${SECS:-3}'
while time.time()<end and total < (4<<30):
    s.sendall(buf); total+=len(buf)
s.close(); print("sent", total)
'
wait $RPID
OURS=$(bpftool prog show pinned $PINBASE/$TAG/prog_tc_eg | sed -n 's/^\([0-9]*\):.*/\1/p')
EMPTY=$(tc -n $NA filter show dev va egress | sed -n 's/.* id \([0-9]*\) name empty_tc.*/\1/p')
bpftool -j prog show | python3 -c '
import json, sys
ours, empty = int(sys.argv[1]), int(sys.argv[2])
runs = {p["id"]: p for p in json.load(sys.stdin)}
ns = lambda p: p["run_time_ns"] / max(p["run_cnt"], 1)
a, b = runs[ours], runs[empty]
print("tcp egress via veth (bpf_stats): netacct %.0f ns/run, empty %.0f ns/run, %.1fx (goal 2.5x), %d runs"
      % (ns(a), ns(b), ns(a) / ns(b), a["run_cnt"]))
' "$OURS" "$EMPTY"
