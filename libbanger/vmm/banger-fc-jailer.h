/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The Firecracker jailer: the jail directory banger stages files
 * into, the pid file it leaves, and the cleanup it never does itself.
 *
 * Layout (jailer.md): <chroot_base>/<exec_file_name>/<id>/root/ is the jail
 * root; Firecracker sees it as "/".  banger stages into it:
 *   kernel, initrd, disk-<drive id>   (hard links; a sparse copy across
 *                                      filesystems — see banger_fc_jail_stage)
 *   api.sock, fc.log, fc.metrics, vsock.sock, snapshots
 * and the jailer writes <exec_file_name>.pid there. */
#pragma once

#include <sys/types.h>

#include <glib.h>

#include "banger-firecracker-cmdline.h"

G_BEGIN_DECLS

/* BangerFcJailerConfig and the jailer's argv: launch/banger-firecracker-cmdline.h */

/* <chroot_base>/<basename(exec_file)>/<id> (the directory to remove) and
 * .../root (the jail root): launch/banger-vm-paths.c computes them. */
char *banger_fc_jail_dir (const BangerFcJailerConfig *config, const char *exec_file,
                          const char *vm_id);
char *banger_fc_jail_root (const BangerFcJailerConfig *config, const char *exec_file,
                           const char *vm_id);

/* Create the jail root (mkdir -p, 0755) and return an O_DIRECTORY fd on it. */
int banger_fc_jail_create (const BangerFcJailerConfig *config, const char *exec_file,
                           const char *vm_id, GError **error);

/* Put @src into the jail as @name (a plain file name): a hard link, or where
 * linking is impossible (another filesystem, protected_hardlinks) a reflink
 * or sparse copy.  Not a bind mount: the jailer binds the jail root onto
 * itself without MS_REC (jailer.md), so mounts below it would not be seen.
 * @writable files are chowned to uid:gid when running as root (for a hard
 * link that is the original inode's owner too: stage per-VM copies). */
gboolean banger_fc_jail_stage (int root_fd, const char *src, const char *name, gboolean writable,
                               const BangerFcJailerConfig *config, GError **error);

/* Into a jail the launcher made (bangerd-root's jailer, doc/vmm.md), as
 * the jail's owner: @src (a regular file; anything else is UNSUPPORTED) as
 * @name.  A hard link; where that is impossible, a reflink or sparse copy
 * for a read-only file, and UNSUPPORTED for a @writable one (a copy would
 * take the guest's writes away from the VM's own disk). */
gboolean banger_fc_jail_link (int root_fd, const char *src, const char *name, gboolean writable,
                              GError **error);

/* Take a file out of the jail (snapshot files): rename, or copy across
 * filesystems.  @dest must not exist. */
gboolean banger_fc_jail_collect (int root_fd, const char *name, const char *dest,
                                 GError **error);

/* Read root/<exec_file_name>.pid. */
gboolean banger_fc_jail_read_pid (int root_fd, const char *exec_file, GPid *out_pid,
                                  GError **error);

/* Remove <chroot_base>/<exec>/<id> without following symlinks (fd-relative,
 * O_NOFOLLOW at every level, mount points detached, not crossed) and the
 * cgroup <cgroup_root>/<parent_cgroup>/<id> when --cgroup made one.  Absent
 * is success.  Call only once the process is gone. */
gboolean banger_fc_jail_remove (const BangerFcJailerConfig *config, const char *exec_file,
                                const char *vm_id, GError **error);

G_END_DECLS
