/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Firecracker's API over HTTP/1.1 on a unix socket (see banger-fc-http.h). */
#include "config.h"

#include <string.h>

#include <libsoup/soup.h>

#include "banger-error.h"
#include "banger-fc-http.h"

struct _BangerFcClient
{
  char *socket_path;
  /* A SoupSession belongs to the main context that was thread-default when
   * it was made; the session is rebuilt when a call comes from another one
   * (e.g. the blocking calls' private context after the daemon's). */
  SoupSession *session;
  GMainContext *session_context;
};

BangerFcClient *
banger_fc_client_new (const char *socket_path)
{
  BangerFcClient *c = g_new0 (BangerFcClient, 1);
  c->socket_path = g_strdup (socket_path);
  return c;
}

void
banger_fc_client_free (BangerFcClient *c)
{
  if (c == NULL)
    return;
  if (c->session != NULL)
    soup_session_abort (c->session);
  g_clear_object (&c->session);
  g_clear_pointer (&c->session_context, g_main_context_unref);
  g_free (c->socket_path);
  g_free (c);
}

const char *
banger_fc_client_get_socket_path (BangerFcClient *c)
{
  return c->socket_path;
}

static SoupSession *
ensure_session (BangerFcClient *c)
{
  g_autoptr (GMainContext) ctx = g_main_context_ref_thread_default ();
  g_autoptr (GSocketAddress) addr = NULL;

  if (c->session != NULL && c->session_context == ctx)
    return c->session;
  if (c->session != NULL)
    soup_session_abort (c->session);
  g_clear_object (&c->session);
  g_clear_pointer (&c->session_context, g_main_context_unref);

  addr = g_unix_socket_address_new (c->socket_path);
  /* One connection, kept alive between calls: Firecracker serves its API
   * from one thread and answers in order. */
  c->session = soup_session_new_with_options ("remote-connectable", addr, "max-conns", 1,
                                              "max-conns-per-host", 1, "idle-timeout", 0,
                                              /* a unix socket: no proxy lookup (it would
                                               * load GIO proxy modules on first use) */
                                              "proxy-resolver", NULL,
                                              "user-agent", "libbanger", NULL);
  c->session_context = g_steal_pointer (&ctx);
  return c->session;
}

/* Firecracker's words are untrusted bytes: keep printable ASCII, bound it. */
static char *
sanitize (const char *s)
{
  GString *out = g_string_new (NULL);

  for (const char *p = s; *p && out->len < 1024; p++)
    g_string_append_c (out, (*p >= 0x20 && *p < 0x7f) ? *p : '?');
  if (*s && strlen (s) > 1024)
    g_string_append (out, "...");
  return g_string_free (out, FALSE);
}

char *
banger_fc_parse_fault (const char *body, gsize len)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode *root;
  JsonObject *obj;
  const char *msg;

  if (body == NULL || len == 0 || len > BANGER_FC_MAX_BODY)
    return NULL;
  if (!json_parser_load_from_data (parser, body, (gssize) len, NULL))
    return NULL;
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;
  obj = json_node_get_object (root);
  if (!json_object_has_member (obj, "fault_message"))
    return NULL;
  msg = json_object_get_string_member_with_default (obj, "fault_message", NULL);
  return msg ? sanitize (msg) : NULL;
}

typedef struct
{
  SoupSession *session; /* ref */
  SoupMessage *msg;
  char *what;           /* "PUT /drives/rootfs" */
  guint timeout_ms;
  GCancellable *call_cancellable;
  GCancellable *user_cancellable;
  gulong user_handler;
  GSource *timer;
  gboolean timed_out;
} CallData;

static void
call_data_free (CallData *d)
{
  if (d->timer != NULL)
    {
      g_source_destroy (d->timer);
      g_source_unref (d->timer);
    }
  if (d->user_cancellable != NULL)
    {
      g_cancellable_disconnect (d->user_cancellable, d->user_handler);
      g_object_unref (d->user_cancellable);
    }
  g_clear_object (&d->call_cancellable);
  g_clear_object (&d->msg);
  g_clear_object (&d->session);
  g_free (d->what);
  g_free (d);
}

static gboolean
on_timeout (gpointer user_data)
{
  CallData *d = user_data;
  d->timed_out = TRUE;
  g_cancellable_cancel (d->call_cancellable);
  return G_SOURCE_REMOVE;
}

static void
on_user_cancelled (GCancellable *cancellable, gpointer user_data)
{
  GCancellable *call_cancellable = user_data;
  g_cancellable_cancel (call_cancellable);
}

static void
on_sent (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  CallData *d = g_task_get_task_data (task);
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (JsonParser) parser = NULL;
  const char *data;
  gsize len = 0;
  guint status;

  bytes = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &local_error);
  if (bytes == NULL)
    {
      if (d->timed_out)
        g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_TIMED_OUT,
                                 "Firecracker did not answer %s within %u ms", d->what,
                                 d->timeout_ms);
      else if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_CANCELLED,
                                 "%s was cancelled", d->what);
      else
        g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                                 "Firecracker's API socket failed during %s: %s", d->what,
                                 local_error->message);
      return;
    }

  data = g_bytes_get_data (bytes, &len);
  status = soup_message_get_status (d->msg);
  if (len > BANGER_FC_MAX_BODY)
    {
      g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                               "Firecracker's answer to %s is too large (%" G_GSIZE_FORMAT
                               " bytes)",
                               d->what, len);
      return;
    }
  if (status < 200 || status > 299)
    {
      g_autofree char *fault = banger_fc_parse_fault (data, len);
      if (fault != NULL)
        g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_VMM,
                                 "Firecracker refused %s (HTTP %u): %s", d->what, status, fault);
      else if (len > 0)
        {
          /* not a fault_message: the HTTP layer's own refusals (a payload
           * over --http-api-max-payload-size) are text, not JSON; keep it */
          g_autofree char *text = g_strndup (data, len);
          g_autofree char *reason = sanitize (g_strstrip (text));
          g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_VMM,
                                   "Firecracker refused %s (HTTP %u): %s", d->what, status,
                                   reason);
        }
      else
        g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_VMM,
                                 "Firecracker refused %s (HTTP %u) without a reason",
                                 d->what, status);
      return;
    }
  if (len == 0)
    {
      g_task_return_pointer (task, NULL, NULL);
      return;
    }

  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, data, (gssize) len, &local_error))
    {
      g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                               "Firecracker's answer to %s is not JSON: %s", d->what,
                               local_error->message);
      return;
    }
  g_task_return_pointer (task, json_parser_steal_root (parser), (GDestroyNotify) json_node_unref);
}

void
banger_fc_client_call_async (BangerFcClient *c, const char *method, const char *path,
                             JsonNode *body, guint timeout_ms, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  g_autofree char *uri = NULL;
  CallData *d;

  g_task_set_source_tag (task, banger_fc_client_call_async);
  /* we report cancellation ourselves, as a BANGER_ERROR */
  g_task_set_check_cancellable (task, FALSE);
  d = g_new0 (CallData, 1);
  g_task_set_task_data (task, d, (GDestroyNotify) call_data_free);
  d->what = g_strdup_printf ("%s %s", method, path);
  d->timeout_ms = timeout_ms;
  d->session = g_object_ref (ensure_session (c));

  uri = g_strconcat ("http://localhost", path, NULL);
  d->msg = soup_message_new (method, uri);
  if (d->msg == NULL)
    {
      g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                               "'%s' is not a valid API path", path);
      return;
    }
  soup_message_headers_append (soup_message_get_request_headers (d->msg), "Accept",
                               "application/json");
  if (body != NULL)
    {
      g_autoptr (JsonGenerator) gen = json_generator_new ();
      g_autoptr (GBytes) bytes = NULL;
      gsize len = 0;
      char *text;

      json_generator_set_root (gen, body);
      text = json_generator_to_data (gen, &len);
      bytes = g_bytes_new_take (text, len);
      soup_message_set_request_body_from_bytes (d->msg, "application/json", bytes);
    }

  d->call_cancellable = g_cancellable_new ();
  if (cancellable != NULL)
    {
      d->user_cancellable = g_object_ref (cancellable);
      d->user_handler = g_cancellable_connect (cancellable, G_CALLBACK (on_user_cancelled),
                                               d->call_cancellable, NULL);
    }
  if (timeout_ms > 0)
    {
      d->timer = g_timeout_source_new (timeout_ms);
      g_source_set_callback (d->timer, on_timeout, d, NULL);
      g_source_attach (d->timer, g_main_context_get_thread_default ());
    }
  soup_session_send_and_read_async (d->session, d->msg, G_PRIORITY_DEFAULT, d->call_cancellable,
                                    on_sent, g_steal_pointer (&task));
}

gboolean
banger_fc_client_call_finish (GAsyncResult *result, JsonNode **out_reply, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  JsonNode *reply;

  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  reply = g_task_propagate_pointer (G_TASK (result), &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  if (out_reply != NULL)
    *out_reply = reply;
  else if (reply != NULL)
    json_node_unref (reply);
  return TRUE;
}
