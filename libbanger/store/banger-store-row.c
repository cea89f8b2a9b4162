/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The steps the record files share: adding a named row, reading one row by
 * a key, listing rows and deleting one row by a key, each under the store's
 * lock with the store's messages. */
#include "config.h"

#include "banger-quote.h"
#include "banger-store-private.h"

gboolean
store_row_insert (BangerStore *store, sqlite3_stmt *stmt, const char *a_noun,
                  const char *name, const char *what, GError **error)
{
  int rc = sqlite3_step (stmt);

  if (rc == SQLITE_CONSTRAINT_UNIQUE)
    {
      g_autofree char *quoted = banger_quote (name);

      g_set_error (error, BANGER_ERROR, BANGER_ERROR_ALREADY_EXISTS,
                   "%s named '%s' already exists", a_noun, quoted);
      return FALSE;
    }
  if (rc != SQLITE_DONE)
    return store_set_error (store, rc, what, error);
  return TRUE;
}

gpointer
store_row_get (BangerStore *store, const char *sql, const char *key, StoreRowFunc from_row,
               const char *reading, const char *noun, const char *how, GError **error)
{
  g_autoptr (GMutexLocker) locker = NULL;
  g_auto (StoreStmt) stmt = NULL;
  int rc;

  locker = store_lock (store);
  stmt = store_stmt (store, sql, error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
  rc = store_step (store, stmt, reading, error);
  if (rc == SQLITE_ROW)
    return from_row (store, stmt, error);
  if (rc == SQLITE_DONE)
    {
      g_autofree char *quoted = banger_quote (key);

      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND, "No %s %s '%s'", noun, how,
                   quoted);
    }
  return NULL;
}

GPtrArray *
store_row_list (BangerStore *store, const char *sql, StoreRowFunc from_row,
                GDestroyNotify free_row, const char *what, GError **error)
{
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func (free_row);
  g_autoptr (GMutexLocker) locker = NULL;
  g_auto (StoreStmt) stmt = NULL;
  int rc;

  locker = store_lock (store);
  stmt = store_stmt (store, sql, error);
  if (stmt == NULL)
    return NULL;
  while ((rc = store_step (store, stmt, what, error)) == SQLITE_ROW)
    {
      gpointer row = from_row (store, stmt, error);

      if (row == NULL)
        return NULL;
      g_ptr_array_add (rows, row);
    }
  return rc == SQLITE_DONE ? g_steal_pointer (&rows) : NULL;
}

gboolean
store_row_delete (BangerStore *store, const StoreRowDelete *row, const char *key,
                  GError **error)
{
  g_autofree char *quoted = NULL;
  g_autoptr (GMutexLocker) locker = NULL;
  g_auto (StoreStmt) stmt = NULL;
  int rc;

  quoted = banger_quote (key);
  locker = store_lock (store);
  stmt = store_stmt (store, row->sql, error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (store_is_fk_violation (rc))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_BUSY, "%s '%s' %s", row->noun, quoted,
                   row->in_use);
      return FALSE;
    }
  if (rc != SQLITE_DONE)
    return store_set_error (store, rc, row->deleting, error);
  if (sqlite3_changes (store->db) == 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND, "No %s '%s'", row->missing,
                   quoted);
      return FALSE;
    }
  return TRUE;
}
