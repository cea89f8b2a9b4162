/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The tap pool (the taps table): a tap is free (vm_id NULL) or owned by one
 * VM (UNIQUE vm_id). */
#include "config.h"

#include "banger-names.h"
#include "banger-quote.h"
#include "banger-store-private.h"

#define TAP_COLUMNS "name, vm_id, created_at"

BangerStoreTap *
banger_store_tap_copy (const BangerStoreTap *tap)
{
  BangerStoreTap *copy;

  g_return_val_if_fail (tap != NULL, NULL);
  copy = g_new0 (BangerStoreTap, 1);
  copy->name = g_strdup (tap->name);
  copy->vm_id = g_strdup (tap->vm_id);
  copy->created_at = tap->created_at;
  return copy;
}

void
banger_store_tap_free (BangerStoreTap *tap)
{
  if (tap == NULL)
    return;
  g_free (tap->name);
  g_free (tap->vm_id);
  g_free (tap);
}

static gpointer
tap_from_row (BangerStore *store G_GNUC_UNUSED, sqlite3_stmt *stmt,
              GError **error G_GNUC_UNUSED)
{
  BangerStoreTap *tap = g_new0 (BangerStoreTap, 1);

  tap->name = store_column_text (stmt, 0);
  tap->vm_id = store_column_text (stmt, 1);
  tap->created_at = sqlite3_column_int64 (stmt, 2);
  return tap;
}

gboolean
banger_store_tap_add (BangerStore *store, const char *name, GError **error)
{
  g_autoptr (GMutexLocker) locker = NULL;
  g_auto (StoreStmt) stmt = NULL;
  int rc;

  g_return_val_if_fail (store != NULL, FALSE);
  if (!banger_validate_ifname (name, error))
    return FALSE;
  locker = store_lock (store);
  stmt = store_stmt (store, "INSERT INTO taps (" TAP_COLUMNS ") VALUES (?1, NULL, ?2)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, store_now ());
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_ALREADY_EXISTS,
                   "Tap '%s' is already in the pool", name);
      return FALSE;
    }
  if (rc != SQLITE_DONE)
    return store_set_error (store, rc, "Adding a tap", error);
  return TRUE;
}

/* Inside the transaction of banger_store_tap_claim(). */
static BangerStoreTap *
claim_locked (BangerStore *store, const char *vm_id, GError **error)
{
  g_autofree char *qvm = banger_quote (vm_id);
  int rc;

  {
    g_auto (StoreStmt) stmt = store_stmt (store,
                                          "SELECT EXISTS (SELECT 1 FROM vms WHERE id = ?1), "
                                          "(SELECT name FROM taps WHERE vm_id = ?1)",
                                          error);

    if (stmt == NULL)
      return NULL;
    sqlite3_bind_text (stmt, 1, vm_id, -1, SQLITE_STATIC);
    if (store_step (store, stmt, "Reading a VM", error) != SQLITE_ROW)
      return NULL;
    if (sqlite3_column_int (stmt, 0) == 0)
      {
        g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND, "No VM with id '%s'", qvm);
        return NULL;
      }
    if (sqlite3_column_type (stmt, 1) != SQLITE_NULL)
      {
        g_set_error (error, BANGER_ERROR, BANGER_ERROR_ALREADY_EXISTS,
                     "VM '%s' already owns tap '%s'", qvm,
                     (const char *) sqlite3_column_text (stmt, 1));
        return NULL;
      }
  }
  {
    g_auto (StoreStmt) stmt = store_stmt (
        store,
        "UPDATE taps SET vm_id = ?1 WHERE name = "
        "  (SELECT name FROM taps WHERE vm_id IS NULL ORDER BY created_at, name LIMIT 1) "
        "RETURNING " TAP_COLUMNS,
        error);
    BangerStoreTap *tap;

    if (stmt == NULL)
      return NULL;
    sqlite3_bind_text (stmt, 1, vm_id, -1, SQLITE_STATIC);
    rc = store_step (store, stmt, "Claiming a tap", error);
    if (rc == 0)
      return NULL;
    if (rc == SQLITE_DONE)
      {
        g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_BUSY,
                             "The tap pool has no free tap; retry once it is refilled");
        return NULL;
      }
    tap = tap_from_row (store, stmt, NULL);
    /* (finish the statement before the COMMIT) */
    if (store_step (store, stmt, "Claiming a tap", error) != SQLITE_DONE)
      {
        banger_store_tap_free (tap);
        return NULL;
      }
    return tap;
  }
}

BangerStoreTap *
banger_store_tap_claim (BangerStore *store, const char *vm_id, GError **error)
{
  g_autoptr (GMutexLocker) locker = NULL;
  g_autoptr (BangerStoreTap) tap = NULL;

  g_return_val_if_fail (store != NULL && vm_id != NULL, NULL);
  locker = store_lock (store);
  if (!store_begin (store, error))
    return NULL;
  tap = claim_locked (store, vm_id, error);
  if (tap == NULL)
    {
      store_rollback (store);
      return NULL;
    }
  if (!store_commit (store, error))
    return NULL;
  return g_steal_pointer (&tap);
}

gboolean
banger_store_tap_release (BangerStore *store, const char *name, GError **error)
{
  g_autoptr (GMutexLocker) locker = NULL;
  g_auto (StoreStmt) stmt = NULL;

  g_return_val_if_fail (store != NULL && name != NULL, FALSE);
  locker = store_lock (store);
  stmt = store_stmt (store, "UPDATE taps SET vm_id = NULL WHERE name = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
  if (!store_exec_stmt (store, stmt, "Releasing a tap", error))
    return FALSE;
  if (sqlite3_changes (store->db) == 0)
    {
      g_autofree char *quoted = banger_quote (name);

      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND, "Tap '%s' is not in the pool",
                   quoted);
      return FALSE;
    }
  return TRUE;
}

gboolean
banger_store_tap_release_for_vm (BangerStore *store, const char *vm_id, GError **error)
{
  g_autoptr (GMutexLocker) locker = NULL;
  g_auto (StoreStmt) stmt = NULL;

  g_return_val_if_fail (store != NULL && vm_id != NULL, FALSE);
  locker = store_lock (store);
  stmt = store_stmt (store, "UPDATE taps SET vm_id = NULL WHERE vm_id = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, vm_id, -1, SQLITE_STATIC);
  return store_exec_stmt (store, stmt, "Releasing a VM's tap", error);
}

gboolean
banger_store_tap_remove (BangerStore *store, const char *name, GError **error)
{
  g_autofree char *quoted = NULL;
  g_autoptr (GMutexLocker) locker = NULL;
  g_auto (StoreStmt) stmt = NULL;
  int rc;

  g_return_val_if_fail (store != NULL && name != NULL, FALSE);
  quoted = banger_quote (name);
  locker = store_lock (store);
  stmt = store_stmt (store,
                     "DELETE FROM taps WHERE name = ?1 AND vm_id IS NULL "
                     "RETURNING NULL",
                     error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
  rc = store_step (store, stmt, "Removing a tap", error);
  if (rc == SQLITE_ROW)
    return store_exec_stmt (store, stmt, "Removing a tap", error);
  if (rc == 0)
    return FALSE;
  store_stmt_release (stmt);
  stmt = store_stmt (store, "SELECT vm_id FROM taps WHERE name = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
  rc = store_step (store, stmt, "Reading a tap", error);
  if (rc == SQLITE_DONE)
    g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND, "Tap '%s' is not in the pool",
                 quoted);
  else if (rc == SQLITE_ROW)
    g_set_error (error, BANGER_ERROR, BANGER_ERROR_BUSY, "Tap '%s' is owned by VM '%s'", quoted,
                 (const char *) sqlite3_column_text (stmt, 0));
  return FALSE;
}

GPtrArray *
banger_store_tap_list (BangerStore *store, GError **error)
{
  g_return_val_if_fail (store != NULL, NULL);
  return store_row_list (store, "SELECT " TAP_COLUMNS " FROM taps ORDER BY name", tap_from_row,
                         (GDestroyNotify) banger_store_tap_free, "Listing taps", error);
}

gboolean
banger_store_tap_count_free (BangerStore *store, guint *out_count, GError **error)
{
  g_autoptr (GMutexLocker) locker = NULL;
  g_auto (StoreStmt) stmt = NULL;

  g_return_val_if_fail (store != NULL, FALSE);
  locker = store_lock (store);
  stmt = store_stmt (store, "SELECT count(*) FROM taps WHERE vm_id IS NULL", error);
  if (stmt == NULL || store_step (store, stmt, "Counting free taps", error) != SQLITE_ROW)
    return FALSE;
  if (out_count != NULL)
    *out_count = (guint) sqlite3_column_int64 (stmt, 0);
  return TRUE;
}
