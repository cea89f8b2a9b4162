/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Kernels in the store (the kernels table). */
#include "config.h"

#include <string.h>

#include "banger-quote.h"
#include "banger-store-private.h"

#define KERNEL_COLUMNS "id, name, kernel_path, initrd_path, cmdline, created_at, ref, digest"
#define CMDLINE_MAX 2048

BangerStoreKernel *
banger_store_kernel_new (const char *name, const char *kernel_path, const char *initrd_path,
                         const char *cmdline)
{
  BangerStoreKernel *kernel = g_new0 (BangerStoreKernel, 1);

  kernel->name = g_strdup (name);
  kernel->kernel_path = g_strdup (kernel_path);
  kernel->initrd_path = g_strdup (initrd_path);
  kernel->cmdline = g_strdup (cmdline);
  return kernel;
}

BangerStoreKernel *
banger_store_kernel_copy (const BangerStoreKernel *kernel)
{
  BangerStoreKernel *copy;

  g_return_val_if_fail (kernel != NULL, NULL);
  copy = banger_store_kernel_new (kernel->name, kernel->kernel_path, kernel->initrd_path,
                                  kernel->cmdline);
  copy->id = g_strdup (kernel->id);
  copy->created_at = kernel->created_at;
  copy->ref = g_strdup (kernel->ref);
  copy->digest = g_strdup (kernel->digest);
  return copy;
}

void
banger_store_kernel_free (BangerStoreKernel *kernel)
{
  if (kernel == NULL)
    return;
  g_free (kernel->id);
  g_free (kernel->name);
  g_free (kernel->kernel_path);
  g_free (kernel->initrd_path);
  g_free (kernel->cmdline);
  g_free (kernel->ref);
  g_free (kernel->digest);
  g_free (kernel);
}

static gpointer
kernel_from_row (BangerStore *store G_GNUC_UNUSED, sqlite3_stmt *stmt,
                 GError **error G_GNUC_UNUSED)
{
  BangerStoreKernel *kernel = g_new0 (BangerStoreKernel, 1);

  kernel->id = store_column_text (stmt, 0);
  kernel->name = store_column_text (stmt, 1);
  kernel->kernel_path = store_column_text (stmt, 2);
  kernel->initrd_path = store_column_text (stmt, 3);
  kernel->cmdline = store_column_text (stmt, 4);
  kernel->created_at = sqlite3_column_int64 (stmt, 5);
  kernel->ref = store_column_text (stmt, 6);
  kernel->digest = store_column_text (stmt, 7);
  return kernel;
}

static gboolean
validate_cmdline (const char *cmdline, GError **error)
{
  g_autofree char *quoted = banger_quote (cmdline);

  if (cmdline == NULL)
    return TRUE;
  if (strlen (cmdline) > CMDLINE_MAX)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "Kernel command line '%s' is longer than %d bytes", quoted, CMDLINE_MAX);
      return FALSE;
    }
  for (const char *p = cmdline; *p != '\0'; p++)
    if ((guchar) *p < 0x20 || (guchar) *p >= 0x7f)
      {
        g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                     "Kernel command line '%s' holds a control or non-ASCII byte", quoted);
        return FALSE;
      }
  return TRUE;
}

BangerStoreKernel *
banger_store_kernel_add (BangerStore *store, const BangerStoreKernel *kernel, GError **error)
{
  g_autoptr (BangerStoreKernel) stored = NULL;
  g_autoptr (GMutexLocker) locker = NULL;
  g_auto (StoreStmt) stmt = NULL;

  g_return_val_if_fail (store != NULL && kernel != NULL, NULL);
  if (!banger_store_validate_object_name ("Kernel", kernel->name, error)
      || !store_check_path ("Kernel image", kernel->kernel_path, FALSE, error)
      || !store_check_path ("Kernel initrd", kernel->initrd_path, TRUE, error)
      || !validate_cmdline (kernel->cmdline, error))
    return NULL;
  stored = banger_store_kernel_copy (kernel);
  g_free (stored->id);
  stored->id = store_new_id ();
  stored->created_at = store_now ();

  locker = store_lock (store);
  stmt = store_stmt (store,
                     "INSERT INTO kernels (" KERNEL_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                     error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, stored->id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, stored->name, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, stored->kernel_path, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, stored->initrd_path, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, stored->cmdline, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 6, stored->created_at);
  sqlite3_bind_text (stmt, 7, stored->ref, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 8, stored->digest, -1, SQLITE_STATIC);
  if (!store_row_insert (store, stmt, "A kernel", stored->name, "Adding a kernel", error))
    return NULL;
  return g_steal_pointer (&stored);
}

BangerStoreKernel *
banger_store_kernel_get_by_name (BangerStore *store, const char *name, GError **error)
{
  g_return_val_if_fail (store != NULL && name != NULL, NULL);
  return store_row_get (store, "SELECT " KERNEL_COLUMNS " FROM kernels WHERE name = ?1", name,
                        kernel_from_row, "Reading a kernel", "kernel", "named",
                        error);
}

BangerStoreKernel *
banger_store_kernel_get_by_id (BangerStore *store, const char *id, GError **error)
{
  g_return_val_if_fail (store != NULL && id != NULL, NULL);
  return store_row_get (store, "SELECT " KERNEL_COLUMNS " FROM kernels WHERE id = ?1", id,
                        kernel_from_row, "Reading a kernel", "kernel", "with id",
                        error);
}

GPtrArray *
banger_store_kernel_list (BangerStore *store, GError **error)
{
  g_return_val_if_fail (store != NULL, NULL);
  return store_row_list (store, "SELECT " KERNEL_COLUMNS " FROM kernels ORDER BY name",
                         kernel_from_row, (GDestroyNotify) banger_store_kernel_free,
                         "Listing kernels", error);
}

gboolean
banger_store_kernel_delete (BangerStore *store, const char *name, GError **error)
{
  static const StoreRowDelete row = {
    "DELETE FROM kernels WHERE name = ?1", "Kernel", "is in use by a VM; delete the VM first",
    "Deleting a kernel", "kernel named",
  };

  g_return_val_if_fail (store != NULL && name != NULL, FALSE);
  return store_row_delete (store, &row, name, error);
}
