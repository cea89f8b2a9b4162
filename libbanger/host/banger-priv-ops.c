/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The operation table.  Adding an operation: one banger-op-*.c file with its
 * parameter table and handler, one line here, one section in
 * doc/protocol.md. */
#include "config.h"

#include "banger-priv-ops-private.h"

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
  OP ("priv.launch_vmm", banger_op_launch_vmm),
  OP ("priv.signal_process", banger_op_signal_process),
  OP ("priv.kill_process", banger_op_kill_process),
  OP ("priv.cleanup_vm", banger_op_cleanup_vm),
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
