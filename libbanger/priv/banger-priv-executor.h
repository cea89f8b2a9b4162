/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The validating executor: the one path every privileged request takes,
 * whether it arrived on bangerd-root's socket or is called in-process by a
 * daemon that already runs as root.  Order: authorise the caller (uid root or
 * the owner), find the method in the table, check the parameters against its
 * BangerParamSpec table, call the handler, build the reply.
 *
 * Handlers run one at a time under the executor lock (state->exec_lock),
 * except CONCURRENT operations (banger-priv-op.h); a handler gives the lock
 * up while it waits for a child (banger_priv_executor_release), so no wait on
 * a child ever delays another request. */
#pragma once

#include "banger-install-config.h"
#include "banger-priv-op.h"

G_BEGIN_DECLS

/* Default upper bound of a STRING parameter whose spec says max = 0. */
#define BANGER_PARAM_STRING_MAX_DEFAULT 4096

/* A state for @config (paths copied); vmms is left NULL for the operations
 * to create. */
BangerPrivState *banger_priv_state_new (const BangerInstallConfig *config);
void banger_priv_state_free (BangerPrivState *state);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerPrivState, banger_priv_state_free)

/* The choke point: TRUE iff @caller is root or the owner.
 * BANGER_ERROR_PERMISSION_DENIED otherwise. */
gboolean banger_priv_authorize (const BangerPrivState *state, const BangerPeerCred *caller,
                                GError **error);

/* Inside a handler: give the executor lock up while waiting for something
 * that touches no shared state (a child's exec), so that other requests run
 * meanwhile; take it back with banger_priv_executor_reacquire(@released).
 * FALSE, and nothing done, when this thread does not hold it (a CONCURRENT
 * operation, or a handler a test calls directly). */
gboolean banger_priv_executor_release (BangerPrivState *state);
void banger_priv_executor_reacquire (BangerPrivState *state, gboolean released);

/* The entry for @method in @table (terminated by method == NULL), or NULL. */
const BangerPrivOp *banger_priv_op_find (const BangerPrivOp *table, const char *method);

/* Check @params against @op's spec: no unknown key, every required key
 * present, exact JSON types (an INT is a JSON integer: not a float, not a
 * string, not a bool), INT within [min, max], STRING length within
 * [min, max] bytes (max 0: BANGER_PARAM_STRING_MAX_DEFAULT), valid UTF-8, no
 * control characters, and the spec's validator.  null is never accepted.
 * BANGER_ERROR_INVALID_ARGUMENT naming the parameter. */
gboolean banger_priv_params_check (const BangerPrivOp *op, JsonObject *params, GError **error);

/* Authorise, look up, check, run.  Returns the result object node (transfer
 * full), or NULL with the handler's (or the check's) error.  An unknown
 * method is BANGER_ERROR_UNSUPPORTED. */
JsonNode *banger_priv_execute (const BangerPrivOp *table, BangerPrivState *state,
                               const BangerPeerCred *caller, const char *method,
                               JsonObject *params, GCancellable *cancellable, GError **error);

/* The whole path for one framed message (without its NUL): strict decode,
 * then banger_priv_execute().  Always returns a NUL-terminated reply.
 * *@out_fatal is set when the message itself was unreadable (the reply then
 * has "id": null and the connection must be closed). */
GBytes *banger_priv_execute_message (const BangerPrivOp *table, BangerPrivState *state,
                                     const BangerPeerCred *caller, const char *data, gsize len,
                                     GCancellable *cancellable, gboolean *out_fatal);

/* The op id of the request this thread is executing (NULL when none): set
 * by the server around banger_priv_execute() so that handlers can name the
 * operation in their log lines and pass it on (the daemon's engine passes
 * it to bangerd-root). */
const char *banger_priv_current_op_id (void);
void banger_priv_set_current_op_id (const char *op_id);

G_END_DECLS
