/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * BangerTapPool: taps made ahead of time so that a VM's create or start
 * takes one at once (doc/engine.md, "The tap pool").
 *
 * The pool keeps `size` free taps: each is made by the privileged backend
 * (priv.pool_tap_create, a "bngp<token>" tap on the engine's bridge) and
 * recorded in the store's taps table.  banger_tap_pool_take() hands one to a
 * VM: the store gives the oldest free row to the VM (atomically), the helper
 * renames the tap to the VM's own tap name (priv.pool_tap_claim), and the
 * row leaves the pool.  A background thread refills the pool, one tap at a
 * time, and retries a failure with an exponential back-off.
 * banger_tap_pool_give_back() turns a stopped VM's tap back into a pool tap
 * (priv.pool_tap_return) while the pool is short of `size`; otherwise the
 * VM's clean-up deletes it.  banger_tap_pool_reconcile() makes the store and
 * the host agree after a crash.
 *
 * Thread-safe.  Internal for now; written to become public (0.2) once the
 * privileged backend and the store are: every function is annotated. */
#pragma once

#include <gio/gio.h>

#include "banger-priv-backend.h"
#include "banger-store.h"

G_BEGIN_DECLS

#define BANGER_TYPE_TAP_POOL (banger_tap_pool_get_type ())
G_DECLARE_FINAL_TYPE (BangerTapPool, banger_tap_pool, BANGER, TAP_POOL, GObject)

/* The most taps a pool may keep ([pool] taps= is checked against it). */
#define BANGER_TAP_POOL_MAX_SIZE 256

BangerTapPool *banger_tap_pool_new (BangerPrivBackend *backend, BangerStore *store, guint size,
                                    const char *bridge, const char *bridge_address);

guint banger_tap_pool_get_size (BangerTapPool *self);
gboolean banger_tap_pool_count_free (BangerTapPool *self, guint *out_count, GError **error);
/* Bounds of the refiller's back-off after a failure (default 200 ms, 30 s). */
void banger_tap_pool_set_backoff (BangerTapPool *self, guint min_ms, guint max_ms);

gboolean banger_tap_pool_reconcile (BangerTapPool *self, const char *op_id, GError **error);

void banger_tap_pool_start (BangerTapPool *self);
void banger_tap_pool_stop (BangerTapPool *self);
gboolean banger_tap_pool_wait_full (BangerTapPool *self, guint timeout_ms);

char *banger_tap_pool_take (BangerTapPool *self, const char *vm_id, const char *op_id,
                            GCancellable *cancellable, GError **error);
gboolean banger_tap_pool_give_back (BangerTapPool *self, const char *vm_id, const char *op_id,
                                    gboolean *out_returned, GError **error);

/* Counters since the pool was made (tests, doctor). */
typedef struct
{
  guint made;      /* taps the refiller made */
  guint failures;  /* refills that failed (each retried after the back-off) */
  guint taken;     /* taps handed to VMs */
  guint returned;  /* VM taps turned back into pool taps */
} BangerTapPoolStats;

void banger_tap_pool_get_stats (BangerTapPool *self, BangerTapPoolStats *out_stats);

G_END_DECLS
