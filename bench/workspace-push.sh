#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Workspace push (doc/workspace.md) of a tree of $FILES files (default 2000,
# ~20 MiB: 1% of them 512 KiB, the rest 1-8 KiB) into
# the real test guest under QEMU, against rsync over ssh and tar over ssh
# to the same guest in the same run.  Each figure is the median of N runs
# with the min and max.  Root; makes and removes a network namespace, a
# bangerd and its state in a temp dir.  Results: doc/benchmarks.md.
#
#   sudo bench/workspace-push.sh [-n RUNS] [BUILD_DIR]
#
# rsync is not in the test guest: this script writes the host's rsync and
# the libraries ldd names into the benchmark VM's own root disk (debugfs,
# before its first boot), leaving the test guest as it is.
set -eu

runs=5
if [ "${1:-}" = -n ]; then runs=$2; shift 2; fi
build=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
banger=$(realpath "$build/tools/banger/banger")
bangerd=$(realpath "$build/tools/bangerd/bangerd")
[ "$(id -u)" = 0 ] || { echo "needs root" >&2; exit 1; }
for t in rsync debugfs nsenter ssh; do
  command -v "$t" >/dev/null || { echo "needs $t (scripts/install-deps.sh)" >&2; exit 1; }
done

guest=$("$here/tests/guest/build-guest.sh" 2>/dev/null | tail -n 1)
tmp=$(mktemp -d /tmp/banger-wsbench-XXXXXX)
ns=banger-wsb-$$
cg=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)/banger-wsb-$$.slice
daemon=
cleanup() {
  set +e
  [ -n "$daemon" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
  for c in "$cg"/*/; do [ -d "$c" ] && echo 1 >"$c/cgroup.kill" && sleep 0.2 && rmdir "$c"; done
  rmdir "$cg" 2>/dev/null
  ip netns del "$ns" 2>/dev/null
  rm -rf --one-file-system "$tmp"
}
trap cleanup EXIT
ip netns add "$ns"
ip -n "$ns" link set lo up
inns() { nsenter --net="/run/netns/$ns" "$@"; }
cat >"$tmp/bangerd.conf" <<EOF
[host]
cgroup=$cg
[network]
subnet=10.79.0.0/24
EOF
inns "$bangerd" --config="$tmp/bangerd.conf" --state-dir="$tmp/state" \
  --runtime-dir="$tmp/run" 2>"$tmp/bangerd.log" &
daemon=$!
for _ in $(seq 100); do [ -S "$tmp/run/bangerd.sock" ] && break; sleep 0.1; done
b() { inns "$banger" --socket="$tmp/run/bangerd.sock" "$@"; }

b kernel add k --kernel "$guest/vmlinuz" --initrd "$guest/initrd.img" >/dev/null
b image import g --rootfs "$guest/rootfs.ext4" >/dev/null

# The tree: FILES files, 1% of 512 KiB, the rest 1-8 KiB in 40 directories.
FILES=${FILES:-2000}
tpl=$tmp/template
mkdir -p "$tpl"
python3 - "$tpl" "$FILES" <<'EOF'
import os, random, sys
root = sys.argv[1]; n = int(sys.argv[2]); r = random.Random(42)
big = max(1, n // 100)
for i in range(n - big):
    d = os.path.join(root, "dir%02d" % (i % 40)); os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%04d.txt" % i), "wb") as f: f.write(r.randbytes(r.randint(1024, 8192)))
for i in range(big):
    with open(os.path.join(root, "blob%02d.bin" % i), "wb") as f: f.write(r.randbytes(512 * 1024))
EOF
files=$(find "$tpl" -type f | wc -l)
bytes=$(du -sb "$tpl" | cut -f1)

ws=$tmp/ws
mkdir -p "$ws"
b vm create w --image g --kernel k --memory 512 --workspace "$ws" --no-start >/dev/null
# rsync and its libraries into this VM's root disk only
vmdir=$(echo "$tmp"/state/vms/*/)
{
  echo "mkdir /usr/bin"
  echo "write /usr/bin/rsync /usr/bin/rsync"
  echo "set_inode_field /usr/bin/rsync mode 0100755"
  for l in $(ldd /usr/bin/rsync | awk '$2 == "=>" && $3 ~ /^\// { print $3 }'); do
    echo "rm $l"
    echo "write $(readlink -f "$l") $l"
  done
} >"$tmp/inject.cmds"
debugfs -w -f "$tmp/inject.cmds" "$vmdir/rootfs.ext4" >/dev/null 2>&1
b vm start w >/dev/null

eval "set -- $(b vm ssh --print-command w)"
ssh_cmd=()
while [ "$1" != "--" ]; do ssh_cmd+=("$1"); shift; done
ip=$2
gssh() { inns "${ssh_cmd[@]}" -o BatchMode=yes -- "$ip" "$@"; }
gssh rsync --version >/dev/null || { echo "rsync does not run in the guest" >&2; exit 1; }
rsync_e="${ssh_cmd[*]} -o BatchMode=yes"

now() { date +%s.%N; }
declare -A t
add() { t[$1]="${t[$1]:-} $2"; }
touch_some() { # append to 1% of the small files
  for i in $(seq 0 99 $((FILES - FILES / 100 - 1)) | head -n $((FILES / 100))); do
    printf 'edit %s\n' "$RANDOM" >>"$1/dir$(printf %02d $((i % 40)))/f$(printf %04d "$i").txt"
  done
}

for r in $(seq "$runs"); do
  # banger: first push of a fresh tree, an incremental push, a no-op push
  cp -a "$tpl" "$ws/run"
  s=$(now); b vm workspace push w >/dev/null; e=$(now); add banger_first "$(awk "BEGIN { print $e - $s }")"
  touch_some "$ws/run"
  s=$(now); b vm workspace push w >/dev/null; e=$(now); add banger_incr "$(awk "BEGIN { print $e - $s }")"
  s=$(now); b vm workspace push w >/dev/null; e=$(now); add banger_noop "$(awk "BEGIN { print $e - $s }")"
  gssh rm -rf /workspace/run; rm -rf "$ws/run"
  b vm workspace push w >/dev/null # both sides deleted: agreed

  # rsync over ssh, same guest, same tree
  cp -a "$tpl" "$tmp/rs"
  s=$(now); inns rsync -a -e "$rsync_e" "$tmp/rs/" "$ip:/rsync/"; e=$(now)
  add rsync_first "$(awk "BEGIN { print $e - $s }")"
  touch_some "$tmp/rs"
  s=$(now); inns rsync -a -e "$rsync_e" "$tmp/rs/" "$ip:/rsync/"; e=$(now)
  add rsync_incr "$(awk "BEGIN { print $e - $s }")"
  s=$(now); inns rsync -a -e "$rsync_e" "$tmp/rs/" "$ip:/rsync/"; e=$(now)
  add rsync_noop "$(awk "BEGIN { print $e - $s }")"
  gssh rm -rf /rsync; rm -rf "$tmp/rs"

  # tar over ssh (a full copy each time)
  s=$(now)
  tar -C "$tpl" -cf - . | inns "${ssh_cmd[@]}" -o BatchMode=yes -- "$ip" 'mkdir -p /tar && tar -C /tar -xf -'
  e=$(now); add tar_first "$(awk "BEGIN { print $e - $s }")"
  gssh rm -rf /tar
done

stat() { # median min max of the arguments
  printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END {
    m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
    printf "%.2f s (min %.2f, max %.2f)", m, a[1], a[NR] }'
}
echo "tree: $files files, $bytes bytes; $runs runs"
for k in banger_first rsync_first tar_first banger_incr rsync_incr banger_noop rsync_noop; do
  # shellcheck disable=SC2086
  printf '%-13s %s\n' "$k" "$(stat ${t[$k]})"
done
