/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The engine's methods on the wire: one BangerPrivOp table (vm.*, image.*,
 * kernel.*, engine.status) with strict parameter tables, run by the same
 * validating executor as bangerd-root's.  bangerd serves it on its socket
 * (BangerPrivServer); BangerClient's embedded mode calls it in-process with
 * banger_priv_execute().  One path, so a daemon and an embedded engine
 * check and answer exactly alike.  Methods and fields: doc/daemon.md. */
#pragma once

#include "banger-engine.h"
#include "banger-priv-op.h"

G_BEGIN_DECLS

/* Largest vm.exec output carried in one reply (stdout + stderr): the
 * replies are bounded by the framing (64 KiB of JSON). */
#define BANGER_ENGINE_EXEC_OUTPUT_MAX (40 * 1024)

const BangerPrivOp *banger_engine_ops_table (void);

/* Pieces the method files share (banger-engine-snapshot-ops.c): a VM as
 * the replies carry it; vm.set's balloon_mib; the snapshot methods. */
void banger_engine_ops_add_vm (JsonBuilder *b, const BangerEngineVmInfo *info);
/* The operations table row of a mutating request: banger_engine_ops_record_begin/_end
 * (banger-engine-ops-private.h). */
gboolean banger_engine_ops_set_balloon (BangerPrivState *state, JsonObject *params,
                                        JsonBuilder *result, GCancellable *cancellable,
                                        GError **error);
extern const BangerPrivOp banger_engine_snapshot_ops[];

/* The executor state for serving @engine's table: the callers admitted are
 * root and this process's uid (borrowed engine, kept in state->table_data). */
BangerPrivState *banger_engine_ops_state_new (BangerEngine *engine);

G_END_DECLS
