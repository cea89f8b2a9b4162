/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A VM's work disk: a fresh, empty ext4 file system in a sparse file, made
 * without privileges (mkfs.ext4 on a file the caller owns).  The options and
 * why are in doc/disks.md; in short:
 *
 *   mkfs.ext4 -q -F -t ext4 -b 4096 -m 0 -L banger-work
 *     -E lazy_itable_init=1,lazy_journal_init=1,assume_storage_prezeroed=1,
 *        nodiscard,root_owner=0:0
 *     /proc/self/fd/3
 *
 * (assume_storage_prezeroed needs e2fsprogs >= 1.47; an older mkfs.ext4
 * that refuses it is run again without it.)  The file is made under a
 * temporary name and renamed into place (banger-disk-file.h); on any
 * failure or cancellation nothing is left.  For a dm-backed VM the
 * privileged priv.mkfs_work_disk remains. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define BANGER_WORK_DISK_MIN_SIZE (G_GUINT64_CONSTANT (16) * 1024 * 1024)
#define BANGER_WORK_DISK_MAX_SIZE (G_GUINT64_CONSTANT (16) * 1024 * 1024 * 1024 * 1024)

typedef enum {
  BANGER_WORK_DISK_NONE = 0,
  /* Leave assume_storage_prezeroed out (older e2fsprogs; benchmarks). */
  BANGER_WORK_DISK_NO_PREZEROED = 1 << 0,
} BangerWorkDiskFlags;

#define BANGER_WORK_DISK_ALL (BANGER_WORK_DISK_NO_PREZEROED)

/* The mkfs.ext4 banger runs (/usr/sbin/mkfs.ext4 or /sbin/mkfs.ext4), NULL
 * with UNSUPPORTED when there is none. */
const char *banger_work_disk_find_mkfs (GError **error);

/* Make @dest: @size bytes (a multiple of 4096, within
 * [BANGER_WORK_DISK_MIN_SIZE, BANGER_WORK_DISK_MAX_SIZE]), ext4.  Errors:
 * INVALID_ARGUMENT (size, flags), LIMIT_EXCEEDED (size above the maximum,
 * or no space left), NOT_FOUND (no directory for @dest), ALREADY_EXISTS,
 * UNSUPPORTED (no mkfs.ext4), CANCELLED (mkfs is killed), FAILED (mkfs
 * failed: its message). */
gboolean banger_work_disk_create (const char *dest, guint64 size, BangerWorkDiskFlags flags,
                                  GCancellable *cancellable, GError **error);

void banger_work_disk_create_async (const char *dest, guint64 size, BangerWorkDiskFlags flags,
                                    GCancellable *cancellable, GAsyncReadyCallback callback,
                                    gpointer user_data);
gboolean banger_work_disk_create_finish (GAsyncResult *result, GError **error);

G_END_DECLS
