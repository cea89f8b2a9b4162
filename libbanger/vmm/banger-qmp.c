/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * BangerQmp: asynchronous QMP client (see banger-qmp.h).
 *
 * One non-blocking socket.  A source watches it for input in the
 * thread-default main context of the latest call; whatever arrives is
 * appended to a bounded buffer and split into JSON lines, each handled at
 * once: the greeting (while connecting), an event (the "event" signal), or
 * the reply to a queued command (matched by id).  Output goes through a
 * buffer flushed as the socket takes it.  Every waiting command has a timer
 * and a cancellable source in its own task's context. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include <gio/gunixfdmessage.h>
#include <gio/gunixsocketaddress.h>

#include "banger-error-private.h"
#include "banger-qmp.h"
#include "banger-quote.h"

typedef struct
{
  BangerQmp *qmp; /* unowned */
  char *id;
  char *command;
  GTask *task;
  GSource *timer;
  GSource *cancel;
} Pending;

struct _BangerQmp
{
  GObject parent_instance;

  GSocket *socket;
  GMainContext *context; /* where the watches are attached */
  GSource *in_watch;
  GSource *out_watch; /* only while output is waiting */
  GSource *buffered;  /* idle: lines read before the watch moved */
  GString *inbuf;     /* bytes received, not yet a whole line */
  GString *outbuf;    /* bytes not yet sent */
  int out_fd;         /* -1, or an fd to send (SCM_RIGHTS) with the byte at */
  gsize out_fd_at;    /* ... this offset of outbuf */
  GQueue pending;     /* Pending*, in send order */
  guint64 next_id;
  char *version;
  /* connect in progress: waits for the greeting, then qmp_capabilities */
  GTask *connecting;
  GSource *connect_timer;
  GSource *connect_cancel;
};

enum
{
  SIGNAL_EVENT,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (BangerQmp, banger_qmp, G_TYPE_OBJECT)

static void drop_connection (BangerQmp *self, const GError *why);

static void
drop_source (GSource **source)
{
  if (*source == NULL)
    return;
  g_source_destroy (*source);
  g_clear_pointer (source, g_source_unref);
}

static void
banger_qmp_dispose (GObject *object)
{
  BangerQmp *self = BANGER_QMP (object);

  drop_connection (self, NULL);
  G_OBJECT_CLASS (banger_qmp_parent_class)->dispose (object);
}

static void
banger_qmp_finalize (GObject *object)
{
  BangerQmp *self = BANGER_QMP (object);

  g_string_free (self->inbuf, TRUE);
  g_string_free (self->outbuf, TRUE);
  g_free (self->version);
  G_OBJECT_CLASS (banger_qmp_parent_class)->finalize (object);
}

static void
banger_qmp_class_init (BangerQmpClass *klass)
{
  GObjectClass *oc = G_OBJECT_CLASS (klass);

  oc->dispose = banger_qmp_dispose;
  oc->finalize = banger_qmp_finalize;
  /* (name, data): data is the event's "data" object, or NULL */
  signals[SIGNAL_EVENT]
      = g_signal_new ("event", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                      G_TYPE_NONE, 2, G_TYPE_STRING, JSON_TYPE_OBJECT);
}

static void
banger_qmp_init (BangerQmp *self)
{
  self->inbuf = g_string_new (NULL);
  self->outbuf = g_string_new (NULL);
  self->out_fd = -1;
  g_queue_init (&self->pending);
  self->next_id = 1;
}

BangerQmp *
banger_qmp_new (void)
{
  return g_object_new (BANGER_TYPE_QMP, NULL);
}

/* ------------------------------------------------------------- utilities */

/* @name as an object, or NULL when absent or not an object. */
static JsonObject *
object_member (JsonObject *obj, const char *name)
{
  JsonNode *node = json_object_get_member (obj, name);
  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

/* A GIO error as a BANGER_ERROR, prefixed with @what.  Takes @local. */
static GError *
banger_from_io (GError *local, const char *what)
{
  BangerError code = banger_error_code_from_gerror (local);
  GError *e;

  if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)
      || g_error_matches (local, G_IO_ERROR, G_IO_ERROR_PENDING))
    code = BANGER_ERROR_BUSY;
  e = g_error_new (BANGER_ERROR, code, "%s: %s", what, local->message);
  g_error_free (local);
  return e;
}

static void
pending_free (Pending *p)
{
  drop_source (&p->timer);
  drop_source (&p->cancel);
  g_clear_object (&p->task);
  g_free (p->id);
  g_free (p->command);
  g_free (p);
}

/* Take @p off the queue and complete its task: with @reply (taken) or
 * @error (taken). */
static void
pending_complete (Pending *p, JsonNode *reply, GError *error)
{
  GTask *task = g_steal_pointer (&p->task);

  g_queue_remove (&p->qmp->pending, p);
  pending_free (p);
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, reply, (GDestroyNotify)json_node_unref);
  g_object_unref (task);
}

/* The connect in progress succeeded. */
static void
connect_done (BangerQmp *self)
{
  GTask *task = g_steal_pointer (&self->connecting);

  drop_source (&self->connect_timer);
  drop_source (&self->connect_cancel);
  if (task == NULL)
    return;
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

/* Close the socket and fail everything that waits on it with @why (NULL:
 * a plain "closed" error).  State is reset before any task completes, so a
 * callback may start over at once. */
static void
drop_connection (BangerQmp *self, const GError *why)
{
  GQueue waiting = self->pending;
  GTask *connecting = g_steal_pointer (&self->connecting);

  drop_source (&self->connect_timer);
  drop_source (&self->connect_cancel);
  drop_source (&self->in_watch);
  drop_source (&self->out_watch);
  drop_source (&self->buffered);
  if (self->socket != NULL)
    g_socket_close (self->socket, NULL);
  g_clear_object (&self->socket);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_string_truncate (self->inbuf, 0);
  g_string_truncate (self->outbuf, 0);
  if (self->out_fd >= 0)
    close (self->out_fd);
  self->out_fd = -1;
  g_queue_init (&self->pending);

  while (!g_queue_is_empty (&waiting))
    {
      Pending *p = g_queue_pop_head (&waiting);
      GTask *task = g_steal_pointer (&p->task);
      GError *e = why ? g_error_copy (why)
                      : g_error_new (BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                                     "QMP command '%s': the QMP connection was closed", p->command);
      pending_free (p);
      g_task_return_error (task, e);
      g_object_unref (task);
    }
  if (connecting != NULL)
    {
      g_task_return_error (connecting,
                           why ? g_error_copy (why)
                               : g_error_new_literal (BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                                                      "The QMP connection was closed"));
      g_object_unref (connecting);
    }
}

/* The connect in progress fails with @error (taken); the connection goes. */
static void
connect_fail (BangerQmp *self, GError *error)
{
  GTask *task = g_steal_pointer (&self->connecting);

  drop_connection (self, NULL);
  if (task == NULL)
    {
      g_error_free (error);
      return;
    }
  g_task_return_error (task, error);
  g_object_unref (task);
}

/* A fatal failure of the connection: everything waiting gets @error. */
static void
fail_connection (BangerQmp *self, GError *error)
{
  drop_connection (self, error);
  g_error_free (error);
}

/* ------------------------------------------------------------------ input */

static void send_command (BangerQmp *self, Pending *p, JsonObject *arguments, int fd);

static void
on_capabilities (GObject *source, GAsyncResult *result, gpointer user_data)
{
  BangerQmp *self = BANGER_QMP (source);
  g_autoptr (JsonNode) ret = NULL;
  GError *error = NULL;

  ret = banger_qmp_execute_finish (self, result, &error);
  if (ret == NULL)
    {
      /* the connection is of no use without capabilities */
      connect_fail (self, error);
      return;
    }
  connect_done (self);
}

static void
handle_greeting (BangerQmp *self, JsonObject *obj)
{
  JsonObject *qmp = object_member (obj, "QMP");
  JsonObject *version, *q;

  if (qmp == NULL)
    {
      fail_connection (self, g_error_new_literal (BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                                                  "The QMP socket did not greet with a QMP "
                                                  "banner"));
      return;
    }
  version = object_member (qmp, "version");
  q = version ? object_member (version, "qemu") : NULL;
  g_free (self->version);
  self->version
      = q ? g_strdup_printf ("%" G_GINT64_FORMAT ".%" G_GINT64_FORMAT ".%" G_GINT64_FORMAT,
                             json_object_get_int_member_with_default (q, "major", 0),
                             json_object_get_int_member_with_default (q, "minor", 0),
                             json_object_get_int_member_with_default (q, "micro", 0))
          : g_strdup ("unknown");
  /* bounded by the connect's own timer */
  banger_qmp_execute_async (self, "qmp_capabilities", NULL, G_MAXINT, NULL, on_capabilities, NULL);
}

static void
handle_reply (BangerQmp *self, JsonObject *obj)
{
  const char *reply_id = json_object_get_string_member_with_default (obj, "id", NULL);
  Pending *p = NULL;

  for (GList *l = self->pending.head; l != NULL && reply_id != NULL; l = l->next)
    if (g_str_equal (((Pending *)l->data)->id, reply_id))
      {
        p = l->data;
        break;
      }
  if (p == NULL)
    return; /* a late reply to a command that timed out or was cancelled */
  if (json_object_has_member (obj, "error"))
    {
      JsonObject *err = object_member (obj, "error");
      const char *klass
          = err ? json_object_get_string_member_with_default (err, "class", NULL) : NULL;
      const char *desc
          = err ? json_object_get_string_member_with_default (err, "desc", NULL) : NULL;
      /* escaped, not truncated: QEMU's own words are the point */
      g_autofree char *qdesc = g_strescape (desc ? desc : "(no description)", NULL);

      pending_complete (p, NULL,
                        g_error_new (BANGER_ERROR, BANGER_ERROR_VMM, "QEMU refused '%s': %s (%s)",
                                     p->command, qdesc, klass ? klass : "no class"));
      return;
    }
  if (!json_object_has_member (obj, "return"))
    {
      pending_complete (p, NULL,
                        g_error_new (BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                                     "QMP command '%s': the reply has neither 'return' nor "
                                     "'error'",
                                     p->command));
      return;
    }
  pending_complete (p, json_node_copy (json_object_get_member (obj, "return")), NULL);
}

/* One line from QEMU.  FALSE when the connection was dropped. */
static gboolean
handle_line (BangerQmp *self, const char *line)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (GError) local = NULL;
  JsonNode *root;
  JsonObject *obj;

  if (!json_parser_load_from_data (parser, line, -1, &local))
    {
      fail_connection (self, g_error_new (BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                                          "QEMU sent invalid JSON on the QMP socket: %s",
                                          local->message));
      return FALSE;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      fail_connection (self, g_error_new_literal (BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                                                  "QEMU sent something other than a JSON "
                                                  "object on the QMP socket"));
      return FALSE;
    }
  obj = json_node_get_object (root);
  if (self->version == NULL)
    {
      if (self->connecting == NULL)
        return TRUE; /* nobody asked */
      handle_greeting (self, obj);
    }
  else if (json_object_has_member (obj, "event"))
    {
      const char *name = json_object_get_string_member_with_default (obj, "event", NULL);
      if (name != NULL)
        g_signal_emit (self, signals[SIGNAL_EVENT], 0, name, object_member (obj, "data"));
    }
  else
    handle_reply (self, obj);
  return self->socket != NULL;
}

/* Handle the whole lines in the input buffer.  FALSE when a callback closed
 * the connection or moved it to another context (the rest is then left to
 * the new watch). */
static gboolean
process_buffered (BangerQmp *self)
{
  GSource *watch = self->in_watch;
  char *nl;

  while (self->in_watch == watch
         && (nl = memchr (self->inbuf->str, '\n', self->inbuf->len)) != NULL)
    {
      gsize line_len = (gsize)(nl - self->inbuf->str);
      g_autofree char *line = g_strndup (self->inbuf->str, line_len);

      g_string_erase (self->inbuf, 0, (gssize)line_len + 1);
      g_strchomp (line);
      if (line[0] != '\0' && !handle_line (self, line))
        return FALSE;
    }
  return self->in_watch == watch;
}

static gboolean
on_readable (GSocket *socket, GIOCondition cond, gpointer user_data)
{
  g_autoptr (BangerQmp) self = g_object_ref (user_data);
  char buf[16384];

  /* lines read before the watch moved here come first */
  if (!process_buffered (self))
    return G_SOURCE_REMOVE;
  for (;;)
    {
      g_autoptr (GError) local = NULL;
      gssize n = g_socket_receive (socket, buf, sizeof buf, NULL, &local);

      if (n < 0 && g_error_matches (local, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        break;
      if (n < 0)
        {
          fail_connection (
              self, banger_from_io (g_steal_pointer (&local), "Reading from the QMP socket"));
          return G_SOURCE_REMOVE;
        }
      if (n == 0)
        {
          fail_connection (self, g_error_new_literal (BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                                                      "QEMU closed the QMP connection"));
          return G_SOURCE_REMOVE;
        }
      g_string_append_len (self->inbuf, buf, n);
      /* a callback may close the connection or move it */
      if (!process_buffered (self))
        return G_SOURCE_REMOVE;
      if (self->inbuf->len > BANGER_QMP_MAX_LINE)
        {
          fail_connection (self, g_error_new (BANGER_ERROR, BANGER_ERROR_LIMIT_EXCEEDED,
                                              "QEMU sent a line longer than %d bytes on the QMP "
                                              "socket",
                                              BANGER_QMP_MAX_LINE));
          return G_SOURCE_REMOVE;
        }
    }
  return G_SOURCE_CONTINUE;
}

/* Lines already read when the watch moved: handled in the new context. */
static gboolean
on_buffered (gpointer user_data)
{
  g_autoptr (BangerQmp) self = g_object_ref (user_data);

  g_clear_pointer (&self->buffered, g_source_unref);
  process_buffered (self);
  return G_SOURCE_REMOVE;
}

/* ----------------------------------------------------------------- output */

static gboolean flush_output (BangerQmp *self);

static gboolean
on_writable (GSocket *socket, GIOCondition cond, gpointer user_data)
{
  BangerQmp *self = user_data;

  g_clear_pointer (&self->out_watch, g_source_unref);
  flush_output (self);
  return G_SOURCE_REMOVE;
}

static GSource *
socket_source (BangerQmp *self, GIOCondition cond, GSocketSourceFunc func)
{
  GSource *source = g_socket_create_source (self->socket, cond, NULL);

  g_source_set_callback (source, (GSourceFunc)(void (*) (void))func, self, NULL);
  g_source_attach (source, self->context);
  return source;
}

/* Send what the socket takes now; wait for it to take the rest.  FALSE
 * when the connection failed. */
static gboolean
flush_output (BangerQmp *self)
{
  while (self->outbuf->len > 0)
    {
      GError *local = NULL;
      gssize n;

      if (self->out_fd >= 0 && self->out_fd_at == 0)
        {
          /* the fd goes with the first byte of its command */
          g_autoptr (GSocketControlMessage) msg = g_unix_fd_message_new ();
          GSocketControlMessage *msgs[1];
          GOutputVector v = { self->outbuf->str, self->outbuf->len };

          if (!g_unix_fd_message_append_fd (G_UNIX_FD_MESSAGE (msg), self->out_fd, &local))
            {
              fail_connection (self, banger_from_io (local, "Passing a file to QEMU"));
              return FALSE;
            }
          msgs[0] = msg;
          n = g_socket_send_message (self->socket, NULL, &v, 1, msgs, 1, 0, NULL, &local);
          if (n > 0)
            {
              close (self->out_fd);
              self->out_fd = -1;
            }
        }
      else
        n = g_socket_send (self->socket, self->outbuf->str,
                           self->out_fd >= 0 ? self->out_fd_at : self->outbuf->len, NULL,
                           &local);

      if (n < 0 && g_error_matches (local, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        {
          g_error_free (local);
          if (self->out_watch == NULL)
            self->out_watch = socket_source (self, G_IO_OUT, on_writable);
          return TRUE;
        }
      if (n < 0)
        {
          fail_connection (self, banger_from_io (local, "Writing to the QMP socket"));
          return FALSE;
        }
      g_string_erase (self->outbuf, 0, n);
      if (self->out_fd >= 0)
        self->out_fd_at -= (gsize) n;
    }
  return TRUE;
}

/* The watches follow the thread-default context of the latest call (as the
 * Firecracker client's session does), so a caller that iterates only its
 * own context -- a blocking call, a test -- still hears QEMU. */
static void
follow_context (BangerQmp *self)
{
  GMainContext *ctx = g_main_context_ref_thread_default ();

  if (self->context == ctx)
    {
      g_main_context_unref (ctx);
      return;
    }
  g_clear_pointer (&self->context, g_main_context_unref);
  self->context = ctx;
  drop_source (&self->in_watch);
  self->in_watch = socket_source (self, G_IO_IN, on_readable);
  if (self->out_watch != NULL)
    {
      drop_source (&self->out_watch);
      self->out_watch = socket_source (self, G_IO_OUT, on_writable);
    }
  drop_source (&self->buffered);
  if (memchr (self->inbuf->str, '\n', self->inbuf->len) != NULL)
    {
      self->buffered = g_idle_source_new ();
      g_source_set_priority (self->buffered, G_PRIORITY_DEFAULT);
      g_source_set_callback (self->buffered, on_buffered, self, NULL);
      g_source_attach (self->buffered, self->context);
    }
}

/* -------------------------------------------------------------- commands */

static gboolean
on_command_timeout (gpointer user_data)
{
  Pending *p = user_data;

  g_clear_pointer (&p->timer, g_source_unref);
  pending_complete (p, NULL,
                    g_error_new (BANGER_ERROR, BANGER_ERROR_TIMED_OUT,
                                 "QMP command '%s': QEMU did not answer in time", p->command));
  return G_SOURCE_REMOVE;
}

static gboolean
on_command_cancelled (GCancellable *cancellable, gpointer user_data)
{
  Pending *p = user_data;

  g_clear_pointer (&p->cancel, g_source_unref);
  pending_complete (p, NULL,
                    g_error_new (BANGER_ERROR, BANGER_ERROR_CANCELLED,
                                 "QMP command '%s' was cancelled", p->command));
  return G_SOURCE_REMOVE;
}

static void
send_command (BangerQmp *self, Pending *p, JsonObject *arguments, int fd)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) request = NULL;
  g_autofree char *text = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "execute");
  json_builder_add_string_value (builder, p->command);
  if (arguments != NULL)
    {
      json_builder_set_member_name (builder, "arguments");
      json_builder_add_value (builder, json_node_init_object (json_node_alloc (), arguments));
    }
  json_builder_set_member_name (builder, "id");
  json_builder_add_string_value (builder, p->id);
  json_builder_end_object (builder);
  request = json_builder_get_root (builder);
  json_generator_set_root (gen, request);
  text = json_generator_to_data (gen, NULL);
  if (fd >= 0)
    {
      self->out_fd = fd;
      self->out_fd_at = self->outbuf->len;
    }
  g_string_append (self->outbuf, text);
  g_string_append_c (self->outbuf, '\n');
  g_queue_push_tail (&self->pending, p);
  flush_output (self);
}

static void
execute_async (BangerQmp *self, const char *command, JsonObject *arguments, int fd,
               guint timeout_ms, GCancellable *cancellable, GAsyncReadyCallback callback,
               gpointer user_data)
{
  GTask *task;
  Pending *p;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, banger_qmp_execute_async);
  g_task_set_check_cancellable (task, FALSE);
  if (self->socket == NULL)
    {
      g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                               "QMP command '%s': not connected to QEMU's QMP socket", command);
      g_object_unref (task);
      return;
    }
  if (fd >= 0 && self->out_fd >= 0)
    {
      g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_BUSY,
                               "QMP command '%s': another file is still being passed to QEMU",
                               command);
      g_object_unref (task);
      return;
    }
  if (fd >= 0)
    {
      fd = fcntl (fd, F_DUPFD_CLOEXEC, 3);
      if (fd < 0)
        {
          int e = errno;
          g_task_return_new_error (task, BANGER_ERROR, banger_error_code_from_errno (e),
                                   "QMP command '%s': cannot duplicate the file to pass: %s",
                                   command, g_strerror (e));
          g_object_unref (task);
          return;
        }
    }
  if (self->connecting == NULL)
    follow_context (self);

  p = g_new0 (Pending, 1);
  p->qmp = self;
  p->id = g_strdup_printf ("banger-%" G_GUINT64_FORMAT, self->next_id++);
  p->command = g_strdup (command);
  p->task = task;
  p->timer = g_timeout_source_new (timeout_ms ? timeout_ms : BANGER_QMP_DEFAULT_TIMEOUT_MS);
  g_source_set_callback (p->timer, on_command_timeout, p, NULL);
  g_source_attach (p->timer, g_task_get_context (task));
  if (cancellable != NULL)
    {
      p->cancel = g_cancellable_source_new (cancellable);
      g_source_set_callback (p->cancel, (GSourceFunc)(void (*) (void))on_command_cancelled, p,
                             NULL);
      g_source_attach (p->cancel, g_task_get_context (task));
    }
  send_command (self, p, arguments, fd);
}

void
banger_qmp_execute_async (BangerQmp *self, const char *command, JsonObject *arguments,
                          guint timeout_ms, GCancellable *cancellable, GAsyncReadyCallback callback,
                          gpointer user_data)
{
  g_return_if_fail (BANGER_IS_QMP (self));
  g_return_if_fail (command != NULL);
  execute_async (self, command, arguments, -1, timeout_ms, cancellable, callback, user_data);
}

void
banger_qmp_execute_with_fd_async (BangerQmp *self, const char *command, JsonObject *arguments,
                                  int fd, guint timeout_ms, GCancellable *cancellable,
                                  GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (BANGER_IS_QMP (self));
  g_return_if_fail (command != NULL);
  g_return_if_fail (fd >= 0);
  execute_async (self, command, arguments, fd, timeout_ms, cancellable, callback, user_data);
}

JsonNode *
banger_qmp_execute_finish (BangerQmp *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_async_result_is_tagged (result, banger_qmp_execute_async), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---------------------------------------------------------------- connect */

static gboolean
on_connect_timeout (gpointer user_data)
{
  BangerQmp *self = user_data;

  g_clear_pointer (&self->connect_timer, g_source_unref);
  connect_fail (self, g_error_new_literal (BANGER_ERROR, BANGER_ERROR_TIMED_OUT,
                                           "QMP greeting: QEMU did not answer in time"));
  return G_SOURCE_REMOVE;
}

static gboolean
on_connect_cancelled (GCancellable *cancellable, gpointer user_data)
{
  BangerQmp *self = user_data;

  g_clear_pointer (&self->connect_cancel, g_source_unref);
  connect_fail (self, g_error_new_literal (BANGER_ERROR, BANGER_ERROR_CANCELLED,
                                           "Connecting to QMP was cancelled"));
  return G_SOURCE_REMOVE;
}

void
banger_qmp_connect_async (BangerQmp *self, const char *socket_path, guint timeout_ms,
                          GCancellable *cancellable, GAsyncReadyCallback callback,
                          gpointer user_data)
{
  g_autoptr (GSocketAddress) address = NULL;
  GError *local = NULL;
  GTask *task;

  g_return_if_fail (BANGER_IS_QMP (self));
  g_return_if_fail (socket_path != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, banger_qmp_connect_async);
  g_task_set_check_cancellable (task, FALSE);
  drop_connection (self, NULL);
  g_clear_pointer (&self->version, g_free);

  if (strlen (socket_path) >= sizeof (((struct sockaddr_un *) NULL)->sun_path))
    {
      g_autofree char *q = banger_quote (socket_path);
      g_task_return_new_error (task, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                               "QMP socket path %s is too long for a unix socket", q);
      g_object_unref (task);
      return;
    }
  self->socket = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM,
                               G_SOCKET_PROTOCOL_DEFAULT, &local);
  if (self->socket == NULL)
    {
      g_task_return_error (task, banger_from_io (local, "Cannot make a socket for QMP"));
      g_object_unref (task);
      return;
    }
  g_socket_set_blocking (self->socket, FALSE);
  address = g_unix_socket_address_new (socket_path);
  /* a unix socket connects at once or not at all (EAGAIN: the listen queue
   * is full, reported as BUSY for the caller to try again) */
  if (!g_socket_connect (self->socket, address, NULL, &local))
    {
      g_autofree char *q = banger_quote (socket_path);
      g_autofree char *what = g_strdup_printf ("Cannot connect to the QMP socket %s", q);
      drop_connection (self, NULL);
      g_task_return_error (task, banger_from_io (local, what));
      g_object_unref (task);
      return;
    }
  self->connecting = task;
  follow_context (self);
  self->connect_timer
      = g_timeout_source_new (timeout_ms ? timeout_ms : BANGER_QMP_DEFAULT_TIMEOUT_MS);
  g_source_set_callback (self->connect_timer, on_connect_timeout, self, NULL);
  g_source_attach (self->connect_timer, self->context);
  if (cancellable != NULL)
    {
      self->connect_cancel = g_cancellable_source_new (cancellable);
      g_source_set_callback (self->connect_cancel,
                             (GSourceFunc)(void (*) (void))on_connect_cancelled, self, NULL);
      g_source_attach (self->connect_cancel, self->context);
    }
}

gboolean
banger_qmp_connect_finish (BangerQmp *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_async_result_is_tagged (result, banger_qmp_connect_async), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---------------------------------------------------------------- blocking */

static void
on_sync_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **out = user_data;
  *out = g_object_ref (result);
}

gboolean
banger_qmp_connect (BangerQmp *self, const char *socket_path, guint timeout_ms,
                    GCancellable *cancellable, GError **error)
{
  g_autoptr (GMainContext) ctx = g_main_context_new ();
  GAsyncResult *result = NULL;
  gboolean ok;

  g_main_context_push_thread_default (ctx);
  banger_qmp_connect_async (self, socket_path, timeout_ms, cancellable, on_sync_done, &result);
  while (result == NULL)
    g_main_context_iteration (ctx, TRUE);
  ok = banger_qmp_connect_finish (self, result, error);
  g_object_unref (result);
  g_main_context_pop_thread_default (ctx);
  return ok;
}

JsonNode *
banger_qmp_execute (BangerQmp *self, const char *command, JsonObject *arguments,
                    guint timeout_ms, GCancellable *cancellable, GError **error)
{
  g_autoptr (GMainContext) ctx = g_main_context_new ();
  GAsyncResult *result = NULL;
  JsonNode *ret;

  g_main_context_push_thread_default (ctx);
  banger_qmp_execute_async (self, command, arguments, timeout_ms, cancellable, on_sync_done,
                            &result);
  while (result == NULL)
    g_main_context_iteration (ctx, TRUE);
  ret = banger_qmp_execute_finish (self, result, error);
  g_object_unref (result);
  g_main_context_pop_thread_default (ctx);
  return ret;
}

const char *
banger_qmp_get_qemu_version (BangerQmp *self)
{
  g_return_val_if_fail (BANGER_IS_QMP (self), NULL);
  return self->version;
}

gboolean
banger_qmp_is_connected (BangerQmp *self)
{
  g_return_val_if_fail (BANGER_IS_QMP (self), FALSE);
  return self->socket != NULL && self->connecting == NULL;
}

void
banger_qmp_close (BangerQmp *self)
{
  g_return_if_fail (BANGER_IS_QMP (self));
  drop_connection (self, NULL);
}
