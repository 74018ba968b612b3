#!/usr/bin/env bash
# `make check`: says in plain words what this host lacks to run netacct.
# Exit status 1 when something essential is missing, else 0 (warnings only).
# Touches nothing of the host: the clsact probe runs in a throwaway network
# namespace (unshare -n) on that namespace's own loopback.
set -u
BUILD=${BUILD:-build}
missing=0
warnings=0

ok() { printf '  ok       %s\n' "$1"; }
warn() { printf '  warning  %s\n' "$1"; warnings=$((warnings + 1)); }
lack() { printf '  MISSING  %s\n' "$1"; missing=$((missing + 1)); }

echo "netacct host check"

# Kernel: bpf_link for XDP (5.9), CAP_BPF (5.8), batch map ops (5.6),
# BIG TCP (6.3) for exact GSO accounting at 100G.
release=$(uname -r)
major=${release%%.*}
rest=${release#*.}
minor=${rest%%[!0-9]*}
if [ "$major" -gt 5 ] || { [ "$major" -eq 5 ] && [ "$minor" -ge 10 ]; }; then
  ok "kernel $release (5.10 or newer)"
else
  lack "kernel $release is older than 5.10: XDP links and batch map operations need 5.10+"
fi

if [ -r /sys/kernel/btf/vmlinux ]; then
  ok "kernel BTF (/sys/kernel/btf/vmlinux)"
else
  warn "no kernel BTF (/sys/kernel/btf/vmlinux): netacct runs, but bpftool cannot show kernel types (CONFIG_DEBUG_INFO_BTF=y)"
fi

if [ "$(stat -f -c %T /sys/fs/bpf 2>/dev/null)" = "bpf_fs" ]; then
  ok "bpffs mounted at /sys/fs/bpf"
else
  warn "bpffs is not mounted at /sys/fs/bpf: netacctd mounts it at start (as root), or run 'mount -t bpf bpf /sys/fs/bpf'"
fi

# Capabilities of this shell (what a netacctd started from it would have).
cap_eff=$(awk '/^CapEff:/ {print $2}' /proc/self/status)
has_cap() { [ $(((0x$cap_eff >> $1) & 1)) -eq 1 ]; }
for pair in 12:CAP_NET_ADMIN 21:CAP_SYS_ADMIN; do
  bit=${pair%%:*}
  name=${pair#*:}
  if has_cap "$bit"; then ok "$name"; else lack "$name (run as root: tc/XDP attach needs CAP_NET_ADMIN; namespaces and filter ownership checks need CAP_SYS_ADMIN)"; fi
done

if ! command -v tc > /dev/null || ! command -v unshare > /dev/null; then
  lack "tc or unshare not found (Debian: iproute2, util-linux)"
elif [ $((0x$cap_eff >> 21 & 1)) -ne 1 ]; then
  warn "clsact not probed (needs CAP_SYS_ADMIN for a throwaway namespace)"
else
  probe='ip link set lo up && tc qdisc add dev lo clsact'
  if [ -f "$BUILD/bpf/empty.bpf.o" ]; then
    probe="$probe && tc filter add dev lo ingress bpf obj $BUILD/bpf/empty.bpf.o sec tc da"
  fi
  if out=$(unshare -n sh -c "$probe" 2>&1); then
    ok "clsact qdisc and the bpf tc classifier (probed in a throwaway namespace)"
  else
    lack "clsact / tc bpf classifier unavailable (CONFIG_NET_SCH_INGRESS, CONFIG_NET_CLS_BPF): ${out:-no detail}"
  fi
fi

if [ -r /proc/sys/net/core/bpf_jit_enable ] && [ "$(cat /proc/sys/net/core/bpf_jit_enable)" = "0" ]; then
  warn "BPF JIT is off (net.core.bpf_jit_enable=0): programs run interpreted, much slower"
fi

for tool in bpftool clang; do
  command -v "$tool" > /dev/null || warn "$tool not found (needed to build; 'make deps' installs it)"
done

if [ "$missing" -gt 0 ]; then
  echo "netacct cannot run here: $missing essential thing(s) missing, $warnings warning(s)"
  exit 1
fi
echo "netacct can run here ($warnings warning(s))"
