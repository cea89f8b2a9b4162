/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The VM's files put into its Firecracker jail by priv.launch_vmm: each one
 * bind-mounted onto an empty file at its fixed chroot-relative name, before
 * the jailer runs (the jailer's MS_BIND|MS_REC of the chroot onto itself
 * carries the mounts into the jail).  A bind mount works across
 * filesystems, where the owner's hard link cannot (doc/host.md). */
#pragma once

#include <json-glib/json-glib.h>

#include "banger-priv-ops.h"

G_BEGIN_DECLS

/* The launch parameters naming the files (see banger-jail-mounts.c); NULL
 * terminated, for the op's "Firecracker only" check. */
extern const char *const banger_jail_mount_params[];

/* Mount every file @params names into the jail root @root_fd (an empty
 * directory only root can write): each path must be beneath the state dir,
 * reached without a symlink, a regular file of the owner uid; it is opened
 * O_PATH and mounted from that fd (/proc/self/fd/N), so no path swapped
 * meanwhile can redirect the mount.  Writable disks are mounted read-write,
 * the kernel, initrd and read-only disks read-only; all nosuid, nodev,
 * noexec.  On failure the mounts already made stay for the caller's
 * banger_priv_remove_jail_tree(). */
gboolean banger_jail_mounts_stage (BangerPrivState *state, int root_fd, JsonObject *params,
                                   GError **error);

G_END_DECLS
