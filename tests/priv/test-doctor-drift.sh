#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# banger doctor's unit drift check, against the units this build ships.
#   test-doctor-drift.sh BANGER SHIPPED_UNIT_DIR
set -u
banger=$1
shipped=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export BANGER_SHIPPED_UNIT_DIR="$shipped" BANGER_SYSTEMD_UNIT_PATH="$tmp/etc:$tmp/lib"
# No KVM boot probe here (test-cli covers it): no device, a private cache.
export BANGER_KVM_DEVICE="$tmp/no-kvm" BANGER_KVM_CACHE_DIR="$tmp/cache"
# Only the programs a launch needs, as stand-ins: the verdict is exact.
mkdir -p "$tmp/etc" "$tmp/lib" "$tmp/bin"
printf '#!/bin/sh\nexit 0\n' > "$tmp/bin/qemu-system-x86_64"
cp "$tmp/bin/qemu-system-x86_64" "$tmp/bin/mkfs.ext4"
chmod +x "$tmp/bin/qemu-system-x86_64" "$tmp/bin/mkfs.ext4"
bin="$tmp/bin"
n=0
fails=0
line() { PATH="$bin" "$banger" doctor 2>/dev/null | grep "^[a-z]* *$1 "; }
t() { # NAME CHECK EXPECTED-STATUS EXPECTED-SUBSTRING
  n=$((n + 1))
  got=$(line "$2")
  case "$got" in
    "$3 "*"$4"*) echo "ok $n - $1" ;;
    *) echo "not ok $n - $1"; echo "# got: $got"; fails=$((fails + 1)) ;;
  esac
}

t "not installed" helper-unit ok "is not installed"
cp "$shipped/bangerd-root.service" "$tmp/lib/"
cp "$shipped/bangerd-root.socket" "$tmp/lib/"
t "identical copy" helper-unit ok "matches the shipped unit"
t "identical socket" helper-socket ok "matches the shipped unit"
# A hardening line removed in a higher-precedence copy
grep -v '^NoNewPrivileges=' "$shipped/bangerd-root.service" > "$tmp/etc/bangerd-root.service"
t "hardening removed in /etc" helper-unit warn "differs from the shipped"
rm "$tmp/etc/bangerd-root.service"
mkdir -p "$tmp/etc/bangerd-root.service.d"
printf '[Service]\nCapabilityBoundingSet=~\n' > "$tmp/etc/bangerd-root.service.d/override.conf"
t "drop-in overrides" helper-unit warn "drop-ins override"
# The owner drop-in 'banger system install' writes for the socket is expected.
mkdir -p "$tmp/etc/bangerd-root.socket.d"
printf '[Socket]\nSocketUser=alice\n' > "$tmp/etc/bangerd-root.socket.d/owner.conf"
t "socket owner drop-in is expected" helper-socket ok "matches the shipped unit"
BANGER_SHIPPED_UNIT_DIR="$tmp/nowhere" t "shipped copy missing" helper-socket warn "cannot check for drift"
# Drift is a warning about hardening, not a part a launch needs: with the
# drop-in above still in place, VMs can run and doctor exits 0.
n=$((n + 1))
out=$(PATH="$bin" "$banger" doctor 2>&1); rc=$?
case "$rc:$out" in
  "0:"*"warn  helper-unit"*"VMs can run on this host.") echo "ok $n - drift warns, VMs can still run (exit 0)" ;;
  *) echo "not ok $n - drift changed the verdict (exit $rc)"; echo "$out" | sed 's/^/# /'; fails=$((fails + 1)) ;;
esac
echo "1..$n"
[ $fails -eq 0 ]
