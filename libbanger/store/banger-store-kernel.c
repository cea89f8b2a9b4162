/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Kernels in the store (the kernels table). */
#include "config.h"

#include <string.h>

#include "banger-quote.h"
#include "banger-store-private.h"

#define KERNEL_COLUMNS "id, name, kernel_path, initrd_path, cmdline, created_at"
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
  g_free (kernel);
}

static BangerStoreKernel *
kernel_from_row (sqlite3_stmt *stmt)
{
  BangerStoreKernel *kernel = g_new0 (BangerStoreKernel, 1);

  kernel->id = store_column_text (stmt, 0);
  kernel->name = store_column_text (stmt, 1);
  kernel->kernel_path = store_column_text (stmt, 2);
  kernel->initrd_path = store_column_text (stmt, 3);
  kernel->cmdline = store_column_text (stmt, 4);
  kernel->created_at = sqlite3_column_int64 (stmt, 5);
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
  g_autofree char *qname = NULL;
  g_autoptr (GMutexLocker) locker = NULL;
  g_auto (StoreStmt) stmt = NULL;
  int rc;

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
  qname = banger_quote (kernel->name);

  locker = store_lock (store);
  stmt = store_stmt (store,
                     "INSERT INTO kernels (" KERNEL_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                     error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, stored->id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, stored->name, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, stored->kernel_path, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, stored->initrd_path, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, stored->cmdline, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 6, stored->created_at);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_CONSTRAINT_UNIQUE)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_ALREADY_EXISTS,
                   "A kernel named '%s' already exists", qname);
      return NULL;
    }
  if (rc != SQLITE_DONE)
    {
      store_set_error (store, rc, "Adding a kernel", error);
      return NULL;
    }
  return g_steal_pointer (&stored);
}

static BangerStoreKernel *
kernel_get (BangerStore *store, const char *sql, const char *key, const char *what,
            GError **error)
{
  g_autoptr (GMutexLocker) locker = NULL;
  g_auto (StoreStmt) stmt = NULL;
  int rc;

  locker = store_lock (store);
  stmt = store_stmt (store, sql, error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
  rc = store_step (store, stmt, "Reading a kernel", error);
  if (rc == SQLITE_ROW)
    return kernel_from_row (stmt);
  if (rc == SQLITE_DONE)
    {
      g_autofree char *quoted = banger_quote (key);

      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND, "No kernel %s '%s'", what,
                   quoted);
    }
  return NULL;
}

BangerStoreKernel *
banger_store_kernel_get_by_name (BangerStore *store, const char *name, GError **error)
{
  g_return_val_if_fail (store != NULL && name != NULL, NULL);
  return kernel_get (store, "SELECT " KERNEL_COLUMNS " FROM kernels WHERE name = ?1", name,
                     "named", error);
}

BangerStoreKernel *
banger_store_kernel_get_by_id (BangerStore *store, const char *id, GError **error)
{
  g_return_val_if_fail (store != NULL && id != NULL, NULL);
  return kernel_get (store, "SELECT " KERNEL_COLUMNS " FROM kernels WHERE id = ?1", id,
                     "with id", error);
}

GPtrArray *
banger_store_kernel_list (BangerStore *store, GError **error)
{
  g_autoptr (GPtrArray) kernels = g_ptr_array_new_with_free_func (
      (GDestroyNotify) banger_store_kernel_free);
  g_autoptr (GMutexLocker) locker = NULL;
  g_auto (StoreStmt) stmt = NULL;
  int rc;

  g_return_val_if_fail (store != NULL, NULL);
  locker = store_lock (store);
  stmt = store_stmt (store, "SELECT " KERNEL_COLUMNS " FROM kernels ORDER BY name", error);
  if (stmt == NULL)
    return NULL;
  while ((rc = store_step (store, stmt, "Listing kernels", error)) == SQLITE_ROW)
    g_ptr_array_add (kernels, kernel_from_row (stmt));
  return rc == SQLITE_DONE ? g_steal_pointer (&kernels) : NULL;
}

gboolean
banger_store_kernel_delete (BangerStore *store, const char *name, GError **error)
{
  g_autofree char *quoted = NULL;
  g_autoptr (GMutexLocker) locker = NULL;
  g_auto (StoreStmt) stmt = NULL;
  int rc;

  g_return_val_if_fail (store != NULL && name != NULL, FALSE);
  quoted = banger_quote (name);
  locker = store_lock (store);
  stmt = store_stmt (store, "DELETE FROM kernels WHERE name = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (store_is_fk_violation (rc))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_BUSY,
                   "Kernel '%s' is in use by a VM; delete the VM first", quoted);
      return FALSE;
    }
  if (rc != SQLITE_DONE)
    return store_set_error (store, rc, "Deleting a kernel", error);
  if (sqlite3_changes (store->db) == 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND, "No kernel named '%s'", quoted);
      return FALSE;
    }
  return TRUE;
}
