/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A VM's root disk, copy-on-write over an image, by one of three strategies
 * (doc/disks.md):
 *
 *   dm-snapshot  the VM's file is an empty sparse COW store; the privileged
 *                backend (priv.dm_snapshot_create) binds it to the image as
 *                a device-mapper snapshot.  Needs device-mapper in the kernel
 *                AND a privileged backend — the caller says so.
 *   reflink      the VM's file is a FICLONE of the image: same extents,
 *                shared until written (btrfs, xfs with reflink=1, ...).
 *   sparse-copy  the VM's file is a copy of the image's data extents only
 *                (banger-sparse-copy.h): holes stay holes.
 *
 * banger_cow_choose() probes in that order.  Every create makes the file
 * fresh under a temporary name, fsyncs it and renames it into place, and
 * removes it on any failure or cancellation (banger-disk-file.h).  No
 * privileges are needed: this runs as the owner. */
#pragma once

#include <gio/gio.h>

#include "banger-cow-strategy.h"

G_BEGIN_DECLS

/* BangerCowStrategy and banger_cow_strategy_to_string(): public, in
 * banger-cow-strategy.h. */
gboolean banger_cow_strategy_from_string (const char *name, BangerCowStrategy *out_strategy);

typedef enum {
  BANGER_COW_CHOOSE_NONE = 0,
  /* The caller has a privileged backend and it reports device-mapper
   * (priv.status: device_mapper true). */
  BANGER_COW_CHOOSE_DM_USABLE = 1 << 0,
} BangerCowChooseFlags;

#define BANGER_COW_CHOOSE_ALL (BANGER_COW_CHOOSE_DM_USABLE)

/* Does FICLONE work from @image (or, when @image is NULL, between two tiny
 * files) into a file in @target_dir?  The probe files are made in
 * @target_dir and removed at once.  @out_detail (nullable) gets a sentence
 * saying why, naming the file system.  An error only when @target_dir
 * cannot be probed at all (missing: NOT_FOUND; not writable:
 * PERMISSION_DENIED). */
gboolean banger_cow_probe_reflink (const char *target_dir, const char *image,
                                   gboolean *out_supported, char **out_detail, GError **error);

/* The strategy for root disks made in @target_dir from @image (nullable:
 * probe with tiny files): dm-snapshot when @flags has DM_USABLE, else
 * reflink when the probe says so, else sparse-copy.  @out_detail (nullable)
 * gets the sentence doctor shows, e.g. "reflink: FICLONE works on
 * /var/lib/banger (xfs); device-mapper: not usable (no privileged backend
 * reports it)". */
gboolean banger_cow_choose (const char *target_dir, const char *image, BangerCowChooseFlags flags,
                            BangerCowStrategy *out_strategy, char **out_detail, GError **error);

typedef enum {
  BANGER_COW_CREATE_NONE = 0,
  /* sparse-copy: pread/pwrite only, no copy_file_range (tests, benchmarks) */
  BANGER_COW_CREATE_NO_COPY_FILE_RANGE = 1 << 0,
} BangerCowCreateFlags;

#define BANGER_COW_CREATE_ALL (BANGER_COW_CREATE_NO_COPY_FILE_RANGE)

/* @done of @total bytes of the image handled (sparse-copy: the offset
 * reached, holes count; reflink and dm-snapshot: 0 then @total). */
typedef void (*BangerCowProgressFunc) (guint64 done, guint64 total, gpointer user_data);

typedef struct
{
  BangerCowStrategy strategy;
  guint64 image_size;      /* apparent size of the image */
  guint64 data_bytes;      /* sparse-copy: bytes of data extents copied */
  guint64 disk_size;       /* apparent size of the file made */
  gboolean used_copy_file_range;
  gboolean used_read_write;
} BangerCowResult;

/* dm-snapshot: the size of the COW store for an image of @image_size bytes
 * (room for every chunk of 4 KiB to be written once, plus the persistent
 * snapshot's header and exception tables), a multiple of 4096. */
guint64 banger_cow_dm_store_size (guint64 image_size);

/* Make @dest, the VM's root disk over @image, by @strategy.  Errors:
 * NOT_FOUND (no @image, or no directory for @dest), INVALID_ARGUMENT (image
 * not a regular file, unknown flags or strategy), ALREADY_EXISTS (@dest
 * exists), LIMIT_EXCEEDED (no space left: ENOSPC/EDQUOT/EFBIG), UNSUPPORTED
 * (reflink refused between these files), CANCELLED.  On any error nothing
 * is left behind.  @progress is called in this thread.  @out_result
 * (nullable) is set on success only. */
gboolean banger_cow_disk_create (BangerCowStrategy strategy, const char *image, const char *dest,
                                 BangerCowCreateFlags flags, BangerCowProgressFunc progress,
                                 gpointer progress_data, BangerCowResult *out_result,
                                 GCancellable *cancellable, GError **error);

/* The same in a worker thread.  @progress (nullable) is called in the
 * thread-default main context of this call, never after @callback;
 * @progress_data must stay valid until @callback runs. */
void banger_cow_disk_create_async (BangerCowStrategy strategy, const char *image,
                                   const char *dest, BangerCowCreateFlags flags,
                                   BangerCowProgressFunc progress, gpointer progress_data,
                                   GCancellable *cancellable, GAsyncReadyCallback callback,
                                   gpointer user_data);
gboolean banger_cow_disk_create_finish (GAsyncResult *result, BangerCowResult *out_result,
                                        GError **error);

G_END_DECLS
