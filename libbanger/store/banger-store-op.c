/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Operations (the operations table). */
#include "config.h"

#include <string.h>

#include "banger-quote.h"
#include "banger-store-private.h"

#define OP_COLUMNS "id, kind, target, state, started_at, ended_at, error_code, error"
#define OP_FIELD_MAX 64

static const char *const op_state_names[] = {
  [BANGER_STORE_OP_RUNNING] = "running",
  [BANGER_STORE_OP_SUCCEEDED] = "succeeded",
  [BANGER_STORE_OP_FAILED] = "failed",
  [BANGER_STORE_OP_CANCELLED] = "cancelled",
};
G_STATIC_ASSERT (G_N_ELEMENTS (op_state_names) == BANGER_STORE_OP_STATE_LAST + 1);

const char *
banger_store_op_state_to_string (BangerStoreOpState state)
{
  return (guint) state < G_N_ELEMENTS (op_state_names) ? op_state_names[state] : NULL;
}

gboolean
banger_store_op_state_from_string (const char *s, BangerStoreOpState *out)
{
  for (guint i = 0; s != NULL && i < G_N_ELEMENTS (op_state_names); i++)
    if (strcmp (op_state_names[i], s) == 0)
      {
        if (out != NULL)
          *out = (BangerStoreOpState) i;
        return TRUE;
      }
  return FALSE;
}

BangerStoreOp *
banger_store_op_copy (const BangerStoreOp *op)
{
  BangerStoreOp *copy;

  g_return_val_if_fail (op != NULL, NULL);
  copy = g_memdup2 (op, sizeof *op);
  copy->id = g_strdup (op->id);
  copy->kind = g_strdup (op->kind);
  copy->target = g_strdup (op->target);
  copy->error_code = g_strdup (op->error_code);
  copy->error = g_strdup (op->error);
  return copy;
}

void
banger_store_op_free (BangerStoreOp *op)
{
  if (op == NULL)
    return;
  g_free (op->id);
  g_free (op->kind);
  g_free (op->target);
  g_free (op->error_code);
  g_free (op->error);
  g_free (op);
}

static BangerStoreOp *
op_from_row (sqlite3_stmt *stmt, GError **error)
{
  g_autoptr (BangerStoreOp) op = g_new0 (BangerStoreOp, 1);

  op->id = store_column_text (stmt, 0);
  op->kind = store_column_text (stmt, 1);
  op->target = store_column_text (stmt, 2);
  op->started_at = sqlite3_column_int64 (stmt, 4);
  op->ended_at = sqlite3_column_int64 (stmt, 5);
  op->error_code = store_column_text (stmt, 6);
  op->error = store_column_text (stmt, 7);
  if (!banger_store_op_state_from_string ((const char *) sqlite3_column_text (stmt, 3),
                                          &op->state))
    {
      g_autofree char *quoted = banger_quote (op->id);

      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                   "The record of operation '%s' holds a state this banger does not know",
                   quoted);
      return NULL;
    }
  return g_steal_pointer (&op);
}

/* 1 to OP_FIELD_MAX bytes from [A-Za-z0-9] and @extra. */
static gboolean
validate_token (const char *what, const char *value, const char *extra, GError **error)
{
  gsize len = value != NULL ? strlen (value) : 0;
  gboolean ok = len > 0 && len <= OP_FIELD_MAX;

  for (gsize i = 0; ok && i < len; i++)
    ok = g_ascii_isalnum (value[i]) || strchr (extra, value[i]) != NULL;
  if (!ok)
    {
      g_autofree char *quoted = banger_quote (value);

      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "Operation %s '%s' must be 1 to %d characters from letters, digits and '%s'",
                   what, quoted, OP_FIELD_MAX, extra);
    }
  return ok;
}

BangerStoreOp *
banger_store_op_begin (BangerStore *store, const char *id, const char *kind, const char *target,
                       GError **error)
{
  g_autoptr (BangerStoreOp) op = NULL;
  g_autoptr (GMutexLocker) locker = NULL;
  g_auto (StoreStmt) stmt = NULL;
  int rc;

  g_return_val_if_fail (store != NULL, NULL);
  if ((id != NULL && !validate_token ("id", id, "_-", error))
      || !validate_token ("kind", kind, "._-", error))
    return NULL;
  op = g_new0 (BangerStoreOp, 1);
  op->id = id != NULL ? g_strdup (id) : store_new_id ();
  op->kind = g_strdup (kind);
  op->target = store_bounded_text (target);
  op->state = BANGER_STORE_OP_RUNNING;
  op->started_at = store_now ();

  locker = store_lock (store);
  stmt = store_stmt (store,
                     "INSERT INTO operations (id, kind, target, state, started_at) "
                     "VALUES (?1, ?2, ?3, 'running', ?4)",
                     error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, op->id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, op->kind, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, op->target, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 4, op->started_at);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_ALREADY_EXISTS,
                   "An operation with id '%s' already exists", op->id);
      return NULL;
    }
  if (rc != SQLITE_DONE)
    {
      store_set_error (store, rc, "Recording an operation", error);
      return NULL;
    }
  return g_steal_pointer (&op);
}

gboolean
banger_store_op_finish (BangerStore *store, const char *id, BangerStoreOpState state,
                        const GError *failure, GError **error)
{
  g_autofree char *quoted = NULL, *message = NULL;
  const char *code = NULL;
  g_autoptr (GMutexLocker) locker = NULL;
  g_auto (StoreStmt) stmt = NULL;
  int rc;

  g_return_val_if_fail (store != NULL && id != NULL, FALSE);
  quoted = banger_quote (id);
  if (state == BANGER_STORE_OP_RUNNING || banger_store_op_state_to_string (state) == NULL)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "Operation '%s' cannot end in state %d", quoted, (int) state);
      return FALSE;
    }
  if (failure != NULL)
    {
      code = failure->domain == BANGER_ERROR ? banger_error_to_name (failure->code)
                                             : banger_error_to_name (BANGER_ERROR_FAILED);
      message = store_bounded_text (failure->message);
    }
  locker = store_lock (store);
  stmt = store_stmt (store,
                     "UPDATE operations SET state = ?2, ended_at = ?3, error_code = ?4, "
                     "error = ?5 WHERE id = ?1 AND state = 'running' RETURNING NULL",
                     error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, banger_store_op_state_to_string (state), -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, store_now ());
  sqlite3_bind_text (stmt, 4, code, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, message, -1, SQLITE_STATIC);
  rc = store_step (store, stmt, "Ending an operation", error);
  if (rc == SQLITE_ROW)
    return store_exec_stmt (store, stmt, "Ending an operation", error);
  if (rc == 0)
    return FALSE;
  store_stmt_release (stmt);
  stmt = store_stmt (store, "SELECT state FROM operations WHERE id = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
  rc = store_step (store, stmt, "Reading an operation", error);
  if (rc == SQLITE_DONE)
    g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND, "No operation with id '%s'",
                 quoted);
  else if (rc == SQLITE_ROW)
    g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                 "Operation '%s' already ended (%s)", quoted,
                 (const char *) sqlite3_column_text (stmt, 0));
  return FALSE;
}

BangerStoreOp *
banger_store_op_get (BangerStore *store, const char *id, GError **error)
{
  g_autoptr (GMutexLocker) locker = NULL;
  g_auto (StoreStmt) stmt = NULL;
  int rc;

  g_return_val_if_fail (store != NULL && id != NULL, NULL);
  locker = store_lock (store);
  stmt = store_stmt (store, "SELECT " OP_COLUMNS " FROM operations WHERE id = ?1", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
  rc = store_step (store, stmt, "Reading an operation", error);
  if (rc == SQLITE_ROW)
    return op_from_row (stmt, error);
  if (rc == SQLITE_DONE)
    {
      g_autofree char *quoted = banger_quote (id);

      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND, "No operation with id '%s'",
                   quoted);
    }
  return NULL;
}

GPtrArray *
banger_store_op_list (BangerStore *store, gboolean running_only, guint limit, GError **error)
{
  g_autoptr (GPtrArray) ops = g_ptr_array_new_with_free_func (
      (GDestroyNotify) banger_store_op_free);
  g_autoptr (GMutexLocker) locker = NULL;
  g_auto (StoreStmt) stmt = NULL;
  int rc;

  g_return_val_if_fail (store != NULL, NULL);
  locker = store_lock (store);
  stmt = store_stmt (store,
                     "SELECT " OP_COLUMNS " FROM operations "
                     "WHERE NOT ?1 OR state = 'running' "
                     "ORDER BY started_at DESC, rowid DESC LIMIT ?2",
                     error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int (stmt, 1, running_only ? 1 : 0);
  sqlite3_bind_int64 (stmt, 2, limit == 0 ? -1 : (gint64) limit);
  while ((rc = store_step (store, stmt, "Listing operations", error)) == SQLITE_ROW)
    {
      BangerStoreOp *op = op_from_row (stmt, error);

      if (op == NULL)
        return NULL;
      g_ptr_array_add (ops, op);
    }
  return rc == SQLITE_DONE ? g_steal_pointer (&ops) : NULL;
}

gboolean
banger_store_op_fail_running (BangerStore *store, const char *message, guint *out_n,
                              GError **error)
{
  g_autofree char *text = NULL;
  g_autoptr (GMutexLocker) locker = NULL;
  g_auto (StoreStmt) stmt = NULL;

  g_return_val_if_fail (store != NULL, FALSE);
  text = store_bounded_text (message);
  locker = store_lock (store);
  stmt = store_stmt (store,
                     "UPDATE operations SET state = 'failed', ended_at = ?1, "
                     "error_code = 'failed', error = ?2 WHERE state = 'running'",
                     error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, store_now ());
  sqlite3_bind_text (stmt, 2, text, -1, SQLITE_STATIC);
  if (!store_exec_stmt (store, stmt, "Ending interrupted operations", error))
    return FALSE;
  if (out_n != NULL)
    *out_n = (guint) sqlite3_changes (store->db);
  return TRUE;
}

gboolean
banger_store_op_prune (BangerStore *store, gint64 ended_before, guint *out_n, GError **error)
{
  g_autoptr (GMutexLocker) locker = NULL;
  g_auto (StoreStmt) stmt = NULL;

  g_return_val_if_fail (store != NULL, FALSE);
  locker = store_lock (store);
  stmt = store_stmt (store,
                     "DELETE FROM operations WHERE state != 'running' AND ended_at < ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, ended_before);
  if (!store_exec_stmt (store, stmt, "Pruning operations", error))
    return FALSE;
  if (out_n != NULL)
    *out_n = (guint) sqlite3_changes (store->db);
  return TRUE;
}
