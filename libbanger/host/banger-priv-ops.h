/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The table of privileged operations bangerd-root (and the in-process
 * executor) dispatches to.  One file per operation (banger-op-*.c), its
 * validation next to the code it guards.  doc/protocol.md lists the methods. */
#pragma once

#include "banger-priv-op.h"

G_BEGIN_DECLS

/* Terminated by an entry whose method is NULL. */
const BangerPrivOp *banger_priv_ops_table (void);

/* Look a method up in the table; NULL when unknown. */
const BangerPrivOp *banger_priv_ops_lookup (const char *method);

/* Frees one registry entry (closes its pidfd).  The executor's state may
 * create state->vmms as
 *   g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
 *                          (GDestroyNotify) banger_priv_vmm_free)
 * or leave it NULL: the operations create it on first use. */
void banger_priv_vmm_free (BangerPrivVmm *vmm);

/* Reap every launched VMM that has exited (waitid on its pidfd, WNOHANG) and
 * drop it from the registry.  Safe to call at any time, e.g. from a pidfd
 * watch in the server's main loop; the operations call it themselves before
 * they look a pid up.  Returns how many were reaped. */
guint banger_priv_state_reap (BangerPrivState *state);

G_END_DECLS
