/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * BangerVmmQemu: the QEMU microvm driver (doc/vmm.md, "QEMU").
 *
 *   prepare   choose the paths (serial to <run_dir>/console.log, QMP on
 *             <run_dir>/qmp.sock, log <run_dir>/vmm.log) and check the
 *             command line builds (launch/banger-qemu-cmdline.c)
 *   launch    hand a launch request to the launcher (direct, or bangerd-root
 *             whose run dir then holds socket, console and log), wait for
 *             the QMP socket
 *             (bounded; a process that dies first is reported with its
 *             log), qmp_capabilities, query-status
 *   configure nothing to send (the argv did it)
 *   start     cont          pause  stop          resume  cont
 *   stop      the shared ladder (banger-vmm-stop-ladder.h) with
 *             system_powerdown as the polite request (`quit` for a guest
 *             that never ran), then TERM, then KILL through the pidfd
 *   stats     /proc/<pid>/stat and /proc/<pid>/status; block bytes from
 *             query-blockstats (best effort)
 * Everything runs on the caller's thread-default main context (QMP is
 * asynchronous, banger-qmp.h); only the KVM boot probe runs in a worker
 * thread.
 *   snapshot_create  (running or paused) stop if running, getfd (the file,
 *             passed over QMP), migrate fd:<name>, query-migrate until
 *             completed, fsync, cont if it was running.  Full only.
 *   snapshot_load    into a process launched with set_incoming (-incoming
 *             defer, with the new tap as fd 3): getfd, migrate-incoming,
 *             query-migrate until completed, cont when asked.
 * One stream (devices + memory) goes to the snapshot path; the memory path
 * is not used.  Disks are the caller's (doc/vmm.md, "QEMU snapshots"). */
#pragma once

#include "banger-kvm-probe.h"
#include "banger-qemu-cmdline.h"
#include "banger-vmm.h"

G_BEGIN_DECLS

/* BangerQemuAccel: public, in banger-vmm.h. */
/* BANGER_QEMU_ACCEL=kvm|tcg|auto in the environment overrides AUTO. */
#define BANGER_QEMU_ACCEL_ENV BANGER_KVM_ACCEL_ENV
/* BANGER_QEMU=/path/to/qemu-system-x86_64 overrides the binary. */
#define BANGER_QEMU_BINARY_ENV "BANGER_QEMU"

#define BANGER_TYPE_VMM_QEMU (banger_vmm_qemu_get_type ())
G_DECLARE_FINAL_TYPE (BangerVmmQemu, banger_vmm_qemu, BANGER, VMM_QEMU, BangerVmm)

/* Takes ownership of @config. */
BangerVmm *banger_vmm_qemu_new (BangerVmmConfig *config);

/* The emulator (default: $BANGER_QEMU, else qemu-system-x86_64 from PATH). */
void banger_vmm_qemu_set_binary (BangerVmmQemu *self, const char *path);
void banger_vmm_qemu_set_accel (BangerVmmQemu *self, BangerQemuAccel accel);
/* The accelerator launch used ("kvm" or "tcg"); NULL before launch. */
const char *banger_vmm_qemu_get_accel_used (BangerVmmQemu *self);
/* Bound on the wait for the QMP socket at launch (default 10000 ms). */
void banger_vmm_qemu_set_launch_timeout (BangerVmmQemu *self, guint timeout_ms);
/* After prepare: the argv the direct launcher runs (owned by the object;
 * through bangerd-root the helper builds the same from its own run dir). */
const char *const *banger_vmm_qemu_get_argv (BangerVmmQemu *self);
/* After prepare: where the guest's serial console is written. */
const char *banger_vmm_qemu_get_console_log (BangerVmmQemu *self);

/* Launch with -incoming defer, for snapshot_load (before launch). */
void banger_vmm_qemu_set_incoming (BangerVmmQemu *self, gboolean incoming);

/* After launch: the QMP connection (borrowed; NULL before launch), for
 * commands the driver has no call of its own for (balloon). */
struct _BangerQmp *banger_vmm_qemu_get_qmp (BangerVmmQemu *self);

/* --- pieces, exposed for the tests --- */

/* The command line (banger_qemu_cmdline_build), the tsc_early_khz probe and
 * option escaping are in launch/banger-qemu-cmdline.h. */

G_END_DECLS
