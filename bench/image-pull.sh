#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Image pull to a ready ext4, against the usual pipeline, in the same run:
#   banger:   bench-image-pull  (pull into the content store, unpack, mkfs.ext4 -d + ownership)
#   bangerd:  `banger image pull` against a bangerd (the product path: engine,
#             guest-contract check, store record), fresh state each run; CPU
#             is the daemon's (utime+stime from /proc)
#   baseline: skopeo copy docker:// → oci:  +  umoci unpack  +  mkfs.ext4 -d
# from a docker-registry on loopback in a private network namespace, with an
# image of about 200 MB (3 layers: /usr/include, /usr/lib/python3, a small
# layer with a whiteout) made here as an OCI layout and pushed with skopeo.
#
#   sudo bench/image-pull.sh [BUILD_DIR] [RUNS]   (figures: doc/images.md, doc/benchmarks.md)
# Prints each run, then the median and the range (min-max) of each contender
# and the ratio of the medians.
set -eu
if [ "${BANGER_BENCH_NETNS:-}" != 1 ]; then
  exec unshare -n env BANGER_BENCH_NETNS=1 "$0" "$@"
fi
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
runs=${2:-3}
driver="$build/tests/image/bench-image-pull"
bangerd="$build/tools/bangerd/bangerd"
banger="$build/tools/banger/banger"
for f in "$driver" "$bangerd" "$banger"; do
  [ -x "$f" ] || { echo "build $f first (ninja -C build)" >&2; exit 1; }
done
for tool in docker-registry skopeo umoci mkfs.ext4 ip; do
  command -v "$tool" >/dev/null || { echo "$tool is missing (scripts/install-deps.sh)" >&2; exit 1; }
done
ip link set lo up

work=$(mktemp -d /var/tmp/banger-bench-image-XXXXXX)
reg_pid= d_pid=
cleanup() {
  [ -n "$d_pid" ] && kill "$d_pid" 2>/dev/null
  [ -n "$reg_pid" ] && kill "$reg_pid" 2>/dev/null
  wait 2>/dev/null; rm -rf "$work"
}
trap cleanup EXIT

cat >"$work/registry.yml" <<YML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: 127.0.0.1:5000
YML
docker-registry serve "$work/registry.yml" 2>"$work/registry.log" &
reg_pid=$!
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/5000) 2>/dev/null && break; sleep 0.1; done

# --- the image, as an OCI layout
layout="$work/layout"
mkdir -p "$layout/blobs/sha256" "$work/l3/etc"
echo bench >"$work/l3/etc/hostname"
blob() { # blob FILE -> moves it into the layout, prints "digest size"
  local d s
  d=$(sha256sum "$1" | cut -d' ' -f1); s=$(stat -c %s "$1")
  mv "$1" "$layout/blobs/sha256/$d"; echo "sha256:$d $s"
}
layers_json= diff_ids=
add_layer() { # add_layer TAR-ARGS...
  tar -cf "$work/layer.tar" "$@"
  local diff; diff=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
  gzip -1 "$work/layer.tar"
  read -r d s < <(blob "$work/layer.tar.gz")
  layers_json="$layers_json${layers_json:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"$d\",\"size\":$s}"
  diff_ids="$diff_ids${diff_ids:+,}\"sha256:$diff\""
}
add_layer -C / usr/include
add_layer -C / usr/lib/python3
mkdir -p "$work/l3/usr/include"; : >"$work/l3/usr/include/.wh.zlib.h"
# what the guest contract looks for (doc/guest.md): an init, a shell, an SSH server
mkdir -p "$work/l3/sbin" "$work/l3/bin" "$work/l3/usr/sbin"
: >"$work/l3/sbin/init"; : >"$work/l3/bin/sh"; : >"$work/l3/usr/sbin/dropbear"
add_layer -C "$work/l3" etc usr sbin bin
printf '{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":[%s]}}' \
  "$diff_ids" >"$work/config.json"
read -r cd cs < <(blob "$work/config.json")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[%s]}' \
  "$cd" "$cs" "$layers_json" >"$work/manifest.json"
read -r md ms < <(blob "$work/manifest.json")
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"v1"}}]}' \
  "$md" "$ms" >"$layout/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
skopeo copy -q --dest-tls-verify=false "oci:$layout:v1" docker://127.0.0.1:5000/bench/img:v1
ref=127.0.0.1:5000/bench/img:v1
size_mb=$(du -sm --apparent-size "$layout/blobs" | cut -f1)
echo "image: 3 layers, ${size_mb} MB of blobs (gzip -1), $(du -sm /usr/include /usr/lib/python3 | awk '{s+=$1} END {print s}') MB unpacked"

# wall and CPU (user+sys) seconds of a command: "real cpu"
timed() { /usr/bin/time -f "%e %U %S" -o "$work/time" "$@" >"$work/out"; awk '{printf "%s %.2f\n", $1, $2 + $3}' "$work/time"; }
# CPU seconds of process $1 so far, its waited-for children (mkfs.ext4) included
cpu_of() { awk '{printf "%.2f", ($14 + $15 + $16 + $17) / '"$(getconf CLK_TCK)"'}' "/proc/$1/stat"; }
ours_w=() ours_c=() d_w=() d_c=() th_w=() th_c=()
for run in $(seq "$runs"); do
  rm -rf "$work/run"; mkdir -p "$work/run/w"
  read -r ours ours_cpu < <(timed "$driver" "$ref" "$work/run/store" "$work/run/w" "$work/run/ours.ext4" 127.0.0.1:5000)
  out=$(cat "$work/out")
  img_size=$(stat -c %s "$work/run/ours.ext4")

  # the product path: a fresh bangerd, `banger image pull`
  rm -rf "$work/run"; mkdir -p "$work/run"; mkdir -m 0700 "$work/run/run"
  printf '[registries]\ninsecure=127.0.0.1:5000\n' >"$work/run/bangerd.conf"
  HOME="$work/run" "$bangerd" --config="$work/run/bangerd.conf" --state-dir="$work/run/state" \
    --runtime-dir="$work/run/run" 2>"$work/run/bangerd.log" &
  d_pid=$!
  for _ in $(seq 500); do [ -S "$work/run/run/bangerd.sock" ] && break; sleep 0.01; done
  [ -S "$work/run/run/bangerd.sock" ] || { cat "$work/run/bangerd.log" >&2; exit 1; }
  c0=$(cpu_of "$d_pid")
  t0=$(date +%s.%N)
  "$banger" --socket "$work/run/run/bangerd.sock" image pull "$ref" >/dev/null 2>"$work/run/cli.err" \
    || { cat "$work/run/cli.err" "$work/run/bangerd.log" >&2; exit 1; }
  t1=$(date +%s.%N)
  c1=$(cpu_of "$d_pid")
  kill "$d_pid"; wait "$d_pid" 2>/dev/null || true; d_pid=
  daemon=$(awk "BEGIN {printf \"%.2f\", $t1 - $t0}")
  daemon_cpu=$(awk "BEGIN {printf \"%.2f\", $c1 - $c0}")

  rm -rf "$work/run"; mkdir -p "$work/run"
  # the same job: registry -> blobs on disk -> tree -> ext4 of the same size; the tree removed
  read -r theirs theirs_cpu < <(timed bash -c '
    set -e
    skopeo copy -q --src-tls-verify=false "docker://$1" "oci:$2/oci:v1"
    umoci unpack --image "$2/oci:v1" "$2/bundle" >/dev/null
    truncate -s "$3" "$2/theirs.ext4"
    mkfs.ext4 -q -F -d "$2/bundle/rootfs" "$2/theirs.ext4"
    rm -rf "$2/bundle"' _ "$ref" "$work/run" "$img_size")
  echo "run $run (load $(cut -d' ' -f1-3 /proc/loadavg)):"
  echo "  banger library   ${ours} s wall, ${ours_cpu} s CPU ($out)"
  echo "  banger image pull via bangerd ${daemon} s wall, ${daemon_cpu} s daemon CPU"
  echo "  skopeo+umoci+mkfs ${theirs} s wall, ${theirs_cpu} s CPU"
  ours_w+=("$ours") ours_c+=("$ours_cpu") d_w+=("$daemon") d_c+=("$daemon_cpu")
  th_w+=("$theirs") th_c+=("$theirs_cpu")
done

# median and range of a list of numbers: "median min max"
stats() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {m = NR % 2 ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2; printf "%.2f %.2f %.2f", m, v[1], v[NR]}'; }
read -r ow omin omax < <(stats "${ours_w[@]}"); read -r oc ocmin ocmax < <(stats "${ours_c[@]}")
read -r dw dmin dmax < <(stats "${d_w[@]}"); read -r dc dcmin dcmax < <(stats "${d_c[@]}")
read -r tw tmin tmax < <(stats "${th_w[@]}"); read -r tc tcmin tcmax < <(stats "${th_c[@]}")
echo "median of $runs runs (range):"
echo "  banger library    wall $ow s ($omin-$omax), CPU $oc s ($ocmin-$ocmax)"
echo "  bangerd pull      wall $dw s ($dmin-$dmax), CPU $dc s ($dcmin-$dcmax)"
echo "  skopeo+umoci+mkfs wall $tw s ($tmin-$tmax), CPU $tc s ($tcmin-$tcmax)"
echo "  ratio of medians (baseline / bangerd pull): wall $(awk "BEGIN {printf \"%.2f\", $tw / $dw}"), CPU $(awk "BEGIN {printf \"%.2f\", $tc / $dc}")"
echo "  ratio of medians (baseline / banger library): wall $(awk "BEGIN {printf \"%.2f\", $tw / $ow}"), CPU $(awk "BEGIN {printf \"%.2f\", $tc / $oc}")"
