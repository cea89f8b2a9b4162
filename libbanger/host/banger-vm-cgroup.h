/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One cgroup2 directory per VM: <banger root>/banger-<vm>.scope, the banger
 * root being state->cgroup_root or <cgroup2 mount>/banger.slice.  The VMM
 * is cloned straight into it, so it is never in the helper's cgroup and a
 * restart of the helper (systemd KillMode=control-group included) leaves it
 * running. */
#pragma once

#include "banger-priv-op.h"

G_BEGIN_DECLS

/* Create the VM's scope (and banger's root) if needed; BUSY if the scope
 * already has processes.  Returns its absolute path. */
char *banger_vm_cgroup_ensure (BangerPrivState *state, const char *vm_id, GError **error);
/* Kill whatever is left in the scope (cgroup.kill), wait (bounded) until it
 * is empty, and remove it and any sub-cgroups (the jailer's).  A missing
 * scope is success. */
gboolean banger_vm_cgroup_remove (BangerPrivState *state, const char *vm_id,
                                  gboolean *out_removed, GError **error);
/* The cgroup2 path of @pid: its "0::" line in /proc/<pid>/cgroup. */
char *banger_vm_cgroup_of_pid (int pid, GError **error);

G_END_DECLS
