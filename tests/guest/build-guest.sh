#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Build the test guest from Debian packages only (see doc/guest.md):
#   vmlinuz      Debian's cloud kernel (linux-image-cloud-amd64, resolved to
#                its exact versioned package)
#   initrd.img   busybox + the virtio modules in dependency order; mounts
#                /dev/vda and switches root to it
#   rootfs.ext4  busybox + dropbear; its init applies ip= from /proc/cmdline
#                and starts dropbear for root with /root/.ssh/authorized_keys
#                (empty here: banger injects the key into its copy)
#
# Usage: build-guest.sh [CACHE_DIR]
# Prints the directory holding the three files.  Outputs are cached under
# CACHE_DIR/<key>/, where key hashes the package versions, the dropbear
# libraries and the build files; nothing is rebuilt while the key matches.
# Nothing is installed: packages are fetched with `apt-get download` and
# unpacked with `dpkg-deb -x`.  Needs apt, dpkg, kmod (modinfo), cpio, gzip,
# e2fsprogs (mkfs.ext4).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cache=${1:-"$here/cache"}
mkdir -p "$cache/debs"
cache=$(cd "$cache" && pwd)

# One build at a time per cache (the e2e test, the benchmark and the demo may
# start together); the second waits, then finds the first one's result.
exec 9>"$cache/.lock"
flock 9

die() { echo "build-guest: $*" >&2; exit 1; }
log() { [ -n "${BANGER_GUEST_QUIET:-}" ] || echo "build-guest: $*" >&2; }

for tool in apt-cache apt-get dpkg-deb modinfo cpio gzip mkfs.ext4 sha256sum ldd flock; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' is missing (scripts/install-deps.sh installs it)"
done

candidate() {
  apt-cache policy "$1" | awk '$1 == "Candidate:" { print $2; exit }'
}

# The meta package names the kernel of the day; download that exact package,
# never a glob (a glob fetches every version there is).
resolve_kernel() {
  apt-cache depends linux-image-cloud-amd64 2>/dev/null \
    | awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}
kpkg=$(resolve_kernel)
if [ -z "$kpkg" ] && [ "$(id -u)" = 0 ]; then
  # a machine whose package lists were cleaned (container images often are)
  log "no package lists: apt-get update"
  apt-get update -qq >/dev/null 2>&1 || true
  kpkg=$(resolve_kernel)
fi
[ -n "$kpkg" ] || die "cannot resolve linux-image-cloud-amd64 (run apt-get update)"

fetch() { # fetch PKG -> prints the unpacked tree
  pkg=$1
  ver=$(candidate "$pkg")
  [ -n "$ver" ] && [ "$ver" != "(none)" ] || die "no candidate version for '$pkg'"
  safe_ver=$(printf '%s' "$ver" | tr ':~' '__')
  dir="$cache/debs/$pkg/$safe_ver"
  if [ ! -f "$dir/.unpacked" ]; then
    rm -rf "$dir"
    mkdir -p "$dir/dl"
    log "downloading $pkg=$ver"
    # a mirror's transient failure is retried twice (a partial .deb is
    # removed first); a third failure is final and says why
    tries=0
    until (cd "$dir/dl" && rm -f ./*.deb ./partial/* 2>/dev/null;
           apt-get download -q "$pkg=$ver" >/dev/null 2>"$dir/apt.log"); do
      tries=$((tries + 1))
      if [ "$tries" -ge 3 ]; then
        cat "$dir/apt.log" >&2
        die "apt-get download $pkg=$ver failed $tries times"
      fi
      log "apt-get download $pkg=$ver failed, retrying ($(tail -1 "$dir/apt.log"))"
      sleep $((tries * 3))
    done
    set -- "$dir"/dl/*.deb
    [ "$#" -eq 1 ] && [ -f "$1" ] || die "expected one .deb for $pkg in $dir/dl"
    dpkg-deb -x "$1" "$dir/tree"
    rm -f "$1"
    printf '%s=%s\n' "$pkg" "$ver" >"$dir/.unpacked"
    # older versions of this package are not needed any more
    for old in "$cache/debs/$pkg"/*; do
      [ "$old" = "$dir" ] || rm -rf "$old"
    done
  fi
  printf '%s\n' "$dir"
}

kdir=$(fetch "$kpkg")
# a kernel ABI bump renames the package: drop the previous one
for old in "$cache"/debs/linux-image-*; do
  [ "$old" = "$cache/debs/$kpkg" ] || rm -rf "$old"
done
bbdir=$(fetch busybox-static)
dbdir=$(fetch dropbear-bin)
# OpenSSH's sftp-server (libc only) at the path dropbear execs for the
# "sftp" subsystem: banger's workspace sync speaks SFTP (doc/workspace.md).
sfdir=$(fetch openssh-sftp-server)
# rsync, so bench/workspace-push.sh compares banger's push with rsync over
# SSH to the same guest (doc/benchmarks.md).
rsdir=$(fetch rsync)

busybox="$bbdir/tree/bin/busybox"
dropbear="$dbdir/tree/usr/sbin/dropbear"
dropbearkey="$dbdir/tree/usr/bin/dropbearkey"
sftpserver="$sfdir/tree/usr/lib/openssh/sftp-server"
rsync="$rsdir/tree/usr/bin/rsync"
[ -x "$busybox" ] && [ -x "$dropbear" ] && [ -x "$dropbearkey" ] && [ -x "$sftpserver" ] \
  && [ -x "$rsync" ] \
  || die "unexpected package layout"

krel=$(ls "$kdir/tree/lib/modules")
[ -n "$krel" ] && [ -f "$kdir/tree/boot/vmlinuz-$krel" ] || die "no kernel in $kpkg"

# dropbear is dynamically linked: the libraries ldd names (resolved on this
# host, which is the same Debian release) go into the rootfs.
libs=$( { ldd "$dropbear"; ldd "$sftpserver"; ldd "$rsync"; } | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u)
[ -n "$libs" ] || die "ldd found no libraries for dropbear"

# ------------------------------------------------------------ cache key
key=$( {
  cat "$kdir/.unpacked" "$bbdir/.unpacked" "$dbdir/.unpacked" "$sfdir/.unpacked" \
    "$rsdir/.unpacked"
  for l in $libs; do printf '%s ' "$l"; sha256sum <"$(readlink -f "$l")"; done
  cat "$here/build-guest.sh" "$here/initrd-init" "$here/rootfs-rc"
} | sha256sum | cut -c1-16)
out="$cache/$key"
if [ -f "$out/.done" ]; then
  printf '%s\n' "$out"
  exit 0
fi

log "building guest $key (kernel $krel)"
rm -rf "$out" "$out.tmp"
mkdir -p "$out.tmp"
work="$out.tmp"

# ------------------------------------------------------------- modules
# Close the wanted set over `modinfo -F depends` and order it so every module
# comes after what it depends on.  Built-in modules need nothing.
moddir="$kdir/tree/lib/modules/$krel"
modpath() { find "$moddir/kernel" -name "$1.ko" | head -n 1; }
is_builtin() { grep -q "/$1.ko\$" "$moddir/modules.builtin"; }
order=""
visit() {
  local m p d
  m=$(printf '%s' "$1" | tr '-' '_')
  case " $order " in *" $m "*) return 0 ;; esac
  if is_builtin "$m"; then return 0; fi
  p=$(modpath "$m")
  [ -n "$p" ] || p=$(modpath "$(printf '%s' "$m" | tr '_' '-')")
  [ -n "$p" ] || die "module $m not found in $krel"
  for d in $(modinfo -F depends "$p" | tr ',' ' '); do visit "$d"; done
  order="$order $m"
}
# virtio transport, disk and net; evdev + button for the ACPI power button
# that `system_powerdown` presses.
for m in virtio_mmio virtio_blk virtio_net virtio_balloon evdev button; do visit "$m"; done
log "module order:$order"

initrd="$work/initrd"
mkdir -p "$initrd/bin" "$initrd/dev" "$initrd/proc" "$initrd/sys" "$initrd/newroot" "$initrd/lib/modules"
cp "$busybox" "$initrd/bin/busybox"
ln -s busybox "$initrd/bin/sh"
for m in $order; do
  p=$(modpath "$m")
  [ -n "$p" ] || p=$(modpath "$(printf '%s' "$m" | tr '_' '-')")
  cp "$p" "$initrd/lib/modules/$m.ko"
  printf '%s\n' "$m" >>"$initrd/lib/modules/order"
done
cp "$here/initrd-init" "$initrd/init"
chmod 0755 "$initrd/init"
(cd "$initrd" && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) | gzip -6 >"$work/initrd.img"

# -------------------------------------------------------------- rootfs
root="$work/root"
mkdir -p "$root/bin" "$root/sbin" "$root/usr/sbin" "$root/etc/dropbear" "$root/root/.ssh" \
  "$root/dev" "$root/proc" "$root/sys" "$root/tmp" "$root/run" "$root/mnt/work" "$root/var/log"
chmod 0700 "$root/root" "$root/root/.ssh"
chmod 1777 "$root/tmp"
: >"$root/root/.ssh/authorized_keys"
chmod 0600 "$root/root/.ssh/authorized_keys"
cp "$busybox" "$root/bin/busybox"
for a in $("$busybox" --list); do
  [ "$a" = busybox ] || ln -s /bin/busybox "$root/bin/$a"
done
cp "$dropbear" "$root/usr/sbin/dropbear"
mkdir -p "$root/usr/lib"
cp "$sftpserver" "$root/usr/lib/sftp-server"
mkdir -p "$root/usr/bin"
cp "$rsync" "$root/usr/bin/rsync"
for l in $libs; do
  mkdir -p "$root$(dirname "$l")"
  cp -L "$l" "$root$l"
done
ln -s /bin/busybox "$root/sbin/init"
cp "$here/rootfs-rc" "$root/etc/rc.banger"
chmod 0755 "$root/etc/rc.banger"
# busybox init: rc.banger at boot; poweroff on Ctrl-Alt-Del (Firecracker's
# SendCtrlAltDel) and from the power-button watcher (QEMU system_powerdown).
cat >"$root/etc/inittab" <<'EOF'
::sysinit:/etc/rc.banger
::ctrlaltdel:/bin/poweroff
::shutdown:/bin/umount -a -r
EOF
cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
EOF
printf 'root:*:19000:0:99999:7:::\n' >"$root/etc/shadow"
chmod 0600 "$root/etc/shadow"
printf '/bin/sh\n' >"$root/etc/shells"
printf 'banger-test-guest\n' >"$root/etc/hostname"
printf '%s\n' "$krel" >"$root/etc/banger-kernel-release"
# A host key made at build time: generating one at boot costs seconds under
# TCG.  Every copy of this test guest shares it (clients use
# StrictHostKeyChecking=no against it).
"$dropbearkey" -t ed25519 -f "$root/etc/dropbear/dropbear_ed25519_host_key" >/dev/null 2>&1
mkfs.ext4 -q -F -L banger-root -E root_owner=0:0 -d "$root" "$work/rootfs.ext4" 64M >/dev/null

cp "$kdir/tree/boot/vmlinuz-$krel" "$work/vmlinuz"
printf '%s\n' "$krel" >"$work/kernel-release"
rm -rf "$initrd" "$root"
touch "$work/.done"
mv "$work" "$out"
# Earlier builds (other keys) and leftovers of interrupted ones: we hold the
# lock, and a VM already running from an old kernel keeps its open files.
for old in "$cache"/????????????????; do
  [ -d "$old" ] && [ "$old" != "$out" ] && rm -rf "$old"
done
rm -rf "$cache"/*.tmp
log "guest ready in $out"
printf '%s\n' "$out"
