#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Workspace push (doc/workspace.md) of a generated source-like tree of
# $FILES files (default 10000: 98% of 1-20 KiB, 2% of 20-200 KiB, in
# ~700 directories up to 9 levels deep; seeded, the same tree every time)
# into the real test guest under QEMU, against `rsync -a --delete` over
# ssh to the same guest in the same run.  Each run, for each tool: the
# first push of the fresh tree, a push with nothing changed, a push after
# editing 100 files (a line appended).  Each figure is the median of N
# runs with the min and max.  Root; makes and removes a network namespace,
# a bangerd and its state in a temp dir.  The guest side lives on the VM's
# root disk: a copy of the test guest's grown to 2 GiB (resize2fs).
# Results: doc/benchmarks.md.
#
#   sudo [FILES=N] [BANGERD_LOG=FILE] bench/workspace-push.sh [-n RUNS] [BUILD_DIR]
#
# BANGERD_LOG keeps the daemon's log, where each push logs its phases.
#
# rsync is in the test guest (tests/guest/build-guest.sh adds Debian's).
set -eu

runs=5
if [ "${1:-}" = -n ]; then runs=$2; shift 2; fi
build=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
banger=$(realpath "$build/tools/banger/banger")
bangerd=$(realpath "$build/tools/bangerd/bangerd")
[ "$(id -u)" = 0 ] || { echo "needs root" >&2; exit 1; }
for t in rsync nsenter ssh python3 resize2fs; do
  command -v "$t" >/dev/null || { echo "needs $t (scripts/install-deps.sh)" >&2; exit 1; }
done

guest=$("$here/tests/guest/build-guest.sh" 2>/dev/null | tail -n 1)
tmp=$(mktemp -d /tmp/banger-wsbench-XXXXXX)
ns=banger-wsb-$$
cg=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)/banger-wsb-$$.slice
daemon=
cleanup() {
  set +e
  if [ -n "$daemon" ] && kill "$daemon" 2>/dev/null; then
    for _ in $(seq 100); do kill -0 "$daemon" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$daemon" 2>/dev/null
    wait "$daemon" 2>/dev/null
  fi
  for c in "$cg"/*/; do [ -d "$c" ] && echo 1 >"$c/cgroup.kill" && sleep 0.2 && rmdir "$c"; done
  rmdir "$cg" 2>/dev/null
  ip netns del "$ns" 2>/dev/null
  # the daemon's log holds each push's breakdown (scan, listing, transfer)
  [ -n "${BANGERD_LOG:-}" ] && cp "$tmp/bangerd.log" "$BANGERD_LOG"
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
# nsenter itself (it execs bangerd), not a subshell: $! is the daemon
nsenter --net="/run/netns/$ns" "$bangerd" --config="$tmp/bangerd.conf" --state-dir="$tmp/state" \
  --runtime-dir="$tmp/run" 2>"$tmp/bangerd.log" </dev/null >/dev/null &
daemon=$!
for _ in $(seq 100); do [ -S "$tmp/run/bangerd.sock" ] && break; sleep 0.1; done
b() { inns "$banger" --socket="$tmp/run/bangerd.sock" "$@"; }

b kernel add k --kernel "$guest/vmlinuz" --initrd "$guest/initrd.img" >/dev/null
# room for two copies of the tree on the guest's root disk
cp --sparse=always "$guest/rootfs.ext4" "$tmp/rootfs.ext4"
e2fsck -f -y "$tmp/rootfs.ext4" >/dev/null 2>&1 || true
resize2fs "$tmp/rootfs.ext4" 2G >/dev/null 2>&1
b image import g --rootfs "$tmp/rootfs.ext4" >/dev/null

# The tree: a source tree's shape (seeded: the same tree every time).
FILES=${FILES:-10000}
tpl=$tmp/template
mkdir -p "$tpl"
cat >"$tmp/gen.py" <<'PY'
import os, random, sys
root = sys.argv[1]; n = int(sys.argv[2]); r = random.Random(42)
dirs = [("", 0)]
for i in range(max(8, n // 14)):
    # deeper parents are likelier: source trees are narrow and deep
    parent, depth = max(r.sample(dirs, min(3, len(dirs))), key=lambda d: d[1] * r.random())
    if depth >= 8:
        parent, depth = "", 0
    name = "%s%d" % (r.choice(["src", "lib", "pkg", "mod", "test", "util", "core", "io"]), i)
    d = os.path.join(parent, name)
    os.makedirs(os.path.join(root, d))
    dirs.append((d, depth + 1))
exts = [".c", ".h", ".py", ".go", ".rs", ".js", ".md", ".json"]
for i in range(n):
    d = r.choice(dirs)[0]
    if r.random() < 0.98:
        size = int(1024 * 20 ** r.random())
    else:
        size = int(20480 * 10 ** r.random())
    with open(os.path.join(root, d, "file%05d%s" % (i, r.choice(exts))), "wb") as f:
        f.write(r.randbytes(size))
PY
python3 "$tmp/gen.py" "$tpl" "$FILES"
files=$(find "$tpl" -type f | wc -l)
dirs=$(find "$tpl" -type d | wc -l)
depth=$(find "$tpl" -type f | sed "s|^$tpl/||" | awk -F/ '{ if (NF > m) m = NF } END { print m - 1 }')
bytes=$(du -sb --apparent-size "$tpl" | cut -f1)

ws=$tmp/ws
mkdir -p "$ws"
b vm create w --image g --kernel k --memory 512 --workspace "$ws:/workspace" >/dev/null

eval "set -- $(b vm ssh --print-command w)"
ssh_cmd=()
while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do ssh_cmd+=("$1"); shift; done
[ "$#" -ge 2 ] || { echo "unexpected vm ssh --print-command output" >&2; exit 1; }
ip=$2
gssh() { inns "${ssh_cmd[@]}" -o BatchMode=yes -- "$ip" "$@"; }
gssh rsync --version >/dev/null || { echo "rsync does not run in the guest" >&2; exit 1; }
rsync_e="${ssh_cmd[*]} -o BatchMode=yes"

now() { date +%s.%N; }
declare -A t
add() { t[$1]="${t[$1]:-} $2"; }
timed() { # timed KEY CMD...: runs CMD, adds its wall time to KEY
  local k=$1 s e
  shift
  s=$(now)
  "$@" >/dev/null
  e=$(now)
  add "$k" "$(awk "BEGIN { print $e - $s }")"
}
edit_some() { # append a line to 100 files spread over the tree
  find "$1" -type f | LC_ALL=C sort | awk -v step=$((files / 100)) 'NR % step == 1' | head -n 100 \
    | while IFS= read -r f; do printf 'edit %s\n' "$RANDOM" >>"$f"; done
}
rs() { inns rsync -a --delete -e "$rsync_e" "$tmp/rs/" "$ip:/rsync/"; }

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for r in $(seq "$runs"); do
  # banger: first push of the fresh tree, a push with nothing changed, a
  # push after editing 100 files
  cp -a "$tpl" "$ws/run"
  timed banger_first b vm workspace push w
  timed banger_noop b vm workspace push w
  edit_some "$ws/run"
  timed banger_edit b vm workspace push w
  gssh rm -rf /workspace/run
  rm -rf "$ws/run"
  b vm workspace push w >/dev/null # both sides deleted: agreed

  # rsync -a --delete over ssh, same guest, same tree
  cp -a "$tpl" "$tmp/rs"
  timed rsync_first rs
  timed rsync_noop rs
  edit_some "$tmp/rs"
  timed rsync_edit rs
  gssh rm -rf /rsync
  rm -rf "$tmp/rs"
  echo "run $r (load $(cut -d' ' -f1-3 /proc/loadavg)):" >&2
  for k in banger_first rsync_first banger_noop rsync_noop banger_edit rsync_edit; do
    echo "  $k ${t[$k]##* }" >&2
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

stat() { # median min max of the arguments
  printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END {
    m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
    printf "%.2f s (min %.2f, max %.2f)", m, a[1], a[NR] }'
}
echo "tree: $files files, $dirs directories, $bytes bytes, files up to $depth levels deep; $runs runs"
echo "load average before: $load_before; after: $load_after ($(nproc) CPUs)"
for k in banger_first rsync_first banger_noop rsync_noop banger_edit rsync_edit; do
  # shellcheck disable=SC2086
  printf '%-13s %s   [%s]\n' "$k" "$(stat ${t[$k]})" "${t[$k]# }"
done
