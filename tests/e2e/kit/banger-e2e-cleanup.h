/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Cleanup of what an e2e test or an engine benchmark made on the host,
 * whatever way it ended.  Everything is written down in a ledger,
 * <tmp>/banger-e2e-<owner pid>.ledger, before it exists (or, for a name
 * chosen by someone else, as soon as it does): network namespaces, cgroup
 * roots, scratch directories, processes.  A sweep kills and removes all of
 * it, in whichever process runs it:
 *   - the test's own, after the test (libcheck CK_NOFORK, where a failed
 *     assertion longjmps back to the runner);
 *   - the runner's, after a forked test exited at a failed assertion
 *     (libcheck CK_FORK: the child's memory is gone, the ledger is not);
 *   - a later run's, when the owner died without sweeping (killed by a
 *     timeout, a crash): banger_e2e_cleanup_init() sweeps the ledgers whose
 *     owner is no longer there.
 * Killing: "1" into each cgroup root's cgroup.kill (open + write: cgroupfs
 * refuses the temp-file-and-rename of g_file_set_contents), and every
 * process whose network namespace is a ledger's, through a pidfd checked
 * against the process's start time.  Not part of the library.  Root only. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The ledger's owner is this process (forked test children share it); a
 * sweep at exit; the ledgers of owners that are gone are swept now.  Call
 * once, before forking.  Without it the first note makes this process the
 * owner. */
void banger_e2e_cleanup_init (void);

/* Write down a network namespace (by name: /run/netns/<name>), a cgroup
 * root under the cgroup2 mount, a scratch directory directly under
 * g_get_tmp_dir (), a process (pid and start time).  Fails only when the
 * ledger cannot be written. */
gboolean banger_e2e_cleanup_note_netns (const char *name, GError **error);
gboolean banger_e2e_cleanup_note_cgroup (const char *path, GError **error);
gboolean banger_e2e_cleanup_note_dir (const char *path, GError **error);
gboolean banger_e2e_cleanup_note_process (GPid pid, GError **error);

/* Kill and remove everything in this owner's ledger, then forget it:
 * cgroup.kill of each cgroup root and SIGKILL of each process and of
 * everything in each namespace (waited for, bounded), then the cgroups
 * (bottom-up), the namespaces (with their taps and veths) and the
 * directories (kept when $BANGER_TEST_KEEP is set).  Says on stderr what
 * it had to kill.  Idempotent. */
void banger_e2e_cleanup_sweep (void);

G_END_DECLS
