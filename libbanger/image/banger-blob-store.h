/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * BangerBlobStore, public (0.2): the content-addressed store of OCI blobs
 * (blobs/sha256/<hex>), doc/images.md.  The writer API (begin_write, the
 * stream and bytes writers) stays private: banger-blob-store-private.h,
 * which this header brings inside the library (BANGER_COMPILATION). */
#pragma once

#if !defined(__BANGER_H_INSIDE__) && !defined(BANGER_COMPILATION)
#error "Only <banger.h> can be included directly."
#endif

#include <gio/gio.h>

#include <banger-macros.h>

G_BEGIN_DECLS

#define BANGER_TYPE_BLOB_STORE (banger_blob_store_get_type ())
BANGER_AVAILABLE_IN_0_2
G_DECLARE_FINAL_TYPE (BangerBlobStore, banger_blob_store, BANGER, BLOB_STORE, GObject)

BANGER_AVAILABLE_IN_0_2
BangerBlobStore *banger_blob_store_new (const char *path, GError **error);
BANGER_AVAILABLE_IN_0_2
const char *banger_blob_store_get_path (BangerBlobStore *store);
BANGER_AVAILABLE_IN_0_2
gboolean banger_blob_store_has_blob (BangerBlobStore *store, const char *digest);
BANGER_AVAILABLE_IN_0_2
char *banger_blob_store_get_blob_path (BangerBlobStore *store, const char *digest);
BANGER_AVAILABLE_IN_0_2
gboolean banger_blob_store_remove_blob (BangerBlobStore *store, const char *digest,
                                        GError **error);
BANGER_AVAILABLE_IN_0_2
gboolean banger_blob_store_prune (BangerBlobStore *store, const char *const *roots,
                                  guint *out_removed, guint64 *out_bytes, GError **error);

G_END_DECLS

#ifndef __GI_SCANNER__
#ifdef BANGER_COMPILATION
#include "banger-blob-store-private.h"
#endif
#endif
