/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <gio/gunixsocketaddress.h>

#include "banger-error-private.h"
#include "banger-priv-client.h"
#include "banger-priv-framer.h"
#include "banger-priv-message.h"

struct _BangerPrivClient
{
  GObject parent_instance;

  char *socket_path;
  GSocketConnection *connection;
  BangerPrivFramer framer;
  gint64 next_id;
  GQueue pending; /* GTask*, the head is in flight */
  gboolean running;
};

G_DEFINE_FINAL_TYPE (BangerPrivClient, banger_priv_client, G_TYPE_OBJECT)

typedef struct
{
  gint64 id;
  GBytes *request;
} Call;

static void
call_free (Call *call)
{
  g_clear_pointer (&call->request, g_bytes_unref);
  g_free (call);
}

static void client_run_next (BangerPrivClient *client);

/* Fail the in-flight call; the connection is no longer in a known state. */
static void
head_fail (BangerPrivClient *client, GError *error)
{
  GTask *task = g_queue_pop_head (&client->pending);

  if (error->domain != BANGER_ERROR)
    {
      GError *mapped = g_error_new_literal (BANGER_ERROR, banger_error_code_from_gerror (error),
                                            error->message);
      g_error_free (error);
      error = mapped;
    }
  banger_priv_client_close (client);
  client->running = FALSE;
  g_task_return_error (task, error);
  g_object_unref (task);
  client_run_next (client);
}

static void
head_succeed (BangerPrivClient *client, JsonObject *result)
{
  GTask *task = g_queue_pop_head (&client->pending);

  client->running = FALSE;
  g_task_return_pointer (task, result, (GDestroyNotify) json_object_unref);
  g_object_unref (task);
  client_run_next (client);
}

static void read_reply (BangerPrivClient *client);

static void
on_reply_read (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (BangerPrivClient) client = user_data;
  GTask *task = g_queue_peek_head (&client->pending);
  Call *call = g_task_get_task_data (task);
  GError *error = NULL;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), res, &error);
  g_autoptr (GBytes) message = NULL;
  JsonObject *result = NULL;
  gint64 id = G_MININT64;
  gsize len;
  const char *data;

  if (n < 0)
    {
      head_fail (client, error);
      return;
    }
  if (n == 0)
    {
      head_fail (client, g_error_new (BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                                      "The root helper closed the connection without a reply"));
      return;
    }
  banger_priv_framer_commit (&client->framer, (gsize) n);
  if (!banger_priv_framer_next (&client->framer, &message, &error))
    {
      if (error != NULL)
        head_fail (client, error);
      else
        read_reply (client);
      return;
    }
  data = g_bytes_get_data (message, &len);
  if (!banger_priv_reply_parse (data, len, &id, &result, &error))
    {
      /* A typed error from the helper (id matches or is null: the helper
       * could not read our request), or a malformed reply. */
      if (id != G_MININT64 && id != -1 && id != call->id)
        {
          g_clear_error (&error);
          error = g_error_new (BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                               "Reply id %" G_GINT64_FORMAT " does not match request id %"
                               G_GINT64_FORMAT, id, call->id);
        }
      if (id == call->id && error->code != BANGER_ERROR_PROTOCOL)
        {
          /* An ordinary error reply: the connection stays usable. */
          GTask *head = g_queue_pop_head (&client->pending);
          client->running = FALSE;
          g_task_return_error (head, error);
          g_object_unref (head);
          client_run_next (client);
          return;
        }
      head_fail (client, error);
      return;
    }
  if (id != call->id)
    {
      json_object_unref (result);
      head_fail (client, g_error_new (BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                                      "Reply id %" G_GINT64_FORMAT " does not match request id %"
                                      G_GINT64_FORMAT, id, call->id));
      return;
    }
  head_succeed (client, result);
}

static void
read_reply (BangerPrivClient *client)
{
  GTask *task = g_queue_peek_head (&client->pending);
  gsize avail;
  guint8 *space = banger_priv_framer_get_space (&client->framer, &avail);

  g_input_stream_read_async (g_io_stream_get_input_stream (G_IO_STREAM (client->connection)),
                             space, avail, G_PRIORITY_DEFAULT, g_task_get_cancellable (task),
                             on_reply_read, g_object_ref (client));
}

static void
on_request_written (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (BangerPrivClient) client = user_data;
  GError *error = NULL;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), res, NULL, &error))
    {
      head_fail (client, error);
      return;
    }
  read_reply (client);
}

static void
send_request (BangerPrivClient *client)
{
  GTask *task = g_queue_peek_head (&client->pending);
  Call *call = g_task_get_task_data (task);
  gsize len;
  const void *data = g_bytes_get_data (call->request, &len);

  g_output_stream_write_all_async (g_io_stream_get_output_stream (G_IO_STREAM (client->connection)),
                                   data, len, G_PRIORITY_DEFAULT, g_task_get_cancellable (task),
                                   on_request_written, g_object_ref (client));
}

static void
on_connected (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (BangerPrivClient) client = user_data;
  GError *error = NULL;
  GSocketConnection *conn = g_socket_client_connect_finish (G_SOCKET_CLIENT (source), res, &error);

  if (conn == NULL)
    {
      GError *wrapped = g_error_new (BANGER_ERROR, banger_error_code_from_gerror (error),
                                     "Cannot connect to the root helper at '%s': %s",
                                     client->socket_path, error->message);
      g_error_free (error);
      head_fail (client, wrapped);
      return;
    }
  client->connection = conn;
  send_request (client);
}

static void
client_run_next (BangerPrivClient *client)
{
  GTask *task;

  if (client->running || g_queue_is_empty (&client->pending))
    return;
  client->running = TRUE;
  task = g_queue_peek_head (&client->pending);
  /* Between calls the helper never speaks unless it is closing the
   * connection (idle timeout, shutdown): anything readable now means the
   * connection is finished, so start a fresh one instead of reading a
   * stale farewell as the reply. */
  if (client->connection != NULL
      && g_socket_condition_check (g_socket_connection_get_socket (client->connection),
                                   G_IO_IN | G_IO_HUP | G_IO_ERR) != 0)
    banger_priv_client_close (client);
  if (client->connection == NULL)
    {
      g_autoptr (GSocketClient) sc = g_socket_client_new ();
      g_autoptr (GSocketAddress) addr = g_unix_socket_address_new (client->socket_path);

      banger_priv_framer_clear (&client->framer);
      banger_priv_framer_init (&client->framer, BANGER_PRIV_MESSAGE_MAX);
      g_socket_client_connect_async (sc, G_SOCKET_CONNECTABLE (addr),
                                     g_task_get_cancellable (task), on_connected,
                                     g_object_ref (client));
      return;
    }
  send_request (client);
}

void
banger_priv_client_call_async (BangerPrivClient *client, const char *method, JsonObject *params,
                               const char *op_id, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task;
  Call *call;

  g_return_if_fail (BANGER_IS_PRIV_CLIENT (client));
  g_return_if_fail (method != NULL);

  task = g_task_new (client, cancellable, callback, user_data);
  g_task_set_source_tag (task, banger_priv_client_call_async);
  call = g_new0 (Call, 1);
  call->id = client->next_id++;
  call->request = banger_priv_request_serialize (call->id, method, params, op_id);
  g_task_set_task_data (task, call, (GDestroyNotify) call_free);
  if (g_bytes_get_size (call->request) > BANGER_PRIV_MESSAGE_MAX + 1)
    {
      g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_LIMIT_EXCEEDED,
                               "The request is larger than %d bytes", BANGER_PRIV_MESSAGE_MAX);
      g_object_unref (task);
      return;
    }
  g_queue_push_tail (&client->pending, task);
  client_run_next (client);
}

JsonObject *
banger_priv_client_call_finish (BangerPrivClient *client, GAsyncResult *result, GError **error)
{
  GError *local = NULL;
  JsonObject *obj;

  g_return_val_if_fail (g_task_is_valid (result, client), NULL);
  obj = g_task_propagate_pointer (G_TASK (result), &local);
  if (local != NULL && local->domain != BANGER_ERROR)
    {
      /* Every error a caller sees is a BANGER_ERROR (cancellation too). */
      g_set_error_literal (error, BANGER_ERROR, banger_error_code_from_gerror (local),
                           local->message);
      g_error_free (local);
      return NULL;
    }
  if (local != NULL)
    g_propagate_error (error, local);
  return obj;
}

static void
on_sync_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (res);
}

JsonObject *
banger_priv_client_call_sync (BangerPrivClient *client, const char *method, JsonObject *params,
                              const char *op_id, GCancellable *cancellable, GError **error)
{
  g_autoptr (GMainContext) context = NULL;
  g_autoptr (GAsyncResult) res = NULL;
  JsonObject *result;

  g_return_val_if_fail (BANGER_IS_PRIV_CLIENT (client), NULL);

  if (!g_queue_is_empty (&client->pending))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_BUSY,
                   "Asynchronous calls are pending on this root helper client");
      return NULL;
    }
  /* The connection's sources belong to the context they were created in:
   * start afresh in the private one. */
  banger_priv_client_close (client);
  context = g_main_context_new ();
  g_main_context_push_thread_default (context);
  banger_priv_client_call_async (client, method, params, op_id, cancellable, on_sync_done, &res);
  while (res == NULL)
    g_main_context_iteration (context, TRUE);
  result = banger_priv_client_call_finish (client, res, error);
  /* Do not keep a connection bound to a context nobody iterates. */
  banger_priv_client_close (client);
  g_main_context_pop_thread_default (context);
  return result;
}

void
banger_priv_client_close (BangerPrivClient *client)
{
  g_return_if_fail (BANGER_IS_PRIV_CLIENT (client));
  if (client->connection != NULL)
    {
      g_io_stream_close (G_IO_STREAM (client->connection), NULL, NULL);
      g_clear_object (&client->connection);
    }
  banger_priv_framer_clear (&client->framer);
}

static void
banger_priv_client_finalize (GObject *object)
{
  BangerPrivClient *client = BANGER_PRIV_CLIENT (object);

  banger_priv_client_close (client);
  g_free (client->socket_path);
  G_OBJECT_CLASS (banger_priv_client_parent_class)->finalize (object);
}

static void
banger_priv_client_class_init (BangerPrivClientClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = banger_priv_client_finalize;
}

static void
banger_priv_client_init (BangerPrivClient *client)
{
  g_queue_init (&client->pending);
  client->next_id = 1;
  banger_priv_framer_init (&client->framer, BANGER_PRIV_MESSAGE_MAX);
}

BangerPrivClient *
banger_priv_client_new (const char *socket_path)
{
  BangerPrivClient *client;

  g_return_val_if_fail (socket_path != NULL, NULL);
  client = g_object_new (BANGER_TYPE_PRIV_CLIENT, NULL);
  client->socket_path = g_strdup (socket_path);
  return client;
}
