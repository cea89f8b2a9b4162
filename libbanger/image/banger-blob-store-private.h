/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * BangerBlobStore's private half: reading and writing blobs (the writer
 * streams, verifies and commits atomically).  The public half is
 * banger-blob-store.h. */
#pragma once

#include <gio/gio.h>

#include "banger-blob-store.h"

G_BEGIN_DECLS

typedef struct _BangerBlobWriter BangerBlobWriter;

GInputStream *banger_blob_store_open_blob (BangerBlobStore *store, const char *digest,
                                           GError **error);
GBytes *banger_blob_store_read_blob (BangerBlobStore *store, const char *digest, gsize max_size,
                                     GError **error);
gboolean banger_blob_store_write_bytes (BangerBlobStore *store, const char *digest, GBytes *bytes,
                                        GError **error);
gboolean banger_blob_store_write_stream (BangerBlobStore *store, const char *digest,
                                         gint64 expected_size, GInputStream *stream,
                                         GCancellable *cancellable, GError **error);
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
