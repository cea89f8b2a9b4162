/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Copy a file's data extents only: SEEK_DATA / SEEK_HOLE find them, each is
 * copied with copy_file_range() (in-kernel, no bytes through user space;
 * on a file system that can remap extents the kernel may even share them)
 * or, where the kernel refuses that pair of files (EXDEV across file
 * systems, EINVAL, EOPNOTSUPP, ENOSYS), with pread/pwrite.  Holes stay
 * holes: a 1 GiB image holding 200 MB costs 200 MB. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum {
  BANGER_SPARSE_COPY_NONE = 0,
  /* pread/pwrite only (tests and benchmarks of the fallback path) */
  BANGER_SPARSE_COPY_NO_COPY_FILE_RANGE = 1 << 0,
} BangerSparseCopyFlags;

#define BANGER_SPARSE_COPY_ALL (BANGER_SPARSE_COPY_NO_COPY_FILE_RANGE)

/* @done: bytes of the source passed so far (holes count as passed), of
 * @total (the source's size).  Called in the copying thread. */
typedef void (*BangerSparseCopyProgress) (guint64 done, guint64 total, gpointer user_data);

typedef struct
{
  guint64 data_bytes;        /* bytes of data extents copied */
  guint extents;             /* number of data extents */
  gboolean used_copy_file_range; /* at least one extent went through it */
  gboolean used_read_write;      /* at least one extent went through pread/pwrite */
} BangerSparseCopyStats;

/* Set @out_fd's (an empty file's) size to @size, then copy the data of
 * @size bytes of @in_fd into it at the same offsets.  Cancellable between chunks
 * (CANCELLED); a write error is banger_disk_set_io_error's (ENOSPC:
 * LIMIT_EXCEEDED).  @what names the copy in messages.  @stats may be NULL. */
gboolean banger_sparse_copy (int in_fd, int out_fd, guint64 size, BangerSparseCopyFlags flags,
                             const char *what, BangerSparseCopyProgress progress,
                             gpointer progress_data, BangerSparseCopyStats *stats,
                             GCancellable *cancellable, GError **error);

G_END_DECLS
