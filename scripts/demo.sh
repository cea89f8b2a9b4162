#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The README's first command: install what is needed, build, and run the main
# job on this machine.  Today the main job is `banger doctor`; the lifecycle
# work turns it into booting a VM and running a command in it.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
./scripts/install-deps.sh
if [ -f build/build.ninja ]; then meson setup --reconfigure build >/dev/null; else meson setup build >/dev/null; fi
ninja -C build >/dev/null
./build/tools/banger/banger doctor
