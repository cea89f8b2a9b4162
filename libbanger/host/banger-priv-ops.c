/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The operation table.  Adding an operation: one banger-op-*.c file with its
 * parameter table and handler, one line here, one section in
 * doc/protocol.md. */
#include "config.h"

#include "banger-error.h"
#include "banger-priv-ops-private.h"

/* The per-owner cap on running VMMs (install config max-vmms), checked
 * before the launch itself: every VMM holds a pidfd in the helper, and the
 * helper's descriptors must not run out for root (doc/security.md). */
static gboolean
launch_vmm_capped (BangerPrivState *state, const BangerPeerCred *caller, JsonObject *params,
                   JsonBuilder *result, GCancellable *cancellable, GError **error)
{
  const char *vm_id = banger_priv_param_string (params, "vm_id");
  guint max = state->max_vmms ? state->max_vmms : BANGER_INSTALL_DEFAULT_MAX_VMMS;
  guint n;
  gboolean known;

  banger_priv_state_reap (state);
  g_mutex_lock (&state->lock);
  n = g_hash_table_size (banger_priv_state_vmms_locked (state));
  known = vm_id != NULL && g_hash_table_contains (state->vmms, vm_id);
  g_mutex_unlock (&state->lock);
  if (n >= max && !known)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_LIMIT_EXCEEDED,
                   "The helper already runs %u VMMs (max-vmms in the install config)", n);
      return FALSE;
    }
  return banger_op_launch_vmm (state, caller, params, result, cancellable, error);
}

#define OP(method, sym) { method, sym##_params, sym, BANGER_PRIV_OP_FLAGS_NONE }
/* Read-only: answered while other operations run (banger-priv-op.h). */
#define OP_CONCURRENT(method, sym) { method, sym##_params, sym, BANGER_PRIV_OP_CONCURRENT }

static const BangerPrivOp ops[] = {
  OP_CONCURRENT ("priv.status", banger_op_status),
  OP ("priv.create_tap", banger_op_create_tap),
  OP ("priv.delete_tap", banger_op_delete_tap),
  OP ("priv.create_bridge", banger_op_create_bridge),
  OP ("priv.delete_bridge", banger_op_delete_bridge),
  OP ("priv.nat_enable", banger_op_nat_enable),
  OP ("priv.nat_disable", banger_op_nat_disable),
  OP ("priv.dm_snapshot_create", banger_op_dm_snapshot_create),
  OP ("priv.dm_snapshot_remove", banger_op_dm_snapshot_remove),
  OP ("priv.mkfs_work_disk", banger_op_mkfs_work_disk),
  { "priv.launch_vmm", banger_op_launch_vmm_params, launch_vmm_capped, BANGER_PRIV_OP_FLAGS_NONE },
  OP ("priv.signal_process", banger_op_signal_process),
  OP ("priv.kill_process", banger_op_kill_process),
  OP ("priv.cleanup_vm", banger_op_cleanup_vm),
  OP ("priv.pool_tap_create", banger_op_pool_tap_create),
  OP ("priv.pool_tap_claim", banger_op_pool_tap_claim),
  OP ("priv.neigh_set", banger_op_neigh_set),
  OP ("priv.pool_tap_return", banger_op_pool_tap_return),
  OP ("priv.pool_tap_delete", banger_op_pool_tap_delete),
  OP ("priv.list_host_objects", banger_op_list_host_objects),
  OP ("priv.publish_set", banger_op_publish_set),
  OP_CONCURRENT ("priv.publish_list", banger_op_publish_list),
  OP ("priv.egress_set", banger_op_egress_set),
  OP ("priv.resolved_link", banger_op_resolved_link),
  { NULL },
};

const BangerPrivOp *
banger_priv_ops_table (void)
{
  return ops;
}

const BangerPrivOp *
banger_priv_ops_lookup (const char *method)
{
  if (method == NULL)
    return NULL;
  for (const BangerPrivOp *op = ops; op->method != NULL; op++)
    if (g_str_equal (op->method, method))
      return op;
  return NULL;
}
