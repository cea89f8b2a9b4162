/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * BangerVmmQemu: the QEMU microvm driver (doc/vmm.md, "QEMU").
 *
 *   prepare   build the argv: -M microvm, virtio-mmio disks and NICs, serial
 *             to <run_dir>/console.log, QMP on <run_dir>/qmp.sock, -S
 *   launch    spawn (stderr to <run_dir>/qemu.log), wait for the QMP socket
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
 * thread.  Snapshots are not supported (UNSUPPORTED). */
#pragma once

#include "banger-vmm.h"

G_BEGIN_DECLS

typedef enum
{
  BANGER_QEMU_ACCEL_AUTO = 0, /* tcg without /dev/kvm, else a boot probe */
  BANGER_QEMU_ACCEL_KVM,
  BANGER_QEMU_ACCEL_TCG,
} BangerQemuAccel;

/* BANGER_QEMU_ACCEL=kvm|tcg|auto in the environment overrides AUTO. */
#define BANGER_QEMU_ACCEL_ENV "BANGER_QEMU_ACCEL"
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
/* After prepare: the argv launch will run (owned by the object). */
const char *const *banger_vmm_qemu_get_argv (BangerVmmQemu *self);
/* After prepare: where the guest's serial console is written. */
const char *banger_vmm_qemu_get_console_log (BangerVmmQemu *self);

/* --- pieces, exposed for the tests --- */

/* The full argv for @config.  @accel is "kvm" or "tcg". */
GStrv banger_vmm_qemu_build_argv (const BangerVmmConfig *config, const char *binary,
                                  const char *accel, const char *qmp_socket,
                                  const char *console_log, GError **error);
/* The host's constant TSC frequency in kHz (from /proc/cpuinfo), 0 when
 * unknown.  Under TCG it is passed to the guest as tsc_early_khz=. */
guint banger_vmm_qemu_host_tsc_khz (void);
/* Escape a value for a QEMU option list (',' doubles). */
char *banger_vmm_qemu_opt_escape (const char *value);

/* Decide the accelerator.  @requested AUTO consults $BANGER_QEMU_ACCEL, then
 * @kvm_device (normally "/dev/kvm"): missing or unopenable -> tcg;
 * otherwise boot @kernel under -accel kvm for up to @probe_timeout_ms and
 * take kvm only if the kernel prints its banner on the serial port (the
 * paravirtual KVM of some hosts opens fine but hangs stock kernels). */
char *banger_qemu_choose_accel (BangerQemuAccel requested, const char *binary,
                                const char *kvm_device, const char *kernel,
                                guint probe_timeout_ms, GCancellable *cancellable,
                                GError **error);

G_END_DECLS
