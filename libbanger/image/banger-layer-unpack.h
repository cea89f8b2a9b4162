/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "banger-oci-manifest.h"

G_BEGIN_DECLS

/* A bound on the entries one staging tree takes (its ownership map lives in
 * memory while layers are applied). */
#define BANGER_STAGING_MAX_ENTRIES (4u * 1024 * 1024)
/* ... and the depth of its directories (walking and removing the tree holds
 * one or two fds per level). */
#define BANGER_STAGING_MAX_DEPTH 256

typedef struct _BangerRootfsStaging BangerRootfsStaging;

typedef struct
{
  guint64 entries;      /* tar entries read */
  guint64 whiteouts;    /* .wh. files and opaque markers applied */
  guint64 devices;      /* character/block devices and sockets skipped */
  guint64 special_bits; /* entries with setuid/setgid/sticky (recorded, not set on the host) */
  guint64 compressed_bytes;
} BangerLayerStats;

BangerRootfsStaging *banger_rootfs_staging_new (const char *dir, GError **error);
void banger_rootfs_staging_free (BangerRootfsStaging *staging);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerRootfsStaging, banger_rootfs_staging_free)

const char *banger_rootfs_staging_get_tree_path (BangerRootfsStaging *staging);
const char *banger_rootfs_staging_get_ownership_path (BangerRootfsStaging *staging);

gboolean banger_rootfs_staging_apply_layer (BangerRootfsStaging *staging, GInputStream *blob,
                                            BangerLayerCompression compression,
                                            const char *expected_digest, gint64 expected_size,
                                            BangerLayerStats *out_stats,
                                            GCancellable *cancellable, GError **error);
gboolean banger_rootfs_staging_finish (BangerRootfsStaging *staging, GError **error);
gboolean banger_rootfs_staging_delete (BangerRootfsStaging *staging, GError **error);

G_END_DECLS
