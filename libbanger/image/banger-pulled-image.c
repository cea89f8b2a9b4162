/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The pull result and its layer descriptors as refcounted boxed types. */
#include "config.h"

#include "banger-oci-manifest.h"
#include "banger-pulled-image.h"
#include "banger-registry-client.h"

/**
 * BangerOciDescriptor:
 *
 * One blob of an image, as its manifest names it: digest, media type and
 * size.  Sealed; read it with the getters.
 *
 * Since: 0.2
 */
G_DEFINE_BOXED_TYPE (BangerOciDescriptor, banger_oci_descriptor, banger_oci_descriptor_ref,
                     banger_oci_descriptor_unref)

/**
 * banger_oci_descriptor_ref:
 * @descriptor: a #BangerOciDescriptor
 *
 * Returns: (transfer full): @descriptor
 *
 * Since: 0.2
 */
BangerOciDescriptor *
banger_oci_descriptor_ref (BangerOciDescriptor *descriptor)
{
  g_return_val_if_fail (descriptor != NULL, NULL);
  g_atomic_ref_count_inc (&descriptor->ref_count);
  return descriptor;
}

/**
 * banger_oci_descriptor_unref:
 * @descriptor: (transfer full): a #BangerOciDescriptor
 *
 * Drops a reference; the last one frees it.
 *
 * Since: 0.2
 */
void
banger_oci_descriptor_unref (BangerOciDescriptor *descriptor)
{
  banger_oci_descriptor_free (descriptor);
}

/**
 * banger_oci_descriptor_get_digest:
 * @descriptor: a #BangerOciDescriptor
 *
 * Returns: the blob's `sha256:` digest
 *
 * Since: 0.2
 */
const char *
banger_oci_descriptor_get_digest (BangerOciDescriptor *descriptor)
{
  g_return_val_if_fail (descriptor != NULL, NULL);
  return descriptor->digest;
}

/**
 * banger_oci_descriptor_get_media_type:
 * @descriptor: a #BangerOciDescriptor
 *
 * Returns: the blob's media type (for a layer, its tar and compression)
 *
 * Since: 0.2
 */
const char *
banger_oci_descriptor_get_media_type (BangerOciDescriptor *descriptor)
{
  g_return_val_if_fail (descriptor != NULL, NULL);
  return descriptor->media_type;
}

/**
 * banger_oci_descriptor_get_size:
 * @descriptor: a #BangerOciDescriptor
 *
 * Returns: the blob's size in bytes
 *
 * Since: 0.2
 */
guint64
banger_oci_descriptor_get_size (BangerOciDescriptor *descriptor)
{
  g_return_val_if_fail (descriptor != NULL, 0);
  return descriptor->size;
}

/**
 * BangerPulledImage:
 *
 * What banger_registry_client_pull_finish() reports: the image's manifest
 * and config digests and its layers, all in the #BangerBlobStore.  Sealed;
 * read it with the getters.
 *
 * Since: 0.2
 */
G_DEFINE_BOXED_TYPE (BangerPulledImage, banger_pulled_image, banger_pulled_image_ref,
                     banger_pulled_image_unref)

/**
 * banger_pulled_image_ref:
 * @image: a #BangerPulledImage
 *
 * Returns: (transfer full): @image
 *
 * Since: 0.2
 */
BangerPulledImage *
banger_pulled_image_ref (BangerPulledImage *image)
{
  g_return_val_if_fail (image != NULL, NULL);
  g_atomic_ref_count_inc (&image->ref_count);
  return image;
}

/**
 * banger_pulled_image_unref:
 * @image: (transfer full) (nullable): a #BangerPulledImage
 *
 * Drops a reference; the last one frees it.
 *
 * Since: 0.2
 */
void
banger_pulled_image_unref (BangerPulledImage *image)
{
  if (image == NULL || !g_atomic_ref_count_dec (&image->ref_count))
    return;
  g_free (image->reference);
  g_free (image->index_digest);
  g_free (image->manifest_digest);
  g_free (image->config_digest);
  g_clear_pointer (&image->layers, g_ptr_array_unref);
  g_free (image);
}

/**
 * banger_pulled_image_get_reference:
 * @image: a #BangerPulledImage
 *
 * Returns: the normalised reference that was pulled
 *
 * Since: 0.2
 */
const char *
banger_pulled_image_get_reference (BangerPulledImage *image)
{
  g_return_val_if_fail (image != NULL, NULL);
  return image->reference;
}

/**
 * banger_pulled_image_get_index_digest:
 * @image: a #BangerPulledImage
 *
 * Returns: (nullable): the index the manifest was chosen from, or %NULL
 *   when the reference named a manifest
 *
 * Since: 0.2
 */
const char *
banger_pulled_image_get_index_digest (BangerPulledImage *image)
{
  g_return_val_if_fail (image != NULL, NULL);
  return image->index_digest;
}

/**
 * banger_pulled_image_get_manifest_digest:
 * @image: a #BangerPulledImage
 *
 * Returns: the image manifest's `sha256:` digest
 *
 * Since: 0.2
 */
const char *
banger_pulled_image_get_manifest_digest (BangerPulledImage *image)
{
  g_return_val_if_fail (image != NULL, NULL);
  return image->manifest_digest;
}

/**
 * banger_pulled_image_get_config_digest:
 * @image: a #BangerPulledImage
 *
 * Returns: the image config's `sha256:` digest
 *
 * Since: 0.2
 */
const char *
banger_pulled_image_get_config_digest (BangerPulledImage *image)
{
  g_return_val_if_fail (image != NULL, NULL);
  return image->config_digest;
}

/**
 * banger_pulled_image_get_layers:
 * @image: a #BangerPulledImage
 *
 * Returns: (transfer none) (element-type BangerOciDescriptor): the layers,
 *   bottom first
 *
 * Since: 0.2
 */
GPtrArray *
banger_pulled_image_get_layers (BangerPulledImage *image)
{
  g_return_val_if_fail (image != NULL, NULL);
  return image->layers;
}

/**
 * banger_pulled_image_get_total_size:
 * @image: a #BangerPulledImage
 *
 * Returns: the bytes of config and layers together
 *
 * Since: 0.2
 */
guint64
banger_pulled_image_get_total_size (BangerPulledImage *image)
{
  g_return_val_if_fail (image != NULL, 0);
  return image->total_size;
}

/**
 * banger_pulled_image_get_downloaded_bytes:
 * @image: a #BangerPulledImage
 *
 * Returns: the bytes of blobs that crossed the network in this pull (blobs
 *   already in the store are not downloaded again)
 *
 * Since: 0.2
 */
guint64
banger_pulled_image_get_downloaded_bytes (BangerPulledImage *image)
{
  g_return_val_if_fail (image != NULL, 0);
  return image->downloaded_bytes;
}
