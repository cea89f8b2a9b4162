/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "banger-blob-store.h"
#include "banger-image-ref.h"
#include "banger-oci-manifest.h"

G_BEGIN_DECLS

#define BANGER_REGISTRY_DEFAULT_MAX_PARALLEL 3
#define BANGER_REGISTRY_MAX_PARALLEL_LIMIT 16
#define BANGER_REGISTRY_DEFAULT_RETRIES 4

#define BANGER_TYPE_REGISTRY_CLIENT (banger_registry_client_get_type ())
G_DECLARE_FINAL_TYPE (BangerRegistryClient, banger_registry_client, BANGER, REGISTRY_CLIENT,
                      GObject)

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

typedef struct
{
  char *reference;         /* the normalised reference pulled */
  char *index_digest;      /* NULL when the reference named a manifest */
  char *manifest_digest;
  char *config_digest;
  GPtrArray *layers;       /* BangerOciDescriptor, bottom first */
  guint64 total_size;      /* config + layers */
  guint64 downloaded_bytes; /* what crossed the network for blobs this time */
  guint peak_parallel;     /* most blob downloads seen at once */
} BangerPulledImage;

void banger_pulled_image_free (BangerPulledImage *image);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerPulledImage, banger_pulled_image_free)

BangerRegistryClient *banger_registry_client_new (BangerBlobStore *store);
void banger_registry_client_set_insecure_hosts (BangerRegistryClient *client,
                                                const char *const *hosts);
void banger_registry_client_set_tls_database (BangerRegistryClient *client,
                                              GTlsDatabase *database);
void banger_registry_client_set_max_parallel (BangerRegistryClient *client, guint max_parallel);
void banger_registry_client_set_retries (BangerRegistryClient *client, guint retries,
                                         guint base_delay_ms);
void banger_registry_client_set_platform (BangerRegistryClient *client, const char *os,
                                          const char *architecture, const char *variant);
void banger_registry_client_set_credentials (BangerRegistryClient *client, const char *registry,
                                             const char *username, const char *password);
gboolean banger_registry_client_load_credentials_file (BangerRegistryClient *client,
                                                       const char *path, GError **error);

void banger_registry_client_pull_async (BangerRegistryClient *client, BangerImageRef *ref,
                                        BangerPullProgressFunc progress, gpointer progress_data,
                                        GDestroyNotify progress_destroy,
                                        GCancellable *cancellable, GAsyncReadyCallback callback,
                                        gpointer user_data);
BangerPulledImage *banger_registry_client_pull_finish (BangerRegistryClient *client,
                                                       GAsyncResult *result, GError **error);

void banger_registry_client_get_manifest_async (BangerRegistryClient *client,
                                                BangerImageRef *ref, GCancellable *cancellable,
                                                GAsyncReadyCallback callback,
                                                gpointer user_data);
GBytes *banger_registry_client_get_manifest_finish (BangerRegistryClient *client,
                                                    GAsyncResult *result,
                                                    char **out_content_type, char **out_digest,
                                                    GError **error);

G_END_DECLS
