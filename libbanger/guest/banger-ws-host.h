/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The host side of a workspace (doc/workspace.md): scanning the tree
 * (lstat only: a symlink is recorded, never followed; one that points
 * outside the tree is refused), hashing, and the writes of a pull — every
 * one relative to the root's fd, each path component opened with
 * O_NOFOLLOW, so nothing the guest sends can land outside the tree.
 * Internal API. */
#pragma once

#include <gio/gio.h>

#include "banger-ws-manifest.h"

G_BEGIN_DECLS

/* Opens the workspace root (a directory, not a symlink). */
int banger_ws_host_open_root (const char *dir, GError **error);

/* Scans the tree under @root_fd.  A file whose size and mode match its
 * @base entry but whose mtime does not is hashed (the content decides).
 * INVALID_ARGUMENT for a symlink leaving the tree, LIMIT_EXCEEDED past
 * BANGER_WS_MAX_ENTRIES; sockets, FIFOs and devices are skipped
 * (counted in *out_skipped). */
BangerWsManifest *banger_ws_host_scan (int root_fd, const BangerWsManifest *base,
                                       guint *out_skipped, GCancellable *cancellable,
                                       GError **error);

/* The SHA-256 (hex) of the regular file @path under @root_fd. */
char *banger_ws_host_hash (int root_fd, const char *path, GError **error);

/* An fd on the directory holding @path (its parent), every component
 * opened with O_NOFOLLOW; with @create, missing directories are made
 * 0755.  *out_name: the last component (points into @path). */
int banger_ws_host_open_parent (int root_fd, const char *path, gboolean create,
                                const char **out_name, GError **error);

/* Removes @path (a directory must be empty). Absent: TRUE. */
gboolean banger_ws_host_remove (int root_fd, const char *path, GError **error);

/* Makes @entry (a directory or symlink) at its path, replacing what is
 * there when its type differs. */
gboolean banger_ws_host_make (int root_fd, const BangerWsEntry *entry, GError **error);

/* Opens a fresh temporary file beside @path for a pulled file's content;
 * banger_ws_host_commit() renames it over @path with @entry's mode and
 * mtime, banger_ws_host_abort() removes it. */
int banger_ws_host_begin_file (int root_fd, const char *path, char **out_tmp_name,
                               int *out_dir_fd, GError **error);
gboolean banger_ws_host_commit_file (int dir_fd, int fd, const char *tmp_name,
                                     const BangerWsEntry *entry, GError **error);
void banger_ws_host_abort_file (int dir_fd, int fd, const char *tmp_name);

G_END_DECLS
