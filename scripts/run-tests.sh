#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The README's test command: install what is needed, build (with the API
# reference), run every suite (unit, integration, python, e2e), then the unit
# suite again under ASan+UBSan, and end with one line "N passed, N failed"
# (the skip count on the line above it).
# Run as root for the integration and e2e suites (CI does).  A skipped test
# fails the command; with CI=true (or BANGER_TEST_REQUIRE=root) a suite that
# cannot run here (not root, a program or module missing) fails by itself
# instead of skipping, and is counted as failed.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

"$top/scripts/install-deps.sh" || exit 1

status=0
setup() { # setup DIR ARGS...
  dir="$1"; shift
  if [ -f "$dir/build.ninja" ]; then
    meson setup --reconfigure "$dir" "$@" >"$dir.setup.log" 2>&1
  else
    meson setup "$dir" "$@" >"$dir.setup.log" 2>&1
  fi || { cat "$dir.setup.log" >&2; echo "meson setup $dir failed" >&2; return 1; }
}

# 1. The normal build, every suite.
setup build -Ddocs=true && ninja -C build >build.ninja.log 2>&1 \
  || { tail -50 build.ninja.log >&2; echo "build failed" >&2; echo "0 passed, 1 failed"; exit 1; }
meson test -C build --no-rebuild --print-errorlogs --num-processes 2 || status=1

# 2. Sanitizers (ASan + UBSan) on the unit suite.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export LSAN_OPTIONS=suppressions="$top/tests/lsan.supp":print_suppressions=0
setup build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dintrospection=disabled \
  && ninja -C build-asan >build-asan.ninja.log 2>&1 \
  || { tail -50 build-asan.ninja.log >&2; echo "sanitizer build failed" >&2; status=1; }
if [ -f build-asan/build.ninja ]; then
  meson test -C build-asan --no-rebuild --print-errorlogs --suite unit --num-processes 2 || status=1
fi

# 3. The libFuzzer harnesses build (clang) and replay their seed corpora.
#    Real fuzzing runs for minutes per harness: fuzz/run-all.sh (doc/fuzzing.md).
unset ASAN_OPTIONS
(CC=clang; export CC; setup build-fuzz -Dfuzzing=true -Db_sanitize=address -Db_lundef=false \
  -Dintrospection=disabled -Dtests=false) \
  && ninja -C build-fuzz >build-fuzz.ninja.log 2>&1 \
  || { tail -50 build-fuzz.ninja.log >&2; echo "fuzzing build failed" >&2; status=1; }
if [ -f build-fuzz/build.ninja ]; then
  meson test -C build-fuzz --no-rebuild --print-errorlogs --suite fuzzing --num-processes 2 || status=1
fi

# 4. One summary over all runs: each meson test counts once.
/usr/bin/python3 "$top/scripts/test-summary.py" build/meson-logs/testlog.json \
  build-asan/meson-logs/testlog.json build-fuzz/meson-logs/testlog.json || status=1
exit $status
