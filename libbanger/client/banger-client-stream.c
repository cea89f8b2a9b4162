/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Calls that carry events (banger-client-stream.h). */
#include "config.h"

#include <unistd.h>

#include <gio/gunixsocketaddress.h>

#include "banger-client-stream.h"
#include "banger-engine-ops.h"
#include "banger-error-private.h"
#include "banger-priv-executor.h"
#include "banger-priv-framer.h"
#include "banger-priv-json.h"
#include "banger-priv-message.h"
#include "banger-priv-stream.h"

#define REQUEST_ID 1

struct _BangerClientStreamCall
{
  gatomicrefcount ref;
  GMainContext *context;
  BangerClientStreamEventFunc on_event;
  BangerClientStreamEndFunc on_end;
  gpointer user_data;
  GTask *task; /* the reply's, until it is returned */
  GCancellable *cancellable; /* the caller's (nullable) */
  gulong cancel_id;
  GCancellable *io_cancel;   /* ours: cancelled by close() and by the caller's */
  gboolean closed;
  gboolean paused;
  char *method;
  JsonObject *params;
  char *op_id;
  /* socket */
  char *socket_path;
  GSocketConnection *connection;
  BangerPrivFramer framer;
  gboolean reading;
  /* embedded */
  BangerPrivState *state;
  BangerPrivStream *stream;
  gboolean worker_done;
  JsonObject *worker_result;
  GError *worker_error;
  guint64 reply_after;
  guint64 n_popped;
};

BangerClientStreamCall *
banger_client_stream_call_ref (BangerClientStreamCall *call)
{
  g_atomic_ref_count_inc (&call->ref);
  return call;
}

void
banger_client_stream_call_unref (BangerClientStreamCall *call)
{
  if (call == NULL || !g_atomic_ref_count_dec (&call->ref))
    return;
  if (call->cancel_id != 0)
    g_cancellable_disconnect (call->cancellable, call->cancel_id);
  g_clear_object (&call->cancellable);
  g_clear_object (&call->io_cancel);
  g_clear_object (&call->task);
  g_clear_object (&call->connection);
  banger_priv_framer_clear (&call->framer);
  g_clear_pointer (&call->stream, banger_priv_stream_unref);
  g_clear_pointer (&call->worker_result, json_object_unref);
  g_clear_error (&call->worker_error);
  g_clear_pointer (&call->params, json_object_unref);
  g_clear_pointer (&call->context, g_main_context_unref);
  g_free (call->method);
  g_free (call->op_id);
  g_free (call->socket_path);
  g_free (call);
}

/* Returns the reply once (the task is dropped); @close_call: the call is
 * over (closed first, so that the reply's callback sees it closed). */
static void
reply (BangerClientStreamCall *call, JsonObject *result, GError *error, gboolean close_call)
{
  g_autoptr (BangerClientStreamCall) keep = banger_client_stream_call_ref (call);
  GTask *task = g_steal_pointer (&call->task);

  if (close_call)
    banger_client_stream_call_close (call);

  if (task == NULL)
    {
      if (result != NULL)
        json_object_unref (result);
      if (error != NULL)
        g_error_free (error);
      return;
    }
  if (result != NULL)
    g_task_return_pointer (task, result, (GDestroyNotify)json_object_unref);
  else
    g_task_return_error (task, error);
  g_object_unref (task);
}

static void
end (BangerClientStreamCall *call, const GError *error)
{
  if (call->closed)
    return;
  banger_client_stream_call_close (call);
  if (call->on_end != NULL)
    call->on_end (error, call->user_data);
}

/* A failure of the connection or the stream: before the reply it is the
 * reply; after it (a subscription) it ends the stream. */
static void
fail (BangerClientStreamCall *call, GError *error)
{
  g_autoptr (BangerClientStreamCall) keep = banger_client_stream_call_ref (call);

  if (error->domain != BANGER_ERROR)
    {
      GError *mapped = g_error_new_literal (BANGER_ERROR, banger_error_code_from_gerror (error),
                                            error->message);
      g_error_free (error);
      error = mapped;
    }
  if (call->task != NULL)
    {
      reply (call, NULL, error, TRUE);
      return;
    }
  end (call, error);
  g_error_free (error);
}

/* An event: FALSE when the consumer paused (or closed the call). */
static gboolean
deliver_event (BangerClientStreamCall *call, JsonObject *event)
{
  if (call->closed)
    return FALSE;
  if (!call->on_event (event, call->user_data))
    call->paused = TRUE;
  return !call->paused && !call->closed;
}

/* ------------------------------------------------------------- socket */

static void socket_read_more (BangerClientStreamCall *call);

/* One message from the daemon: FALSE to stop reading. */
static gboolean
socket_message (BangerClientStreamCall *call, GBytes *message)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) event = NULL;
  JsonObject *result = NULL;
  gint64 id = G_MININT64;
  gsize len;
  const char *data = g_bytes_get_data (message, &len);

  if (!banger_priv_incoming_parse (data, len, &id, &event, &result, &error))
    {
      if (id == REQUEST_ID && error->code != BANGER_ERROR_PROTOCOL && call->task != NULL)
        {
          /* the daemon's typed error: the call is over */
          reply (call, NULL, g_steal_pointer (&error), TRUE);
          return FALSE;
        }
      fail (call, g_steal_pointer (&error));
      return FALSE;
    }
  if (id != REQUEST_ID)
    {
      if (result != NULL)
        json_object_unref (result);
      fail (call, g_error_new (BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                               "A message for request %" G_GINT64_FORMAT " on a call of request %d",
                               id, REQUEST_ID));
      return FALSE;
    }
  if (event != NULL)
    return deliver_event (call, event);
  if (call->task == NULL)
    {
      json_object_unref (result);
      fail (call, g_error_new_literal (BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                                       "A second reply on one call"));
      return FALSE;
    }
  /* Nothing comes after the reply unless the call is a subscription. */
  reply (call, result, NULL, call->on_end == NULL);
  return !call->closed;
}

static void
on_socket_read (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (BangerClientStreamCall) call = user_data;
  GError *error = NULL;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), res, &error);

  call->reading = FALSE;
  if (call->closed)
    {
      g_clear_error (&error);
      return;
    }
  if (n < 0)
    {
      fail (call, error);
      return;
    }
  if (n == 0)
    {
      fail (call, g_error_new_literal (BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                                       call->task ? "bangerd closed the connection without a reply"
                                                  : "bangerd closed the event stream"));
      return;
    }
  banger_priv_framer_commit (&call->framer, (gsize)n);
  socket_read_more (call);
}

static void
socket_read_more (BangerClientStreamCall *call)
{
  g_autoptr (BangerClientStreamCall) keep = banger_client_stream_call_ref (call);
  gsize avail;
  guint8 *space;

  if (call->closed || call->paused || call->reading)
    return;
  for (;;)
    {
      g_autoptr (GBytes) message = NULL;
      GError *error = NULL;

      if (!banger_priv_framer_next (&call->framer, &message, &error))
        {
          if (error != NULL)
            {
              fail (call, error);
              return;
            }
          break;
        }
      if (!socket_message (call, message))
        return;
    }
  space = banger_priv_framer_get_space (&call->framer, &avail);
  call->reading = TRUE;
  g_input_stream_read_async (g_io_stream_get_input_stream (G_IO_STREAM (call->connection)), space,
                             avail, G_PRIORITY_DEFAULT, call->io_cancel, on_socket_read,
                             banger_client_stream_call_ref (call));
}

static void
on_request_written (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (BangerClientStreamCall) call = user_data;
  GError *error = NULL;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), res, NULL, &error))
    {
      if (!call->closed)
        fail (call, error);
      else
        g_clear_error (&error);
      return;
    }
  socket_read_more (call);
}

static void
on_connected (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (BangerClientStreamCall) call = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) request = NULL;
  gsize len;
  const void *data;

  call->connection = g_socket_client_connect_finish (G_SOCKET_CLIENT (source), res, &error);
  if (call->closed)
    return;
  if (call->connection == NULL)
    {
      fail (call, g_error_new (BANGER_ERROR, banger_error_code_from_gerror (error),
                               "Cannot connect to bangerd at '%s': %s", call->socket_path,
                               error->message));
      return;
    }
  request = banger_priv_request_serialize (REQUEST_ID, call->method, call->params, call->op_id);
  data = g_bytes_get_data (request, &len);
  g_output_stream_write_all_async (g_io_stream_get_output_stream (G_IO_STREAM (call->connection)),
                                   data, len, G_PRIORITY_DEFAULT, call->io_cancel,
                                   on_request_written, banger_client_stream_call_ref (call));
  /* the request's bytes must live until written */
  g_object_set_data_full (G_OBJECT (call->connection), "banger-request",
                          g_steal_pointer (&request), (GDestroyNotify)g_bytes_unref);
}

static void
socket_start (BangerClientStreamCall *call)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketAddress) address = g_unix_socket_address_new (call->socket_path);

  banger_priv_framer_init (&call->framer, BANGER_PRIV_MESSAGE_MAX);
  g_socket_client_connect_async (client, G_SOCKET_CONNECTABLE (address), call->io_cancel,
                                 on_connected, banger_client_stream_call_ref (call));
}

/* ----------------------------------------------------------- embedded */

static void
embedded_pump (BangerClientStreamCall *call)
{
  g_autoptr (BangerClientStreamCall) keep = banger_client_stream_call_ref (call);

  while (!call->closed && !call->paused)
    {
      g_autoptr (GBytes) text = banger_priv_stream_pop (call->stream);
      g_autoptr (JsonNode) node = NULL;
      gsize len;
      const char *data;

      if (text == NULL)
        break;
      call->n_popped++;
      data = g_bytes_get_data (text, &len);
      node = banger_priv_json_parse (data, len, BANGER_PRIV_JSON_DEPTH_MAX, NULL);
      banger_priv_stream_delivered (call->stream, len);
      if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
        continue; /* the engine's own JSON: cannot happen */
      if (!deliver_event (call, json_node_get_object (node)))
        break;
    }
  if (call->closed || call->paused)
    return;
  if (call->worker_done && call->task != NULL && call->n_popped >= call->reply_after)
    {
      gboolean over = call->on_end == NULL || call->worker_error != NULL;
      reply (call, g_steal_pointer (&call->worker_result), g_steal_pointer (&call->worker_error),
             over);
    }
}

static void
on_stream_notify (gpointer user_data)
{
  embedded_pump (user_data);
}

static void
embedded_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  BangerClientStreamCall *call = task_data;
  BangerPeerCred me = { getuid (), getgid (), getpid () };
  GError *error = NULL;
  JsonNode *node;

  banger_priv_set_current_op_id (call->op_id);
  banger_priv_set_current_stream (call->stream);
  node = banger_priv_execute (banger_engine_ops_table (), call->state, &me, call->method,
                              call->params, call->io_cancel, &error);
  banger_priv_set_current_stream (NULL);
  banger_priv_set_current_op_id (NULL);
  call->reply_after = banger_priv_stream_get_n_pushed (call->stream);
  if (node == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  call->worker_result = json_object_ref (json_node_get_object (node));
  json_node_unref (node);
  g_task_return_boolean (task, TRUE);
}

static void
on_embedded_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (BangerClientStreamCall) call = user_data;

  if (!g_task_propagate_boolean (G_TASK (res), &call->worker_error))
    g_clear_pointer (&call->worker_result, json_object_unref);
  call->worker_done = TRUE;
  if (call->closed)
    reply (call, g_steal_pointer (&call->worker_result), g_steal_pointer (&call->worker_error),
           FALSE);
  else
    embedded_pump (call);
}

static void
embedded_start (BangerClientStreamCall *call)
{
  g_autoptr (GTask) inner = g_task_new (NULL, NULL, on_embedded_done,
                                        banger_client_stream_call_ref (call));

  call->stream = banger_priv_stream_new (0);
  banger_priv_stream_set_consumer (call->stream, call->context, on_stream_notify, call);
  g_task_set_task_data (inner, banger_client_stream_call_ref (call),
                        (GDestroyNotify)banger_client_stream_call_unref);
  g_task_run_in_thread (inner, embedded_thread);
}

/* --------------------------------------------------------------- API */

static void
on_caller_cancelled (GCancellable *cancellable, gpointer user_data)
{
  g_cancellable_cancel (user_data);
}

BangerClientStreamCall *
banger_client_stream_call_start (const char *socket_path, BangerPrivState *state,
                                 const char *method, JsonObject *params, const char *op_id,
                                 BangerClientStreamEventFunc on_event,
                                 BangerClientStreamEndFunc on_end, gpointer user_data,
                                 GCancellable *cancellable, GAsyncReadyCallback callback,
                                 gpointer callback_data)
{
  BangerClientStreamCall *call = g_new0 (BangerClientStreamCall, 1);

  g_return_val_if_fail ((socket_path == NULL) != (state == NULL), NULL);
  g_atomic_ref_count_init (&call->ref);
  call->context = g_main_context_ref_thread_default ();
  call->on_event = on_event;
  call->on_end = on_end;
  call->user_data = user_data;
  call->method = g_strdup (method);
  call->params = params;
  call->op_id = g_strdup (op_id);
  call->io_cancel = g_cancellable_new ();
  call->task = g_task_new (NULL, NULL, callback, callback_data);
  if (cancellable != NULL)
    {
      call->cancellable = g_object_ref (cancellable);
      call->cancel_id = g_cancellable_connect (cancellable, G_CALLBACK (on_caller_cancelled),
                                               g_object_ref (call->io_cancel), g_object_unref);
    }
  if (socket_path != NULL)
    {
      call->socket_path = g_strdup (socket_path);
      socket_start (call);
    }
  else
    {
      call->state = state;
      embedded_start (call);
    }
  return call;
}

JsonObject *
banger_client_stream_call_finish (GAsyncResult *result, GError **error)
{
  GError *local = NULL;
  JsonObject *o = g_task_propagate_pointer (G_TASK (result), &local);

  if (o == NULL)
    {
      /* an I/O error of our own cancellable: the caller's cancel */
      if (local->domain == G_IO_ERROR && local->code == G_IO_ERROR_CANCELLED)
        {
          g_clear_error (&local);
          local = g_error_new_literal (BANGER_ERROR, BANGER_ERROR_CANCELLED,
                                       "The operation was cancelled");
        }
      g_propagate_error (error, local);
    }
  return o;
}

void
banger_client_stream_call_resume (BangerClientStreamCall *call)
{
  if (!call->paused)
    return;
  call->paused = FALSE;
  if (call->closed)
    return;
  if (call->socket_path != NULL)
    socket_read_more (call);
  else
    embedded_pump (call);
}

void
banger_client_stream_call_close (BangerClientStreamCall *call)
{
  g_autoptr (BangerClientStreamCall) keep = banger_client_stream_call_ref (call);

  if (call->closed)
    return;
  call->closed = TRUE;
  g_cancellable_cancel (call->io_cancel);
  if (call->stream != NULL)
    banger_priv_stream_close (call->stream);
  /* the daemon sees the end at once; the descriptor goes with the last
   * pending operation's reference */
  if (call->connection != NULL)
    g_socket_shutdown (g_socket_connection_get_socket (call->connection), TRUE, TRUE, NULL);
  /* embedded: the worker's own result answers (on_embedded_done) */
  if (call->task != NULL && (call->socket_path != NULL || call->worker_done))
    reply (call, NULL,
           g_error_new_literal (BANGER_ERROR, BANGER_ERROR_CANCELLED, "The call was closed"),
           FALSE);
}
