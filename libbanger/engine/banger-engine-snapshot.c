/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Pause, resume, snapshots, restore, stats and the balloon of running VMs
 * (banger-engine-snapshot.h, doc/engine.md). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger-cow-disk.h"
#include "banger-engine-private.h"
#include "banger-engine-snapshot.h"
#include "banger-error-private.h"
#include "banger-error.h"
#include "banger-names.h"
#include "banger-priv-backend.h"
#include "banger-qmp.h"
#include "banger-vmm-firecracker.h"
#include "banger-vmm-proc-stats.h"
#include "banger-vmm-qemu.h"

#define SNAP_STATE_FILE "vmstate"
#define SNAP_MEM_FILE "mem"
/* a Diff restore's own memory (base + layers), in the restored VM's dir */
#define RESTORE_MEM_FILE "restore.mem"
#define QMP_TIMEOUT_MS 2000

static gboolean
busy (GError **error, const char *name, BangerStoreVmState state, const char *what)
{
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_BUSY, "VM '%s' is %s: cannot %s it", name,
               banger_store_vm_state_to_string (state), what);
  return FALSE;
}

static gboolean
is_live (BangerStoreVmState s)
{
  return s == BANGER_STORE_VM_STATE_RUNNING || s == BANGER_STORE_VM_STATE_PAUSED;
}

/* The driver of a live VM; UNSUPPORTED for one adopted at start-up. */
static BangerVmm *
driver_of (BangerEngine *e, const BangerStoreVm *vm, const char *what, GError **error)
{
  BangerVmm *vmm = banger_engine_lookup_vmm (e, vm->id);

  if (vmm == NULL)
    g_set_error (error, BANGER_ERROR, BANGER_ERROR_UNSUPPORTED,
                 "VM '%s' was adopted after a bangerd restart and has no driver: cannot %s it "
                 "(stop and start it first)",
                 vm->name, what);
  return vmm;
}

static char *
snapshots_dir (BangerEngine *e)
{
  return g_build_filename (banger_engine_get_config (e)->state_dir, "snapshots", NULL);
}

static char *
snapshot_dir (BangerEngine *e, const char *id)
{
  g_autofree char *top = snapshots_dir (e);
  return g_build_filename (top, id, NULL);
}

/* ------------------------------------------------------- pause / resume */

gboolean
banger_engine_vm_pause (BangerEngine *e, const char *name, const char *op_id,
                        GCancellable *cancellable, GError **error)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (banger_engine_vm_lock (e, name));
  g_autoptr (BangerStoreVm) vm = banger_store_vm_get_by_name (e->store, name, error);
  g_autoptr (BangerVmm) vmm = NULL;

  if (vm == NULL)
    return FALSE;
  if (vm->state != BANGER_STORE_VM_STATE_RUNNING)
    return busy (error, name, vm->state, "pause");
  vmm = driver_of (e, vm, "pause", error);
  if (vmm == NULL || !banger_vmm_pause (vmm, cancellable, error))
    return FALSE;
  banger_engine_log (op_id, "vm.pause %s", name);
  return banger_store_vm_set_state (e->store, vm->id, BANGER_STORE_VM_STATE_RUNNING,
                                    BANGER_STORE_VM_STATE_PAUSED, NULL, NULL, error);
}

gboolean
banger_engine_vm_resume (BangerEngine *e, const char *name, const char *op_id,
                         GCancellable *cancellable, GError **error)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (banger_engine_vm_lock (e, name));
  g_autoptr (BangerStoreVm) vm = banger_store_vm_get_by_name (e->store, name, error);
  g_autoptr (BangerVmm) vmm = NULL;

  if (vm == NULL)
    return FALSE;
  if (vm->state != BANGER_STORE_VM_STATE_PAUSED)
    return busy (error, name, vm->state, "resume");
  vmm = driver_of (e, vm, "resume", error);
  if (vmm == NULL || !banger_vmm_resume (vmm, cancellable, error))
    return FALSE;
  banger_engine_log (op_id, "vm.resume %s", name);
  return banger_store_vm_set_state (e->store, vm->id, BANGER_STORE_VM_STATE_PAUSED,
                                    BANGER_STORE_VM_STATE_RUNNING, NULL, NULL, error);
}

/* ------------------------------------------------------------ snapshot */

/* Bytes allocated by the regular files of @dir (not recursive). */
static guint64
dir_allocated (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *n;
  guint64 total = 0;

  while (d != NULL && (n = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (dir, n, NULL);
      GStatBuf st;
      if (g_lstat (p, &st) == 0 && S_ISREG (st.st_mode))
        total += (guint64)st.st_blocks * 512;
    }
  return total;
}

/* The bytes of a step that copies several disks: the copies so far
 * (@base) and the whole (@total), for progress events. */
typedef struct
{
  guint64 base;
  guint64 total;
} DiskBytes;

static guint64
file_size (const char *path)
{
  GStatBuf st;
  return g_stat (path, &st) == 0 ? (guint64)st.st_size : 0;
}

/* The bytes of the disks in @dir: rootfs.ext4 (and work.ext4). */
static guint64
disks_size (const char *dir, gboolean work)
{
  g_autofree char *rootfs = g_build_filename (dir, "rootfs.ext4", NULL);
  g_autofree char *work_disk = g_build_filename (dir, "work.ext4", NULL);

  return file_size (rootfs) + (work ? file_size (work_disk) : 0);
}

static void
disk_bytes_progress (guint64 done, guint64 total G_GNUC_UNUSED, gpointer user_data)
{
  DiskBytes *b = user_data;
  banger_engine_step_bytes (b->base + done, b->total);
}

/* A copy-on-write copy of @src at @dest (reflink where the file system can,
 * else a sparse copy: the cow chooser of the create's rootfs step); its
 * bytes reported into @bytes (nullable) for the current step. */
static gboolean
cow_copy (const char *src, const char *dest, BangerStoreRootfsCow *out_cow, DiskBytes *bytes,
          GCancellable *cancellable, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (dest);
  g_autofree char *detail = NULL;
  BangerCowStrategy strategy;
  guint64 size = bytes ? file_size (src) : 0;

  if (!banger_cow_choose (dir, src, BANGER_COW_CHOOSE_NONE, &strategy, &detail, error)
      || !banger_cow_disk_create (strategy, src, dest, BANGER_COW_CREATE_NONE,
                                  bytes ? disk_bytes_progress : NULL, bytes, NULL, cancellable,
                                  error))
    return FALSE;
  if (bytes != NULL)
    {
      bytes->base += size;
      banger_engine_step_bytes (bytes->base, bytes->total);
    }
  if (out_cow != NULL)
    *out_cow = strategy == BANGER_COW_STRATEGY_REFLINK ? BANGER_STORE_ROOTFS_COW_REFLINK
                                                       : BANGER_STORE_ROOTFS_COW_SPARSE_COPY;
  return TRUE;
}

/* BangerVmm::snapshot-progress → bytes of the current step. */
static void
on_vmm_progress (BangerVmm *vmm G_GNUC_UNUSED, guint64 done, guint64 total,
                 gpointer user_data G_GNUC_UNUSED)
{
  banger_engine_step_bytes (done, total);
}

static char *
default_snapshot_name (const char *vm_name)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *stamp = g_date_time_format (now, "%Y%m%dT%H%M%S");
  return g_strdup_printf ("%s-%s%03d", vm_name, stamp, g_date_time_get_microsecond (now) / 1000);
}

static char *
new_id (void)
{
  return g_strdup_printf ("%08x%08x", g_random_int (), g_random_int ());
}

/* The run of @vm: its VMM process (pid + start time, from its runtime
 * record) on this boot of the host, and the VM's id (a VM of the same name
 * made later is another).  Firecracker's dirty-page tracking starts with
 * every boot or restore, that is with every run. */
static char *
vm_run_key (BangerEngine *e, const BangerStoreVm *vm, GError **error)
{
  g_autoptr (BangerStoreVmRuntime) rt = banger_store_vm_runtime_get (e->store, vm->id, error);
  g_autofree char *boot_id = NULL;

  if (rt == NULL)
    return NULL;
  if (!g_file_get_contents ("/proc/sys/kernel/random/boot_id", &boot_id, NULL, error))
    return NULL;
  g_strstrip (boot_id);
  return g_strdup_printf ("%s/%s/%d/%" G_GUINT64_FORMAT, vm->id, boot_id, rt->pid, rt->start_time);
}

BangerStoreSnapshot *
banger_engine_vm_snapshot (BangerEngine *e, const char *name, const char *snap_name, gboolean diff,
                           const char *op_id, GCancellable *cancellable, GError **error)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (banger_engine_vm_lock (e, name));
  g_autoptr (BangerStoreVm) vm = banger_store_vm_get_by_name (e->store, name, error);
  g_autoptr (BangerVmm) vmm = NULL;
  g_autoptr (BangerStoreSnapshot) want = NULL;
  g_autoptr (BangerStoreSnapshot) parent = NULL;
  g_autoptr (BangerStoreSnapshot) stored = NULL;
  g_autoptr (BangerStoreLease) lease = NULL;
  g_autoptr (GError) local = NULL;
  g_autofree char *top = snapshots_dir (e);
  g_autofree char *dir = NULL, *state = NULL, *mem = NULL, *vm_dir = NULL;
  g_autofree char *run = NULL;
  gboolean was_running, paused_here = FALSE;
  gint64 t0 = g_get_monotonic_time ();
  /* progress: [pause,] memory, disks, [resume,] record */
  g_auto (BangerEngineStep) step = { e, op_id, "vm.snapshot", name };
  DiskBytes disks = { 0 };
  gulong handler;
  gboolean written;

  if (vm == NULL)
    return NULL;
  if (!is_live (vm->state))
    {
      busy (error, name, vm->state, "snapshot");
      return NULL;
    }
  vmm = driver_of (e, vm, "snapshot", error);
  if (vmm == NULL)
    return NULL;
  if (diff && vm->vmm != BANGER_STORE_VMM_FIRECRACKER)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_UNSUPPORTED,
                   "VM '%s' runs on QEMU, which has no Diff snapshots (take a Full one)", name);
      return NULL;
    }
  run = vm_run_key (e, vm, error);
  if (run == NULL)
    return NULL;
  if (diff)
    {
      /* only a Full of this run: the dirty pages are counted from its boot */
      parent = banger_store_snapshot_get_latest_full (e->store, run, &local);
      if (parent == NULL)
        {
          g_set_error (error, BANGER_ERROR,
                       g_error_matches (local, BANGER_ERROR, BANGER_ERROR_NOT_FOUND)
                           ? BANGER_ERROR_INVALID_ARGUMENT
                           : local->code,
                       "A Diff snapshot of VM '%s' needs a Full one taken since it last "
                       "started; take a Full snapshot first (%s)",
                       name, local->message);
          return NULL;
        }
    }
  want = banger_store_snapshot_new (NULL, vm);
  want->run = g_steal_pointer (&run);
  want->name = snap_name ? g_strdup (snap_name) : default_snapshot_name (vm->name);
  want->id = new_id ();
  want->diff = diff;
  want->parent_id = parent ? g_strdup (parent->id) : NULL;
  lease = banger_store_lease_get_for_vm (e->store, banger_engine_get_config (e)->subnet, vm->id,
                                         NULL);
  want->guest_ip = lease ? g_strdup (lease->address) : NULL;
  if (!banger_store_validate_object_name ("Snapshot", want->name, error))
    return NULL;
  {
    g_autoptr (BangerStoreSnapshot) taken
        = banger_store_snapshot_get_by_name (e->store, want->name, NULL);
    if (taken != NULL)
      {
        g_set_error (error, BANGER_ERROR, BANGER_ERROR_ALREADY_EXISTS,
                     "A snapshot named '%s' already exists", want->name);
        return NULL;
      }
  }
  if (g_mkdir_with_parents (top, 0700) < 0)
    {
      banger_set_error_from_errno (error, errno, "Cannot create '%s'", top);
      return NULL;
    }
  dir = g_build_filename (top, want->id, NULL);
  if (g_mkdir (dir, 0700) < 0)
    {
      banger_set_error_from_errno (error, errno, "Cannot create '%s'", dir);
      return NULL;
    }
  state = g_build_filename (dir, SNAP_STATE_FILE, NULL);
  /* QEMU writes one stream (devices + memory) to the state path */
  mem = vm->vmm == BANGER_STORE_VMM_FIRECRACKER ? g_build_filename (dir, SNAP_MEM_FILE, NULL)
                                                : g_strdup (state);
  vm_dir = g_build_filename (e->vms_dir, vm->id, NULL);
  banger_engine_log (op_id, "vm.snapshot %s -> %s (%s)", name, want->name, diff ? "Diff" : "Full");

  /* Paused for the memory and for the disk point together: the disks
   * then hold every write the guest made up to the memory image (QEMU's
   * stop drains and flushes them; doc/vmm.md). */
  was_running = vm->state == BANGER_STORE_VM_STATE_RUNNING;
  step.count = was_running ? 5 : 3;
  if (was_running)
    {
      banger_engine_step_next (&step, "pause");
      if (!banger_vmm_pause (vmm, cancellable, error))
        goto fail;
      paused_here = TRUE;
    }
  banger_engine_step_next (&step, "memory");
  handler = g_signal_connect (vmm, "snapshot-progress", G_CALLBACK (on_vmm_progress), NULL);
  written = banger_vmm_snapshot_create (vmm, state, mem, diff, cancellable, error);
  g_signal_handler_disconnect (vmm, handler);
  if (!written)
    goto fail;
  banger_engine_step_next (&step, "disks");
  disks.total = disks_size (vm_dir, vm->work_disk_bytes > 0);
  {
    g_autofree char *src = g_build_filename (vm_dir, "rootfs.ext4", NULL);
    g_autofree char *dst = g_build_filename (dir, "rootfs.ext4", NULL);
    if (!cow_copy (src, dst, NULL, &disks, cancellable, error))
      goto fail;
  }
  if (vm->work_disk_bytes > 0)
    {
      g_autofree char *src = g_build_filename (vm_dir, "work.ext4", NULL);
      g_autofree char *dst = g_build_filename (dir, "work.ext4", NULL);
      if (!cow_copy (src, dst, NULL, &disks, cancellable, error))
        goto fail;
    }
  if (paused_here)
    {
      banger_engine_step_next (&step, "resume");
      paused_here = FALSE;
      if (!banger_vmm_resume (vmm, cancellable, error))
        goto fail;
    }
  banger_engine_step_next (&step, "record");
  want->size_bytes = dir_allocated (dir);
  stored = banger_store_snapshot_add (e->store, want, error);
  if (stored == NULL)
    goto fail;
  banger_engine_emit_snapshot_changed (e, op_id, TRUE, stored->name, stored->vm_name);
  banger_engine_log (op_id, "vm.snapshot %s: %s, %" G_GUINT64_FORMAT " bytes in %.3f s", name,
                     stored->name, stored->size_bytes, (g_get_monotonic_time () - t0) / 1e6);
  return g_steal_pointer (&stored);

fail:
  if (paused_here)
    {
      g_autoptr (GError) r = NULL;
      if (!banger_vmm_resume (vmm, NULL, &r))
        banger_engine_log (op_id, "vm.snapshot %s: resume after the failure: %s", name, r->message);
    }
  {
    g_autoptr (GError) r = NULL;
    if (!banger_engine_remove_tree (dir, &r))
      banger_engine_log (op_id, "vm.snapshot %s: %s", name, r->message);
  }
  return NULL;
}

GPtrArray *
banger_engine_snapshot_list (BangerEngine *e, GError **error)
{
  return banger_store_snapshot_list (e->store, error);
}

static gint
by_created_at (gconstpointer a, gconstpointer b)
{
  const BangerStoreSnapshot *x = *(BangerStoreSnapshot *const *)a;
  const BangerStoreSnapshot *y = *(BangerStoreSnapshot *const *)b;

  return x->created_at < y->created_at ? -1 : x->created_at > y->created_at;
}

/* The Diff snapshots over @diff's base, of the same VM, taken before
 * (@before) or after @diff, oldest first (not @diff itself).  Firecracker
 * writes into a Diff only the pages dirtied since the snapshot before it,
 * so a Diff's memory is its base's with every earlier Diff of that base
 * and then its own written over it (snapshot-support.md, "Creating diff
 * snapshots"). */
static GPtrArray *
diff_layers (BangerEngine *e, const BangerStoreSnapshot *diff, gboolean before, GError **error)
{
  g_autoptr (GPtrArray) all = banger_store_snapshot_list (e->store, error);
  GPtrArray *out;

  if (all == NULL)
    return NULL;
  out = g_ptr_array_new_with_free_func ((GDestroyNotify)banger_store_snapshot_free);
  for (guint i = 0; i < all->len; i++)
    {
      BangerStoreSnapshot *s = all->pdata[i];
      if (!s->diff || g_str_equal (s->id, diff->id)
          || g_strcmp0 (s->parent_id, diff->parent_id) != 0
          || !g_str_equal (s->vm_name, diff->vm_name))
        continue;
      if (before ? s->created_at < diff->created_at : s->created_at > diff->created_at)
        g_ptr_array_add (out, g_steal_pointer (&all->pdata[i]));
    }
  g_ptr_array_sort (out, by_created_at);
  return out;
}

static GPtrArray *
diff_layers_after (BangerEngine *e, const BangerStoreSnapshot *diff, GError **error)
{
  return diff_layers (e, diff, FALSE, error);
}

static char *
snapshot_lock_key (const char *name)
{
  /* ':' is in no VM name: the per-VM lock table serves snapshots too */
  return g_strconcat ("snapshot:", name, NULL);
}

gboolean
banger_engine_snapshot_delete (BangerEngine *e, const char *name, const char *op_id, GError **error)
{
  g_autofree char *key = snapshot_lock_key (name);
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (banger_engine_vm_lock (e, key));
  g_autoptr (BangerStoreSnapshot) snap = banger_store_snapshot_get_by_name (e->store, name, error);
  g_autofree char *dir = NULL;

  if (snap == NULL)
    return FALSE;
  if (snap->diff)
    {
      /* a later Diff of the same base holds only what changed after this
       * one: its restore layers this one first */
      g_autoptr (GPtrArray) later = diff_layers_after (e, snap, error);
      if (later == NULL)
        return FALSE;
      if (later->len > 0)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_BUSY,
                       "Snapshot '%s' is a layer of the later Diff snapshot '%s' (restoring "
                       "that one needs it); delete that one first",
                       name, ((BangerStoreSnapshot *)later->pdata[0])->name);
          return FALSE;
        }
    }
  if (!banger_store_snapshot_delete (e->store, name, error))
    return FALSE;
  banger_engine_log (op_id, "snapshot.delete %s", name);
  banger_engine_emit_snapshot_changed (e, op_id, FALSE, snap->name, snap->vm_name);
  dir = snapshot_dir (e, snap->id);
  return !g_file_test (dir, G_FILE_TEST_EXISTS) || banger_engine_remove_tree (dir, error);
}

/* ------------------------------------------------------------- restore */

typedef struct
{
  BangerEngine *engine;
  BangerStoreSnapshot *snap;
  char *snap_dir;
  char *state; /* the state file (QEMU: the stream) */
  char *mem;   /* the memory file to load */
  GPtrArray *mem_layers; /* Firecracker Diff: the memory files over the base's, oldest first */
} Restore;

static void
restore_clear (Restore *r)
{
  banger_store_snapshot_free (r->snap);
  g_free (r->snap_dir);
  g_free (r->state);
  g_free (r->mem);
  g_clear_pointer (&r->mem_layers, g_ptr_array_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Restore, restore_clear)

static gboolean
restore_disks (gpointer data, BangerStoreVm *vm, const char *vm_dir, GCancellable *cancellable,
               GError **error)
{
  Restore *r = data;
  g_autofree char *key = snapshot_lock_key (r->snap->name);
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (banger_engine_vm_lock (r->engine, key));
  g_autofree char *src = g_build_filename (r->snap_dir, "rootfs.ext4", NULL);
  g_autofree char *dst = g_build_filename (vm_dir, "rootfs.ext4", NULL);
  DiskBytes bytes = { 0, disks_size (r->snap_dir, r->snap->work_disk_bytes > 0) };

  if (!g_file_test (r->snap_dir, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
                   "Snapshot '%s' has no files (deleted meanwhile?)", r->snap->name);
      return FALSE;
    }
  if (!cow_copy (src, dst, &vm->rootfs_cow, &bytes, cancellable, error))
    return FALSE;
  if (r->snap->work_disk_bytes > 0)
    {
      g_autofree char *wsrc = g_build_filename (r->snap_dir, "work.ext4", NULL);
      g_autofree char *wdst = g_build_filename (vm_dir, "work.ext4", NULL);
      if (!cow_copy (wsrc, wdst, NULL, &bytes, cancellable, error))
        return FALSE;
    }
  if (r->mem_layers != NULL)
    {
      /* a Diff: this restore's own copy of the base memory with the layers
       * written over it (the VM's dir: removed with the VM; the stored
       * snapshots are never written) */
      g_autofree char *copy = g_build_filename (vm_dir, RESTORE_MEM_FILE, NULL);
      g_ptr_array_add (r->mem_layers, NULL);
      if (!cow_copy (r->mem, copy, NULL, NULL, cancellable, error)
          || !banger_engine_memory_layer (copy, (const char *const *)r->mem_layers->pdata,
                                          cancellable, error))
        return FALSE;
      g_free (r->mem);
      r->mem = g_steal_pointer (&copy);
    }
  return TRUE;
}

static void
restore_files (gpointer data, const char **out_state, const char **out_mem)
{
  Restore *r = data;

  *out_state = r->state;
  *out_mem = r->mem;
}

static gboolean
restore_load (gpointer data, BangerVmm *vmm, GCancellable *cancellable, GError **error)
{
  Restore *r = data;
  gulong handler = g_signal_connect (vmm, "snapshot-progress", G_CALLBACK (on_vmm_progress), NULL);
  gboolean ok = banger_vmm_snapshot_load (vmm, r->state, r->mem, TRUE, cancellable, error);

  g_signal_handler_disconnect (vmm, handler);
  return ok;
}

/* Whether the snapshot's device record (written by the driver next to the
 * state file) says it was taken in a jail. */
static gboolean
fc_snapshot_jailed (const char *state, GError **error)
{
  g_autofree char *path = banger_vmm_firecracker_snapshot_devices_path (state);
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode *root;

  if (!json_parser_load_from_mapped_file (parser, path, error))
    return FALSE;
  root = json_parser_get_root (parser);
  return root != NULL && JSON_NODE_HOLDS_OBJECT (root)
         && json_object_get_boolean_member_with_default (json_node_get_object (root), "jailed",
                                                         FALSE);
}

/* A Firecracker restore: refused without the jailer (each restore runs in
 * a jail of its own, where the drive paths the snapshot holds name its own
 * disks), and for a snapshot taken outside a jail (its drive paths name
 * the snapshotted VM's own disks); a Diff's memory layers. */
static gboolean
fc_restore_plan (BangerEngine *e, Restore *r, GError **error)
{
  g_autoptr (GError) local = NULL;

  if (banger_priv_backend_get_executor_state (e->backend) != NULL
      && banger_engine_get_config (e)->jailer_path == NULL)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_UNSUPPORTED,
                   "Snapshot '%s' is of a Firecracker VM: restoring it needs the jailer (each "
                   "restore runs in a jail of its own, where the snapshot's drive paths name "
                   "its own disks), and no jailer is configured ([vmm] jailer=)",
                   r->snap->name);
      return FALSE;
    }
  if (!fc_snapshot_jailed (r->state, &local))
    {
      if (local != NULL)
        g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
                     "Snapshot '%s' has no readable device record: %s", r->snap->name,
                     local->message);
      else
        g_set_error (error, BANGER_ERROR, BANGER_ERROR_UNSUPPORTED,
                     "Snapshot '%s' was taken of a Firecracker VM that ran without the jailer: "
                     "its drive paths name that VM's own disks, which a restore must never "
                     "open (take a new snapshot of a VM launched with the jailer)",
                     r->snap->name);
      return FALSE;
    }
  g_clear_pointer (&r->mem, g_free);
  if (!r->snap->diff)
    {
      r->mem = g_build_filename (r->snap_dir, SNAP_MEM_FILE, NULL);
      return TRUE;
    }
  {
    g_autoptr (BangerStoreSnapshot) base
        = banger_store_snapshot_get_by_id (e->store, r->snap->parent_id, error);
    g_autoptr (GPtrArray) earlier = NULL;
    g_autofree char *base_dir = NULL;

    if (base == NULL)
      return FALSE;
    earlier = diff_layers (e, r->snap, TRUE, error);
    if (earlier == NULL)
      return FALSE;
    base_dir = snapshot_dir (e, base->id);
    r->mem = g_build_filename (base_dir, SNAP_MEM_FILE, NULL);
    r->mem_layers = g_ptr_array_new_with_free_func (g_free);
    for (guint i = 0; i < earlier->len; i++)
      {
        g_autofree char *d = snapshot_dir (e, ((BangerStoreSnapshot *)earlier->pdata[i])->id);
        g_ptr_array_add (r->mem_layers, g_build_filename (d, SNAP_MEM_FILE, NULL));
      }
    g_ptr_array_add (r->mem_layers, g_build_filename (r->snap_dir, SNAP_MEM_FILE, NULL));
  }
  return TRUE;
}

static char *
default_restore_name (const char *vm_name)
{
  g_autofree char *base = g_strndup (vm_name, 63 - 7);
  return g_strdup_printf ("%s-%06x", base, g_random_int () & 0xffffff);
}

BangerEngineVmInfo *
banger_engine_vm_restore (BangerEngine *e, const char *snap_name, const char *new_name,
                          const char *op_id, GCancellable *cancellable, GError **error)
{
  g_auto (Restore) r = { 0 };
  g_autoptr (BangerStoreVm) want = NULL;
  g_autofree char *name = NULL;
  BangerEngineRestore hooks = { &r, restore_disks, restore_load, restore_files };

  r.engine = e;
  r.snap = banger_store_snapshot_get_by_name (e->store, snap_name, error);
  if (r.snap == NULL)
    return NULL;
  name = new_name ? g_strdup (new_name) : default_restore_name (r.snap->vm_name);
  r.snap_dir = snapshot_dir (e, r.snap->id);
  r.state = g_build_filename (r.snap_dir, SNAP_STATE_FILE, NULL);
  r.mem = g_strdup (r.state); /* QEMU: one stream */
  if (r.snap->vmm == BANGER_STORE_VMM_FIRECRACKER && !fc_restore_plan (e, &r, error))
    return NULL;
  want = banger_store_vm_new (name, r.snap->image_id, r.snap->kernel_id, r.snap->vmm);
  /* the machine of the snapshot: a restore must describe the same one */
  want->vcpus = r.snap->vcpus;
  want->memory_mib = r.snap->memory_mib;
  want->work_disk_bytes = r.snap->work_disk_bytes;
  want->state = BANGER_STORE_VM_STATE_CREATING;
  banger_engine_log (op_id, "vm.restore %s from snapshot %s", name, snap_name);
  return banger_engine_vm_restore_steps (e, want, &hooks, op_id, cancellable, error);
}

/* ----------------------------------------------------- stats / balloon */

/* Runs an _async call of a driver on a private context and waits. */
typedef struct
{
  GAsyncResult *result;
} Wait;

static void
wait_done (GObject *source G_GNUC_UNUSED, GAsyncResult *res, gpointer user_data)
{
  ((Wait *)user_data)->result = g_object_ref (res);
}

#define RUN_SYNC(ctx, w, call)                                                                     \
  do                                                                                               \
    {                                                                                              \
      g_main_context_push_thread_default (ctx);                                                    \
      call;                                                                                        \
      while ((w).result == NULL)                                                                   \
        g_main_context_iteration (ctx, TRUE);                                                      \
      g_main_context_pop_thread_default (ctx);                                                     \
    }                                                                                              \
  while (0)

static JsonNode *
qmp_call (BangerVmm *vmm, const char *command, JsonObject *args, GError **error)
{
  BangerQmp *qmp = banger_vmm_qemu_get_qmp (BANGER_VMM_QEMU (vmm));
  g_autoptr (GMainContext) ctx = g_main_context_new ();
  Wait w = { NULL };
  JsonNode *ret;

  if (qmp == NULL || !banger_qmp_is_connected (qmp))
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
                           "The VMM has no QMP connection");
      return NULL;
    }
  RUN_SYNC (ctx, w,
            banger_qmp_execute_async (qmp, command, args, QMP_TIMEOUT_MS, NULL, wait_done, &w));
  ret = banger_qmp_execute_finish (qmp, w.result, error);
  g_object_unref (w.result);
  return ret;
}

static void
fc_balloon (BangerVmm *vmm, BangerEngineVmStats *out)
{
  g_autoptr (GMainContext) ctx = g_main_context_new ();
  BangerVmmFirecracker *fc = BANGER_VMM_FIRECRACKER (vmm);
  g_autoptr (JsonObject) st = NULL;
  Wait w = { NULL };

  RUN_SYNC (ctx, w, banger_vmm_firecracker_get_balloon_stats_async (fc, NULL, wait_done, &w));
  st = banger_vmm_firecracker_get_balloon_stats_finish (fc, w.result, NULL);
  g_object_unref (w.result);
  if (st == NULL)
    return;
  out->balloon_target_mib = json_object_get_int_member_with_default (st, "target_mib", -1);
  out->balloon_actual_mib = json_object_get_int_member_with_default (st, "actual_mib", -1);
}

static void
fc_flush_metrics (BangerVmm *vmm)
{
  g_autoptr (GMainContext) ctx = g_main_context_new ();
  BangerVmmFirecracker *fc = BANGER_VMM_FIRECRACKER (vmm);
  Wait w = { NULL };

  RUN_SYNC (ctx, w, banger_vmm_firecracker_flush_metrics_async (fc, NULL, wait_done, &w));
  banger_vmm_firecracker_flush_metrics_finish (fc, w.result, NULL);
  g_object_unref (w.result);
}

static void
qemu_balloon (BangerVmm *vmm, BangerEngineVmStats *out)
{
  g_autoptr (JsonNode) ret = qmp_call (vmm, "query-balloon", NULL, NULL);
  gint64 actual;

  if (ret == NULL || !JSON_NODE_HOLDS_OBJECT (ret))
    return;
  actual = json_object_get_int_member_with_default (json_node_get_object (ret), "actual", -1);
  if (actual < 0)
    return;
  /* QEMU reports the guest's memory; the balloon holds the rest */
  out->balloon_actual_mib = (gint64)out->memory_mib - actual / (1024 * 1024);
}

/* The byte counters of @tap from /proc/net/dev (this process's network
 * namespace; /sys/class/net shows the one sysfs was mounted in).  FALSE
 * when it is not there. */
static gboolean
tap_counters (const char *tap, guint64 *out_rx, guint64 *out_tx)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;

  if (!g_file_get_contents ("/proc/self/net/dev", &text, NULL, NULL))
    return FALSE;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *colon = strchr (lines[i], ':');
      g_auto (GStrv) f = NULL;
      guint n = 0;

      if (colon == NULL)
        continue;
      *colon = '\0';
      if (!g_str_equal (g_strstrip (lines[i]), tap))
        continue;
      /* rx: bytes packets errs drop fifo frame compressed multicast; tx: bytes ... */
      f = g_strsplit_set (g_strstrip (colon + 1), " \t", -1);
      for (guint j = 0; f[j] != NULL; j++)
        {
          if (*f[j] == '\0')
            continue;
          if (n == 0)
            *out_rx = g_ascii_strtoull (f[j], NULL, 10);
          else if (n == 8)
            *out_tx = g_ascii_strtoull (f[j], NULL, 10);
          n++;
        }
      return n > 8;
    }
  return FALSE;
}

gboolean
banger_engine_vm_stats (BangerEngine *e, const char *name, BangerEngineVmStats *out,
                        GCancellable *cancellable G_GNUC_UNUSED, GError **error)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (banger_engine_vm_lock (e, name));
  g_autoptr (BangerStoreVm) vm = banger_store_vm_get_by_name (e->store, name, error);
  g_autoptr (BangerVmm) vmm = NULL;
  BangerEngineVmStats s = { 0 };
  BangerVmmStats vs = { 0 };
  g_autofree char *tap = NULL;

  if (vm == NULL)
    return FALSE;
  if (!is_live (vm->state))
    return busy (error, name, vm->state, "read the figures of");
  s.state = vm->state;
  s.memory_mib = vm->memory_mib;
  s.balloon_target_mib = -1;
  s.balloon_actual_mib = -1;
  vmm = banger_engine_lookup_vmm (e, vm->id);
  if (vmm != NULL)
    {
      if (vm->vmm == BANGER_STORE_VMM_FIRECRACKER)
        fc_flush_metrics (vmm);
      if (!banger_vmm_read_stats (vmm, &vs, error))
        return FALSE;
      if (vm->vmm == BANGER_STORE_VMM_FIRECRACKER)
        fc_balloon (vmm, &s);
      else
        qemu_balloon (vmm, &s);
    }
  else
    {
      /* adopted: /proc of the recorded process only */
      g_autoptr (BangerStoreVmRuntime) rt = banger_store_vm_runtime_get (e->store, vm->id, error);
      if (rt == NULL || !banger_vmm_proc_stats_read (rt->pid, &vs, error))
        return FALSE;
    }
  s.at_us = g_get_real_time ();
  s.cpu_user_us = vs.cpu_user_us;
  s.cpu_system_us = vs.cpu_system_us;
  s.rss_bytes = vs.rss_bytes;
  s.block_read_bytes = vs.block_read_bytes;
  s.block_write_bytes = vs.block_write_bytes;
  s.net_rx_bytes = vs.net_rx_bytes;
  s.net_tx_bytes = vs.net_tx_bytes;
  {
    g_autoptr (GMutexLocker) l = g_mutex_locker_new (&e->lock);
    tap = g_strdup (g_hash_table_lookup (e->taps, vm->id));
  }
  if (tap != NULL && s.net_rx_bytes == 0 && s.net_tx_bytes == 0)
    {
      /* the host side of the guest's link: what the tap sends, the guest
       * receives */
      guint64 tap_rx = 0, tap_tx = 0;
      if (tap_counters (tap, &tap_rx, &tap_tx))
        {
          s.net_rx_bytes = tap_tx;
          s.net_tx_bytes = tap_rx;
        }
    }
  *out = s;
  return TRUE;
}

gboolean
banger_engine_vm_set_balloon (BangerEngine *e, const char *name, guint64 balloon_mib,
                              const char *op_id, GCancellable *cancellable G_GNUC_UNUSED,
                              GError **error)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (banger_engine_vm_lock (e, name));
  g_autoptr (BangerStoreVm) vm = banger_store_vm_get_by_name (e->store, name, error);
  g_autoptr (BangerVmm) vmm = NULL;

  if (vm == NULL)
    return FALSE;
  if (!is_live (vm->state))
    return busy (error, name, vm->state, "change the balloon of");
  if (balloon_mib >= vm->memory_mib)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "A balloon of %" G_GUINT64_FORMAT
                   " MiB is not below VM '%s''s memory (%" G_GUINT64_FORMAT " MiB)",
                   balloon_mib, name, vm->memory_mib);
      return FALSE;
    }
  vmm = driver_of (e, vm, "change the balloon of", error);
  if (vmm == NULL)
    return FALSE;
  banger_engine_log (op_id, "vm.set %s: balloon %" G_GUINT64_FORMAT " MiB", name, balloon_mib);
  if (vm->vmm == BANGER_STORE_VMM_FIRECRACKER)
    {
      g_autoptr (GMainContext) ctx = g_main_context_new ();
      BangerVmmFirecracker *fc = BANGER_VMM_FIRECRACKER (vmm);
      Wait w = { NULL };
      gboolean ok;

      RUN_SYNC (
          ctx, w,
          banger_vmm_firecracker_set_balloon_async (fc, (guint)balloon_mib, NULL, wait_done, &w));
      ok = banger_vmm_firecracker_set_balloon_finish (fc, w.result, error);
      g_object_unref (w.result);
      return ok;
    }
  else
    {
      g_autoptr (JsonObject) args = json_object_new ();
      g_autoptr (JsonNode) ret = NULL;

      json_object_set_int_member (args, "value",
                                  (gint64)(vm->memory_mib - balloon_mib) * 1024 * 1024);
      ret = qmp_call (vmm, "balloon", args, error);
      return ret != NULL;
    }
}
