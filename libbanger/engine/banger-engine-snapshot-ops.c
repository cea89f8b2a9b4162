/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The method table of the running-VM services (banger-engine-snapshot.h):
 * vm.pause, vm.resume, vm.snapshot, vm.restore, vm.stats, snapshot.list,
 * snapshot.delete, and vm.set's balloon_mib.  Part of the engine's one
 * table (banger_engine_ops_table); fields in doc/daemon.md. */
#include "config.h"

#include "banger-engine-ops-private.h"
#include "banger-engine-ops.h"
#include "banger-engine-private.h"
#include "banger-engine-snapshot.h"
#include "banger-error.h"
#include "banger-names.h"
#include "banger-priv-executor.h"

#define OP_ID banger_priv_current_op_id ()

static BangerEngine *
engine_of (BangerPrivState *state)
{
  return BANGER_ENGINE (state->table_data);
}

static const char *
opt_str (JsonObject *params, const char *name)
{
  return json_object_get_string_member_with_default (params, name, NULL);
}

static void
add_snapshot (BangerEngine *e, JsonBuilder *b, const BangerStoreSnapshot *s)
{
  BangerStore *store = banger_engine_get_store (e);
  g_autoptr (BangerStoreImage) image = banger_store_image_get_by_id (store, s->image_id, NULL);
  g_autoptr (BangerStoreKernel) kernel = banger_store_kernel_get_by_id (store, s->kernel_id, NULL);
  g_autoptr (BangerStoreSnapshot) parent
      = s->parent_id ? banger_store_snapshot_get_by_id (store, s->parent_id, NULL) : NULL;

  json_builder_begin_object (b);
  banger_engine_json_add_str (b, "id", s->id);
  banger_engine_json_add_str (b, "name", s->name);
  banger_engine_json_add_str (b, "vm", s->vm_name);
  banger_engine_json_add_str (b, "vmm", banger_store_vmm_to_string (s->vmm));
  banger_engine_json_add_str (b, "image", image ? image->name : NULL);
  banger_engine_json_add_str (b, "kernel", kernel ? kernel->name : NULL);
  banger_engine_json_add_int (b, "vcpus", s->vcpus);
  banger_engine_json_add_int (b, "memory_mib", (gint64)s->memory_mib);
  banger_engine_json_add_int (b, "work_disk_bytes", (gint64)s->work_disk_bytes);
  json_builder_set_member_name (b, "diff");
  json_builder_add_boolean_value (b, s->diff);
  banger_engine_json_add_str (b, "parent", parent ? parent->name : NULL);
  banger_engine_json_add_str (b, "guest_ip", s->guest_ip);
  banger_engine_json_add_int (b, "size_bytes", (gint64)s->size_bytes);
  banger_engine_json_add_int (b, "created_at", s->created_at);
  json_builder_end_object (b);
}

static gboolean
reply_vm (BangerPrivState *state, const char *name, JsonBuilder *result, GError **error)
{
  g_autoptr (BangerEngineVmInfo) info = banger_engine_vm_get (engine_of (state), name, error);

  if (info == NULL)
    return FALSE;
  json_builder_set_member_name (result, "vm");
  banger_engine_ops_add_vm (result, info);
  return TRUE;
}

#define HANDLER(fn)                                                                                \
  static gboolean fn (BangerPrivState *state, const BangerPeerCred *caller G_GNUC_UNUSED,          \
                      JsonObject *params, JsonBuilder *result, GCancellable *cancellable,          \
                      GError **error)

/* A mutating method: a row of the operations table (banger-engine-ops.c). */
#define RECORDED(kind, body)                                                                       \
  do                                                                                               \
    {                                                                                              \
      char *op_row = banger_engine_ops_record_begin (                                              \
          state, kind, json_object_get_string_member_with_default (params, "name", NULL));         \
      return banger_engine_ops_record_end (state, op_row, (body), error);                          \
    }                                                                                              \
  while (0)

static gboolean
do_pause (BangerPrivState *state, JsonObject *params, JsonBuilder *result,
          GCancellable *cancellable, gboolean pause, GError **error)
{
  const char *name = opt_str (params, "name");
  gboolean ok = pause
                    ? banger_engine_vm_pause (engine_of (state), name, OP_ID, cancellable, error)
                    : banger_engine_vm_resume (engine_of (state), name, OP_ID, cancellable, error);
  return ok && reply_vm (state, name, result, error);
}

HANDLER (op_vm_pause)
{
  RECORDED ("vm.pause", do_pause (state, params, result, cancellable, TRUE, error));
}

HANDLER (op_vm_resume)
{
  RECORDED ("vm.resume", do_pause (state, params, result, cancellable, FALSE, error));
}

static gboolean
do_snapshot (BangerPrivState *state, JsonObject *params, JsonBuilder *result,
             GCancellable *cancellable, GError **error)
{
  BangerEngine *e = engine_of (state);
  g_autoptr (BangerStoreSnapshot) s = banger_engine_vm_snapshot (
      e, opt_str (params, "name"), opt_str (params, "snapshot"),
      json_object_get_boolean_member_with_default (params, "diff", FALSE), OP_ID, cancellable,
      error);

  if (s == NULL)
    return FALSE;
  json_builder_set_member_name (result, "snapshot");
  add_snapshot (e, result, s);
  return TRUE;
}

HANDLER (op_vm_snapshot)
{
  RECORDED ("vm.snapshot", do_snapshot (state, params, result, cancellable, error));
}

static gboolean
do_restore (BangerPrivState *state, JsonObject *params, JsonBuilder *result,
            GCancellable *cancellable, GError **error)
{
  g_autoptr (BangerEngineVmInfo) info
      = banger_engine_vm_restore (engine_of (state), opt_str (params, "snapshot"),
                                  opt_str (params, "name"), OP_ID, cancellable, error);

  if (info == NULL)
    return FALSE;
  json_builder_set_member_name (result, "vm");
  banger_engine_ops_add_vm (result, info);
  return TRUE;
}

HANDLER (op_vm_restore)
{
  RECORDED ("vm.restore", do_restore (state, params, result, cancellable, error));
}

HANDLER (op_snapshot_list)
{
  BangerEngine *e = engine_of (state);
  g_autoptr (GPtrArray) list = banger_engine_snapshot_list (e, error);

  (void)params;
  (void)cancellable;
  if (list == NULL)
    return FALSE;
  json_builder_set_member_name (result, "snapshots");
  json_builder_begin_array (result);
  for (guint i = 0; i < list->len; i++)
    add_snapshot (e, result, list->pdata[i]);
  json_builder_end_array (result);
  return TRUE;
}

HANDLER (op_snapshot_delete)
{
  (void)result;
  (void)cancellable;
  RECORDED ("snapshot.delete", banger_engine_snapshot_delete (
                                   engine_of (state), opt_str (params, "name"), OP_ID, error));
}

HANDLER (op_vm_stats)
{
  BangerEngineVmStats s;

  if (!banger_engine_vm_stats (engine_of (state), opt_str (params, "name"), &s, cancellable, error))
    return FALSE;
  json_builder_set_member_name (result, "stats");
  json_builder_begin_object (result);
  banger_engine_json_add_str (result, "name", opt_str (params, "name"));
  banger_engine_json_add_str (result, "state", banger_store_vm_state_to_string (s.state));
  banger_engine_json_add_int (result, "at", s.at_us);
  banger_engine_json_add_int (result, "cpu_user_us", (gint64)s.cpu_user_us);
  banger_engine_json_add_int (result, "cpu_system_us", (gint64)s.cpu_system_us);
  banger_engine_json_add_int (result, "rss_bytes", (gint64)s.rss_bytes);
  banger_engine_json_add_int (result, "memory_mib", (gint64)s.memory_mib);
  banger_engine_json_add_int (result, "balloon_target_mib", s.balloon_target_mib);
  banger_engine_json_add_int (result, "balloon_actual_mib", s.balloon_actual_mib);
  banger_engine_json_add_int (result, "block_read_bytes", (gint64)s.block_read_bytes);
  banger_engine_json_add_int (result, "block_write_bytes", (gint64)s.block_write_bytes);
  banger_engine_json_add_int (result, "net_rx_bytes", (gint64)s.net_rx_bytes);
  banger_engine_json_add_int (result, "net_tx_bytes", (gint64)s.net_tx_bytes);
  json_builder_end_object (result);
  return TRUE;
}

/* vm.set with balloon_mib: a running or paused VM's balloon; vcpus and
 * memory_mib (a stopped VM's) cannot come with it. */
gboolean
banger_engine_ops_set_balloon (BangerPrivState *state, JsonObject *params, JsonBuilder *result,
                               GCancellable *cancellable, GError **error)
{
  const char *name = opt_str (params, "name");

  if (json_object_has_member (params, "vcpus") || json_object_has_member (params, "memory_mib"))
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                           "vm.set: balloon_mib (a running VM's) cannot come with vcpus or "
                           "memory_mib (a stopped VM's)");
      return FALSE;
    }
  return banger_engine_vm_set_balloon (
             engine_of (state), name,
             (guint64)json_object_get_int_member_with_default (params, "balloon_mib", 0), OP_ID,
             cancellable, error)
         && reply_vm (state, name, result, error);
}

static const BangerParamSpec vm_name_params[] = {
  { "name", BANGER_PARAM_STRING, TRUE, 1, 128, banger_validate_vm_name },
  { NULL },
};
static const BangerParamSpec object_name_params[] = {
  { "name", BANGER_PARAM_STRING, TRUE, 1, 128, NULL },
  { NULL },
};
static const BangerParamSpec snapshot_params[] = {
  { "name", BANGER_PARAM_STRING, TRUE, 1, 128, banger_validate_vm_name },
  { "snapshot", BANGER_PARAM_STRING, FALSE, 1, 128, NULL },
  { "diff", BANGER_PARAM_BOOL, FALSE, 0, 0, NULL },
  { NULL },
};
static const BangerParamSpec restore_params[] = {
  { "snapshot", BANGER_PARAM_STRING, TRUE, 1, 128, NULL },
  { "name", BANGER_PARAM_STRING, FALSE, 1, 128, banger_validate_vm_name },
  { NULL },
};
static const BangerParamSpec no_params[] = { { NULL } };

#define FLAGS (BANGER_PRIV_OP_CONCURRENT | BANGER_PRIV_OP_WORKER)

const BangerPrivOp banger_engine_snapshot_ops[] = {
  { "vm.pause", vm_name_params, op_vm_pause, FLAGS },
  { "vm.resume", vm_name_params, op_vm_resume, FLAGS },
  { "vm.snapshot", snapshot_params, op_vm_snapshot, FLAGS },
  { "vm.restore", restore_params, op_vm_restore, FLAGS },
  { "vm.stats", vm_name_params, op_vm_stats, FLAGS },
  { "snapshot.list", no_params, op_snapshot_list, FLAGS },
  { "snapshot.delete", object_name_params, op_snapshot_delete, FLAGS },
  { NULL, NULL, NULL, 0 },
};
