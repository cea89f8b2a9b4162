/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The engine methods of "reaching VMs" (issue 12: SSH and the workspace),
 * kept out of banger-engine-ops.c so that file's table only gains rows:
 * vm.ssh_info, ssh.config, vm.workspace_push, vm.workspace_pull,
 * vm.workspace_status.  Fields: doc/daemon.md. */
#pragma once

#include "banger-priv-op.h"

G_BEGIN_DECLS

#define BANGER_ENGINE_REACH_HANDLER(fn)                                                            \
  gboolean fn (BangerPrivState *state, const BangerPeerCred *caller, JsonObject *params,           \
               JsonBuilder *result, GCancellable *cancellable, GError **error)

BANGER_ENGINE_REACH_HANDLER (banger_engine_op_vm_ssh_info);
BANGER_ENGINE_REACH_HANDLER (banger_engine_op_ssh_config);
BANGER_ENGINE_REACH_HANDLER (banger_engine_op_vm_workspace_push);
BANGER_ENGINE_REACH_HANDLER (banger_engine_op_vm_workspace_pull);
BANGER_ENGINE_REACH_HANDLER (banger_engine_op_vm_workspace_status);

extern const BangerParamSpec banger_engine_vm_ssh_info_params[];
extern const BangerParamSpec banger_engine_ssh_config_params[];
extern const BangerParamSpec banger_engine_vm_workspace_params[];

/* The rows for the engine's table (every one CONCURRENT | WORKER). */
#define BANGER_ENGINE_REACH_OPS                                                                    \
  { "vm.ssh_info", banger_engine_vm_ssh_info_params, banger_engine_op_vm_ssh_info,                 \
    BANGER_PRIV_OP_CONCURRENT | BANGER_PRIV_OP_WORKER },                                           \
      { "ssh.config", banger_engine_ssh_config_params, banger_engine_op_ssh_config,                \
        BANGER_PRIV_OP_CONCURRENT | BANGER_PRIV_OP_WORKER },                                       \
      { "vm.workspace_push", banger_engine_vm_workspace_params,                                    \
        banger_engine_op_vm_workspace_push, BANGER_PRIV_OP_CONCURRENT | BANGER_PRIV_OP_WORKER },   \
      { "vm.workspace_pull", banger_engine_vm_workspace_params,                                    \
        banger_engine_op_vm_workspace_pull, BANGER_PRIV_OP_CONCURRENT | BANGER_PRIV_OP_WORKER },   \
      { "vm.workspace_status", banger_engine_vm_workspace_params,                                  \
        banger_engine_op_vm_workspace_status, BANGER_PRIV_OP_CONCURRENT | BANGER_PRIV_OP_WORKER }

G_END_DECLS
