/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * From a pulled image in the content store to an ext4 root file system:
 * each layer streamed from the store through the unpacker (hashed again on
 * the way: one pass, no copy), the ownership records, mkfs, rename into
 * place.  The staging tree is always removed. */
#include "config.h"

#include "banger-digest.h"
#include "banger-error.h"
#include "banger-image-build.h"
#include "banger-layer-unpack.h"
#include "banger-oci-manifest.h"
#include "banger-rootfs-ext4.h"

/**
 * banger_image_build_rootfs:
 * @store: the content store holding the image
 * @manifest_digest: the image manifest (not an index)
 * @work_dir: a directory for the staging tree (on a file system with room
 *   for the unpacked image)
 * @dest: where the ext4 image goes (replaced atomically)
 * @size_bytes: the image size, or 0 for content plus headroom
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Builds the root file system of a stored image.  Errors are those of
 * banger_rootfs_staging_apply_layer() and banger_rootfs_build_ext4(), and
 * %BANGER_ERROR_NOT_FOUND when the store lacks the manifest or a layer.
 *
 * Returns: %TRUE when @dest holds the image
 */
gboolean
banger_image_build_rootfs (BangerBlobStore *store, const char *manifest_digest,
                           const char *work_dir, const char *dest, guint64 size_bytes,
                           GCancellable *cancellable, GError **error)
{
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (BangerOciManifest) m = NULL;
  g_autoptr (BangerRootfsStaging) staging = NULL;
  g_autofree char *name = NULL;
  g_autofree char *dir = NULL;
  gboolean ok = TRUE;

  bytes = banger_blob_store_read_blob (store, manifest_digest, BANGER_OCI_MANIFEST_MAX_BYTES,
                                       error);
  if (bytes == NULL)
    return FALSE;
  m = banger_oci_manifest_parse (bytes, NULL, error);
  if (m == NULL)
    return FALSE;
  if (m->kind != BANGER_OCI_MANIFEST_IMAGE)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "'%s' is an image index, not an image manifest", manifest_digest);
      return FALSE;
    }
  name = g_strdup_printf ("staging-%.12s-%08x", manifest_digest + 7, g_random_int ());
  dir = g_build_filename (work_dir, name, NULL);
  staging = banger_rootfs_staging_new (dir, error);
  if (staging == NULL)
    return FALSE;
  for (guint i = 0; ok && i < m->layers->len; i++)
    {
      const BangerOciDescriptor *d = m->layers->pdata[i];
      g_autoptr (GInputStream) in = NULL;
      BangerLayerCompression comp;

      ok = banger_oci_layer_compression (d->media_type, &comp, error);
      if (ok)
        ok = (in = banger_blob_store_open_blob (store, d->digest, error)) != NULL;
      if (ok)
        ok = banger_rootfs_staging_apply_layer (staging, in, comp, d->digest, (gint64) d->size,
                                                NULL, cancellable, error);
    }
  if (ok)
    ok = banger_rootfs_staging_finish (staging, error);
  if (ok)
    ok = banger_rootfs_build_ext4 (banger_rootfs_staging_get_tree_path (staging),
                                   banger_rootfs_staging_get_ownership_path (staging), dest,
                                   size_bytes, cancellable, error);
  /* the tree is not needed either way; a failure to remove it is not the
   * caller's failure when the image was built */
  (void) banger_rootfs_staging_delete (staging, NULL);
  return ok;
}

typedef struct
{
  char *manifest_digest;
  char *work_dir;
  char *dest;
  guint64 size_bytes;
} BuildData;

static void
build_data_free (BuildData *d)
{
  g_free (d->manifest_digest);
  g_free (d->work_dir);
  g_free (d->dest);
  g_free (d);
}

static void
build_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  BuildData *d = task_data;
  GError *error = NULL;

  if (banger_image_build_rootfs (source, d->manifest_digest, d->work_dir, d->dest, d->size_bytes,
                                 cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

/**
 * banger_image_build_rootfs_async:
 * @store: the content store holding the image
 * @manifest_digest: the image manifest
 * @work_dir: a directory for the staging tree
 * @dest: where the ext4 image goes
 * @size_bytes: the image size, or 0 for content plus headroom
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: (closure callback): data for @callback
 *
 * banger_image_build_rootfs() in a worker thread.
 */
void
banger_image_build_rootfs_async (BangerBlobStore *store, const char *manifest_digest,
                                 const char *work_dir, const char *dest, guint64 size_bytes,
                                 GCancellable *cancellable, GAsyncReadyCallback callback,
                                 gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (store, cancellable, callback, user_data);
  BuildData *d = g_new0 (BuildData, 1);

  g_task_set_source_tag (task, banger_image_build_rootfs_async);
  g_task_set_check_cancellable (task, FALSE);
  d->manifest_digest = g_strdup (manifest_digest);
  d->work_dir = g_strdup (work_dir);
  d->dest = g_strdup (dest);
  d->size_bytes = size_bytes;
  g_task_set_task_data (task, d, (GDestroyNotify) build_data_free);
  g_task_run_in_thread (task, build_thread);
}

/**
 * banger_image_build_rootfs_finish:
 * @store: the content store
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: %TRUE when the image was built
 */
gboolean
banger_image_build_rootfs_finish (BangerBlobStore *store, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, store), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
