/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Pushed messages: a running handler's way to send messages to its caller
 * before (and, for a subscription, after) its reply (doc/protocol.md,
 * "Events").  On the wire each is
 *     {"id": <the request's id>, "event": {…}}
 * framed like every other message (JSON + NUL, at most 64 KiB).
 *
 * A BangerPrivStream is the bounded queue between the handler's thread (the
 * producer) and whoever delivers the messages (the consumer: the socket
 * server writing them to the connection, or BangerClient's embedded mode
 * handing them to its main context).  It holds at most max_queued bytes of
 * messages not yet delivered:
 *   - banger_priv_stream_push (…, wait = TRUE) blocks the producer until
 *     there is room (backpressure: vm.exec output stops being read from the
 *     guest while the caller does not read);
 *   - push (…, wait = FALSE) never blocks: a full queue ends the stream
 *     (overflowed; the consumer drops the connection): events for a
 *     subscriber that does not keep up.
 * The server sets the current thread's stream around each request
 * (banger_priv_current_stream()); a handler called without one (the helper's
 * priv.* table, an inline call) gets UNSUPPORTED from push. */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Bytes of one event object's JSON (the envelope adds at most 40 more and
 * the message must stay within BANGER_PRIV_MESSAGE_MAX). */
#define BANGER_PRIV_EVENT_MAX (64 * 1024 - 64)
/* Default bound of a stream's queue. */
#define BANGER_PRIV_STREAM_QUEUE_MAX (256 * 1024)

typedef struct _BangerPrivStream BangerPrivStream;

/* Called in the consumer's context when messages wait or the stream ended
 * (closed or overflowed). */
typedef void (*BangerPrivStreamNotify) (gpointer user_data);

BangerPrivStream *banger_priv_stream_new (gsize max_queued);
BangerPrivStream *banger_priv_stream_ref (BangerPrivStream *stream);
void banger_priv_stream_unref (BangerPrivStream *stream);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerPrivStream, banger_priv_stream_unref)

/* The consumer: @notify runs in @context (an idle source) with @user_data,
 * which stays borrowed until banger_priv_stream_close() (called from that
 * same context). */
void banger_priv_stream_set_consumer (BangerPrivStream *stream, GMainContext *context,
                                      BangerPrivStreamNotify notify, gpointer user_data);

/* Producer: queue @event (a JSON object; serialized here).
 * LIMIT_EXCEEDED when one event is larger than BANGER_PRIV_EVENT_MAX, or
 * (wait = FALSE) when the queue is full, which also ends the stream;
 * CANCELLED when the consumer has gone or @cancellable fired while
 * waiting; UNSUPPORTED when @stream is NULL (no caller to push to). */
gboolean banger_priv_stream_push (BangerPrivStream *stream, JsonNode *event, gboolean wait,
                                  GCancellable *cancellable, GError **error);

/* Producer: ask the stream to outlive the reply (a subscription): the
 * consumer keeps delivering until it closes the stream. */
void banger_priv_stream_keep (BangerPrivStream *stream);
gboolean banger_priv_stream_is_kept (BangerPrivStream *stream);

/* The id of the request the stream belongs to (set by the server before
 * the handler runs; the consumer wraps each event with it). */
void banger_priv_stream_set_request_id (BangerPrivStream *stream, gint64 id);
gint64 banger_priv_stream_get_request_id (BangerPrivStream *stream);

/* Number of events pushed so far (the server writes the reply after the
 * events pushed before the handler returned). */
guint64 banger_priv_stream_get_n_pushed (BangerPrivStream *stream);

/* Consumer: the oldest queued event's JSON text (transfer full), or NULL.
 * Its bytes count against the bound until banger_priv_stream_delivered(). */
GBytes *banger_priv_stream_pop (BangerPrivStream *stream);
void banger_priv_stream_delivered (BangerPrivStream *stream, gsize len);

/* Consumer gone or done: pushes fail from now on, a waiting producer wakes. */
void banger_priv_stream_close (BangerPrivStream *stream);
gboolean banger_priv_stream_is_closed (BangerPrivStream *stream);
/* A push without wait found the queue full: the stream ended. */
gboolean banger_priv_stream_overflowed (BangerPrivStream *stream);

/* The stream of the request this thread is executing (NULL: none). */
BangerPrivStream *banger_priv_current_stream (void);
void banger_priv_set_current_stream (BangerPrivStream *stream);

/* {"id": @id, "event": <@event_text>} + NUL. */
GBytes *banger_priv_event_message (gint64 id, GBytes *event_text);

/* Parse an incoming message (without its NUL) on a connection that may
 * carry events: an event gives TRUE with *@out_event (transfer full) and
 * @out_id; anything else is read as a reply by banger_priv_reply_parse()
 * (TRUE with *@out_result, or FALSE with the reply's typed error).  An
 * event must be exactly {"id": int, "event": object}. */
gboolean banger_priv_incoming_parse (const char *data, gsize len, gint64 *out_id,
                                     JsonObject **out_event, JsonObject **out_result,
                                     GError **error);

G_END_DECLS
