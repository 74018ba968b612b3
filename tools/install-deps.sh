#!/usr/bin/env bash
# Installs the Debian packages netacct needs (quietly, only when missing) and
# mounts bpffs when it is absent. Idempotent: a second run does nothing.
set -euo pipefail

PACKAGES=(
  clang llvm make g++ pkg-config
  libbpf-dev bpftool libelf-dev zlib1g-dev
  libuv1-dev libnl-3-dev libnl-route-3-dev libboost-json1.81-dev doctest-dev
  iproute2 iputils-ping ethtool logrotate
  systemd util-linux procps
  prometheus-cpp-dev libhttp-parser-dev prometheus curl
  clang-format libsqlite3-dev sqlite3
  libfixbuf-dev nfdump pmacct
  libsystemd-dev systemd-container dbus debhelper dpkg-dev lintian scdoc man-db bash-completion
  apparmor checkpolicy semodule-utils libclang-rt-14-dev tmux
)

missing=()
for package in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "netacct: missing packages: ${missing[*]} (run 'make deps' as root)" >&2
    exit 1
  fi
  echo "netacct: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The programs and maps are pinned on bpffs; a bare host may not mount it.
if [ "$(id -u)" -eq 0 ] && ! stat -f -c %T /sys/fs/bpf 2>/dev/null | grep -q bpf; then
  mkdir -p /sys/fs/bpf
  mount -t bpf bpf /sys/fs/bpf
  echo "netacct: mounted bpffs at /sys/fs/bpf"
fi
