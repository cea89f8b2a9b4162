/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Operations: one row per request the engine works on (op id, kind, target,
 * state, start and end, error), kept after it ends until pruned
 * (doc/store.md). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _BangerStore BangerStore;

typedef enum
{
  BANGER_STORE_OP_RUNNING,
  BANGER_STORE_OP_SUCCEEDED,
  BANGER_STORE_OP_FAILED,
  BANGER_STORE_OP_CANCELLED,
} BangerStoreOpState;
#define BANGER_STORE_OP_STATE_LAST BANGER_STORE_OP_CANCELLED

const char *banger_store_op_state_to_string (BangerStoreOpState state);
gboolean banger_store_op_state_from_string (const char *s, BangerStoreOpState *out);

typedef struct
{
  char *id;          /* 1-64 of [A-Za-z0-9_-] */
  char *kind;        /* "vm.create", ...: 1-64 of [a-z0-9._-] */
  char *target;      /* nullable: what it acts on (a VM name, ...) */
  BangerStoreOpState state;
  gint64 started_at; /* unix time, microseconds */
  gint64 ended_at;   /* 0 while running */
  char *error_code;  /* nullable: banger_error_to_name() of the failure */
  char *error;       /* nullable: its message */
} BangerStoreOp;

BangerStoreOp *banger_store_op_copy (const BangerStoreOp *op);
void banger_store_op_free (BangerStoreOp *op);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerStoreOp, banger_store_op_free)

/* Records a running operation.  @id: the caller's op id, or NULL for 16
 * random hex digits.  ALREADY_EXISTS when @id is taken, INVALID_ARGUMENT for
 * a bad id or kind. */
BangerStoreOp *banger_store_op_begin (BangerStore *store, const char *id, const char *kind,
                                      const char *target, GError **error);
/* Ends operation @id in @state (SUCCEEDED, FAILED or CANCELLED) with
 * @failure (nullable; its code is stored by wire name when it is a
 * BANGER_ERROR, else "failed").  NOT_FOUND when absent; INVALID_ARGUMENT when
 * @state is RUNNING or the operation already ended. */
gboolean banger_store_op_finish (BangerStore *store, const char *id, BangerStoreOpState state,
                                 const GError *failure, GError **error);
BangerStoreOp *banger_store_op_get (BangerStore *store, const char *id, GError **error);
/* Newest first; only running ones when @running_only; at most @limit rows
 * (0: no limit). */
GPtrArray *banger_store_op_list (BangerStore *store, gboolean running_only, guint limit,
                                 GError **error);
/* At daemon start: every operation still RUNNING belonged to a process that
 * is gone; each becomes FAILED with @message.  @out_n (optional): how many. */
gboolean banger_store_op_fail_running (BangerStore *store, const char *message, guint *out_n,
                                       GError **error);
/* Deletes operations that ended before @ended_before (unix µs). */
gboolean banger_store_op_prune (BangerStore *store, gint64 ended_before, guint *out_n,
                                GError **error);

G_END_DECLS
