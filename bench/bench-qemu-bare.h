/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The bare-QEMU side of the QEMU benchmarks: the test guest booted by a
 * hand-written `ip netns exec NS qemu-system-x86_64 -M microvm …` (no
 * driver, no QMP unless @paused) on the kit's tap, then the kit's wait for
 * SSH (banner probed every 20 ms, then one real `ssh … true`).  Root. */
#pragma once

#include <glib.h>

#include "banger-guest-kit.h"

G_BEGIN_DECLS

/* One boot.  Before the clock starts: a sparse copy of the guest's rootfs
 * in a scratch dir and a fresh key injected into it (@out_prep_s,
 * nullable: how long that took).  @paused: start with -S and a QMP socket,
 * then qmp_capabilities + cont by hand (BangerQmp, no driver), which
 * isolates what starting paused costs.  @out_s: spawn to the first
 * successful `ssh … true`; @out_banner_s: spawn to the SSH banner.  The
 * QEMU is killed (TERM) and the scratch dir removed after. */
gboolean bench_qemu_bare_run (const char *guest, BangerKitNetns *ns, gboolean paused,
                              double *out_prep_s, double *out_s, double *out_banner_s,
                              GError **error);

G_END_DECLS
