/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Stopping a VMM the engine adopted at start-up (a VM found running, with
 * no driver object): the same ladder as a driver-owned VMM (doc/vmm.md,
 * "Stop ladder") — the power button through the VMM's API socket when it
 * answers (QEMU: QMP system_powerdown; Firecracker: the SendCtrlAltDel
 * action), then SIGTERM, then SIGKILL — every signal through a pidfd
 * verified against the recorded start time, so a recycled pid is never
 * signalled.  Synchronous (a worker thread; the socket is spoken on a
 * private main context). */
#pragma once

#include <glib.h>

#include "banger-store.h"

G_BEGIN_DECLS

typedef enum
{
  BANGER_ADOPTED_STOP_GONE,         /* nothing to stop (exited, or the pid is another process) */
  BANGER_ADOPTED_STOP_POWER_BUTTON, /* it exited after the power button / Ctrl-Alt-Del */
  BANGER_ADOPTED_STOP_TERM,
  BANGER_ADOPTED_STOP_KILL,
} BangerAdoptedStop;

const char *banger_adopted_stop_to_string (BangerAdoptedStop how);

/* @api_socket: nullable (then no polite rung), the QMP or Firecracker API
 * socket of the runtime record.  @polite_ms / @term_ms: how long each rung
 * waits for the exit (0 skips the polite rung: a kill).  TIMED_OUT when even
 * SIGKILL did not end it within 5 s. */
gboolean banger_engine_stop_adopted (BangerStoreVmm vmm, const char *api_socket, GPid pid,
                                     guint64 start_time, guint polite_ms, guint term_ms,
                                     BangerAdoptedStop *out_how, GError **error);

G_END_DECLS
