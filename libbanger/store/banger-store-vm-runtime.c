/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The handles of running VMs (the vm_runtime table), apart from the spec.
 * Reads join the VM's tap and lease rows for tap and ip, so those are stored
 * once (in taps and ip_leases). */
#include "config.h"

#include "banger-quote.h"
#include "banger-store-private.h"

#define RUNTIME_SELECT                                                                         \
  "SELECT r.vm_id, r.pid, r.start_time, r.cgroup, r.api_socket, r.log_path, r.updated_at, "    \
  "(SELECT t.name FROM taps t WHERE t.vm_id = r.vm_id), "                                      \
  "(SELECT l.address FROM ip_leases l WHERE l.vm_id = r.vm_id ORDER BY l.subnet LIMIT 1) "     \
  "FROM vm_runtime r "

BangerStoreVmRuntime *
banger_store_vm_runtime_new (const char *vm_id, gint pid, guint64 start_time)
{
  BangerStoreVmRuntime *rt = g_new0 (BangerStoreVmRuntime, 1);

  rt->vm_id = g_strdup (vm_id);
  rt->pid = pid;
  rt->start_time = start_time;
  return rt;
}

BangerStoreVmRuntime *
banger_store_vm_runtime_copy (const BangerStoreVmRuntime *rt)
{
  BangerStoreVmRuntime *copy;

  g_return_val_if_fail (rt != NULL, NULL);
  copy = g_memdup2 (rt, sizeof *rt);
  copy->vm_id = g_strdup (rt->vm_id);
  copy->cgroup = g_strdup (rt->cgroup);
  copy->api_socket = g_strdup (rt->api_socket);
  copy->log_path = g_strdup (rt->log_path);
  copy->tap = g_strdup (rt->tap);
  copy->ip = g_strdup (rt->ip);
  return copy;
}

void
banger_store_vm_runtime_free (BangerStoreVmRuntime *rt)
{
  if (rt == NULL)
    return;
  g_free (rt->vm_id);
  g_free (rt->cgroup);
  g_free (rt->api_socket);
  g_free (rt->log_path);
  g_free (rt->tap);
  g_free (rt->ip);
  g_free (rt);
}

static gpointer
runtime_from_row (BangerStore *store G_GNUC_UNUSED, sqlite3_stmt *stmt,
                  GError **error G_GNUC_UNUSED)
{
  BangerStoreVmRuntime *rt = g_new0 (BangerStoreVmRuntime, 1);

  rt->vm_id = store_column_text (stmt, 0);
  rt->pid = sqlite3_column_int (stmt, 1);
  rt->start_time = (guint64) sqlite3_column_int64 (stmt, 2);
  rt->cgroup = store_column_text (stmt, 3);
  rt->api_socket = store_column_text (stmt, 4);
  rt->log_path = store_column_text (stmt, 5);
  rt->updated_at = sqlite3_column_int64 (stmt, 6);
  rt->tap = store_column_text (stmt, 7);
  if (sqlite3_column_type (stmt, 8) != SQLITE_NULL)
    rt->ip = store_address_to_string ((guint32) sqlite3_column_int64 (stmt, 8));
  return rt;
}

gboolean
banger_store_vm_runtime_set (BangerStore *store, const BangerStoreVmRuntime *rt, GError **error)
{
  g_autoptr (GMutexLocker) locker = NULL;
  g_auto (StoreStmt) stmt = NULL;
  int rc;

  g_return_val_if_fail (store != NULL && rt != NULL && rt->vm_id != NULL, FALSE);
  if (rt->pid <= 0 || rt->start_time > G_MAXINT64)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "A VM's runtime record needs a pid above 0 (got %d)", rt->pid);
      return FALSE;
    }
  if (!store_check_path ("Cgroup", rt->cgroup, TRUE, error)
      || !store_check_path ("API socket", rt->api_socket, TRUE, error)
      || !store_check_path ("Log", rt->log_path, TRUE, error))
    return FALSE;
  locker = store_lock (store);
  stmt = store_stmt (store,
                     "INSERT OR REPLACE INTO vm_runtime "
                     "(vm_id, pid, start_time, cgroup, api_socket, log_path, updated_at) "
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                     error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, rt->vm_id, -1, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 2, rt->pid);
  sqlite3_bind_int64 (stmt, 3, (gint64) rt->start_time);
  sqlite3_bind_text (stmt, 4, rt->cgroup, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, rt->api_socket, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 6, rt->log_path, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 7, store_now ());
  rc = sqlite3_step (stmt);
  if (store_is_fk_violation (rc))
    {
      g_autofree char *quoted = banger_quote (rt->vm_id);

      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND, "No VM with id '%s'", quoted);
      return FALSE;
    }
  if (rc != SQLITE_DONE)
    return store_set_error (store, rc, "Recording a VM's runtime handles", error);
  return TRUE;
}

BangerStoreVmRuntime *
banger_store_vm_runtime_get (BangerStore *store, const char *vm_id, GError **error)
{
  g_autoptr (GMutexLocker) locker = NULL;
  g_auto (StoreStmt) stmt = NULL;
  int rc;

  g_return_val_if_fail (store != NULL && vm_id != NULL, NULL);
  locker = store_lock (store);
  stmt = store_stmt (store, RUNTIME_SELECT "WHERE r.vm_id = ?1", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, vm_id, -1, SQLITE_STATIC);
  rc = store_step (store, stmt, "Reading a VM's runtime handles", error);
  if (rc == SQLITE_ROW)
    return runtime_from_row (store, stmt, NULL);
  if (rc == SQLITE_DONE)
    {
      g_autofree char *quoted = banger_quote (vm_id);

      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
                   "VM '%s' has no runtime record (it is not running, or does not exist)",
                   quoted);
    }
  return NULL;
}

GPtrArray *
banger_store_vm_runtime_list (BangerStore *store, GError **error)
{
  g_return_val_if_fail (store != NULL, NULL);
  return store_row_list (store, RUNTIME_SELECT "ORDER BY r.vm_id", runtime_from_row,
                         (GDestroyNotify) banger_store_vm_runtime_free,
                         "Listing runtime handles", error);
}

gboolean
banger_store_vm_runtime_clear (BangerStore *store, const char *vm_id, GError **error)
{
  g_autoptr (GMutexLocker) locker = NULL;
  g_auto (StoreStmt) stmt = NULL;
  int rc;

  g_return_val_if_fail (store != NULL && vm_id != NULL, FALSE);
  locker = store_lock (store);
  stmt = store_stmt (store, "SELECT EXISTS (SELECT 1 FROM vms WHERE id = ?1)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, vm_id, -1, SQLITE_STATIC);
  rc = store_step (store, stmt, "Reading a VM", error);
  if (rc != SQLITE_ROW)
    return FALSE;
  if (sqlite3_column_int (stmt, 0) == 0)
    {
      g_autofree char *quoted = banger_quote (vm_id);

      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND, "No VM with id '%s'", quoted);
      return FALSE;
    }
  store_stmt_release (stmt);
  stmt = store_stmt (store, "DELETE FROM vm_runtime WHERE vm_id = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, vm_id, -1, SQLITE_STATIC);
  return store_exec_stmt (store, stmt, "Clearing a VM's runtime handles", error);
}
