#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The three executables start, answer --help and --version, and a command
# that isn't built says so and exits 2.
set -u
banger="$1"; bangerd="$2"; root="$3"
n=0; failed=0
t() { # t DESCRIPTION EXPECTED-EXIT CMD...
  desc="$1"; want="$2"; shift 2
  n=$((n + 1))
  out=$("$@" 2>&1); rc=$?
  if [ "$rc" = "$want" ]; then echo "ok $n - $desc"; else echo "not ok $n - $desc (exit $rc, wanted $want): $out"; failed=1; fi
  LAST="$out"
}
contains() { n=$((n + 1)); case "$LAST" in *"$1"*) echo "ok $n - output has '$1'";; *) echo "not ok $n - output lacks '$1'"; echo "$LAST" | sed "s|^|# |"; failed=1;; esac; }
t "banger --version" 0 "$banger" --version; contains "banger 0.1.0"
t "banger --help" 0 "$banger" --help; contains "doctor"
t "banger vm --help" 0 "$banger" vm --help; contains "create"
t "banger without a command" 2 "$banger"
t "banger unknown command" 2 "$banger" frobnicate; contains "unknown command 'frobnicate'"
t "banger unknown option" 2 "$banger" --frob
t "banger vm unknown" 2 "$banger" vm frob
t "banger vm create not built" 2 "$banger" vm create x; contains "not built"
t "banger --json vm create not built" 2 "$banger" --json vm create x; contains '"code":"unsupported"'
t "banger doctor --help" 0 "$banger" doctor --help
t "banger doctor extra argument" 2 "$banger" doctor extra
"$banger" --json doctor > /dev/null 2>&1; rc=$?
n=$((n + 1)); if [ $rc -le 1 ]; then echo "ok $n - banger --json doctor runs"; else echo "not ok $n - doctor exit $rc"; failed=1; fi
out=$("$banger" --json doctor 2>/dev/null)
LAST="$out"; contains '"checks"'; contains '"name" : "kvm"'
t "bangerd --version" 0 "$bangerd" --version; contains "bangerd 0.1.0"
t "bangerd --help" 0 "$bangerd" --help
t "bangerd bad option" 2 "$bangerd" --frob
t "bangerd-root --version" 0 "$root" --version; contains "bangerd-root 0.1.0"
t "bangerd-root --help" 0 "$root" --help
echo "1..$n"
exit $failed
