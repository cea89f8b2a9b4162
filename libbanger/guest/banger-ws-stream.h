/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The bulk transfers of a workspace sync (doc/workspace.md, "Transport"):
 * one stream instead of a round trip per file.
 *
 * Push: the planned deletes (and whatever is in the way of a type change)
 * go as two batched commands (`xargs -0 rm -f`, then `xargs -0 rmdir`,
 * deepest first), and every directory, symlink and file to write goes as
 * ONE tar (GNU format, written with libarchive from the host tree) into
 * the guest's `tar -x` — all over exec channels of the sync's own SSH
 * session.  busybox's tar restores mode and mtime (whole seconds, what the
 * guest's SFTP listing shows next time) and replaces a file or symlink in
 * the way.
 *
 * Pull: the guest's `cpio -o -H newc` sends the requested regular files
 * (names on its stdin) as one stream; the host reads it with libarchive
 * and extracts by hand, each entry relative to the workspace root's fd
 * (banger-ws-host.h: every component O_NOFOLLOW, a fresh O_EXCL temporary
 * renamed into place).  An entry that was not asked for — another name,
 * `..`, an absolute name, a symlink, a device, a second copy — refuses the
 * pull (INVALID_ARGUMENT) with nothing of it written.
 *
 * Internal API. */
#pragma once

#include <archive.h>
#include <gio/gio.h>

#include "banger-ws-manifest.h"
#include "banger-ws-sftp.h"

G_BEGIN_DECLS

/* Files this big or bigger do not fit cpio's newc header: a pull fetches
 * them over SFTP. */
#define BANGER_WS_STREAM_MAX_CPIO_FILE G_GUINT64_CONSTANT (0xffffffff)
/* How much of a guest command's stderr an error message keeps. */
#define BANGER_WS_STREAM_STDERR_MAX 2048

/* The guest tree (lstat: symlinks recorded, not followed; no hashes) in
 * one command:
 * `find . -print0 | xargs -0 -r stat -c '%f %s %Y %n'` (busybox and GNU
 * alike), symlink targets then read over SFTP.  A listing that fails
 * (exit status not 0: a directory it could not read would look like
 * deletions) is an error.  A missing root is an empty manifest (and
 * *out_root_missing TRUE).  INVALID_ARGUMENT for a symlink leaving the
 * tree or a name banger refuses (the guest is not trusted);
 * LIMIT_EXCEEDED past the bounds. */
BangerWsManifest *banger_ws_stream_scan (BangerWsSftp *sftp, gboolean *out_root_missing,
                                         GError **error);

/* Removes @files (not directories; absent ones are fine) and then the
 * empty directories @dirs (in the order given: deepest first) under the
 * guest root.  A directory that is not empty is CONFLICT. */
gboolean banger_ws_stream_remove (BangerWsSftp *sftp, GPtrArray *files, GPtrArray *dirs,
                                  GCancellable *cancellable, GError **error);

/* Sends @entries (BangerWsEntry*, parents before children) from the host
 * tree under @host_root_fd into the guest root as one tar.  Each file's
 * entry gets the size, mode, mtime and SHA-256 of what was sent (read from
 * the open file, not the scan).  What is in the way of a directory or
 * symlink must have been removed first. */
gboolean banger_ws_stream_push (BangerWsSftp *sftp, int host_root_fd, GPtrArray *entries,
                                guint64 *inout_bytes, GCancellable *cancellable,
                                GError **error);

/* Fetches the guest's regular files named by @wanted's keys (path ->
 * BangerWsEntry*, each smaller than BANGER_WS_STREAM_MAX_CPIO_FILE) in
 * one cpio stream and writes them under @host_root_fd.  Each file written
 * is added to @received, its entry updated to what arrived (mode, mtime,
 * size, hash).  A file the guest could not send (gone, a hard link sent
 * without content) is simply not in @received: the caller fetches it
 * another way.  On an error, @received holds what was written before. */
gboolean banger_ws_stream_pull (BangerWsSftp *sftp, int host_root_fd, GHashTable *wanted,
                                GHashTable *received, guint64 *inout_bytes,
                                GCancellable *cancellable, GError **error);

/* The extraction half of banger_ws_stream_pull(), on any archive
 * libarchive reads (tests feed crafted ones). */
gboolean banger_ws_stream_extract (struct archive *archive, int host_root_fd, GHashTable *wanted,
                                   GHashTable *received, guint64 *inout_bytes,
                                   GCancellable *cancellable, GError **error);

G_END_DECLS
