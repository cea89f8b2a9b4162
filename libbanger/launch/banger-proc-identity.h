/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Who a pid is: its start time (field 22 of /proc/<pid>/stat, clock ticks
 * since boot).  A pid plus its start time names one process for the life of
 * the system; a recycled pid has a later start time.
 *
 * The root helper reports the start time of each VMM it launches (reading
 * it while it holds the child unreaped, so the pid cannot move); a caller
 * that was given only the pid takes its own pidfd with
 * banger_pidfd_open_verified(), which is the VMM the helper launched or an
 * error — never another process. */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

/* NOT_FOUND when the process is gone. */
gboolean banger_proc_start_time (pid_t pid, guint64 *out_start_time, GError **error);

/* pidfd_open(@pid) and check that the process it names started at
 * @start_time: the pid is read again after the pidfd is taken, so a pid
 * recycled before pidfd_open is caught (its start time differs) and one
 * recycled after cannot matter (the pidfd names the process, not the pid).
 * Returns the pidfd (O_CLOEXEC), or -1 with NOT_FOUND when the process has
 * exited or the pid now belongs to another one. */
int banger_pidfd_open_verified (pid_t pid, guint64 start_time, GError **error);

G_END_DECLS
