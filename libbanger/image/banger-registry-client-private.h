/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * BangerRegistryClient's private half: limits, progress reports, the pull
 * result's struct, a pull of a parsed reference, manifests alone.  The
 * public half is banger-registry-client.h. */
#pragma once

#include <gio/gio.h>

#include "banger-blob-store.h"
#include "banger-image-ref.h"
#include "banger-oci-manifest.h"
#include "banger-registry-client.h"

G_BEGIN_DECLS

#define BANGER_REGISTRY_DEFAULT_MAX_PARALLEL 3
#define BANGER_REGISTRY_MAX_PARALLEL_LIMIT 16
#define BANGER_REGISTRY_DEFAULT_RETRIES 4


/* Progress of one pull, delivered in the caller's main context. */
typedef struct
{
  const char *digest;     /* the blob this report is about */
  guint index;            /* its position: 0 = config, 1.. = layers */
  guint64 blob_done;      /* bytes of this blob in the store so far */
  guint64 blob_size;
  guint64 total_done;     /* over config and all layers */
  guint64 total_size;
} BangerPullProgress;

typedef void (*BangerPullProgressFunc) (const BangerPullProgress *progress, gpointer user_data);

struct _BangerPulledImage
{
  gatomicrefcount ref_count;
  char *reference;         /* the normalised reference pulled */
  char *index_digest;      /* NULL when the reference named a manifest */
  char *manifest_digest;
  char *config_digest;
  GPtrArray *layers;       /* BangerOciDescriptor, bottom first */
  guint64 total_size;      /* config + layers */
  guint64 downloaded_bytes; /* what crossed the network for blobs this time */
  guint peak_parallel;     /* most blob downloads seen at once */
};


gboolean banger_registry_client_load_credentials_file (BangerRegistryClient *client,
                                                       const char *path, GError **error);

/* A pull of a parsed reference with progress; finished by
 * banger_registry_client_pull_finish(). */
void banger_registry_client_pull_ref_async (BangerRegistryClient *client, BangerImageRef *ref,
                                            BangerPullProgressFunc progress,
                                            gpointer progress_data,
                                            GDestroyNotify progress_destroy,
                                            GCancellable *cancellable,
                                            GAsyncReadyCallback callback, gpointer user_data);

void banger_registry_client_get_manifest_async (BangerRegistryClient *client,
                                                BangerImageRef *ref, GCancellable *cancellable,
                                                GAsyncReadyCallback callback,
                                                gpointer user_data);
GBytes *banger_registry_client_get_manifest_finish (BangerRegistryClient *client,
                                                    GAsyncResult *result,
                                                    char **out_content_type, char **out_digest,
                                                    GError **error);

G_END_DECLS
