#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Time the host operations through a real bangerd-root, as root, inside a
# network namespace and temp dirs this script makes and removes.  The VMM is
# the tests' fake (it only waits for a signal), so the launch figure is the
# helper's own cost: cgroup, clone3, exec, pidfd, registry.
#   bench/host-ops.sh [BUILD_DIR]      (default: build)
set -eu
build=$(cd "${1:-build}" && pwd)
helper="$build/tools/bangerd-root/bangerd-root"
fake="$build/tests/host/fake-vmm"
here=$(cd "$(dirname "$0")" && pwd)
[ "$(id -u)" = 0 ] || { echo "host-ops.sh: run as root" >&2; exit 1; }
[ -x "$helper" ] && [ -x "$fake" ] || { echo "host-ops.sh: build $build first" >&2; exit 1; }

dir=$(mktemp -d /tmp/banger-bench-XXXXXX)
ns="banger-bench-$$"
cg="$(awk '$9 == "cgroup2" || $(NF-2) == "cgroup2" { print $5; exit }' /proc/self/mountinfo)/banger-bench-$$.slice"
helper_pid=
cleanup() {
  [ -n "$helper_pid" ] && kill "$helper_pid" 2>/dev/null || true
  ip netns delete "$ns" 2>/dev/null || true
  [ -d "$cg" ] && find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  rm -rf --one-file-system "$dir"
}
trap cleanup EXIT INT TERM

chmod 755 "$dir"
mkdir -m 755 "$dir/run" "$dir/state"
truncate -s 64M "$dir/state/work.ext4"
chown 65534:65534 "$dir/state/work.ext4"
cat >"$dir/install.conf" <<CONF
[install]
owner-uid=65534
owner-gid=65534
runtime-dir=$dir/run
state-dir=$dir/state
firecracker=$fake
cgroup-root=$cg
nft-table=banger

[helper]
socket=$dir/run/root.sock
CONF
ip netns add "$ns"
# nsenter, not `ip netns exec`: the latter remounts /sys and hides cgroup2
(umask 077; exec nsenter --net="/run/netns/$ns" "$helper" -c "$dir/install.conf" >"$dir/helper.log" 2>&1) &
helper_pid=$!
i=0
while [ ! -S "$dir/run/root.sock" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
sleep 0.2
echo "# $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
setpriv --reuid 65534 --regid 65534 --clear-groups \
  /usr/bin/python3 "$here/host-ops.py" "$dir/run/root.sock" "$dir/state/work.ext4"
