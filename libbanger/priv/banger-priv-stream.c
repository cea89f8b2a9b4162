/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Pushed messages between a handler and its caller (banger-priv-stream.h). */
#include "config.h"

#include <string.h>

#include "banger-error.h"
#include "banger-priv-json.h"
#include "banger-priv-message.h"
#include "banger-priv-stream.h"

/* How often a producer waiting for room looks at its cancellable. */
#define WAIT_SLICE_US (100 * 1000)

struct _BangerPrivStream
{
  gatomicrefcount ref;
  GMutex lock;
  GCond room; /* signalled when bytes were delivered or the stream closed */
  GQueue queue; /* GBytes* event texts */
  gsize queued; /* bytes popped or queued but not yet delivered */
  gsize max_queued;
  guint64 n_pushed;
  gint64 request_id;
  gboolean closed;
  gboolean overflowed;
  gboolean kept;
  /* the consumer */
  GMainContext *context;
  BangerPrivStreamNotify notify;
  gpointer notify_data;
  gboolean notify_pending;
};

BangerPrivStream *
banger_priv_stream_new (gsize max_queued)
{
  BangerPrivStream *s = g_new0 (BangerPrivStream, 1);

  g_atomic_ref_count_init (&s->ref);
  g_mutex_init (&s->lock);
  g_cond_init (&s->room);
  g_queue_init (&s->queue);
  s->max_queued = max_queued ? max_queued : BANGER_PRIV_STREAM_QUEUE_MAX;
  return s;
}

BangerPrivStream *
banger_priv_stream_ref (BangerPrivStream *stream)
{
  g_atomic_ref_count_inc (&stream->ref);
  return stream;
}

void
banger_priv_stream_unref (BangerPrivStream *stream)
{
  if (stream == NULL || !g_atomic_ref_count_dec (&stream->ref))
    return;
  g_queue_clear_full (&stream->queue, (GDestroyNotify)g_bytes_unref);
  g_clear_pointer (&stream->context, g_main_context_unref);
  g_mutex_clear (&stream->lock);
  g_cond_clear (&stream->room);
  g_free (stream);
}

void
banger_priv_stream_set_consumer (BangerPrivStream *stream, GMainContext *context,
                                 BangerPrivStreamNotify notify, gpointer user_data)
{
  g_mutex_lock (&stream->lock);
  g_clear_pointer (&stream->context, g_main_context_unref);
  stream->context = context ? g_main_context_ref (context) : NULL;
  stream->notify = notify;
  stream->notify_data = user_data;
  g_mutex_unlock (&stream->lock);
}

static gboolean
on_notify (gpointer user_data)
{
  BangerPrivStream *s = user_data;
  BangerPrivStreamNotify notify;
  gpointer data;

  g_mutex_lock (&s->lock);
  s->notify_pending = FALSE;
  notify = s->notify;
  data = s->notify_data;
  g_mutex_unlock (&s->lock);
  if (notify != NULL)
    notify (data);
  return G_SOURCE_REMOVE;
}

/* With the lock held: wake the consumer once. */
static void
schedule_notify_locked (BangerPrivStream *s)
{
  GSource *idle;

  if (s->notify_pending || s->notify == NULL || s->context == NULL)
    return;
  s->notify_pending = TRUE;
  idle = g_idle_source_new ();
  g_source_set_callback (idle, on_notify, banger_priv_stream_ref (s),
                         (GDestroyNotify)banger_priv_stream_unref);
  g_source_attach (idle, s->context);
  g_source_unref (idle);
}

static GBytes *
serialize (JsonNode *event)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  gsize len = 0;
  char *text;

  json_generator_set_root (gen, event);
  text = json_generator_to_data (gen, &len);
  return g_bytes_new_take (text, len);
}

gboolean
banger_priv_stream_push (BangerPrivStream *stream, JsonNode *event, gboolean wait,
                         GCancellable *cancellable, GError **error)
{
  g_autoptr (GBytes) text = NULL;
  gsize len;

  g_return_val_if_fail (event != NULL && JSON_NODE_HOLDS_OBJECT (event), FALSE);
  if (stream == NULL)
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_UNSUPPORTED,
                           "This request has no stream to push messages on");
      return FALSE;
    }
  text = serialize (event);
  len = g_bytes_get_size (text);
  if (len > BANGER_PRIV_EVENT_MAX)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_LIMIT_EXCEEDED,
                   "An event of %" G_GSIZE_FORMAT " bytes is larger than the %d bytes a "
                   "message carries",
                   len, BANGER_PRIV_EVENT_MAX);
      return FALSE;
    }

  g_mutex_lock (&stream->lock);
  for (;;)
    {
      if (stream->closed)
        {
          g_mutex_unlock (&stream->lock);
          g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_CANCELLED,
                               stream->overflowed
                                   ? "The caller did not read its events in time"
                                   : "The caller has gone");
          return FALSE;
        }
      /* One message always fits an empty queue, whatever its size. */
      if (stream->queued == 0 || stream->queued + len <= stream->max_queued)
        break;
      if (!wait)
        {
          stream->overflowed = TRUE;
          stream->closed = TRUE;
          schedule_notify_locked (stream);
          g_cond_broadcast (&stream->room);
          g_mutex_unlock (&stream->lock);
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_LIMIT_EXCEEDED,
                       "The caller did not read its events: more than %" G_GSIZE_FORMAT
                       " bytes queued",
                       stream->max_queued);
          return FALSE;
        }
      if (g_cancellable_is_cancelled (cancellable))
        {
          g_mutex_unlock (&stream->lock);
          g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_CANCELLED,
                               "Cancelled while waiting for the caller to read");
          return FALSE;
        }
      g_cond_wait_until (&stream->room, &stream->lock, g_get_monotonic_time () + WAIT_SLICE_US);
    }
  g_queue_push_tail (&stream->queue, g_steal_pointer (&text));
  stream->queued += len;
  stream->n_pushed++;
  schedule_notify_locked (stream);
  g_mutex_unlock (&stream->lock);
  return TRUE;
}

void
banger_priv_stream_keep (BangerPrivStream *stream)
{
  g_mutex_lock (&stream->lock);
  stream->kept = TRUE;
  g_mutex_unlock (&stream->lock);
}

gboolean
banger_priv_stream_is_kept (BangerPrivStream *stream)
{
  gboolean kept;

  g_mutex_lock (&stream->lock);
  kept = stream->kept;
  g_mutex_unlock (&stream->lock);
  return kept;
}

void
banger_priv_stream_set_request_id (BangerPrivStream *stream, gint64 id)
{
  g_mutex_lock (&stream->lock);
  stream->request_id = id;
  g_mutex_unlock (&stream->lock);
}

gint64
banger_priv_stream_get_request_id (BangerPrivStream *stream)
{
  gint64 id;

  g_mutex_lock (&stream->lock);
  id = stream->request_id;
  g_mutex_unlock (&stream->lock);
  return id;
}

guint64
banger_priv_stream_get_n_pushed (BangerPrivStream *stream)
{
  guint64 n;

  g_mutex_lock (&stream->lock);
  n = stream->n_pushed;
  g_mutex_unlock (&stream->lock);
  return n;
}

GBytes *
banger_priv_stream_pop (BangerPrivStream *stream)
{
  GBytes *text;

  g_mutex_lock (&stream->lock);
  text = g_queue_pop_head (&stream->queue);
  g_mutex_unlock (&stream->lock);
  return text;
}

void
banger_priv_stream_delivered (BangerPrivStream *stream, gsize len)
{
  g_mutex_lock (&stream->lock);
  stream->queued = len > stream->queued ? 0 : stream->queued - len;
  g_cond_broadcast (&stream->room);
  g_mutex_unlock (&stream->lock);
}

void
banger_priv_stream_close (BangerPrivStream *stream)
{
  g_mutex_lock (&stream->lock);
  stream->closed = TRUE;
  stream->notify = NULL;
  stream->notify_data = NULL;
  g_cond_broadcast (&stream->room);
  g_mutex_unlock (&stream->lock);
}

gboolean
banger_priv_stream_is_closed (BangerPrivStream *stream)
{
  gboolean closed;

  g_mutex_lock (&stream->lock);
  closed = stream->closed;
  g_mutex_unlock (&stream->lock);
  return closed;
}

gboolean
banger_priv_stream_overflowed (BangerPrivStream *stream)
{
  gboolean o;

  g_mutex_lock (&stream->lock);
  o = stream->overflowed;
  g_mutex_unlock (&stream->lock);
  return o;
}

static __thread BangerPrivStream *current_stream;

BangerPrivStream *
banger_priv_current_stream (void)
{
  return current_stream;
}

void
banger_priv_set_current_stream (BangerPrivStream *stream)
{
  current_stream = stream;
}

GBytes *
banger_priv_event_message (gint64 id, GBytes *event_text)
{
  gsize len;
  const char *data = g_bytes_get_data (event_text, &len);
  GString *s = g_string_sized_new (len + 48);
  gsize total;

  g_string_append_printf (s, "{\"id\":%" G_GINT64_FORMAT ",\"event\":", id);
  g_string_append_len (s, data, (gssize)len);
  g_string_append_c (s, '}');
  total = s->len + 1; /* with the NUL that frames it */
  return g_bytes_new_take (g_string_free (s, FALSE), total);
}

gboolean
banger_priv_incoming_parse (const char *data, gsize len, gint64 *out_id, JsonObject **out_event,
                            JsonObject **out_result, GError **error)
{
  g_autoptr (JsonNode) root = NULL;
  JsonObject *obj;
  JsonNode *id, *event;

  root = banger_priv_json_parse (data, len, BANGER_PRIV_JSON_DEPTH_MAX, error);
  if (root == NULL)
    return FALSE;
  if (!JSON_NODE_HOLDS_OBJECT (root) || !json_object_has_member (json_node_get_object (root), "event"))
    return banger_priv_reply_parse (data, len, out_id, out_result, error);
  obj = json_node_get_object (root);
  if (json_object_get_size (obj) != 2
      || (id = json_object_get_member (obj, "id")) == NULL
      || (event = json_object_get_member (obj, "event")) == NULL || !JSON_NODE_HOLDS_VALUE (id)
      || json_node_get_value_type (id) != G_TYPE_INT64 || !JSON_NODE_HOLDS_OBJECT (event))
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                           "An event must be {\"id\": integer, \"event\": object}");
      return FALSE;
    }
  if (out_id != NULL)
    *out_id = json_node_get_int (id);
  if (out_event != NULL)
    *out_event = json_object_ref (json_node_get_object (event));
  return TRUE;
}
