/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "banger-blob-store.h"

G_BEGIN_DECLS

gboolean banger_image_build_rootfs (BangerBlobStore *store, const char *manifest_digest,
                                    const char *work_dir, const char *dest, guint64 size_bytes,
                                    GCancellable *cancellable, GError **error);

void banger_image_build_rootfs_async (BangerBlobStore *store, const char *manifest_digest,
                                      const char *work_dir, const char *dest, guint64 size_bytes,
                                      GCancellable *cancellable, GAsyncReadyCallback callback,
                                      gpointer user_data);
gboolean banger_image_build_rootfs_finish (BangerBlobStore *store, GAsyncResult *result,
                                           GError **error);

G_END_DECLS
