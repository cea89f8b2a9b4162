#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Run every libFuzzer harness for SECONDS each, one after the other, and print
# a table of exec counts (the figures doc/fuzzing.md records).
#
#   fuzz/run-all.sh SECONDS [BUILD_DIR] [HARNESS…]
#
# BUILD_DIR defaults to build-fuzz (see doc/fuzzing.md for its setup).  The
# seed corpora in fuzz/corpus/<harness>/ are read, never written: what the
# fuzzer finds goes to BUILD_DIR/fuzz-corpus/<harness>/, crashes to
# BUILD_DIR/fuzz-artifacts/.  Exits 1 if any harness crashed.
set -eu

if [ $# -lt 1 ]; then
  echo "usage: $0 SECONDS [BUILD_DIR] [HARNESS…]" >&2
  exit 2
fi
seconds=$1
shift
srcdir=$(cd "$(dirname "$0")" && pwd)
build=${1:-build-fuzz}
[ $# -gt 0 ] && shift
build=$(cd "$build" && pwd)

if [ $# -gt 0 ]; then
  harnesses="$*"
else
  harnesses=$(ls "$srcdir/corpus")
fi

mkdir -p "$build/fuzz-artifacts"
status=0
summary=""
for h in $harnesses; do
  exe="$build/fuzz/$h"
  if [ ! -x "$exe" ]; then
    echo "run-all: $exe is not built" >&2
    exit 2
  fi
  mkdir -p "$build/fuzz-corpus/$h"
  log="$build/fuzz-artifacts/$h.log"
  echo "== $h: ${seconds}s" >&2
  if "$exe" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=1024 \
      -artifact_prefix="$build/fuzz-artifacts/$h-" \
      "$build/fuzz-corpus/$h" "$srcdir/corpus/$h" >"$log" 2>&1; then
    result=ok
  else
    result=CRASH
    status=1
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
  summary="$summary$(printf '%-28s %-6s %12s execs  cov %s' "$h" "$result" "${execs:-?}" "${cov:-?}")
"
done
printf '%s' "$summary"
exit $status
