#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Image pull to a ready ext4, against the usual pipeline, in the same run:
#   banger:   bench-image-pull  (pull into the content store, unpack, mkfs.ext4 -d + ownership)
#   baseline: skopeo copy docker:// → oci:  +  umoci unpack  +  mkfs.ext4 -d
# from a docker-registry on loopback in a private network namespace, with an
# image of about 200 MB (3 layers: /usr/include, /usr/lib/python3, a small
# layer with a whiteout) made here as an OCI layout and pushed with skopeo.
#
#   sudo bench/image-pull.sh [BUILD_DIR] [RUNS]          (figures: doc/images.md)
set -eu
if [ "${BANGER_BENCH_NETNS:-}" != 1 ]; then
  exec unshare -n env BANGER_BENCH_NETNS=1 "$0" "$@"
fi
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
runs=${2:-3}
driver="$build/tests/image/bench-image-pull"
[ -x "$driver" ] || { echo "build $driver first (ninja -C build)" >&2; exit 1; }
for tool in docker-registry skopeo umoci mkfs.ext4 ip; do
  command -v "$tool" >/dev/null || { echo "$tool is missing (scripts/install-deps.sh)" >&2; exit 1; }
done
ip link set lo up

work=$(mktemp -d /var/tmp/banger-bench-image-XXXXXX)
reg_pid=
cleanup() { [ -n "$reg_pid" ] && kill "$reg_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
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
add_layer -C "$work/l3" etc usr
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
for run in $(seq "$runs"); do
  rm -rf "$work/run"; mkdir -p "$work/run/w"
  read -r ours ours_cpu < <(timed "$driver" "$ref" "$work/run/store" "$work/run/w" "$work/run/ours.ext4" 127.0.0.1:5000)
  out=$(cat "$work/out")
  img_size=$(stat -c %s "$work/run/ours.ext4")

  rm -rf "$work/run"; mkdir -p "$work/run"
  # the same job: registry -> blobs on disk -> tree -> ext4 of the same size; the tree removed
  read -r theirs theirs_cpu < <(timed bash -c '
    set -e
    skopeo copy -q --src-tls-verify=false "docker://$1" "oci:$2/oci:v1"
    umoci unpack --image "$2/oci:v1" "$2/bundle" >/dev/null
    truncate -s "$3" "$2/theirs.ext4"
    mkfs.ext4 -q -F -d "$2/bundle/rootfs" "$2/theirs.ext4"
    rm -rf "$2/bundle"' _ "$ref" "$work/run" "$img_size")
  echo "run $run: banger ${ours} s wall, ${ours_cpu} s CPU ($out)"
  echo "run $run: skopeo+umoci+mkfs ${theirs} s wall, ${theirs_cpu} s CPU"
  echo "run $run: ratio (baseline / banger): wall $(awk "BEGIN {printf \"%.2f\", $theirs / $ours}"), CPU $(awk "BEGIN {printf \"%.2f\", $theirs_cpu / $ours_cpu}")"
done
