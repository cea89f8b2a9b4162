/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * BangerQmp: blocking QMP client (see banger-qmp.h). */
#include "config.h"

#include <string.h>
#include <sys/un.h>

#include <gio/gunixsocketaddress.h>

#include "banger-error-private.h"
#include "banger-qmp.h"
#include "banger-quote.h"

struct _BangerQmp
{
  GObject parent_instance;

  GMutex lock;
  GSocket *socket;
  GString *inbuf; /* bytes received, not yet a whole line */
  guint64 next_id;
  char *version;
};

G_DEFINE_FINAL_TYPE (BangerQmp, banger_qmp, G_TYPE_OBJECT)

static void
banger_qmp_finalize (GObject *object)
{
  BangerQmp *self = BANGER_QMP (object);

  if (self->socket != NULL)
    g_socket_close (self->socket, NULL);
  g_clear_object (&self->socket);
  g_string_free (self->inbuf, TRUE);
  g_free (self->version);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (banger_qmp_parent_class)->finalize (object);
}

static void
banger_qmp_class_init (BangerQmpClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = banger_qmp_finalize;
}

static void
banger_qmp_init (BangerQmp *self)
{
  g_mutex_init (&self->lock);
  self->inbuf = g_string_new (NULL);
  self->next_id = 1;
}

BangerQmp *
banger_qmp_new (void)
{
  return g_object_new (BANGER_TYPE_QMP, NULL);
}

/* @name as an object, or NULL when absent or not an object. */
static JsonObject *
object_member (JsonObject *obj, const char *name, gpointer unused)
{
  JsonNode *node = json_object_get_member (obj, name);
  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

/* Turn a GIO error into a BANGER_ERROR, prefixing @what. */
static void
propagate_io (GError **error, GError *local, const char *what)
{
  BangerError code = banger_error_code_from_gerror (local);

  if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    code = BANGER_ERROR_CANCELLED;
  else if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    code = BANGER_ERROR_TIMED_OUT;
  g_set_error (error, BANGER_ERROR, code, "%s: %s", what, local->message);
  g_error_free (local);
}

static void
drop_connection_locked (BangerQmp *self)
{
  if (self->socket != NULL)
    g_socket_close (self->socket, NULL);
  g_clear_object (&self->socket);
  g_string_truncate (self->inbuf, 0);
}

static gint64
deadline_after (guint timeout_ms)
{
  return g_get_monotonic_time ()
         + (gint64) (timeout_ms ? timeout_ms : BANGER_QMP_DEFAULT_TIMEOUT_MS) * 1000;
}

/* Wait for @cond until @deadline (monotonic µs). */
static gboolean
wait_socket (BangerQmp *self, GIOCondition cond, gint64 deadline, GCancellable *cancellable,
             const char *what, GError **error)
{
  GError *local = NULL;
  gint64 left = deadline - g_get_monotonic_time ();

  if (left <= 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_TIMED_OUT, "%s: QEMU did not answer in time",
                   what);
      return FALSE;
    }
  if (!g_socket_condition_timed_wait (self->socket, cond, left, cancellable, &local))
    {
      if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
        {
          g_error_free (local);
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_TIMED_OUT,
                       "%s: QEMU did not answer in time", what);
          return FALSE;
        }
      propagate_io (error, local, what);
      return FALSE;
    }
  return TRUE;
}

static gboolean
send_all_locked (BangerQmp *self, const char *data, gsize len, gint64 deadline,
                 GCancellable *cancellable, const char *what, GError **error)
{
  while (len > 0)
    {
      GError *local = NULL;
      gssize n;

      if (!wait_socket (self, G_IO_OUT, deadline, cancellable, what, error))
        return FALSE;
      n = g_socket_send_with_blocking (self->socket, data, len, FALSE, cancellable, &local);
      if (n < 0)
        {
          if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            {
              g_error_free (local);
              continue;
            }
          propagate_io (error, local, what);
          return FALSE;
        }
      data += n;
      len -= (gsize) n;
    }
  return TRUE;
}

/* Read one JSON object line (without the line end), bounded. */
static JsonNode *
read_message_locked (BangerQmp *self, gint64 deadline, GCancellable *cancellable,
                     const char *what, GError **error)
{
  for (;;)
    {
      char *nl = memchr (self->inbuf->str, '\n', self->inbuf->len);
      GError *local = NULL;
      char buf[4096];
      gssize n;

      if (nl != NULL)
        {
          gsize line_len = (gsize) (nl - self->inbuf->str);
          g_autofree char *line = g_strndup (self->inbuf->str, line_len);
          g_autoptr (JsonParser) parser = json_parser_new_immutable ();
          JsonNode *root;

          g_string_erase (self->inbuf, 0, (gssize) line_len + 1);
          g_strchomp (line);
          if (line[0] == '\0')
            continue;
          if (!json_parser_load_from_data (parser, line, -1, &local))
            {
              g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                           "%s: QEMU sent invalid JSON: %s", what, local->message);
              g_error_free (local);
              drop_connection_locked (self);
              return NULL;
            }
          root = json_parser_get_root (parser);
          if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
            {
              g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                           "%s: QEMU sent something other than a JSON object", what);
              drop_connection_locked (self);
              return NULL;
            }
          return json_node_copy (root);
        }
      if (self->inbuf->len > BANGER_QMP_MAX_LINE)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_LIMIT_EXCEEDED,
                       "%s: QEMU sent a line longer than %d bytes", what, BANGER_QMP_MAX_LINE);
          drop_connection_locked (self);
          return NULL;
        }
      if (!wait_socket (self, G_IO_IN, deadline, cancellable, what, error))
        return NULL;
      n = g_socket_receive_with_blocking (self->socket, buf, sizeof buf, FALSE, cancellable,
                                          &local);
      if (n < 0)
        {
          if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            {
              g_error_free (local);
              continue;
            }
          propagate_io (error, local, what);
          drop_connection_locked (self);
          return NULL;
        }
      if (n == 0)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                       "%s: QEMU closed the QMP connection", what);
          drop_connection_locked (self);
          return NULL;
        }
      g_string_append_len (self->inbuf, buf, n);
    }
}

/* Send one command and wait for the reply carrying its id. */
static JsonNode *
execute_locked (BangerQmp *self, const char *command, JsonObject *arguments, guint timeout_ms,
                GCancellable *cancellable, GError **error)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) request = NULL;
  g_autofree char *id = g_strdup_printf ("banger-%" G_GUINT64_FORMAT, self->next_id++);
  g_autofree char *what = g_strdup_printf ("QMP command '%s'", command);
  g_autofree char *text = NULL;
  g_autofree char *line = NULL;
  gint64 deadline = deadline_after (timeout_ms);

  if (self->socket == NULL)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                   "%s: not connected to QEMU's QMP socket", what);
      return NULL;
    }

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "execute");
  json_builder_add_string_value (builder, command);
  if (arguments != NULL)
    {
      json_builder_set_member_name (builder, "arguments");
      json_builder_add_value (builder, json_node_init_object (json_node_alloc (), arguments));
    }
  json_builder_set_member_name (builder, "id");
  json_builder_add_string_value (builder, id);
  json_builder_end_object (builder);
  request = json_builder_get_root (builder);
  json_generator_set_root (gen, request);
  text = json_generator_to_data (gen, NULL);
  line = g_strconcat (text, "\n", NULL);

  if (!send_all_locked (self, line, strlen (line), deadline, cancellable, what, error))
    {
      drop_connection_locked (self);
      return NULL;
    }

  for (;;)
    {
      g_autoptr (JsonNode) msg = read_message_locked (self, deadline, cancellable, what, error);
      JsonObject *obj;
      const char *reply_id;

      if (msg == NULL)
        return NULL;
      obj = json_node_get_object (msg);
      if (json_object_has_member (obj, "event"))
        continue;
      reply_id = json_object_get_string_member_with_default (obj, "id", NULL);
      if (reply_id == NULL || strcmp (reply_id, id) != 0)
        continue; /* a late reply to an earlier, timed-out command */
      if (json_object_has_member (obj, "error"))
        {
          JsonNode *err_node = json_object_get_member (obj, "error");
          const char *klass = NULL;
          const char *desc = NULL;
          g_autofree char *qdesc = NULL;

          if (JSON_NODE_HOLDS_OBJECT (err_node))
            {
              JsonObject *err = json_node_get_object (err_node);
              klass = json_object_get_string_member_with_default (err, "class", NULL);
              desc = json_object_get_string_member_with_default (err, "desc", NULL);
            }
          /* escaped, not truncated: QEMU's own words are the point */
          qdesc = g_strescape (desc ? desc : "(no description)", NULL);
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_VMM, "QEMU refused '%s': %s (%s)",
                       command, qdesc, klass ? klass : "no class");
          return NULL;
        }
      if (!json_object_has_member (obj, "return"))
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                       "%s: the reply has neither 'return' nor 'error'", what);
          return NULL;
        }
      return json_node_copy (json_object_get_member (obj, "return"));
    }
}

gboolean
banger_qmp_connect (BangerQmp *self, const char *socket_path, guint timeout_ms,
                    GCancellable *cancellable, GError **error)
{
  g_autoptr (GMutexLocker) locker = NULL;
  g_autoptr (GSocketAddress) address = NULL;
  g_autoptr (JsonNode) greeting = NULL;
  g_autoptr (JsonNode) caps = NULL;
  GError *local = NULL;
  JsonObject *qmp;
  gint64 deadline = deadline_after (timeout_ms);

  g_return_val_if_fail (BANGER_IS_QMP (self), FALSE);
  g_return_val_if_fail (socket_path != NULL, FALSE);

  locker = g_mutex_locker_new (&self->lock);
  if (strlen (socket_path) >= sizeof (((struct sockaddr_un *) NULL)->sun_path))
    {
      g_autofree char *q = banger_quote (socket_path);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "QMP socket path %s is too long for a unix socket", q);
      return FALSE;
    }
  drop_connection_locked (self);

  self->socket = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM,
                               G_SOCKET_PROTOCOL_DEFAULT, &local);
  if (self->socket == NULL)
    {
      propagate_io (error, local, "Cannot make a socket for QMP");
      return FALSE;
    }
  address = g_unix_socket_address_new (socket_path);
  if (!g_socket_connect (self->socket, address, cancellable, &local))
    {
      g_autofree char *q = banger_quote (socket_path);
      g_autofree char *what = g_strdup_printf ("Cannot connect to the QMP socket %s", q);
      drop_connection_locked (self);
      propagate_io (error, local, what);
      return FALSE;
    }

  greeting = read_message_locked (self, deadline, cancellable, "QMP greeting", error);
  if (greeting == NULL)
    {
      drop_connection_locked (self);
      return FALSE;
    }
  qmp = object_member (json_node_get_object (greeting), "QMP",
                                                    NULL);
  if (qmp == NULL)
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                           "The QMP socket did not greet with a QMP banner");
      drop_connection_locked (self);
      return FALSE;
    }
  {
    JsonObject *version = object_member (qmp, "version", NULL);
    JsonObject *q = version ? object_member (version, "qemu", NULL)
                            : NULL;
    g_free (self->version);
    self->version = q ? g_strdup_printf ("%" G_GINT64_FORMAT ".%" G_GINT64_FORMAT
                                         ".%" G_GINT64_FORMAT,
                                         json_object_get_int_member_with_default (q, "major", 0),
                                         json_object_get_int_member_with_default (q, "minor", 0),
                                         json_object_get_int_member_with_default (q, "micro", 0))
                      : g_strdup ("unknown");
  }

  caps = execute_locked (self, "qmp_capabilities", NULL, timeout_ms, cancellable, error);
  if (caps == NULL)
    {
      drop_connection_locked (self);
      return FALSE;
    }
  return TRUE;
}

const char *
banger_qmp_get_qemu_version (BangerQmp *self)
{
  g_return_val_if_fail (BANGER_IS_QMP (self), NULL);
  return self->version;
}

JsonNode *
banger_qmp_execute (BangerQmp *self, const char *command, JsonObject *arguments,
                    guint timeout_ms, GCancellable *cancellable, GError **error)
{
  g_autoptr (GMutexLocker) locker = NULL;

  g_return_val_if_fail (BANGER_IS_QMP (self), NULL);
  g_return_val_if_fail (command != NULL, NULL);
  locker = g_mutex_locker_new (&self->lock);
  return execute_locked (self, command, arguments, timeout_ms, cancellable, error);
}

gboolean
banger_qmp_is_connected (BangerQmp *self)
{
  g_autoptr (GMutexLocker) locker = NULL;

  g_return_val_if_fail (BANGER_IS_QMP (self), FALSE);
  locker = g_mutex_locker_new (&self->lock);
  return self->socket != NULL;
}

void
banger_qmp_close (BangerQmp *self)
{
  g_autoptr (GMutexLocker) locker = NULL;

  g_return_if_fail (BANGER_IS_QMP (self));
  locker = g_mutex_locker_new (&self->lock);
  drop_connection_locked (self);
}
