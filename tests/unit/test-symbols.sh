#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The exported symbols of libbanger-1.so must be exactly those the linker map
# lists: nothing private leaks, nothing public goes missing.
set -eu
lib="$1"
map="$2"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nm -D --defined-only "$lib" | awk '$2 != "A" { sub(/@.*/, "", $3); print $3 }' | sort -u > "$tmp/exported"
sed -n '/global:/,/local:/p' "$map" | grep -E '^[[:space:]]+[a-z_0-9]+;' | tr -d ' ;\t' | sort -u > "$tmp/map"
if ! diff -u "$tmp/map" "$tmp/exported"; then
  echo "not ok 1 - exports differ from libbanger.map (- map, + library)"
  echo "1..1"
  exit 1
fi
n=$(wc -l < "$tmp/map")
echo "ok 1 - $n exported symbols match libbanger.map"
# every exported symbol is banger_*
if grep -v '^banger_' "$tmp/exported"; then
  echo "not ok 2 - symbols without the banger_ prefix are exported"
  echo "1..2"
  exit 1
fi
echo "ok 2 - every export has the banger_ prefix"
echo "1..2"
