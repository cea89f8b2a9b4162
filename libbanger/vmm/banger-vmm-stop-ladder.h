/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The stop ladder both drivers use (doc/vmm.md, "Stop ladder"):
 *
 *   1. the driver's polite request (Firecracker: Ctrl-Alt-Del; QEMU: the
 *      power button, or `quit` for a guest that never ran), then wait for
 *      the exit up to the stop timeout;
 *   2. SIGTERM through the pidfd, wait up to the stop timeout;
 *   3. SIGKILL through the pidfd, wait up to BANGER_VMM_KILL_WAIT_MS; a
 *      process still there is BANGER_ERROR_TIMED_OUT.
 *
 * Everything happens on the caller's thread-default main context: timers
 * and a watch on the pidfd becoming readable, never a blocking wait.  The
 * ladder is bounded and does not take cancellation.  It only ends the
 * process; the driver cleans up after it (sockets, jail, state). */
#pragma once

#include "banger-vmm.h"

G_BEGIN_DECLS

/* How long SIGKILL may take to end the process (also used by kill()). */
#define BANGER_VMM_KILL_WAIT_MS 5000
/* After a polite request that failed (not sent, refused, connection
 * dropped): how long to look for an exit it may have caused anyway before
 * going on to SIGTERM. */
#define BANGER_VMM_POLITE_FAILED_GRACE_MS 250

typedef struct
{
  /* The process, for messages: "Firecracker for VM 'x'", "QEMU". */
  const char *what;
  /* Rung 1, nullable (then skipped): start the driver's request and call
   * @callback when it has been answered (or failed); polite_finish says
   * which.  A failure only shortens the wait that follows it. */
  void (*polite) (BangerVmm *vmm, GAsyncReadyCallback callback, gpointer user_data);
  gboolean (*polite_finish) (BangerVmm *vmm, GAsyncResult *result, GError **error);
  /* What get_stop_method() says when rung 1 ended the process (a static
   * string, kept as is). */
  const char *polite_name;
  /* Skip SIGTERM (Firecracker as PID 1 of its own pid namespace has no
   * TERM handler, so the kernel drops it). */
  gboolean skip_term;
} BangerVmmStopPlan;

/* Run the ladder on @vmm's process (launched, not yet seen to exit).
 * @plan is copied.  Completes in the thread-default main context. */
void banger_vmm_stop_ladder_async (BangerVmm *vmm, const BangerVmmStopPlan *plan,
                                   GAsyncReadyCallback callback, gpointer user_data);
gboolean banger_vmm_stop_ladder_finish (BangerVmm *vmm, GAsyncResult *result, GError **error);

G_END_DECLS
