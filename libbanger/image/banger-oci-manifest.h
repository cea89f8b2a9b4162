/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "banger-pulled-image.h"

G_BEGIN_DECLS

#define BANGER_OCI_MEDIA_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define BANGER_OCI_MEDIA_INDEX "application/vnd.oci.image.index.v1+json"
#define BANGER_DOCKER_MEDIA_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define BANGER_DOCKER_MEDIA_LIST "application/vnd.docker.distribution.manifest.list.v2+json"

/* Bounds on what a registry can make us parse or allocate. */
#define BANGER_OCI_MANIFEST_MAX_BYTES (4 * 1024 * 1024)
#define BANGER_OCI_MANIFEST_MAX_ENTRIES 1024

struct _BangerOciDescriptor
{
  gatomicrefcount ref_count;
  char *media_type;
  char *digest;
  guint64 size;
  char *os;           /* index entries only; NULL otherwise */
  char *architecture; /* index entries only */
  char *variant;      /* optional */
};

typedef enum
{
  BANGER_OCI_MANIFEST_IMAGE,
  BANGER_OCI_MANIFEST_INDEX,
} BangerOciManifestKind;

typedef enum
{
  BANGER_LAYER_TAR,
  BANGER_LAYER_TAR_GZIP,
  BANGER_LAYER_TAR_ZSTD,
} BangerLayerCompression;

typedef struct
{
  BangerOciManifestKind kind;
  char *media_type;
  BangerOciDescriptor *config;   /* images only */
  GPtrArray *layers;             /* BangerOciDescriptor; images only */
  GPtrArray *manifests;          /* BangerOciDescriptor; indexes only */
} BangerOciManifest;

/* drops a reference (banger_oci_descriptor_unref()) */
void banger_oci_descriptor_free (BangerOciDescriptor *d);
void banger_oci_manifest_free (BangerOciManifest *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerOciManifest, banger_oci_manifest_free)

BangerOciManifest *banger_oci_manifest_parse (GBytes *bytes, const char *content_type,
                                              GError **error);
const BangerOciDescriptor *banger_oci_manifest_select_platform (const BangerOciManifest *index,
                                                                const char *os,
                                                                const char *architecture,
                                                                const char *variant,
                                                                GError **error);
gboolean banger_oci_layer_compression (const char *media_type, BangerLayerCompression *out,
                                       GError **error);
const char *banger_oci_manifest_accept_header (void);

G_END_DECLS
