/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Images in the store (the images table). */
#include "config.h"

#include <string.h>

#include "banger-quote.h"
#include "banger-store-private.h"

#define IMAGE_COLUMNS "id, name, rootfs_path, size_bytes, digest, created_at, ref"

BangerStoreImage *
banger_store_image_new (const char *name, const char *rootfs_path, guint64 size_bytes,
                        const char *digest)
{
  BangerStoreImage *image = g_new0 (BangerStoreImage, 1);

  image->name = g_strdup (name);
  image->rootfs_path = g_strdup (rootfs_path);
  image->size_bytes = size_bytes;
  image->digest = g_strdup (digest);
  return image;
}

BangerStoreImage *
banger_store_image_copy (const BangerStoreImage *image)
{
  BangerStoreImage *copy;

  g_return_val_if_fail (image != NULL, NULL);
  copy = banger_store_image_new (image->name, image->rootfs_path, image->size_bytes,
                                 image->digest);
  copy->id = g_strdup (image->id);
  copy->ref = g_strdup (image->ref);
  copy->created_at = image->created_at;
  return copy;
}

void
banger_store_image_free (BangerStoreImage *image)
{
  if (image == NULL)
    return;
  g_free (image->id);
  g_free (image->name);
  g_free (image->rootfs_path);
  g_free (image->digest);
  g_free (image->ref);
  g_free (image);
}

static gpointer
image_from_row (BangerStore *store G_GNUC_UNUSED, sqlite3_stmt *stmt,
                GError **error G_GNUC_UNUSED)
{
  BangerStoreImage *image = g_new0 (BangerStoreImage, 1);

  image->id = store_column_text (stmt, 0);
  image->name = store_column_text (stmt, 1);
  image->rootfs_path = store_column_text (stmt, 2);
  image->size_bytes = (guint64) sqlite3_column_int64 (stmt, 3);
  image->digest = store_column_text (stmt, 4);
  image->created_at = sqlite3_column_int64 (stmt, 5);
  image->ref = store_column_text (stmt, 6);
  return image;
}

static gboolean
validate_digest (const char *digest, GError **error)
{
  g_autofree char *quoted = banger_quote (digest);

  if (digest == NULL)
    return TRUE;
  if (g_str_has_prefix (digest, "sha256:") && strlen (digest) == 7 + 64)
    {
      gboolean hex = TRUE;

      for (const char *p = digest + 7; *p != '\0'; p++)
        hex = hex && g_ascii_isxdigit (*p) && !g_ascii_isupper (*p);
      if (hex)
        return TRUE;
    }
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
               "Image digest '%s' is not 'sha256:' followed by 64 lowercase hex digits", quoted);
  return FALSE;
}

BangerStoreImage *
banger_store_image_add (BangerStore *store, const BangerStoreImage *image, GError **error)
{
  g_autoptr (BangerStoreImage) stored = NULL;
  g_autoptr (GMutexLocker) locker = NULL;
  g_auto (StoreStmt) stmt = NULL;

  g_return_val_if_fail (store != NULL && image != NULL, NULL);
  if (!banger_store_validate_object_name ("Image", image->name, error)
      || !store_check_path ("Image root filesystem", image->rootfs_path, FALSE, error)
      || !validate_digest (image->digest, error))
    return NULL;
  if (image->size_bytes > G_MAXINT64)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "Image size %" G_GUINT64_FORMAT " is out of range", image->size_bytes);
      return NULL;
    }
  stored = banger_store_image_copy (image);
  g_free (stored->id);
  stored->id = store_new_id ();
  stored->created_at = store_now ();

  locker = store_lock (store);
  stmt = store_stmt (store,
                                        "INSERT INTO images (" IMAGE_COLUMNS ") "
                                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                                        error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, stored->id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, stored->name, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, stored->rootfs_path, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 4, (gint64) stored->size_bytes);
  sqlite3_bind_text (stmt, 5, stored->digest, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 6, stored->created_at);
  sqlite3_bind_text (stmt, 7, stored->ref, -1, SQLITE_STATIC);
  if (!store_row_insert (store, stmt, "An image", stored->name, "Adding an image", error))
    return NULL;
  return g_steal_pointer (&stored);
}

BangerStoreImage *
banger_store_image_get_by_name (BangerStore *store, const char *name, GError **error)
{
  g_return_val_if_fail (store != NULL && name != NULL, NULL);
  return store_row_get (store, "SELECT " IMAGE_COLUMNS " FROM images WHERE name = ?1", name,
                        image_from_row, "Reading an image", "image", "named",
                        error);
}

/* The newest image pulled from @ref (a normalised reference). */
BangerStoreImage *
banger_store_image_get_by_ref (BangerStore *store, const char *ref, GError **error)
{
  g_return_val_if_fail (store != NULL && ref != NULL, NULL);
  return store_row_get (store,
                        "SELECT " IMAGE_COLUMNS " FROM images WHERE ref = ?1 "
                        "ORDER BY created_at DESC LIMIT 1",
                        ref, image_from_row, "Reading an image", "image", "pulled from", error);
}

BangerStoreImage *
banger_store_image_get_by_id (BangerStore *store, const char *id, GError **error)
{
  g_return_val_if_fail (store != NULL && id != NULL, NULL);
  return store_row_get (store, "SELECT " IMAGE_COLUMNS " FROM images WHERE id = ?1", id,
                        image_from_row, "Reading an image", "image", "with id",
                        error);
}

GPtrArray *
banger_store_image_list (BangerStore *store, GError **error)
{
  g_return_val_if_fail (store != NULL, NULL);
  return store_row_list (store, "SELECT " IMAGE_COLUMNS " FROM images ORDER BY name",
                         image_from_row, (GDestroyNotify) banger_store_image_free,
                         "Listing images", error);
}

gboolean
banger_store_image_delete (BangerStore *store, const char *name, GError **error)
{
  static const StoreRowDelete row = {
    "DELETE FROM images WHERE name = ?1", "Image", "is in use by a VM; delete the VM first",
    "Deleting an image", "image named",
  };

  g_return_val_if_fail (store != NULL && name != NULL, FALSE);
  return store_row_delete (store, &row, name, error);
}
