#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# A suite that cannot run here:  banger-test-skip.sh WHY
# TAP "1..0 # SKIP WHY" and exit 0; under CI (CI=true) or with
# BANGER_TEST_REQUIRE set, one failed test point and exit 1 instead (see
# README, "Tests").  Used by the shell suites and for suites meson
# configured out because a program is missing.
why=${1:-no reason given}
fail=
case "${CI:-}" in true|1) fail=1 ;; esac
[ -n "${BANGER_TEST_REQUIRE:-}" ] && fail=1
if [ -n "$fail" ]; then
  echo "1..1"
  echo "not ok 1 - not run: $why (CI=true or BANGER_TEST_REQUIRE set: a skip is a failure)"
  exit 1
fi
echo "1..0 # SKIP $why"
exit 0
