/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A call that carries events (doc/daemon.md, "Events"): engine.subscribe
 * and the streaming vm.exec.  Over a socket it has a connection of its own
 * (the request, then {"id", "event"} messages, then the reply, then — a
 * subscription — more events until either side closes).  Embedded, the
 * same handler runs in a worker thread with a BangerPrivStream whose
 * consumer is the caller's main context.  Either way the events arrive in
 * the thread-default main context of the start, in order, before the
 * reply's callback for the events pushed before the reply.
 *
 * Flow control: @on_event returns FALSE to pause; nothing more is read
 * (socket) or taken from the stream (embedded) until
 * banger_client_stream_call_resume(), so a slow consumer holds the
 * producer back through the bounded queues, end to end. */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "banger-priv-op.h"

G_BEGIN_DECLS

typedef struct _BangerClientStreamCall BangerClientStreamCall;

/* FALSE: pause until resume. */
typedef gboolean (*BangerClientStreamEventFunc) (JsonObject *event, gpointer user_data);
/* After the reply, a kept stream (a subscription) ended: the connection
 * closed or the daemon dropped it (@error says why). */
typedef void (*BangerClientStreamEndFunc) (const GError *error, gpointer user_data);

/* Starts @method with @params (taken).  Exactly one of @socket_path and
 * @state (embedded: the engine's executor state, borrowed) is set.
 * @callback gets the reply (banger_client_stream_call_finish()).  The
 * returned call (transfer full) stays alive until unreffed; unref after
 * banger_client_stream_call_close() to be sure no callback runs any more. */
BangerClientStreamCall *banger_client_stream_call_start (
    const char *socket_path, BangerPrivState *state, const char *method, JsonObject *params,
    const char *op_id, BangerClientStreamEventFunc on_event, BangerClientStreamEndFunc on_end,
    gpointer user_data, GCancellable *cancellable, GAsyncReadyCallback callback,
    gpointer callback_data);

/* The reply's result object (transfer full), or NULL with the error. */
JsonObject *banger_client_stream_call_finish (GAsyncResult *result, GError **error);

void banger_client_stream_call_resume (BangerClientStreamCall *call);
/* No more events or end callbacks; the connection (or the stream) closes,
 * so the daemon stops pushing.  A reply still pending completes with
 * CANCELLED. */
void banger_client_stream_call_close (BangerClientStreamCall *call);

BangerClientStreamCall *banger_client_stream_call_ref (BangerClientStreamCall *call);
void banger_client_stream_call_unref (BangerClientStreamCall *call);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerClientStreamCall, banger_client_stream_call_unref)

G_END_DECLS
