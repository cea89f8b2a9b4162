#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# `meson install --destdir` installs the .so (with its soname), the headers,
# the .pc, the .gir and the .typelib; a consumer builds against them with
# pkg-config alone.
set -u
builddir="$1"
srcdir="$2"
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
n=0; failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
bad() { n=$((n + 1)); echo "not ok $n - $1"; failed=1; }

if meson install -C "$builddir" --destdir "$dest" --no-rebuild --quiet >"$dest.log" 2>&1; then
  ok "meson install --destdir"
else
  bad "meson install --destdir"; sed 's/^/# /' "$dest.log"; echo "1..$n"; exit 1
fi
rm -f "$dest.log"

prefix=$(meson introspect "$builddir" --buildoptions | /usr/bin/python3 -c 'import json,sys; o={x["name"]:x["value"] for x in json.load(sys.stdin)}; print(o["prefix"]); print(o["libdir"]); print(o["includedir"])')
pfx=$(echo "$prefix" | sed -n 1p); libdir=$(echo "$prefix" | sed -n 2p); incdir=$(echo "$prefix" | sed -n 3p)
case "$libdir" in /*) ;; *) libdir="$pfx/$libdir";; esac
case "$incdir" in /*) ;; *) incdir="$pfx/$incdir";; esac
root="$dest"

so=$(ls "$root$libdir"/libbanger-1.so.0.* 2>/dev/null | head -1)
[ -n "$so" ] && ok "shared library installed" || bad "shared library installed"
[ -L "$root$libdir/libbanger-1.so.0" ] && ok "soname link libbanger-1.so.0" || bad "soname link"
[ -L "$root$libdir/libbanger-1.so" ] && ok "development link libbanger-1.so" || bad "development link"
if [ -n "$so" ] && objdump -p "$so" | grep -q 'SONAME *libbanger-1.so.0'; then ok "SONAME is libbanger-1.so.0"; else bad "SONAME"; fi
[ -f "$root$incdir/libbanger-1/banger.h" ] && ok "umbrella header installed" || bad "umbrella header"
[ -f "$root$libdir/pkgconfig/libbanger-1.pc" ] && ok "libbanger-1.pc installed" || bad ".pc"
[ -n "$(find "$root" -name Banger-1.0.gir)" ] && ok "Banger-1.0.gir installed" || bad ".gir (introspection disabled?)"
[ -n "$(find "$root" -name Banger-1.0.typelib)" ] && ok "Banger-1.0.typelib installed" || bad ".typelib"

# Build a consumer against the installed tree with pkg-config only.
# (only our .pc is relocated into the destdir; glib's stay where they are)
mkdir -p "$dest/pc"
sed "s|^prefix=.*|prefix=$root$pfx|" "$root$libdir/pkgconfig/libbanger-1.pc" > "$dest/pc/libbanger-1.pc"
export PKG_CONFIG_PATH="$dest/pc"
pc="pkg-config"
if cc -o "$dest/consumer" "$srcdir/tests/unit/test-umbrella.c" $($pc --cflags --libs libbanger-1) \
     >"$dest/cc.log" 2>&1 && LD_LIBRARY_PATH="$root$libdir" "$dest/consumer" >/dev/null; then
  ok "consumer builds and runs with pkg-config --cflags --libs libbanger-1"
else
  bad "consumer build"; sed 's/^/# /' "$dest/cc.log"
fi
echo "1..$n"
exit $failed
