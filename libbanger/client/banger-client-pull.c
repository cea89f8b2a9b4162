/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * BangerClient's pulls: image.pull, kernel.pull, image.prune
 * (doc/client.md, doc/images.md). */
#include "config.h"

#include "banger-client-private.h"
#include "banger-error.h"

/**
 * banger_client_image_pull_async:
 * @client: a #BangerClient
 * @ref: an OCI image reference (`registry/repo:tag`, `…@sha256:…`; Docker
 *   Hub short names such as `alpine:3.19` are expanded the usual way)
 * @name: (nullable): the image's name; %NULL: made from @ref (the
 *   repository's last component, `-`, the tag: `alpine-3.19`)
 * @size_bytes: the ext4 file system's size; 0: content plus headroom
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Pulls the image from its registry into the engine's content store (for
 * linux/amd64; blobs verified while they stream; blobs already there are
 * not downloaded again) and builds its ext4 root file system.  The same
 * reference pulled by another caller at the same time is fetched once.
 * An image of that name pulled from the same reference and still at the
 * registry's digest is the result as it is.  Registries, mirrors, CAs and
 * credentials come from the engine's config (`[registries]`).
 *
 * Since: 0.2
 */
void
banger_client_image_pull_async (BangerClient *client, const char *ref, const char *name,
                                guint64 size_bytes, GCancellable *cancellable,
                                GAsyncReadyCallback callback, gpointer user_data)
{
  JsonObject *p;

  g_return_if_fail (BANGER_IS_CLIENT (client));
  g_return_if_fail (ref != NULL);
  p = json_object_new ();
  json_object_set_string_member (p, "ref", ref);
  if (name != NULL)
    json_object_set_string_member (p, "name", name);
  if (size_bytes > 0)
    json_object_set_int_member (p, "size_bytes", (gint64)MIN (size_bytes, (guint64)G_MAXINT64));
  banger_client_call (client, "image.pull", p, banger_client_convert_image,
                      (GDestroyNotify)banger_image_info_unref, banger_client_image_pull_async,
                      cancellable, callback, user_data);
}

/**
 * banger_client_image_pull_finish:
 * @client: a #BangerClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Errors: %BANGER_ERROR_INVALID_ARGUMENT for a malformed reference or
 * name; %BANGER_ERROR_NOT_FOUND for a reference the registry does not
 * have; %BANGER_ERROR_PERMISSION_DENIED when the registry refuses access;
 * %BANGER_ERROR_PROTOCOL for content that does not match its digest
 * (nothing is kept); %BANGER_ERROR_ALREADY_EXISTS for a name taken by
 * another image; %BANGER_ERROR_UNSUPPORTED for an image that does not meet
 * the guest contract (doc/guest.md).
 *
 * Returns: (transfer full): the image, or %NULL with @error set
 *
 * Since: 0.2
 */
BangerImageInfo *
banger_client_image_pull_finish (BangerClient *client, GAsyncResult *result, GError **error)
{
  return banger_client_call_finish (client, result, banger_client_image_pull_async, error);
}

/**
 * banger_client_kernel_pull_async:
 * @client: a #BangerClient
 * @source: a banger kernel artifact's OCI reference, or an `https://` URL
 *   of a kernel image
 * @name: (nullable): the kernel's name; %NULL: made from @source
 * @sha256: (nullable): for a URL (required): the 64 lowercase hex digits
 *   the file must hash to; %NULL for a reference
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Pulls a guest kernel (and the artifact's initrd and command line) and
 * records it, as banger_client_kernel_add_async() does for files.  The
 * artifact format is in doc/images.md.
 *
 * Since: 0.2
 */
void
banger_client_kernel_pull_async (BangerClient *client, const char *source, const char *name,
                                 const char *sha256, GCancellable *cancellable,
                                 GAsyncReadyCallback callback, gpointer user_data)
{
  JsonObject *p;

  g_return_if_fail (BANGER_IS_CLIENT (client));
  g_return_if_fail (source != NULL);
  p = json_object_new ();
  json_object_set_string_member (p, "source", source);
  if (name != NULL)
    json_object_set_string_member (p, "name", name);
  if (sha256 != NULL)
    json_object_set_string_member (p, "sha256", sha256);
  banger_client_call (client, "kernel.pull", p, banger_client_convert_kernel,
                      (GDestroyNotify)banger_kernel_info_unref, banger_client_kernel_pull_async,
                      cancellable, callback, user_data);
}

/**
 * banger_client_kernel_pull_finish:
 * @client: a #BangerClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Errors as banger_client_image_pull_finish(); a URL without a valid
 * @sha256 is %BANGER_ERROR_INVALID_ARGUMENT, content with another sha256
 * %BANGER_ERROR_PROTOCOL, a reference that is not a kernel artifact
 * %BANGER_ERROR_UNSUPPORTED.
 *
 * Returns: (transfer full): the kernel, or %NULL with @error set
 *
 * Since: 0.2
 */
BangerKernelInfo *
banger_client_kernel_pull_finish (BangerClient *client, GAsyncResult *result, GError **error)
{
  return banger_client_call_finish (client, result, banger_client_kernel_pull_async, error);
}

typedef struct
{
  guint removed;
  guint64 bytes;
} PruneResult;

static gpointer
convert_prune (JsonObject *result, GError **error)
{
  JsonNode *removed = json_object_get_member (result, "removed_blobs");
  JsonNode *bytes = json_object_get_member (result, "removed_bytes");
  PruneResult *r;

  if (removed == NULL || bytes == NULL || !JSON_NODE_HOLDS_VALUE (removed)
      || !JSON_NODE_HOLDS_VALUE (bytes) || json_node_get_value_type (removed) != G_TYPE_INT64
      || json_node_get_value_type (bytes) != G_TYPE_INT64)
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                           "The engine's prune reply lacks removed_blobs or removed_bytes");
      return NULL;
    }
  r = g_new0 (PruneResult, 1);
  r->removed = (guint)json_node_get_int (removed);
  r->bytes = (guint64)json_node_get_int (bytes);
  return r;
}

/**
 * banger_client_image_prune_async:
 * @client: a #BangerClient
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Removes from the engine's content store every blob that no image or
 * kernel refers to, and stale partial downloads.  Waits for pulls in
 * progress.
 *
 * Since: 0.2
 */
void
banger_client_image_prune_async (BangerClient *client, GCancellable *cancellable,
                                 GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (BANGER_IS_CLIENT (client));
  banger_client_call (client, "image.prune", json_object_new (), convert_prune, g_free,
                      banger_client_image_prune_async, cancellable, callback, user_data);
}

/**
 * banger_client_image_prune_finish:
 * @client: a #BangerClient
 * @result: the #GAsyncResult
 * @out_removed_blobs: (out) (optional): how many blobs were removed
 * @out_removed_bytes: (out) (optional): how many bytes they held
 * @error: return location for a #GError
 *
 * Returns: %TRUE on success
 *
 * Since: 0.2
 */
gboolean
banger_client_image_prune_finish (BangerClient *client, GAsyncResult *result,
                                  guint *out_removed_blobs, guint64 *out_removed_bytes,
                                  GError **error)
{
  g_autofree PruneResult *r
      = banger_client_call_finish (client, result, banger_client_image_prune_async, error);

  if (r == NULL)
    return FALSE;
  if (out_removed_blobs != NULL)
    *out_removed_blobs = r->removed;
  if (out_removed_bytes != NULL)
    *out_removed_bytes = r->bytes;
  return TRUE;
}
