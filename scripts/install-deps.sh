#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Install the Debian 12 packages banger builds, tests and runs with.
# Idempotent and quiet: it does nothing when everything is present, and prints
# apt's output only when apt fails.  One package per line, with its reason.
set -eu

PACKAGES="
meson ninja-build pkg-config gcc clang
libglib2.0-dev libjson-glib-dev libsoup-3.0-dev
gobject-introspection libgirepository1.0-dev gi-docgen
python3-gi python3-yaml
check
libclang-rt-14-dev
e2fsprogs
iproute2
qemu-system-x86 openssh-client
busybox-static dropbear-bin cpio kmod
systemd
libnl-route-3-dev libnftables-dev libdevmapper-dev
nftables dmsetup
libsqlite3-dev
xfsprogs
libssh-dev
libarchive-dev libext2fs-dev comerr-dev docker-registry skopeo umoci openssl
bind9-dnsutils dnsperf
rsync
"

# shellcheck disable=SC2086
missing=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' $PACKAGES 2>/dev/null \
  | awk '$1 == "ii" { print $2 }' | sort > /tmp/banger-present.$$; \
  for p in $PACKAGES; do grep -qx "$p" /tmp/banger-present.$$ || echo "$p"; done; rm -f /tmp/banger-present.$$)

if [ -z "$missing" ]; then
  exit 0
fi

SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
log=$(mktemp)
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
if ! { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends $missing; } >"$log" 2>&1; then
  cat "$log" >&2
  rm -f "$log"
  echo "install-deps: apt-get failed (packages: $(echo $missing))" >&2
  exit 1
fi
rm -f "$log"
