#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# banger system install (root): refuses unknown users, root as owner,
# non-root callers and binaries others could replace; writes a config that
# bangerd-root then serves with.
#   test-system-install.sh BANGER BANGERD_ROOT
set -u
banger=$1
helper=$2
if [ "$(id -u)" != 0 ]; then
  exec "$(dirname "$0")/../banger-test-skip.sh" "needs root (installs into a temp root, runs bangerd-root)"
fi
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
no() { n=$((n + 1)); echo "not ok $n - $1"; fails=$((fails + 1)); }
# expect NAME EXIT-CODE STDERR-SUBSTRING -- ARGS…
expect() {
  name=$1 want=$2 msg=$3
  shift 4
  err=$("$@" 2>&1 >/dev/null)
  rc=$?
  if [ "$rc" = "$want" ] && { [ -z "$msg" ] || echo "$err" | grep -q "$msg"; }; then ok "$name"; else no "$name"; echo "# rc=$rc: $err"; fi
}

conf=$tmp/etc/banger/install.conf
expect "unknown user refused" 1 "no user" -- "$banger" system install --owner no-such-user-xyz --config "$conf" --no-systemd
[ ! -e "$conf" ] && ok "nothing written for an unknown user" || no "nothing written for an unknown user"
expect "root as owner refused" 1 "must not be root" -- "$banger" system install --owner root --config "$conf" --no-systemd
expect "non-root caller refused" 1 "must run as root" -- setpriv --reuid=65534 --regid=65534 --clear-groups "$banger" system install --owner nobody --config "$tmp/other.conf" --no-systemd
cp /bin/true "$tmp/fc" && chown 65534 "$tmp/fc"
expect "binary owned by another user refused" 1 "owned by root" -- "$banger" system install --owner nobody --config "$conf" --firecracker "$tmp/fc" --no-systemd
chown 0 "$tmp/fc" && chmod 0777 "$tmp/fc"
expect "world-writable binary refused" 1 "writable only by root" -- "$banger" system install --owner nobody --config "$conf" --firecracker "$tmp/fc" --no-systemd
[ ! -e "$conf" ] && ok "nothing written for refused binaries" || no "nothing written for refused binaries"
expect "relative binary refused" 1 "absolute" -- "$banger" system install --owner nobody --config "$conf" --qemu qemu --no-systemd
expect "missing --owner is a usage error" 2 "required" -- "$banger" system install --config "$conf"

chmod 0755 "$tmp/fc"
expect "install for nobody" 0 "" -- "$banger" system install --owner nobody --config "$conf" --firecracker "$tmp/fc" --runtime-dir "$tmp/run" --state-dir "$tmp/state" --unit-dir "$tmp/units"
grep -qx 'owner-uid=65534' "$conf" && grep -qx "firecracker=$tmp/fc" "$conf" && ok "config content" || no "config content"
[ "$(stat -c '%u %a' "$conf")" = "0 644" ] && ok "config is root's, 0644" || no "config is root's, 0644"
grep -qx 'SocketUser=65534' "$tmp/units/bangerd-root.socket.d/owner.conf" && ok "socket drop-in" || no "socket drop-in"

# bangerd-root serves with it: the socket is the owner's, mode 0600.
"$helper" --config "$conf" --socket "$tmp/root.sock" 2>/dev/null &
pid=$!
i=0
while [ ! -S "$tmp/root.sock" ] && [ $i -lt 200 ]; do sleep 0.02; i=$((i + 1)); done
[ "$(stat -c '%u %a' "$tmp/root.sock" 2>/dev/null)" = "65534 600" ] && ok "bangerd-root serves for the owner" || no "bangerd-root serves for the owner"
kill "$pid"; wait "$pid" 2>/dev/null; pid=
[ ! -e "$tmp/root.sock" ] && ok "socket removed on stop" || no "socket removed on stop"

# issue 8: every install gets its own id (derived host names and markers
# carry it) and names its VM network.
grep -Eqx 'install-id=[0-9a-f]{6}' "$conf" && grep -qx 'vm-network=172.30.0.0/16' "$conf" && ok "install id and VM network written" || no "install id and VM network written"
id1=$(grep '^install-id=' "$conf")
expect "a bad --vm-network refused" 1 "vm-network" -- "$banger" system install --owner nobody --config "$tmp/c2.conf" --vm-network 127.0.0.0/8 --no-systemd
expect "a second install" 0 "" -- "$banger" system install --owner nobody --config "$tmp/c3.conf" --vm-network 10.99.0.0/16 --no-systemd
grep -qx 'vm-network=10.99.0.0/16' "$tmp/c3.conf" && [ "$(grep '^install-id=' "$tmp/c3.conf")" != "$id1" ] && ok "the second install has its own id" || no "the second install has its own id"
echo "1..$n"
[ $fails -eq 0 ]
