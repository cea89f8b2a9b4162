/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Start a VMM the way the helper must: in its own session, already inside
 * its cgroup before it executes anything (clone3 CLONE_INTO_CGROUP, or a
 * write of "0" to cgroup.procs in the child where that is missing), with
 * the owner's uid/gid/groups, and with a pidfd taken by the kernel at clone
 * time (CLONE_PIDFD) — so there is no moment where the pid could be
 * recycled under us, and a helper restart does not take the VMM down. */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

typedef struct
{
  const char *const *argv;  /* argv[0] is an absolute path, executed as is */
  const char *const *envp;  /* the whole environment (NULL: empty) */
  const char *cgroup_dir;   /* existing cgroup2 directory to start in */
  gboolean drop_privileges; /* setgroups/setgid/setuid to uid/gid below */
  uid_t uid;
  gid_t gid;
  int stdout_fd;            /* stdout and stderr (-1: /dev/null); stdin is /dev/null */
  int pass_fd;              /* -1, or an fd the child gets as fd 3 (QEMU's tap) */
} BangerSpawnSpec;

gboolean banger_spawn_vmm (const BangerSpawnSpec *spec, pid_t *out_pid, int *out_pidfd,
                           GError **error);

G_END_DECLS
