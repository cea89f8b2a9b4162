/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * BangerPulledImage and BangerOciDescriptor, public (0.2): what a
 * #BangerRegistryClient pull stored, as sealed refcounted boxed types with
 * getters (doc/images.md).  Their structs are private (the pull result's in
 * banger-registry-client-private.h, the descriptor's in
 * banger-oci-manifest.h). */
#pragma once

#if !defined(__BANGER_H_INSIDE__) && !defined(BANGER_COMPILATION)
#error "Only <banger.h> can be included directly."
#endif

#include <glib-object.h>

#include <banger-macros.h>

G_BEGIN_DECLS

typedef struct _BangerOciDescriptor BangerOciDescriptor;
typedef struct _BangerPulledImage BangerPulledImage;

#define BANGER_TYPE_OCI_DESCRIPTOR (banger_oci_descriptor_get_type ())
BANGER_AVAILABLE_IN_0_2
GType banger_oci_descriptor_get_type (void) G_GNUC_CONST;
BANGER_AVAILABLE_IN_0_2
BangerOciDescriptor *banger_oci_descriptor_ref (BangerOciDescriptor *descriptor);
BANGER_AVAILABLE_IN_0_2
void banger_oci_descriptor_unref (BangerOciDescriptor *descriptor);
BANGER_AVAILABLE_IN_0_2
const char *banger_oci_descriptor_get_digest (BangerOciDescriptor *descriptor);
BANGER_AVAILABLE_IN_0_2
const char *banger_oci_descriptor_get_media_type (BangerOciDescriptor *descriptor);
BANGER_AVAILABLE_IN_0_2
guint64 banger_oci_descriptor_get_size (BangerOciDescriptor *descriptor);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerOciDescriptor, banger_oci_descriptor_unref)

#define BANGER_TYPE_PULLED_IMAGE (banger_pulled_image_get_type ())
BANGER_AVAILABLE_IN_0_2
GType banger_pulled_image_get_type (void) G_GNUC_CONST;
BANGER_AVAILABLE_IN_0_2
BangerPulledImage *banger_pulled_image_ref (BangerPulledImage *image);
BANGER_AVAILABLE_IN_0_2
void banger_pulled_image_unref (BangerPulledImage *image);
BANGER_AVAILABLE_IN_0_2
const char *banger_pulled_image_get_reference (BangerPulledImage *image);
BANGER_AVAILABLE_IN_0_2
const char *banger_pulled_image_get_index_digest (BangerPulledImage *image);
BANGER_AVAILABLE_IN_0_2
const char *banger_pulled_image_get_manifest_digest (BangerPulledImage *image);
BANGER_AVAILABLE_IN_0_2
const char *banger_pulled_image_get_config_digest (BangerPulledImage *image);
BANGER_AVAILABLE_IN_0_2
GPtrArray *banger_pulled_image_get_layers (BangerPulledImage *image);
BANGER_AVAILABLE_IN_0_2
guint64 banger_pulled_image_get_total_size (BangerPulledImage *image);
BANGER_AVAILABLE_IN_0_2
guint64 banger_pulled_image_get_downloaded_bytes (BangerPulledImage *image);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerPulledImage, banger_pulled_image_unref)

G_END_DECLS
