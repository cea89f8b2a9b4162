/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * VM specs and states in the store (the vms table). */
#include "config.h"

#include <string.h>

#include "banger-names.h"
#include "banger-quote.h"
#include "banger-store-private.h"

#define VM_COLUMNS                                                                             \
  "id, name, image_id, kernel_id, vcpus, memory_mib, work_disk_bytes, vmm, rootfs_cow, "       \
  "created_at, state, failed_step, error, updated_at"

/* ------------------------------------------------------------- enums */

static const char *const state_names[] = {
  [BANGER_STORE_VM_STATE_CREATING] = "creating", [BANGER_STORE_VM_STATE_STOPPED] = "stopped",
  [BANGER_STORE_VM_STATE_STARTING] = "starting", [BANGER_STORE_VM_STATE_RUNNING] = "running",
  [BANGER_STORE_VM_STATE_STOPPING] = "stopping", [BANGER_STORE_VM_STATE_FAILED] = "failed",
  [BANGER_STORE_VM_STATE_DELETING] = "deleting", [BANGER_STORE_VM_STATE_PAUSED] = "paused",
};
static const char *const vmm_names[] = {
  [BANGER_STORE_VMM_FIRECRACKER] = "firecracker",
  [BANGER_STORE_VMM_QEMU] = "qemu",
};
static const char *const cow_names[] = {
  [BANGER_STORE_ROOTFS_COW_AUTO] = "auto",
  [BANGER_STORE_ROOTFS_COW_DM_SNAPSHOT] = "dm-snapshot",
  [BANGER_STORE_ROOTFS_COW_REFLINK] = "reflink",
  [BANGER_STORE_ROOTFS_COW_SPARSE_COPY] = "sparse-copy",
};
G_STATIC_ASSERT (G_N_ELEMENTS (state_names) == BANGER_STORE_VM_STATE_LAST + 1);
G_STATIC_ASSERT (G_N_ELEMENTS (vmm_names) == BANGER_STORE_VMM_LAST + 1);
G_STATIC_ASSERT (G_N_ELEMENTS (cow_names) == BANGER_STORE_ROOTFS_COW_LAST + 1);

static gboolean
name_lookup (const char *const *names, guint n, const char *s, int *out)
{
  for (guint i = 0; s != NULL && i < n; i++)
    if (strcmp (names[i], s) == 0)
      {
        *out = (int) i;
        return TRUE;
      }
  return FALSE;
}

const char *
banger_store_vm_state_to_string (BangerStoreVmState state)
{
  return (guint) state < G_N_ELEMENTS (state_names) ? state_names[state] : NULL;
}

gboolean
banger_store_vm_state_from_string (const char *s, BangerStoreVmState *out)
{
  int v;

  if (!name_lookup (state_names, G_N_ELEMENTS (state_names), s, &v))
    return FALSE;
  if (out != NULL)
    *out = (BangerStoreVmState) v;
  return TRUE;
}

const char *
banger_store_vmm_to_string (BangerStoreVmm vmm)
{
  return (guint) vmm < G_N_ELEMENTS (vmm_names) ? vmm_names[vmm] : NULL;
}

gboolean
banger_store_vmm_from_string (const char *s, BangerStoreVmm *out)
{
  int v;

  if (!name_lookup (vmm_names, G_N_ELEMENTS (vmm_names), s, &v))
    return FALSE;
  if (out != NULL)
    *out = (BangerStoreVmm) v;
  return TRUE;
}

const char *
banger_store_rootfs_cow_to_string (BangerStoreRootfsCow cow)
{
  return (guint) cow < G_N_ELEMENTS (cow_names) ? cow_names[cow] : NULL;
}

gboolean
banger_store_rootfs_cow_from_string (const char *s, BangerStoreRootfsCow *out)
{
  int v;

  if (!name_lookup (cow_names, G_N_ELEMENTS (cow_names), s, &v))
    return FALSE;
  if (out != NULL)
    *out = (BangerStoreRootfsCow) v;
  return TRUE;
}

/* ------------------------------------------------------------ record */

BangerStoreVm *
banger_store_vm_new (const char *name, const char *image_id, const char *kernel_id,
                     BangerStoreVmm vmm)
{
  BangerStoreVm *vm = g_new0 (BangerStoreVm, 1);

  vm->name = g_strdup (name);
  vm->image_id = g_strdup (image_id);
  vm->kernel_id = g_strdup (kernel_id);
  vm->vcpus = 1;
  vm->memory_mib = 128;
  vm->vmm = vmm;
  vm->rootfs_cow = BANGER_STORE_ROOTFS_COW_AUTO;
  vm->state = BANGER_STORE_VM_STATE_CREATING;
  return vm;
}

BangerStoreVm *
banger_store_vm_copy (const BangerStoreVm *vm)
{
  BangerStoreVm *copy;

  g_return_val_if_fail (vm != NULL, NULL);
  copy = g_memdup2 (vm, sizeof *vm);
  copy->id = g_strdup (vm->id);
  copy->name = g_strdup (vm->name);
  copy->image_id = g_strdup (vm->image_id);
  copy->kernel_id = g_strdup (vm->kernel_id);
  copy->failed_step = g_strdup (vm->failed_step);
  copy->error = g_strdup (vm->error);
  return copy;
}

void
banger_store_vm_free (BangerStoreVm *vm)
{
  if (vm == NULL)
    return;
  g_free (vm->id);
  g_free (vm->name);
  g_free (vm->image_id);
  g_free (vm->kernel_id);
  g_free (vm->failed_step);
  g_free (vm->error);
  g_free (vm);
}

static gpointer
vm_from_row (BangerStore *store, sqlite3_stmt *stmt, GError **error)
{
  g_autoptr (BangerStoreVm) vm = g_new0 (BangerStoreVm, 1);
  const char *vmm = (const char *) sqlite3_column_text (stmt, 7);
  const char *cow = (const char *) sqlite3_column_text (stmt, 8);
  const char *state = (const char *) sqlite3_column_text (stmt, 10);

  vm->id = store_column_text (stmt, 0);
  vm->name = store_column_text (stmt, 1);
  vm->image_id = store_column_text (stmt, 2);
  vm->kernel_id = store_column_text (stmt, 3);
  vm->vcpus = (guint) sqlite3_column_int64 (stmt, 4);
  vm->memory_mib = (guint64) sqlite3_column_int64 (stmt, 5);
  vm->work_disk_bytes = (guint64) sqlite3_column_int64 (stmt, 6);
  vm->created_at = sqlite3_column_int64 (stmt, 9);
  vm->failed_step = store_column_text (stmt, 11);
  vm->error = store_column_text (stmt, 12);
  vm->updated_at = sqlite3_column_int64 (stmt, 13);
  /* (the CHECK constraints make these hold for any file this code wrote) */
  if (!banger_store_vmm_from_string (vmm, &vm->vmm)
      || !banger_store_rootfs_cow_from_string (cow, &vm->rootfs_cow)
      || !banger_store_vm_state_from_string (state, &vm->state))
    {
      g_autofree char *quoted = banger_quote (vm->name);

      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                   "The record of VM '%s' holds a value this banger does not know", quoted);
      return NULL;
    }
  return g_steal_pointer (&vm);
}

static gboolean
validate_spec (const BangerStoreVm *vm, GError **error)
{
  if (!banger_validate_vm_name (vm->name, error))
    return FALSE;
  if (vm->image_id == NULL || vm->kernel_id == NULL)
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                           "A VM needs an image and a kernel");
      return FALSE;
    }
  if (vm->vcpus == 0 || vm->memory_mib == 0 || vm->vcpus > G_MAXINT32
      || vm->memory_mib > G_MAXINT64 || vm->work_disk_bytes > G_MAXINT64)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "A VM needs at least 1 vCPU and 1 MiB of memory (got %u vCPUs, %" G_GUINT64_FORMAT
                   " MiB)",
                   vm->vcpus, vm->memory_mib);
      return FALSE;
    }
  if (banger_store_vmm_to_string (vm->vmm) == NULL
      || banger_store_rootfs_cow_to_string (vm->rootfs_cow) == NULL
      || banger_store_vm_state_to_string (vm->state) == NULL)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "Unknown VMM (%d), rootfs strategy (%d) or state (%d)", (int) vm->vmm,
                   (int) vm->rootfs_cow, (int) vm->state);
      return FALSE;
    }
  return TRUE;
}

/* After a foreign-key failure: which of the image and the kernel is missing. */
static void
set_missing_reference_error (BangerStore *store, const char *image_id, const char *kernel_id,
                             GError **error)
{
  g_auto (StoreStmt) stmt = store_stmt (store,
                                        "SELECT EXISTS (SELECT 1 FROM images WHERE id = ?1), "
                                        "EXISTS (SELECT 1 FROM kernels WHERE id = ?2)",
                                        error);
  gboolean image_exists = TRUE;

  if (stmt == NULL)
    return;
  sqlite3_bind_text (stmt, 1, image_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, kernel_id, -1, SQLITE_STATIC);
  if (store_step (store, stmt, "Checking the image and kernel", error) != SQLITE_ROW)
    return;
  image_exists = sqlite3_column_int (stmt, 0) != 0;
  {
    g_autofree char *quoted = banger_quote (image_exists ? kernel_id : image_id);

    g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND, "No %s with id '%s'",
                 image_exists ? "kernel" : "image", quoted);
  }
}

static void
bind_spec (sqlite3_stmt *stmt, const BangerStoreVm *vm)
{
  /* ?3..?9: the mutable spec, in the same places for INSERT and UPDATE */
  sqlite3_bind_text (stmt, 3, vm->image_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, vm->kernel_id, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 5, vm->vcpus);
  sqlite3_bind_int64 (stmt, 6, (gint64) vm->memory_mib);
  sqlite3_bind_int64 (stmt, 7, (gint64) vm->work_disk_bytes);
  sqlite3_bind_text (stmt, 8, banger_store_vmm_to_string (vm->vmm), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 9, banger_store_rootfs_cow_to_string (vm->rootfs_cow), -1,
                     SQLITE_STATIC);
}

void
banger_store_set_vm_changed_func (BangerStore *store, BangerStoreVmChangedFunc func,
                                  gpointer user_data)
{
  g_return_if_fail (store != NULL);
  store->vm_changed = func;
  store->vm_changed_data = user_data;
}

static void
vm_changed (BangerStore *store, const char *id, const char *name, int state)
{
  if (store->vm_changed != NULL)
    store->vm_changed (store, id, name, state, store->vm_changed_data);
}

static BangerStoreVm *vm_create (BangerStore *store, const BangerStoreVm *vm, GError **error);

BangerStoreVm *
banger_store_vm_create (BangerStore *store, const BangerStoreVm *vm, GError **error)
{
  BangerStoreVm *stored = vm_create (store, vm, error);

  if (stored != NULL)
    vm_changed (store, stored->id, stored->name, (int)stored->state);
  return stored;
}

static BangerStoreVm *
vm_create (BangerStore *store, const BangerStoreVm *vm, GError **error)
{
  g_autoptr (BangerStoreVm) stored = NULL;
  g_autoptr (GMutexLocker) locker = NULL;
  g_auto (StoreStmt) stmt = NULL;
  int rc;

  g_return_val_if_fail (store != NULL && vm != NULL, NULL);
  if (!validate_spec (vm, error))
    return NULL;
  if (vm->id != NULL && !banger_validate_vm_name (vm->id, error))
    {
      g_prefix_error (error, "VM id: ");
      return NULL;
    }
  stored = banger_store_vm_copy (vm);
  if (stored->id == NULL)
    stored->id = store_new_id ();
  stored->created_at = stored->updated_at = store_now ();
  g_free (stored->failed_step);
  stored->failed_step = store_bounded_text (vm->failed_step);
  g_free (stored->error);
  stored->error = store_bounded_text (vm->error);

  locker = store_lock (store);
  stmt = store_stmt (store,
                     "INSERT INTO vms (" VM_COLUMNS ") "
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?10)",
                     error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, stored->id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, stored->name, -1, SQLITE_STATIC);
  bind_spec (stmt, stored);
  sqlite3_bind_int64 (stmt, 10, stored->created_at);
  sqlite3_bind_text (stmt, 11, banger_store_vm_state_to_string (stored->state), -1,
                     SQLITE_STATIC);
  sqlite3_bind_text (stmt, 12, stored->failed_step, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 13, stored->error, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
    {
      gboolean by_name = strstr (sqlite3_errmsg (store->db), "vms.name") != NULL;
      g_autofree char *quoted = banger_quote (by_name ? stored->name : stored->id);

      g_set_error (error, BANGER_ERROR, BANGER_ERROR_ALREADY_EXISTS,
                   by_name ? "A VM named '%s' already exists" : "A VM with id '%s' already exists",
                   quoted);
      return NULL;
    }
  if (store_is_fk_violation (rc))
    {
      sqlite3_reset (stmt);
      set_missing_reference_error (store, stored->image_id, stored->kernel_id, error);
      return NULL;
    }
  if (rc != SQLITE_DONE)
    {
      store_set_error (store, rc, "Recording a VM", error);
      return NULL;
    }
  return g_steal_pointer (&stored);
}

BangerStoreVm *
banger_store_vm_get_by_name (BangerStore *store, const char *name, GError **error)
{
  g_return_val_if_fail (store != NULL && name != NULL, NULL);
  return store_row_get (store, "SELECT " VM_COLUMNS " FROM vms WHERE name = ?1", name,
                        vm_from_row, "Reading a VM", "VM", "named", error);
}

BangerStoreVm *
banger_store_vm_get_by_id (BangerStore *store, const char *id, GError **error)
{
  g_return_val_if_fail (store != NULL && id != NULL, NULL);
  return store_row_get (store, "SELECT " VM_COLUMNS " FROM vms WHERE id = ?1", id,
                        vm_from_row, "Reading a VM", "VM", "with id", error);
}

GPtrArray *
banger_store_vm_list (BangerStore *store, GError **error)
{
  g_return_val_if_fail (store != NULL, NULL);
  return store_row_list (store, "SELECT " VM_COLUMNS " FROM vms ORDER BY name", vm_from_row,
                         (GDestroyNotify) banger_store_vm_free, "Listing VMs", error);
}

/* After an UPDATE that changed nothing: NOT_FOUND, or BUSY with the state
 * that refused it. */
static gboolean
set_unchanged_error (BangerStore *store, const char *id, const char *what, GError **error)
{
  g_auto (StoreStmt) stmt = store_stmt (store, "SELECT state FROM vms WHERE id = ?1", error);
  g_autofree char *quoted = banger_quote (id);
  int rc;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
  rc = store_step (store, stmt, "Reading a VM's state", error);
  if (rc == SQLITE_DONE)
    g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND, "No VM with id '%s'", quoted);
  else if (rc == SQLITE_ROW)
    g_set_error (error, BANGER_ERROR, BANGER_ERROR_BUSY, "VM '%s' is %s: cannot %s now", quoted,
                 (const char *) sqlite3_column_text (stmt, 0), what);
  return FALSE;
}

static gboolean
check_state_arg (int state, GError **error)
{
  if (state == -1 || banger_store_vm_state_to_string ((BangerStoreVmState) state) != NULL)
    return TRUE;
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT, "Unknown VM state %d", state);
  return FALSE;
}

gboolean
banger_store_vm_update_spec (BangerStore *store, const BangerStoreVm *vm, int only_in_state,
                             GError **error)
{
  g_autoptr (GMutexLocker) locker = NULL;
  g_auto (StoreStmt) stmt = NULL;
  int rc;

  g_return_val_if_fail (store != NULL && vm != NULL && vm->id != NULL, FALSE);
  if (!validate_spec (vm, error) || !check_state_arg (only_in_state, error))
    return FALSE;
  locker = store_lock (store);
  stmt = store_stmt (store,
                     "UPDATE vms SET image_id = ?3, kernel_id = ?4, vcpus = ?5, memory_mib = ?6, "
                     "work_disk_bytes = ?7, vmm = ?8, rootfs_cow = ?9, updated_at = ?10 "
                     "WHERE id = ?1 AND (?2 IS NULL OR state = ?2)",
                     error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, vm->id, -1, SQLITE_STATIC);
  if (only_in_state != -1)
    sqlite3_bind_text (stmt, 2, banger_store_vm_state_to_string (only_in_state), -1,
                       SQLITE_STATIC);
  bind_spec (stmt, vm);
  sqlite3_bind_int64 (stmt, 10, store_now ());
  rc = sqlite3_step (stmt);
  if (store_is_fk_violation (rc))
    {
      sqlite3_reset (stmt);
      set_missing_reference_error (store, vm->image_id, vm->kernel_id, error);
      return FALSE;
    }
  if (rc != SQLITE_DONE)
    return store_set_error (store, rc, "Updating a VM", error);
  if (sqlite3_changes (store->db) == 0)
    return set_unchanged_error (store, vm->id, "change its settings", error);
  return TRUE;
}

static gboolean vm_set_state (BangerStore *store, const char *id, int from, BangerStoreVmState to,
                              const char *failed_step, const char *message, GError **error);

gboolean
banger_store_vm_set_state (BangerStore *store, const char *id, int from, BangerStoreVmState to,
                           const char *failed_step, const char *message, GError **error)
{
  if (!vm_set_state (store, id, from, to, failed_step, message, error))
    return FALSE;
  vm_changed (store, id, NULL, (int)to);
  return TRUE;
}

static gboolean
vm_set_state (BangerStore *store, const char *id, int from, BangerStoreVmState to,
              const char *failed_step, const char *message, GError **error)
{
  g_autofree char *step = NULL, *text = NULL;
  g_autofree char *what = NULL;
  g_autoptr (GMutexLocker) locker = NULL;
  g_auto (StoreStmt) stmt = NULL;

  g_return_val_if_fail (store != NULL && id != NULL, FALSE);
  if (!check_state_arg (from, error) || !check_state_arg ((int) to, error))
    return FALSE;
  step = store_bounded_text (failed_step);
  text = store_bounded_text (message);
  what = g_strdup_printf ("become %s", banger_store_vm_state_to_string (to));
  locker = store_lock (store);
  stmt = store_stmt (store,
                     "UPDATE vms SET state = ?3, failed_step = ?4, error = ?5, updated_at = ?6 "
                     "WHERE id = ?1 AND (?2 IS NULL OR state = ?2)",
                     error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
  if (from != -1)
    sqlite3_bind_text (stmt, 2, banger_store_vm_state_to_string (from), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, banger_store_vm_state_to_string (to), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, step, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, text, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 6, store_now ());
  if (!store_exec_stmt (store, stmt, "Setting a VM's state", error))
    return FALSE;
  if (sqlite3_changes (store->db) == 0)
    return set_unchanged_error (store, id, what, error);
  return TRUE;
}

gboolean
banger_store_vm_delete (BangerStore *store, const char *id, GError **error)
{
  static const StoreRowDelete row = {
    "DELETE FROM vms WHERE id = ?1", "VM",
    "still holds an IP lease or a tap; release them first", "Deleting a VM", "VM with id",
  };

  g_autoptr (BangerStoreVm) old = NULL;

  g_return_val_if_fail (store != NULL && id != NULL, FALSE);
  if (store->vm_changed != NULL)
    old = banger_store_vm_get_by_id (store, id, NULL);
  if (!store_row_delete (store, &row, id, error))
    return FALSE;
  vm_changed (store, id, old ? old->name : NULL, -1);
  return TRUE;
}
