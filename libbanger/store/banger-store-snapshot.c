/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Snapshots in the store (the snapshots table, schema step 4; its run
 * column, step 7). */
#include "config.h"

#include "banger-names.h"
#include "banger-quote.h"
#include "banger-store-private.h"
#include "banger-store-snapshot.h"

#define SNAP_COLUMNS                                                                               \
  "id, name, vm_name, image_id, kernel_id, vmm, vcpus, memory_mib, work_disk_bytes, diff, "        \
  "parent_id, guest_ip, size_bytes, created_at, run"

BangerStoreSnapshot *
banger_store_snapshot_new (const char *name, const BangerStoreVm *vm)
{
  BangerStoreSnapshot *s = g_new0 (BangerStoreSnapshot, 1);

  s->name = g_strdup (name);
  if (vm != NULL)
    {
      s->vm_name = g_strdup (vm->name);
      s->image_id = g_strdup (vm->image_id);
      s->kernel_id = g_strdup (vm->kernel_id);
      s->vmm = vm->vmm;
      s->vcpus = vm->vcpus;
      s->memory_mib = vm->memory_mib;
      s->work_disk_bytes = vm->work_disk_bytes;
    }
  return s;
}

void
banger_store_snapshot_free (BangerStoreSnapshot *s)
{
  if (s == NULL)
    return;
  g_free (s->id);
  g_free (s->name);
  g_free (s->vm_name);
  g_free (s->image_id);
  g_free (s->kernel_id);
  g_free (s->parent_id);
  g_free (s->guest_ip);
  g_free (s->run);
  g_free (s);
}

static gpointer
snap_from_row (BangerStore *store G_GNUC_UNUSED, sqlite3_stmt *stmt, GError **error)
{
  g_autoptr (BangerStoreSnapshot) s = g_new0 (BangerStoreSnapshot, 1);
  g_autofree char *vmm = NULL;

  s->id = store_column_text (stmt, 0);
  s->name = store_column_text (stmt, 1);
  s->vm_name = store_column_text (stmt, 2);
  s->image_id = store_column_text (stmt, 3);
  s->kernel_id = store_column_text (stmt, 4);
  vmm = store_column_text (stmt, 5);
  s->vcpus = (guint)sqlite3_column_int64 (stmt, 6);
  s->memory_mib = (guint64)sqlite3_column_int64 (stmt, 7);
  s->work_disk_bytes = (guint64)sqlite3_column_int64 (stmt, 8);
  s->diff = sqlite3_column_int (stmt, 9) != 0;
  s->parent_id = store_column_text (stmt, 10);
  s->guest_ip = store_column_text (stmt, 11);
  s->size_bytes = (guint64)sqlite3_column_int64 (stmt, 12);
  s->created_at = sqlite3_column_int64 (stmt, 13);
  s->run = store_column_text (stmt, 14);
  if (vmm == NULL || !banger_store_vmm_from_string (vmm, &s->vmm))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                   "Snapshot '%s' in the store has an unknown VMM", s->id);
      return NULL;
    }
  return g_steal_pointer (&s);
}

BangerStoreSnapshot *
banger_store_snapshot_add (BangerStore *store, const BangerStoreSnapshot *snap, GError **error)
{
  g_autoptr (BangerStoreSnapshot) s = NULL;
  g_autoptr (GMutexLocker) locker = NULL;
  g_auto (StoreStmt) stmt = NULL;

  g_return_val_if_fail (store != NULL && snap != NULL, NULL);
  if (!banger_store_validate_object_name ("Snapshot", snap->name, error))
    return NULL;
  if (snap->id != NULL && !banger_validate_vm_name (snap->id, error))
    return NULL;
  if (snap->vm_name == NULL || snap->image_id == NULL || snap->kernel_id == NULL || snap->vcpus == 0
      || snap->memory_mib == 0 || snap->memory_mib > G_MAXINT64
      || snap->work_disk_bytes > G_MAXINT64 || snap->size_bytes > G_MAXINT64 || (int)snap->vmm < 0
      || snap->vmm > BANGER_STORE_VMM_LAST || (snap->diff != (snap->parent_id != NULL)))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "Snapshot '%s' is incomplete (VM, image, kernel, sizes; a Diff snapshot "
                   "needs the Full one it follows, and only a Diff has one)",
                   snap->name);
      return NULL;
    }
  s = g_new0 (BangerStoreSnapshot, 1);
  s->id = snap->id ? g_strdup (snap->id) : store_new_id ();
  s->name = g_strdup (snap->name);
  s->vm_name = g_strdup (snap->vm_name);
  s->image_id = g_strdup (snap->image_id);
  s->kernel_id = g_strdup (snap->kernel_id);
  s->vmm = snap->vmm;
  s->vcpus = snap->vcpus;
  s->memory_mib = snap->memory_mib;
  s->work_disk_bytes = snap->work_disk_bytes;
  s->diff = snap->diff;
  s->parent_id = g_strdup (snap->parent_id);
  s->guest_ip = g_strdup (snap->guest_ip);
  s->size_bytes = snap->size_bytes;
  s->created_at = store_now ();
  s->run = g_strdup (snap->run);

  locker = store_lock (store);
  stmt = store_stmt (store,
                     "INSERT INTO snapshots (" SNAP_COLUMNS ") "
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
                     error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, s->id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, s->name, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, s->vm_name, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, s->image_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, s->kernel_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 6, banger_store_vmm_to_string (s->vmm), -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 7, s->vcpus);
  sqlite3_bind_int64 (stmt, 8, (gint64)s->memory_mib);
  sqlite3_bind_int64 (stmt, 9, (gint64)s->work_disk_bytes);
  sqlite3_bind_int (stmt, 10, s->diff ? 1 : 0);
  sqlite3_bind_text (stmt, 11, s->parent_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 12, s->guest_ip, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 13, (gint64)s->size_bytes);
  sqlite3_bind_int64 (stmt, 14, s->created_at);
  sqlite3_bind_text (stmt, 15, s->run, -1, SQLITE_STATIC);
  if (!store_row_insert (store, stmt, "A snapshot", s->name, "Adding a snapshot", error))
    return NULL;
  return g_steal_pointer (&s);
}

BangerStoreSnapshot *
banger_store_snapshot_get_by_name (BangerStore *store, const char *name, GError **error)
{
  g_return_val_if_fail (store != NULL && name != NULL, NULL);
  return store_row_get (store, "SELECT " SNAP_COLUMNS " FROM snapshots WHERE name = ?1", name,
                        snap_from_row, "Reading a snapshot", "snapshot", "named", error);
}

BangerStoreSnapshot *
banger_store_snapshot_get_by_id (BangerStore *store, const char *id, GError **error)
{
  g_return_val_if_fail (store != NULL && id != NULL, NULL);
  return store_row_get (store, "SELECT " SNAP_COLUMNS " FROM snapshots WHERE id = ?1", id,
                        snap_from_row, "Reading a snapshot", "snapshot", "with id", error);
}

BangerStoreSnapshot *
banger_store_snapshot_get_latest_full (BangerStore *store, const char *run, GError **error)
{
  g_return_val_if_fail (store != NULL && run != NULL, NULL);
  return store_row_get (store,
                        "SELECT " SNAP_COLUMNS " FROM snapshots WHERE run = ?1 AND diff = 0 "
                        "ORDER BY created_at DESC, rowid DESC LIMIT 1",
                        run, snap_from_row, "Reading a snapshot", "Full snapshot", "of the run",
                        error);
}

GPtrArray *
banger_store_snapshot_list (BangerStore *store, GError **error)
{
  g_return_val_if_fail (store != NULL, NULL);
  return store_row_list (store, "SELECT " SNAP_COLUMNS " FROM snapshots ORDER BY name",
                         snap_from_row, (GDestroyNotify)banger_store_snapshot_free,
                         "Listing snapshots", error);
}

gboolean
banger_store_snapshot_delete (BangerStore *store, const char *name, GError **error)
{
  static const StoreRowDelete row = {
    "DELETE FROM snapshots WHERE name = ?1",
    "Snapshot",
    "is the base of a Diff snapshot; delete that one first",
    "Deleting a snapshot",
    "snapshot named",
  };

  g_return_val_if_fail (store != NULL && name != NULL, FALSE);
  return store_row_delete (store, &row, name, error);
}
