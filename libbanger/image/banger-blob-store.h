/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define BANGER_TYPE_BLOB_STORE (banger_blob_store_get_type ())
G_DECLARE_FINAL_TYPE (BangerBlobStore, banger_blob_store, BANGER, BLOB_STORE, GObject)

typedef struct _BangerBlobWriter BangerBlobWriter;

BangerBlobStore *banger_blob_store_new (const char *path, GError **error);
const char *banger_blob_store_get_path (BangerBlobStore *store);
gboolean banger_blob_store_has_blob (BangerBlobStore *store, const char *digest);
char *banger_blob_store_get_blob_path (BangerBlobStore *store, const char *digest);
GInputStream *banger_blob_store_open_blob (BangerBlobStore *store, const char *digest,
                                           GError **error);
GBytes *banger_blob_store_read_blob (BangerBlobStore *store, const char *digest, gsize max_size,
                                     GError **error);
gboolean banger_blob_store_write_bytes (BangerBlobStore *store, const char *digest, GBytes *bytes,
                                        GError **error);
gboolean banger_blob_store_write_stream (BangerBlobStore *store, const char *digest,
                                         gint64 expected_size, GInputStream *stream,
                                         GCancellable *cancellable, GError **error);
gboolean banger_blob_store_remove_blob (BangerBlobStore *store, const char *digest,
                                        GError **error);
gboolean banger_blob_store_prune (BangerBlobStore *store, const char *const *roots,
                                  guint *out_removed, guint64 *out_bytes, GError **error);

BangerBlobWriter *banger_blob_store_begin_write (BangerBlobStore *store, const char *digest,
                                                 gint64 expected_size, GError **error);
guint64 banger_blob_writer_get_offset (BangerBlobWriter *writer);
gboolean banger_blob_writer_restart (BangerBlobWriter *writer, GError **error);
gboolean banger_blob_writer_write (BangerBlobWriter *writer, const void *data, gsize len,
                                   GError **error);
gboolean banger_blob_writer_commit (BangerBlobWriter *writer, GError **error);
void banger_blob_writer_free (BangerBlobWriter *writer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerBlobWriter, banger_blob_writer_free)

G_END_DECLS
