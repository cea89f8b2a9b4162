/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The raw pidfd system calls, in one place: glibc 2.36 has wrappers for some
 * of them, older ones do not, so every caller in the tree goes through these
 * instead of its own syscall(2).  A pidfd names one process for its whole
 * life: a signal sent through it can never reach a process that later got
 * the same pid.
 *
 * Return conventions follow the system calls: an fd or 0 on success, -1 with
 * errno on failure. */
#pragma once

#include <glib.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>

G_BEGIN_DECLS

/* pidfd_open(2): a pidfd (O_CLOEXEC) for @pid.  Only safe against pid reuse
 * when @pid is our unreaped child, or when the caller checks the process
 * behind the pidfd afterwards (banger-vmm-authorize.c does). */
int banger_pidfd_open (pid_t pid);

/* pidfd_send_signal(2) with no siginfo and no flags; @signo 0 only checks
 * that the process is still there (ESRCH once it has exited). */
int banger_pidfd_send_signal (int pidfd, int signo);

/* waitid(P_PIDFD, @pidfd, @info, @options): as waitid(2); ECHILD when the
 * process is not our child. */
int banger_pidfd_waitid (int pidfd, siginfo_t *info, int options);

/* Wait up to @timeout_ms (-1: no bound) for the process to exit (its pidfd
 * turns readable).  TRUE when it has exited; FALSE on timeout. */
gboolean banger_pidfd_wait_exit (int pidfd, int timeout_ms);

/* TRUE when the process behind @pidfd has exited.  When it is our child it
 * is reaped now and @out_info (nullable) gets how it ended; a process that is
 * not our child (adopted, or reaped by someone else) only answers by its
 * pidfd being readable, and @out_info is zeroed. */
gboolean banger_pidfd_reap_if_exited (int pidfd, siginfo_t *out_info);

G_END_DECLS
