/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The engine's event stream (doc/daemon.md, "Events"): every change of a
 * VM's state, whoever made it, and the progress of the step runner, told to
 * each subscriber as one JSON object, the same one bangerd writes to a
 * subscribed connection:
 *   {"type": "vm-state-changed", "vm_id", "name", "state", "op_id"}
 *   {"type": "progress", "op_id", "kind", "target", "step", "index",
 *    "count", "bytes_done", "bytes_total"}
 *   {"type": "snapshot-created" | "snapshot-deleted", "name", "vm", "op_id"}
 * "state" is a VM state name or "deleted"; "op_id" is null for changes made
 * outside a request (reconcile at start).  Subscribers are called in the
 * thread that made the change, one event at a time for all subscribers (so
 * every subscriber sees the same order); they must not block. */
#pragma once

#include <json-glib/json-glib.h>

#include "banger-engine.h"
#include "banger-priv-op.h"

G_BEGIN_DECLS

typedef struct _BangerEngineEvents BangerEngineEvents;

BangerEngineEvents *banger_engine_events_new (void);
void banger_engine_events_free (BangerEngineEvents *events);

/* Called with each event; FALSE unsubscribes (@destroy is called). */
typedef gboolean (*BangerEngineEventFunc) (JsonNode *event, gpointer user_data);

guint banger_engine_subscribe (BangerEngine *self, BangerEngineEventFunc func, gpointer user_data,
                               GDestroyNotify destroy);
void banger_engine_unsubscribe (BangerEngine *self, guint id);
guint banger_engine_get_n_subscribers (BangerEngine *self);

/* Turns the store's VM changes into vm-state-changed events (set by
 * banger_engine_new before reconcile). */
void banger_engine_events_attach_store (BangerEngine *self);

/* Step @index (1-based) of @count of operation @op_id (@kind "vm.create",
 * "vm.start") on @target has begun; @bytes_total 0: no byte count. */
void banger_engine_emit_progress (BangerEngine *self, const char *op_id, const char *kind,
                                  const char *target, const char *step, guint index, guint count,
                                  guint64 bytes_done, guint64 bytes_total);

/* A step of an operation, as the progress events tell it: begin emits its
 * progress event (bytes 0 of 0) and makes it this thread's current step,
 * so that whatever runs inside it (a disk copy, a VMM's memory write) can
 * report bytes with banger_engine_step_bytes() without knowing the step;
 * end restores the step it was nested in.  @kind NULL: no events. */
typedef struct _BangerEngineStep BangerEngineStep;
struct _BangerEngineStep
{
  BangerEngine *engine;
  const char *op_id;
  const char *kind; /* "vm.create", "vm.start", "vm.snapshot", "vm.restore" */
  const char *target;
  const char *step;
  guint index;
  guint count;
  /* private */
  gint64 last_us;
  guint64 last_done;
  BangerEngineStep *outer;
};

void banger_engine_step_begin (BangerEngineStep *step);
void banger_engine_step_end (BangerEngineStep *step);
/* g_auto (BangerEngineStep): ended when it goes out of scope */
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (BangerEngineStep, banger_engine_step_end)
/* Ends @step and begins the next one, @name, with index + 1. */
void banger_engine_step_next (BangerEngineStep *step, const char *name);
/* @done of @total bytes of this thread's current step (none: nothing):
 * a progress event, at most every 100 ms, never going backwards; the
 * report that reaches @total always goes out. */
void banger_engine_step_bytes (guint64 done, guint64 total);
/* The same as a progress callback (a BangerCowProgressFunc: disk copies). */
void banger_engine_step_bytes_func (guint64 done, guint64 total, gpointer user_data);

/* snapshot-created / snapshot-deleted of snapshot @name (of VM @vm_name). */
void banger_engine_emit_snapshot_changed (BangerEngine *self, const char *op_id, gboolean created,
                                          const char *name, const char *vm_name);

/* engine.subscribe: the calling connection receives every event from now
 * on, until it closes (bangerd), or until the embedded client drops its
 * stream.  UNSUPPORTED without a stream to push on. */
gboolean banger_engine_op_subscribe (BangerPrivState *state, const BangerPeerCred *caller,
                                     JsonObject *params, JsonBuilder *result,
                                     GCancellable *cancellable, GError **error);

G_END_DECLS
