/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Shared by the disk tests and bench-cow (no libcheck here: errors are
 * GErrors): sparse test images with known data extents, and small file
 * systems mounted for the test — xfs with reflink=1 or btrfs on a loop
 * device, or a tmpfs — inside a private mount namespace, so a test that dies
 * takes its mounts (and, through LO_FLAGS_AUTOCLEAR, its loop device) with
 * it. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* unshare(CLONE_NEWNS) and make every mount private (root only). */
gboolean host_test_private_mount_ns (GError **error);

typedef struct
{
  char *dir;        /* temp dir holding the backing file and the mount point */
  char *backing;    /* NULL for tmpfs */
  char *mountpoint; /* where it is mounted */
  char *fstype;
  char *loopdev;    /* "/dev/loopN", NULL for tmpfs */
} HostTestLoopfs;

/* @fstype "xfs" (mkfs.xfs -m reflink=1), "btrfs" or "tmpfs"; @size bytes
 * (a sparse backing file in TMPDIR, or tmpfs' size=).  Call in a private
 * mount namespace.  G_FILE_ERROR_NOENT when mkfs.<fstype> is not installed
 * (and only then: every other failure is a G_IO_ERROR). */
HostTestLoopfs *host_test_loopfs_new (const char *fstype, guint64 size, GError **error);
/* Unmounts (the loop device detaches itself), removes the files. */
void host_test_loopfs_free (HostTestLoopfs *fs);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HostTestLoopfs, host_test_loopfs_free)

/* Is @dev's loop device still attached? */
gboolean host_test_loop_attached (const char *dev);

/* A sparse image at @path of @size bytes with data extents of random bytes
 * (seed @seed) at the (offset, length) pairs of @extents (@n pairs, sorted,
 * 4 KiB-aligned).  Returns the total data bytes. */
guint64 host_test_make_image (const char *path, guint64 size, const guint64 *extents, gsize n,
                              guint32 seed, GError **error);

/* sha256 of a whole file, hex; NULL if it cannot be read. */
char *host_test_file_sha256 (const char *path);

G_END_DECLS
