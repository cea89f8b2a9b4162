/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The vm_reach table (see banger-store-vm-reach.h). */
#include "config.h"

#include "banger-quote.h"
#include "banger-reach.h"
#include "banger-store-private.h"
#include "banger-store-vm-reach.h"

gboolean
banger_store_vm_reach_set (BangerStore *store, const char *vm_id, const char *publish,
                           const char *egress, GError **error)
{
  g_autoptr (GMutexLocker) locker = NULL;
  g_auto (StoreStmt) stmt = NULL;
  g_autoptr (GArray) list = NULL;
  g_autofree char *canon_publish = NULL;
  g_autofree char *canon_egress = NULL;
  int rc;

  g_return_val_if_fail (store != NULL && vm_id != NULL, FALSE);
  list = banger_publish_list_split (publish, error);
  if (list == NULL)
    return FALSE;
  canon_publish = banger_publish_list_join (list);
  canon_egress = banger_egress_parse (egress, NULL, NULL, error);
  if (canon_egress == NULL)
    return FALSE;
  locker = store_lock (store);
  stmt = store_stmt (
      store, "INSERT OR REPLACE INTO vm_reach (vm_id, publish, egress) VALUES (?1, ?2, ?3)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, vm_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, canon_publish, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, canon_egress, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (store_is_fk_violation (rc))
    {
      g_autofree char *quoted = banger_quote (vm_id);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND, "No VM with id '%s'", quoted);
      return FALSE;
    }
  if (rc != SQLITE_DONE)
    return store_set_error (store, rc, "Recording how a VM is reached", error);
  return TRUE;
}

gboolean
banger_store_vm_reach_get (BangerStore *store, const char *vm_id, char **out_publish,
                           char **out_egress, GError **error)
{
  g_autoptr (GMutexLocker) locker = NULL;
  g_auto (StoreStmt) stmt = NULL;
  int rc;

  g_return_val_if_fail (store != NULL && vm_id != NULL, FALSE);
  locker = store_lock (store);
  stmt = store_stmt (store, "SELECT publish, egress FROM vm_reach WHERE vm_id = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, vm_id, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      if (out_publish != NULL)
        *out_publish = store_column_text (stmt, 0);
      if (out_egress != NULL)
        *out_egress = store_column_text (stmt, 1);
      return TRUE;
    }
  if (rc != SQLITE_DONE)
    return store_set_error (store, rc, "Reading how a VM is reached", error);
  if (out_publish != NULL)
    *out_publish = g_strdup ("");
  if (out_egress != NULL)
    *out_egress = g_strdup ("nat");
  return TRUE;
}
