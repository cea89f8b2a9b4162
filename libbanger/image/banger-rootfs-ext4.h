/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Headroom of an image sized to its content: a quarter more, and at least
 * this much free space. */
#define BANGER_ROOTFS_MIN_FREE_BYTES (64ull * 1024 * 1024)
#define BANGER_ROOTFS_MAX_BYTES (1024ull * 1024 * 1024 * 1024)

guint64 banger_rootfs_ext4_size_for (guint64 content_bytes, guint64 inodes);

gboolean banger_rootfs_build_ext4 (const char *tree, const char *ownership_path,
                                   const char *dest, guint64 size_bytes,
                                   GCancellable *cancellable, GError **error);

gboolean banger_rootfs_ext4_apply_ownership (const char *image, const char *ownership_path,
                                             GError **error);

G_END_DECLS
