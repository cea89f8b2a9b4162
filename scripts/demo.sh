#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The README's first command: install what is needed, build, check the host
# (`banger doctor`), then boot a VM and run a command in it: banger-demo
# builds the test guest from Debian packages (tests/guest, cached after the
# first run), starts bangerd-root in a throwaway network namespace and boots
# the guest with the QEMU microvm driver through it (priv.launch_vmm), runs `uname -a` over SSH, prints the output, stops the VM and
# removes everything it made.  Booting needs root (namespace, tap).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
./scripts/install-deps.sh
if [ -f build/build.ninja ]; then meson setup --reconfigure build >/dev/null; else meson setup build >/dev/null; fi
ninja -C build >/dev/null
./build/tools/banger/banger doctor
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
$SUDO ./build/tools/banger-demo/banger-demo "uname -a"
