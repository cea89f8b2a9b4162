#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The README's first command, the main job with the real CLI: install what
# is needed, build, check the host (`banger doctor`), build the test guest
# (tests/guest, from Debian packages, cached after the first run), start a
# bangerd (as root: the in-process privileged executor) in a throwaway
# network namespace, then
#   banger kernel add / image import / vm create / vm exec / vm ls / vm rm
# and remove everything it made.  Needs root (namespace, taps, cgroups).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
./scripts/install-deps.sh
if [ -f build/build.ninja ]; then meson setup --reconfigure build >/dev/null; else meson setup build >/dev/null; fi
ninja -C build >/dev/null
./build/tools/banger/banger doctor || true
if [ "$(id -u)" != 0 ]; then
  echo "demo.sh: the VM part needs root (network namespace, taps, cgroups): run it with sudo" >&2
  exit 1
fi

guest=$(./tests/guest/build-guest.sh "${BANGER_GUEST_CACHE:-$top/tests/guest/cache}")
ns=banger-demo-$$
dir=$(mktemp -d /tmp/banger-demo-XXXXXX)
cgroot=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)/banger-demo-$$.slice
daemon=
cleanup() {
  [ -n "$daemon" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  rmdir "$cgroot" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT INT TERM

ip netns add "$ns"
ip -n "$ns" link set lo up
printf '[host]\ncgroup=%s\n' "$cgroot" > "$dir/bangerd.conf"
export BANGER_SOCKET="$dir/run/bangerd.sock"
# only the network namespace (ip netns exec would remount /sys and hide cgroup2)
nsenter --net="/run/netns/$ns" ./build/tools/bangerd/bangerd --config "$dir/bangerd.conf" \
  --state-dir "$dir/state" --runtime-dir "$dir/run" 2> "$dir/bangerd.log" &
daemon=$!
i=0
while [ ! -S "$BANGER_SOCKET" ]; do
  i=$((i + 1)); [ "$i" -lt 500 ] || { cat "$dir/bangerd.log" >&2; exit 1; }
  sleep 0.01
done

banger=./build/tools/banger/banger
set -x
$banger kernel add guest-kernel --kernel "$guest/vmlinuz" --initrd "$guest/initrd.img"
$banger image import guest --rootfs "$guest/rootfs.ext4"
$banger vm create demo --image guest --kernel guest-kernel
$banger vm exec demo -- uname -a
$banger vm ls
$banger vm rm demo
$banger vm ls
set +x
