/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A disk file made fresh and put in place atomically: the root disks
 * (banger-cow-disk.h) and work disks (banger-work-disk.h) are written under a
 * temporary name next to their destination, fsync'd, and renamed into place
 * without ever replacing anything (renameat2 RENAME_NOREPLACE); the
 * directory is fsync'd after.  Whatever goes wrong before the commit, the
 * temporary file is removed (the undo), so a failed or cancelled create
 * leaves nothing.
 *
 * Temporary names are ".<destination name>.tmp-XXXXXX": a crash (kill -9)
 * between begin and commit leaves one behind, which the daemon's reconcile
 * may remove by that pattern. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _BangerDiskFile BangerDiskFile;

/* Begin @dest: its directory must exist (NOT_FOUND), @dest must not
 * (ALREADY_EXISTS).  A temporary file, mode 0600, is created with
 * O_CREAT | O_EXCL | O_NOFOLLOW in the same directory. */
BangerDiskFile *banger_disk_file_begin (const char *dest, GError **error);

/* The temporary file's fd (O_RDWR | O_CLOEXEC), owned by @file. */
int banger_disk_file_get_fd (BangerDiskFile *file);
/* The destination path as given, and its directory's fd (O_DIRECTORY). */
const char *banger_disk_file_get_dest (BangerDiskFile *file);
int banger_disk_file_get_dir_fd (BangerDiskFile *file);

/* Truncate the temporary file to zero bytes (to start over). */
gboolean banger_disk_file_reset (BangerDiskFile *file, GError **error);

/* fsync the file, rename it to @dest (ALREADY_EXISTS if something appeared
 * there meanwhile; nothing is replaced), fsync the directory.  On failure
 * the temporary file (or, if the directory sync failed, the renamed file) is
 * removed. */
gboolean banger_disk_file_commit (BangerDiskFile *file, GError **error);

/* Closes the fd; removes the temporary file unless committed. */
void banger_disk_file_free (BangerDiskFile *file);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerDiskFile, banger_disk_file_free)

/* errno of a write to a disk file -> GError: ENOSPC and EDQUOT (no room
 * left), EFBIG (file too large for the file system) are LIMIT_EXCEEDED, the
 * rest as banger_set_error_from_errno.  The message is "<format>: <strerror>".
 * Always returns FALSE. */
gboolean banger_disk_set_io_error (GError **error, int errsv, const char *format, ...)
    G_GNUC_PRINTF (3, 4);

/* Bytes allocated to @fd (st_blocks * 512), 0 if fstat fails. */
guint64 banger_disk_allocated_bytes (int fd);

G_END_DECLS
