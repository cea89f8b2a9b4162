/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * BangerVmm, public (0.2): one VMM process and the guest in it, driven by
 * one of two drivers (Firecracker over its HTTP API, QEMU microvm over QMP).
 * doc/vmm.md and doc/embedding.md.
 *
 * Inside the library (BANGER_COMPILATION) this header also brings the
 * driver interface and the private calls (banger-vmm-private.h), so every
 * `#include "banger-vmm.h"` of the library, its tools and tests keeps
 * seeing what it saw before this header became public. */
#pragma once

#if !defined(__BANGER_H_INSIDE__) && !defined(BANGER_COMPILATION)
#error "Only <banger.h> can be included directly."
#endif

#include <gio/gio.h>

#include <banger-macros.h>
#include <banger-machine-config.h>
#include <banger-machine-stats.h>

G_BEGIN_DECLS

/**
 * BangerVmmState:
 * @BANGER_VMM_STATE_NEW: made, nothing prepared.
 * @BANGER_VMM_STATE_PREPARED: paths chosen and the command line checked;
 *   no process yet.
 * @BANGER_VMM_STATE_LAUNCHED: the process runs and its API answers; the
 *   guest has not been configured.
 * @BANGER_VMM_STATE_CONFIGURED: the pre-boot configuration was sent.
 * @BANGER_VMM_STATE_RUNNING: the guest runs.
 * @BANGER_VMM_STATE_PAUSED: the guest's vCPUs are paused.
 * @BANGER_VMM_STATE_EXITED: the process is gone.
 *
 * Where a #BangerVmm is in its life.
 *
 * Since: 0.2
 */
typedef enum
{
  BANGER_VMM_STATE_NEW = 0,
  BANGER_VMM_STATE_PREPARED = 1,
  BANGER_VMM_STATE_LAUNCHED = 2,
  BANGER_VMM_STATE_CONFIGURED = 3,
  BANGER_VMM_STATE_RUNNING = 4,
  BANGER_VMM_STATE_PAUSED = 5,
  BANGER_VMM_STATE_EXITED = 6,
} BangerVmmState;

/**
 * BangerQemuAccel:
 * @BANGER_QEMU_ACCEL_AUTO: the KVM boot probe decides (doc/vmm.md, "KVM or
 *   TCG"); `BANGER_QEMU_ACCEL=kvm|tcg` in the environment overrides it.
 * @BANGER_QEMU_ACCEL_KVM: hardware virtualisation.
 * @BANGER_QEMU_ACCEL_TCG: software emulation.
 *
 * The accelerator the QEMU driver asks for.
 *
 * Since: 0.2
 */
typedef enum
{
  BANGER_QEMU_ACCEL_AUTO = 0,
  BANGER_QEMU_ACCEL_KVM = 1,
  BANGER_QEMU_ACCEL_TCG = 2,
} BangerQemuAccel;

BANGER_AVAILABLE_IN_0_2
const char *banger_vmm_state_to_string (BangerVmmState state);

#define BANGER_TYPE_VMM (banger_vmm_get_type ())
BANGER_AVAILABLE_IN_0_2
G_DECLARE_DERIVABLE_TYPE (BangerVmm, banger_vmm, BANGER, VMM, GObject)

/* ------------------------------------------------------------ the drivers */

BANGER_AVAILABLE_IN_0_2
BangerVmm *banger_vmm_new_qemu (BangerMachineConfig *config, const char *qemu_binary,
                                BangerQemuAccel accel, GError **error);
BANGER_AVAILABLE_IN_0_2
BangerVmm *banger_vmm_new_firecracker (BangerMachineConfig *config, const char *firecracker_path,
                                       GError **error);
BANGER_AVAILABLE_IN_0_2
const char *banger_vmm_get_driver_name (BangerVmm *self);
BANGER_AVAILABLE_IN_0_2
void banger_vmm_set_direct_launch (BangerVmm *self);
BANGER_AVAILABLE_IN_0_2
void banger_vmm_set_incoming (BangerVmm *self, gboolean incoming);

/* ------------------------------------------------------------- the state */

BANGER_AVAILABLE_IN_0_2
BangerVmmState banger_vmm_get_state (BangerVmm *self);
BANGER_AVAILABLE_IN_0_2
GPid banger_vmm_get_pid (BangerVmm *self);
BANGER_AVAILABLE_IN_0_2
const char *banger_vmm_get_api_socket (BangerVmm *self);
BANGER_AVAILABLE_IN_0_2
const char *banger_vmm_get_console_log (BangerVmm *self);
BANGER_AVAILABLE_IN_0_2
void banger_vmm_set_stop_timeout (BangerVmm *self, guint seconds);
BANGER_AVAILABLE_IN_0_2
guint banger_vmm_get_stop_timeout (BangerVmm *self);
BANGER_AVAILABLE_IN_0_2
const char *banger_vmm_get_stop_method (BangerVmm *self);
BANGER_AVAILABLE_IN_0_2
gboolean banger_vmm_has_exited (BangerVmm *self);
BANGER_AVAILABLE_IN_0_2
BangerMachineStats *banger_vmm_get_stats (BangerVmm *self, GError **error);

/* ------------------------------------------------------- the operations */

BANGER_AVAILABLE_IN_0_2
gboolean banger_vmm_prepare (BangerVmm *self, GError **error);

BANGER_AVAILABLE_IN_0_2
void banger_vmm_launch_async (BangerVmm *self, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data);
BANGER_AVAILABLE_IN_0_2
gboolean banger_vmm_launch_finish (BangerVmm *self, GAsyncResult *result, GError **error);
BANGER_AVAILABLE_IN_0_2
gboolean banger_vmm_launch (BangerVmm *self, GCancellable *cancellable, GError **error);

BANGER_AVAILABLE_IN_0_2
void banger_vmm_configure_async (BangerVmm *self, GCancellable *cancellable,
                                 GAsyncReadyCallback callback, gpointer user_data);
BANGER_AVAILABLE_IN_0_2
gboolean banger_vmm_configure_finish (BangerVmm *self, GAsyncResult *result, GError **error);
BANGER_AVAILABLE_IN_0_2
gboolean banger_vmm_configure (BangerVmm *self, GCancellable *cancellable, GError **error);

BANGER_AVAILABLE_IN_0_2
void banger_vmm_start_async (BangerVmm *self, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data);
BANGER_AVAILABLE_IN_0_2
gboolean banger_vmm_start_finish (BangerVmm *self, GAsyncResult *result, GError **error);
BANGER_AVAILABLE_IN_0_2
gboolean banger_vmm_start (BangerVmm *self, GCancellable *cancellable, GError **error);

BANGER_AVAILABLE_IN_0_2
void banger_vmm_pause_async (BangerVmm *self, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data);
BANGER_AVAILABLE_IN_0_2
gboolean banger_vmm_pause_finish (BangerVmm *self, GAsyncResult *result, GError **error);
BANGER_AVAILABLE_IN_0_2
gboolean banger_vmm_pause (BangerVmm *self, GCancellable *cancellable, GError **error);

BANGER_AVAILABLE_IN_0_2
void banger_vmm_resume_async (BangerVmm *self, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data);
BANGER_AVAILABLE_IN_0_2
gboolean banger_vmm_resume_finish (BangerVmm *self, GAsyncResult *result, GError **error);
BANGER_AVAILABLE_IN_0_2
gboolean banger_vmm_resume (BangerVmm *self, GCancellable *cancellable, GError **error);

BANGER_AVAILABLE_IN_0_2
void banger_vmm_stop_async (BangerVmm *self, GCancellable *cancellable,
                            GAsyncReadyCallback callback, gpointer user_data);
BANGER_AVAILABLE_IN_0_2
gboolean banger_vmm_stop_finish (BangerVmm *self, GAsyncResult *result, GError **error);
BANGER_AVAILABLE_IN_0_2
gboolean banger_vmm_stop (BangerVmm *self, GCancellable *cancellable, GError **error);

BANGER_AVAILABLE_IN_0_2
void banger_vmm_refresh_state_async (BangerVmm *self, GCancellable *cancellable,
                                     GAsyncReadyCallback callback, gpointer user_data);
BANGER_AVAILABLE_IN_0_2
gboolean banger_vmm_refresh_state_finish (BangerVmm *self, GAsyncResult *result, GError **error);
BANGER_AVAILABLE_IN_0_2
gboolean banger_vmm_refresh_state (BangerVmm *self, GCancellable *cancellable, GError **error);

BANGER_AVAILABLE_IN_0_2
void banger_vmm_snapshot_create_async (BangerVmm *self, const char *snapshot_path,
                                       const char *mem_path, gboolean diff,
                                       GCancellable *cancellable, GAsyncReadyCallback callback,
                                       gpointer user_data);
BANGER_AVAILABLE_IN_0_2
gboolean banger_vmm_snapshot_create_finish (BangerVmm *self, GAsyncResult *result,
                                            GError **error);
BANGER_AVAILABLE_IN_0_2
gboolean banger_vmm_snapshot_create (BangerVmm *self, const char *snapshot_path,
                                     const char *mem_path, gboolean diff,
                                     GCancellable *cancellable, GError **error);

BANGER_AVAILABLE_IN_0_2
void banger_vmm_snapshot_load_async (BangerVmm *self, const char *snapshot_path,
                                     const char *mem_path, gboolean resume,
                                     GCancellable *cancellable, GAsyncReadyCallback callback,
                                     gpointer user_data);
BANGER_AVAILABLE_IN_0_2
gboolean banger_vmm_snapshot_load_finish (BangerVmm *self, GAsyncResult *result, GError **error);
BANGER_AVAILABLE_IN_0_2
gboolean banger_vmm_snapshot_load (BangerVmm *self, const char *snapshot_path,
                                   const char *mem_path, gboolean resume,
                                   GCancellable *cancellable, GError **error);

BANGER_AVAILABLE_IN_0_2
void banger_vmm_wait_exit_async (BangerVmm *self, GCancellable *cancellable,
                                 GAsyncReadyCallback callback, gpointer user_data);
BANGER_AVAILABLE_IN_0_2
gboolean banger_vmm_wait_exit_finish (BangerVmm *self, GAsyncResult *result, int *out_wait_status,
                                      GError **error);
BANGER_AVAILABLE_IN_0_2
gboolean banger_vmm_wait_exit (BangerVmm *self, GCancellable *cancellable, int *out_wait_status,
                               GError **error);

BANGER_AVAILABLE_IN_0_2
gboolean banger_vmm_kill (BangerVmm *self, GError **error);

G_END_DECLS

#ifndef __GI_SCANNER__
#ifdef BANGER_COMPILATION
#include "banger-vmm-private.h"
#endif
#endif
