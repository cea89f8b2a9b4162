/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Directories the helper makes and removes under its runtime dir, always
 * fd-relative: created with mkdirat and re-opened beneath the root (never
 * through a symlink), removed with unlinkat walking fds that never follow a
 * symlink and never cross into another mount. */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

/* mkdir -p of @rel beneath @root (components "a/b/c"); intermediate dirs get
 * 0755 root, the last @mode with owner @uid:@gid.  Returns an O_DIRECTORY fd
 * of the last one. */
int banger_priv_ensure_dir (const char *root, const char *rel, mode_t mode, uid_t uid, gid_t gid,
                            GError **error);

/* rm -rf of @rel beneath @root, fd-based: symlinks are unlinked, never
 * followed; a mount point anywhere inside is refused (PERMISSION_DENIED) and
 * left in place.  A missing @rel is success (*out_removed = FALSE). */
gboolean banger_priv_remove_tree (const char *root, const char *rel, gboolean *out_removed,
                                  GError **error);

/* The same for a jail (<runtime>/jail/<fc>/<id>), which holds the VM's
 * files bind-mounted by priv.launch_vmm: every mount point inside is
 * detached first (umount2 MNT_DETACH, no symlink followed) and only then is
 * the placeholder beneath it removed; the walk never descends into a mount,
 * so a bind mount's source (the owner's disk) is never touched.  A mount
 * that will not go away is refused (PERMISSION_DENIED). */
gboolean banger_priv_remove_jail_tree (const char *root, const char *rel, gboolean *out_removed,
                                       GError **error);

G_END_DECLS
