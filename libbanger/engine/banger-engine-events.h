/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The engine's event stream (doc/daemon.md, "Events"): every change of a
 * VM's state, whoever made it, and the progress of the step runner, told to
 * each subscriber as one JSON object, the same one bangerd writes to a
 * subscribed connection:
 *   {"type": "vm-state-changed", "vm_id", "name", "state", "op_id"}
 *   {"type": "progress", "op_id", "kind", "target", "step", "index",
 *    "count", "bytes_done", "bytes_total"}
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

/* engine.subscribe: the calling connection receives every event from now
 * on, until it closes (bangerd), or until the embedded client drops its
 * stream.  UNSUPPORTED without a stream to push on. */
gboolean banger_engine_op_subscribe (BangerPrivState *state, const BangerPeerCred *caller,
                                     JsonObject *params, JsonBuilder *result,
                                     GCancellable *cancellable, GError **error);

G_END_DECLS
