/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "banger-error-private.h"
#include "banger-priv-executor.h"
#include "banger-priv-framer.h"
#include "banger-priv-json.h"
#include "banger-priv-message.h"
#include "banger-priv-server.h"
#include "banger-priv-stream.h"

#define ACCEPT_PAUSE_MS 100 /* after EMFILE/ENFILE, before accepting again */
#define ACCEPT_BURST 64     /* connections accepted per main-loop wakeup */

struct _BangerPrivServer
{
  GObject parent_instance;

  const BangerPrivOp *table;
  BangerPrivState *state;
  BangerPrivServerLimits limits;

  GSocket *listener;
  char *bound_path;
  GMainContext *context;
  GSource *accept_source;
  GSource *accept_pause;
  gboolean accept_failing;  /* logged once per run of failures */
  GHashTable *per_uid;  /* uid -> number of open connections */
  GHashTable *conns;    /* Conn* set */
  GCancellable *cancellable; /* cancelled by stop: handed to handlers */
  int reserve_fd;       /* a spare descriptor, given up to accept at EMFILE */
  GMutex jobs_lock;     /* guards n_jobs */
  GCond jobs_idle;      /* n_jobs dropped to 0 */
  guint n_jobs;         /* handlers running (the executor serialises them) */
  GThreadPool *root_pool; /* 2 threads for root's requests: never queued behind the owner's */
};

G_DEFINE_FINAL_TYPE (BangerPrivServer, banger_priv_server, G_TYPE_OBJECT)

typedef enum
{
  TIMER_NONE,
  TIMER_IDLE,
  TIMER_MESSAGE,
  TIMER_WRITE,
} TimerKind;

typedef struct
{
  int ref;
  BangerPrivServer *server; /* strong */
  GSocketConnection *connection;
  GSocket *socket;
  BangerPeerCred cred;
  BangerPrivFramer framer;
  GCancellable *cancellable;
  GSource *timer;
  TimerKind timer_kind;
  GBytes *reply;          /* being written */
  gboolean close_after_reply;
  gboolean busy;          /* a request is executing or its reply is being written */
  gboolean reading;
  gboolean closed;
  /* Pushed messages (banger-priv-stream.h): the running request's stream,
   * whose events are written as they come, before its reply. */
  BangerPrivStream *stream;
  GBytes *pending_reply;  /* the reply, waiting for the events pushed before it */
  gboolean pending_fatal;
  guint64 reply_after;    /* … that many */
  guint64 n_popped;       /* events taken from the stream */
  gboolean writing;       /* a write is in flight */
  gsize writing_event;    /* its event's size (0: the write is the reply) */
  gboolean subscribed;    /* the stream outlived its reply: only events from now on */
  guint8 scratch[64];     /* a subscriber's reads (anything read ends it) */
} Conn;

static void conn_pump (Conn *c);

static Conn *
conn_ref (Conn *c)
{
  c->ref++;
  return c;
}

static void
conn_unref (Conn *c)
{
  if (--c->ref > 0)
    return;
  banger_priv_framer_clear (&c->framer);
  g_clear_pointer (&c->reply, g_bytes_unref);
  g_clear_pointer (&c->pending_reply, g_bytes_unref);
  g_clear_pointer (&c->stream, banger_priv_stream_unref);
  g_clear_object (&c->cancellable);
  g_clear_object (&c->socket);
  g_clear_object (&c->connection);
  g_clear_object (&c->server);
  g_free (c);
}

static void
conn_disarm (Conn *c)
{
  if (c->timer != NULL)
    {
      g_source_destroy (c->timer);
      g_clear_pointer (&c->timer, g_source_unref);
    }
  c->timer_kind = TIMER_NONE;
}

static void
uid_count_add (BangerPrivServer *server, uid_t uid, int delta)
{
  gpointer key = GUINT_TO_POINTER ((guint) uid);
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (server->per_uid, key));

  n = delta > 0 ? n + 1 : (n > 0 ? n - 1 : 0);
  if (n == 0)
    g_hash_table_remove (server->per_uid, key);
  else
    g_hash_table_insert (server->per_uid, key, GUINT_TO_POINTER (n));
}

static void
conn_close (Conn *c, const char *why)
{
  if (c->closed)
    return;
  c->closed = TRUE;
  g_debug ("bangerd-root: closing connection of uid %u pid %d: %s", (guint) c->cred.uid,
           (int) c->cred.pid, why);
  conn_disarm (c);
  g_cancellable_cancel (c->cancellable);
  /* A handler waiting to push wakes up (CANCELLED); a subscription ends. */
  if (c->stream != NULL)
    banger_priv_stream_close (c->stream);
  /* The peer sees EOF now; the fd itself is released when the last pending
   * callback drops its reference. */
  g_socket_shutdown (c->socket, TRUE, TRUE, NULL);
  uid_count_add (c->server, c->cred.uid, -1);
  if (g_hash_table_remove (c->server->conns, c))
    conn_unref (c);
}

/* A last error reply, sent without waiting (the socket is non-blocking):
 * used when the peer is misbehaving and may not be reading. */
static void
send_nowait (GSocket *socket, gint64 id, const GError *error)
{
  g_autoptr (GBytes) reply = banger_priv_reply_error (id, error);
  gsize len;
  const char *data = g_bytes_get_data (reply, &len);

  (void) g_socket_send_with_blocking (socket, data, len, FALSE, NULL, NULL);
}

static gboolean
on_timer (gpointer user_data)
{
  Conn *c = user_data;
  g_autoptr (GError) error = NULL;
  const char *why;

  switch (c->timer_kind)
    {
    case TIMER_MESSAGE:
      why = "message not completed in time";
      g_set_error (&error, BANGER_ERROR, BANGER_ERROR_TIMED_OUT,
                   "The message was not completed within %u ms", c->server->limits.message_timeout_ms);
      break;
    case TIMER_WRITE:
      why = "reply not read in time";
      break;
    case TIMER_IDLE:
    default:
      why = "idle";
      g_set_error (&error, BANGER_ERROR, BANGER_ERROR_TIMED_OUT,
                   "No request for %u ms: closing the connection", c->server->limits.idle_timeout_ms);
      break;
    }
  if (c->timer_kind == TIMER_MESSAGE)
    g_message ("bangerd-root: uid %u pid %d: %s", (guint) c->cred.uid, (int) c->cred.pid, why);
  if (error != NULL)
    send_nowait (c->socket, -1, error);
  g_clear_pointer (&c->timer, g_source_unref);
  c->timer_kind = TIMER_NONE;
  conn_close (c, why);
  return G_SOURCE_REMOVE;
}

static void
conn_arm (Conn *c, TimerKind kind)
{
  guint ms;

  if (c->timer_kind == kind)
    return;
  conn_disarm (c);
  ms = kind == TIMER_IDLE ? c->server->limits.idle_timeout_ms : c->server->limits.message_timeout_ms;
  c->timer = g_timeout_source_new (ms);
  /* The source keeps no reference: conn_close() always destroys it first. */
  g_source_set_callback (c->timer, on_timer, c, NULL);
  g_source_attach (c->timer, c->server->context);
  c->timer_kind = kind;
}

static void conn_flush (Conn *c);

static void
on_sub_read (GObject *source, GAsyncResult *res, gpointer user_data)
{
  Conn *c = user_data;
  g_autoptr (GError) error = NULL;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), res, &error);

  c->reading = FALSE;
  /* A subscriber only listens: its end of stream (or anything it sends)
   * ends the subscription. */
  conn_close (c, n == 0 ? "subscriber closed" : "subscriber sent data");
  conn_unref (c);
}

/* The request's reply is written: an ordinary request is done; a kept
 * stream (a subscription) turns the connection into an event channel. */
static void
request_done (Conn *c)
{
  /* events pushed meanwhile overflowed it: the farewell */
  if (c->stream != NULL && banger_priv_stream_overflowed (c->stream))
    {
      conn_flush (c);
      return;
    }
  if (c->stream != NULL && banger_priv_stream_is_kept (c->stream)
      && !banger_priv_stream_is_closed (c->stream))
    {
      c->subscribed = TRUE;
      c->reading = TRUE;
      g_input_stream_read_async (g_io_stream_get_input_stream (G_IO_STREAM (c->connection)),
                                 c->scratch, sizeof c->scratch, G_PRIORITY_DEFAULT,
                                 c->cancellable, on_sub_read, conn_ref (c));
      conn_flush (c);
      return;
    }
  if (c->stream != NULL)
    {
      banger_priv_stream_close (c->stream);
      g_clear_pointer (&c->stream, banger_priv_stream_unref);
    }
  c->busy = FALSE;
  conn_pump (c);
}

static void
on_written (GObject *source, GAsyncResult *res, gpointer user_data)
{
  Conn *c = user_data;
  g_autoptr (GError) error = NULL;
  gsize event = c->writing_event;

  c->writing = FALSE;
  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), res, NULL, &error))
    {
      conn_close (c, "write failed");
      conn_unref (c);
      return;
    }
  g_clear_pointer (&c->reply, g_bytes_unref);
  if (c->closed)
    {
      conn_unref (c);
      return;
    }
  if (event > 0)
    {
      banger_priv_stream_delivered (c->stream, event);
      conn_flush (c);
      conn_unref (c);
      return;
    }
  conn_disarm (c);
  if (c->close_after_reply)
    conn_close (c, "protocol error");
  else
    request_done (c);
  conn_unref (c);
}

static void
conn_write (Conn *c, GBytes *message, gsize event)
{
  gsize len;
  const void *data = g_bytes_get_data (message, &len);

  c->writing = TRUE;
  c->writing_event = event;
  c->reply = message;
  /* A reply not taken in time closes the connection; events are bounded by
   * the stream instead (a full queue holds the handler back, or ends a
   * subscription). */
  if (event == 0)
    conn_arm (c, TIMER_WRITE);
  g_output_stream_write_all_async (g_io_stream_get_output_stream (G_IO_STREAM (c->connection)),
                                   data, len, G_PRIORITY_DEFAULT, c->cancellable, on_written,
                                   conn_ref (c));
}

/* Write what is next: the events pushed before the reply, then the reply,
 * then (a subscription) the events that keep coming. */
static void
conn_flush (Conn *c)
{
  GBytes *event;

  if (c->closed || c->writing)
    return;
  if (c->stream != NULL && banger_priv_stream_overflowed (c->stream))
    {
      /* A subscriber that did not keep up: what is queued is dropped, a
       * farewell is written (bounded by the write deadline), then the
       * connection is closed. */
      g_autoptr (GError) error = g_error_new (BANGER_ERROR, BANGER_ERROR_LIMIT_EXCEEDED,
                                              "Events were not read in time: closing");
      GBytes *dropped;

      while ((dropped = banger_priv_stream_pop (c->stream)) != NULL)
        g_bytes_unref (dropped);
      g_clear_pointer (&c->pending_reply, g_bytes_unref);
      g_clear_pointer (&c->stream, banger_priv_stream_unref);
      g_message ("bangerd-root: uid %u pid %d: events not read in time: closing",
                 (guint) c->cred.uid, (int) c->cred.pid);
      c->close_after_reply = TRUE;
      conn_write (c, banger_priv_reply_error (-1, error), 0);
      return;
    }
  if (c->pending_reply != NULL && c->n_popped >= c->reply_after)
    {
      conn_write (c, g_steal_pointer (&c->pending_reply), 0);
      return;
    }
  if (c->stream != NULL && (event = banger_priv_stream_pop (c->stream)) != NULL)
    {
      gsize len = g_bytes_get_size (event);
      c->n_popped++;
      conn_write (c, banger_priv_event_message (banger_priv_stream_get_request_id (c->stream),
                                                event),
                  len);
      g_bytes_unref (event);
    }
}

static void
on_stream_notify (gpointer user_data)
{
  conn_flush (user_data);
}

/* The reply of the request: written after the @after events pushed before
 * the handler returned. */
static void
conn_send_after (Conn *c, GBytes *reply, gboolean close_after, guint64 after)
{
  c->busy = TRUE;
  c->pending_reply = reply;
  c->close_after_reply = close_after;
  c->reply_after = after;
  conn_flush (c);
}

static void
conn_send (Conn *c, GBytes *reply, gboolean close_after)
{
  conn_send_after (c, reply, close_after, 0);
}

/* ------------------------------------------------------------ execution */

typedef struct
{
  BangerPrivServer *server;
  BangerPeerCred cred;
  GBytes *message;
  GBytes *reply;
  gboolean fatal;
  BangerPrivStream *stream; /* the handler's pushed messages */
  guint64 n_pushed;         /* pushed before it returned */
} Job;

static void
job_free (Job *job)
{
  g_clear_object (&job->server);
  g_clear_pointer (&job->message, g_bytes_unref);
  g_clear_pointer (&job->reply, g_bytes_unref);
  g_clear_pointer (&job->stream, banger_priv_stream_unref);
  g_free (job);
}

static void
execute_in_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  Job *job = task_data;
  BangerPrivServer *server = job->server;
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerPrivRequest) req = NULL;
  g_autoptr (JsonNode) result = NULL;
  gboolean run;
  gsize len;
  const char *data = g_bytes_get_data (job->message, &len);

  req = banger_priv_request_parse (data, len, &error);
  if (req == NULL)
    {
      g_message ("bangerd-root: uid %u pid %d: refused a malformed message: %s",
                 (guint) job->cred.uid, (int) job->cred.pid, error->message);
      job->reply = banger_priv_reply_error (-1, error);
      job->fatal = TRUE;
      g_task_return_boolean (task, TRUE);
      return;
    }

  /* A stopped server no longer owns its state: run nothing.  (The executor
   * serialises the handlers; stop() waits until n_jobs is 0.) */
  g_mutex_lock (&server->jobs_lock);
  run = !g_cancellable_set_error_if_cancelled (server->cancellable, &error);
  if (run)
    server->n_jobs++;
  g_mutex_unlock (&server->jobs_lock);
  if (run)
    {
      banger_priv_set_current_op_id (req->op_id);
      banger_priv_stream_set_request_id (job->stream, req->id);
      banger_priv_set_current_stream (job->stream);
      result = banger_priv_execute (server->table, server->state, &job->cred, req->method,
                                    req->params, server->cancellable, &error);
      banger_priv_set_current_stream (NULL);
      job->n_pushed = banger_priv_stream_get_n_pushed (job->stream);
      banger_priv_set_current_op_id (NULL);
      g_mutex_lock (&server->jobs_lock);
      if (--server->n_jobs == 0)
        g_cond_broadcast (&server->jobs_idle);
      g_mutex_unlock (&server->jobs_lock);
    }

  if (result == NULL)
    {
      g_message ("bangerd-root: uid %u pid %d op %s: %s -> %s: %s", (guint) job->cred.uid,
                 (int) job->cred.pid, req->op_id ? req->op_id : "-", req->method,
                 banger_error_to_name (banger_error_code_from_gerror (error)), error->message);
      job->reply = banger_priv_reply_error (req->id, error);
    }
  else
    {
      g_info ("bangerd-root: uid %u pid %d op %s: %s -> ok", (guint) job->cred.uid,
              (int) job->cred.pid, req->op_id ? req->op_id : "-", req->method);
      job->reply = banger_priv_reply_result (req->id, result);
    }
  g_task_return_boolean (task, TRUE);
}

static void
root_pool_run (gpointer data, gpointer user_data)
{
  GTask *task = data;

  execute_in_thread (task, NULL, g_task_get_task_data (task), NULL);
  g_object_unref (task);
}

static void
on_executed (GObject *source, GAsyncResult *res, gpointer user_data)
{
  Conn *c = user_data;
  Job *job = g_task_get_task_data (G_TASK (res));

  if (!c->closed)
    conn_send_after (c, g_steal_pointer (&job->reply), job->fatal, job->n_pushed);
  conn_unref (c);
}

/* Root's CONCURRENT requests (priv.status: read-only, well under a
 * millisecond) are answered right here on the main thread: no hand-over to a
 * worker and back, each of which costs a scheduler wake-up that takes tens
 * of milliseconds on a loaded machine.  FALSE: not one of those (anything
 * unreadable is left to the worker, which reports it). */
static gboolean
dispatch_inline (Conn *c, GBytes *message)
{
  g_autoptr (BangerPrivRequest) req = NULL;
  g_autoptr (JsonNode) result = NULL;
  g_autoptr (GError) error = NULL;
  const BangerPrivOp *op;
  const char *data;
  gsize len;

  if (c->cred.uid != 0 || g_cancellable_is_cancelled (c->server->cancellable))
    return FALSE;
  data = g_bytes_get_data (message, &len);
  req = banger_priv_request_parse (data, len, NULL);
  if (req == NULL)
    return FALSE;
  op = banger_priv_op_find (c->server->table, req->method);
  if (op == NULL || (op->flags & BANGER_PRIV_OP_CONCURRENT) == 0
      || (op->flags & BANGER_PRIV_OP_WORKER) != 0)
    return FALSE;
  result = banger_priv_execute (c->server->table, c->server->state, &c->cred, req->method,
                                req->params, c->server->cancellable, &error);
  g_bytes_unref (message);
  if (result == NULL)
    {
      g_message ("bangerd-root: uid 0 pid %d op %s: %s -> %s: %s", (int) c->cred.pid,
                 req->op_id ? req->op_id : "-", req->method,
                 banger_error_to_name (banger_error_code_from_gerror (error)), error->message);
      conn_send (c, banger_priv_reply_error (req->id, error), FALSE);
    }
  else
    conn_send (c, banger_priv_reply_result (req->id, result), FALSE);
  return TRUE;
}

static void
conn_dispatch (Conn *c, GBytes *message)
{
  g_autoptr (GTask) task = NULL;
  Job *job;

  if (dispatch_inline (c, message))
    return;
  task = g_task_new (NULL, NULL, on_executed, conn_ref (c));
  job = g_new0 (Job, 1);

  c->busy = TRUE;
  job->server = g_object_ref (c->server);
  job->cred = c->cred;
  job->message = message;
  job->stream = banger_priv_stream_new (0);
  c->n_popped = 0;
  g_clear_pointer (&c->stream, banger_priv_stream_unref);
  c->stream = banger_priv_stream_ref (job->stream);
  banger_priv_stream_set_consumer (c->stream, c->server->context, on_stream_notify, c);
  g_task_set_task_data (task, job, (GDestroyNotify) job_free);
  /* Root's requests have threads of their own: the owner's requests may
   * occupy every thread of GLib's pool (waiting for the executor lock), and
   * root's priv.status must still be answered at once. */
  if (c->cred.uid == 0)
    g_thread_pool_push (c->server->root_pool, g_object_ref (task), NULL);
  else
    g_task_run_in_thread (task, execute_in_thread);
}

/* --------------------------------------------------------------- reading */

static void
on_read (GObject *source, GAsyncResult *res, gpointer user_data)
{
  Conn *c = user_data;
  g_autoptr (GError) error = NULL;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), res, &error);

  c->reading = FALSE;
  if (c->closed)
    {
      conn_unref (c);
      return;
    }
  if (n < 0)
    conn_close (c, error->message);
  else if (n == 0)
    conn_close (c, "end of stream");
  else
    {
      banger_priv_framer_commit (&c->framer, (gsize) n);
      conn_pump (c);
    }
  conn_unref (c);
}

/* Answer the next buffered request, or read more. */
static void
conn_pump (Conn *c)
{
  g_autoptr (GError) error = NULL;
  GBytes *message = NULL;
  gsize avail;
  guint8 *space;

  if (c->closed || c->busy || c->reading)
    return;
  if (banger_priv_framer_next (&c->framer, &message, &error))
    {
      conn_disarm (c);
      conn_dispatch (c, message);
      return;
    }
  if (error != NULL)
    {
      g_message ("bangerd-root: uid %u pid %d: %s", (guint) c->cred.uid, (int) c->cred.pid,
                 error->message);
      send_nowait (c->socket, -1, error);
      conn_close (c, error->message);
      return;
    }
  conn_arm (c, banger_priv_framer_has_partial (&c->framer) ? TIMER_MESSAGE : TIMER_IDLE);
  space = banger_priv_framer_get_space (&c->framer, &avail);
  c->reading = TRUE;
  g_input_stream_read_async (g_io_stream_get_input_stream (G_IO_STREAM (c->connection)), space,
                             avail, G_PRIORITY_DEFAULT, c->cancellable, on_read, conn_ref (c));
}

/* ------------------------------------------------------------- accepting */

static gboolean
read_peer_cred (GSocket *socket, BangerPeerCred *out)
{
  struct ucred uc = { 0 };
  socklen_t len = sizeof uc;

  if (getsockopt (g_socket_get_fd (socket), SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0
      || len != sizeof uc)
    return FALSE;
  out->uid = uc.uid;
  out->gid = uc.gid;
  out->pid = uc.pid;
  return TRUE;
}

static void
handle_new_socket (BangerPrivServer *server, GSocket *socket)
{
  BangerPeerCred cred = { 0 };
  g_autoptr (GError) error = NULL;
  Conn *c;

  g_socket_set_blocking (socket, FALSE);
  if (!read_peer_cred (socket, &cred))
    {
      g_message ("bangerd-root: cannot read the peer's credentials (%s): connection refused",
                 g_strerror (errno));
      g_socket_close (socket, NULL);
      return;
    }
  if (!banger_priv_authorize (server->state, &cred, &error))
    {
      g_message ("bangerd-root: refused uid %u pid %d: not root or the owner", (guint) cred.uid,
                 (int) cred.pid);
      send_nowait (socket, -1, error);
      g_socket_close (socket, NULL);
      return;
    }
  if (GPOINTER_TO_UINT (g_hash_table_lookup (server->per_uid, GUINT_TO_POINTER ((guint) cred.uid)))
      >= server->limits.max_connections_per_uid)
    {
      g_set_error (&error, BANGER_ERROR, BANGER_ERROR_LIMIT_EXCEEDED,
                   "uid %u already has %u connections open", (guint) cred.uid,
                   server->limits.max_connections_per_uid);
      g_message ("bangerd-root: %s: connection refused", error->message);
      send_nowait (socket, -1, error);
      g_socket_close (socket, NULL);
      return;
    }

  c = g_new0 (Conn, 1);
  c->ref = 1; /* owned by server->conns */
  c->server = g_object_ref (server);
  c->socket = g_object_ref (socket);
  c->connection = g_socket_connection_factory_create_connection (socket);
  c->cred = cred;
  c->cancellable = g_cancellable_new ();
  banger_priv_framer_init (&c->framer, BANGER_PRIV_MESSAGE_MAX);
  g_hash_table_add (server->conns, c);
  uid_count_add (server, cred.uid, +1);
  conn_pump (c);
}

static gboolean on_accept (GSocket *socket, GIOCondition condition, gpointer user_data);

static void
reserve_take (BangerPrivServer *server)
{
  if (server->reserve_fd < 0)
    server->reserve_fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
}

/* Out of descriptors: the backlog may hold root's connection behind any
 * number of others.  Give up the spare descriptor to accept one at a time:
 * root's is served (the spare is taken back once descriptors free up), any
 * other gets limit-exceeded and is closed, which returns the spare. */
static void
accept_with_reserve (BangerPrivServer *server)
{
  for (int i = 0; i < ACCEPT_BURST && server->reserve_fd >= 0; i++)
    {
      BangerPeerCred cred = { 0 };
      g_autoptr (GSocket) socket = NULL;
      int fd;

      close (server->reserve_fd);
      server->reserve_fd = -1;
      fd = accept4 (g_socket_get_fd (server->listener), NULL, NULL,
                    SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (fd < 0)
        {
          reserve_take (server);
          return;
        }
      socket = g_socket_new_from_fd (fd, NULL);
      if (socket == NULL)
        {
          close (fd);
          reserve_take (server);
          continue;
        }
      if (read_peer_cred (socket, &cred) && cred.uid == 0)
        {
          g_message ("bangerd-root: out of descriptors; accepted root's connection on the "
                     "reserve");
          handle_new_socket (server, socket);
        }
      else
        {
          g_autoptr (GError) error = NULL;
          g_set_error (&error, BANGER_ERROR, BANGER_ERROR_LIMIT_EXCEEDED,
                       "The helper is out of file descriptors; try again later");
          send_nowait (socket, -1, error);
          g_socket_close (socket, NULL);
        }
      g_clear_object (&socket);
      reserve_take (server);
    }
}

static gboolean
on_accept_resume (gpointer user_data)
{
  BangerPrivServer *server = user_data;

  g_clear_pointer (&server->accept_pause, g_source_unref);
  banger_priv_server_start (server);
  return G_SOURCE_REMOVE;
}

static gboolean
on_accept (GSocket *listener, GIOCondition condition, gpointer user_data)
{
  BangerPrivServer *server = user_data;

  for (int i = 0; i < ACCEPT_BURST; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GSocket) socket = g_socket_accept (listener, NULL, &error);

      if (socket != NULL)
        {
          server->accept_failing = FALSE;
          handle_new_socket (server, socket);
          continue;
        }
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        break;
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TOO_MANY_OPEN_FILES))
        accept_with_reserve (server);
      /* Out of file descriptors (or another transient failure): stop
       * polling the listener for a moment instead of spinning on it. */
      if (!server->accept_failing)
        g_message ("bangerd-root: accept: %s; pausing for %d ms at a time until it works",
                   error->message, ACCEPT_PAUSE_MS);
      server->accept_failing = TRUE;
      g_source_destroy (server->accept_source);
      g_clear_pointer (&server->accept_source, g_source_unref);
      server->accept_pause = g_timeout_source_new (ACCEPT_PAUSE_MS);
      g_source_set_callback (server->accept_pause, on_accept_resume, server, NULL);
      g_source_attach (server->accept_pause, server->context);
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

void
banger_priv_server_start (BangerPrivServer *server)
{
  g_return_if_fail (BANGER_IS_PRIV_SERVER (server));
  g_return_if_fail (server->listener != NULL);

  if (server->accept_source != NULL)
    return;
  reserve_take (server);
  if (server->context == NULL)
    server->context = g_main_context_ref_thread_default ();
  server->accept_source = g_socket_create_source (server->listener, G_IO_IN, NULL);
  g_source_set_callback (server->accept_source, G_SOURCE_FUNC (on_accept), server, NULL);
  g_source_attach (server->accept_source, server->context);
}

void
banger_priv_server_stop (BangerPrivServer *server)
{
  g_autoptr (GPtrArray) all = NULL;

  g_return_if_fail (BANGER_IS_PRIV_SERVER (server));

  if (server->accept_source != NULL)
    {
      g_source_destroy (server->accept_source);
      g_clear_pointer (&server->accept_source, g_source_unref);
    }
  if (server->accept_pause != NULL)
    {
      g_source_destroy (server->accept_pause);
      g_clear_pointer (&server->accept_pause, g_source_unref);
    }
  g_cancellable_cancel (server->cancellable);
  /* Wait for running handlers: after stop() the caller may free the state. */
  g_mutex_lock (&server->jobs_lock);
  while (server->n_jobs > 0)
    g_cond_wait (&server->jobs_idle, &server->jobs_lock);
  g_mutex_unlock (&server->jobs_lock);
  all = g_ptr_array_new ();
  {
    GHashTableIter iter;
    gpointer key;
    g_hash_table_iter_init (&iter, server->conns);
    while (g_hash_table_iter_next (&iter, &key, NULL))
      g_ptr_array_add (all, key);
  }
  for (guint i = 0; i < all->len; i++)
    conn_close (all->pdata[i], "server stopping");
  if (server->listener != NULL)
    {
      g_socket_close (server->listener, NULL);
      g_clear_object (&server->listener);
    }
  if (server->bound_path != NULL)
    {
      (void) unlink (server->bound_path);
      g_clear_pointer (&server->bound_path, g_free);
    }
  if (server->reserve_fd >= 0)
    {
      close (server->reserve_fd);
      server->reserve_fd = -1;
    }
}

guint
banger_priv_server_get_n_connections (BangerPrivServer *server)
{
  g_return_val_if_fail (BANGER_IS_PRIV_SERVER (server), 0);
  return g_hash_table_size (server->conns);
}

/* ------------------------------------------------------------- listening */

gboolean
banger_priv_server_listen_fd (BangerPrivServer *server, int fd, GError **error)
{
  GError *local = NULL;
  GSocket *socket;

  g_return_val_if_fail (BANGER_IS_PRIV_SERVER (server), FALSE);
  g_return_val_if_fail (server->listener == NULL, FALSE);

  socket = g_socket_new_from_fd (fd, &local);
  if (socket == NULL)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "Cannot use socket fd %d: %s", fd,
                   local->message);
      g_error_free (local);
      close (fd);
      return FALSE;
    }
  if (g_socket_get_family (socket) != G_SOCKET_FAMILY_UNIX
      || g_socket_get_socket_type (socket) != G_SOCKET_TYPE_STREAM)
    {
      g_object_unref (socket);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "Socket fd %d is not a unix stream socket", fd);
      return FALSE;
    }
  g_socket_set_blocking (socket, FALSE);
  server->listener = socket;
  return TRUE;
}

gboolean
banger_priv_server_listen_path (BangerPrivServer *server, const char *path, uid_t owner,
                                gid_t group, GError **error)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  struct stat st;
  mode_t old_umask;
  int fd, r, errsv;

  g_return_val_if_fail (BANGER_IS_PRIV_SERVER (server), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  if (path[0] != '/' || strlen (path) >= sizeof sa.sun_path)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "Socket path '%s' must be absolute and shorter than %zu bytes", path,
                   sizeof sa.sun_path);
      return FALSE;
    }
  strcpy (sa.sun_path, path);

  if (lstat (path, &st) == 0)
    {
      int probe;

      if (!S_ISSOCK (st.st_mode))
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_ALREADY_EXISTS,
                       "'%s' exists and is not a socket", path);
          return FALSE;
        }
      probe = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (probe >= 0 && connect (probe, (struct sockaddr *) &sa, sizeof sa) == 0)
        {
          close (probe);
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_ALREADY_EXISTS,
                       "Another server is listening on '%s'", path);
          return FALSE;
        }
      if (probe >= 0)
        close (probe);
      if (unlink (path) < 0 && errno != ENOENT)
        return banger_set_error_from_errno (error, errno, "Cannot remove the stale socket '%s'",
                                            path);
    }

  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return banger_set_error_from_errno (error, errno, "Cannot create a unix socket");
  /* Mode 0600 from the moment the socket exists. */
  old_umask = umask (0177);
  r = bind (fd, (struct sockaddr *) &sa, sizeof sa);
  errsv = errno;
  umask (old_umask);
  if (r < 0)
    {
      close (fd);
      return banger_set_error_from_errno (error, errsv, "Cannot bind '%s'", path);
    }
  if (fchownat (AT_FDCWD, path, owner, group, AT_SYMLINK_NOFOLLOW) < 0
      || listen (fd, SOMAXCONN) < 0)
    {
      errsv = errno;
      close (fd);
      (void) unlink (path);
      return banger_set_error_from_errno (error, errsv, "Cannot set up the socket '%s'", path);
    }
  if (!banger_priv_server_listen_fd (server, fd, error))
    {
      (void) unlink (path);
      return FALSE;
    }
  server->bound_path = g_strdup (path);
  return TRUE;
}

gboolean
banger_priv_server_check_fd_budget (guint max_connections_per_uid, guint max_vmms,
                                    GError **error)
{
  struct rlimit rl;
  guint64 need = (guint64) max_connections_per_uid + max_vmms + BANGER_INSTALL_FD_RESERVE;

  if (getrlimit (RLIMIT_NOFILE, &rl) < 0)
    return banger_set_error_from_errno (error, errno, "Cannot read RLIMIT_NOFILE");
  if (rl.rlim_cur < rl.rlim_max)
    {
      rl.rlim_cur = rl.rlim_max;
      (void) setrlimit (RLIMIT_NOFILE, &rl);
      (void) getrlimit (RLIMIT_NOFILE, &rl);
    }
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_LIMIT_EXCEEDED,
                   "The owner's caps (max-connections-per-uid %u + max-vmms %u) and the %d "
                   "descriptors kept for root need %" G_GUINT64_FORMAT
                   " descriptors; RLIMIT_NOFILE is %" G_GUINT64_FORMAT,
                   max_connections_per_uid, max_vmms, BANGER_INSTALL_FD_RESERVE, need,
                   (guint64) rl.rlim_cur);
      return FALSE;
    }
  return TRUE;
}

int
banger_priv_server_take_activation_fd (GError **error)
{
  const char *pid_s = g_getenv ("LISTEN_PID");
  const char *fds_s = g_getenv ("LISTEN_FDS");
  guint64 pid, nfds;
  int fd = 3, v = 0;
  socklen_t len = sizeof v;
  struct stat st;

  if (pid_s == NULL || fds_s == NULL)
    return -1;
  if (!g_ascii_string_to_unsigned (pid_s, 10, 1, G_MAXINT, &pid, NULL) || (pid_t) pid != getpid ())
    return -1;
  g_unsetenv ("LISTEN_PID");
  g_unsetenv ("LISTEN_FDS");
  g_unsetenv ("LISTEN_FDNAMES");
  if (!g_ascii_string_to_unsigned (fds_s, 10, 0, 64, &nfds, NULL) || nfds != 1)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "Socket activation passed LISTEN_FDS=%s; exactly one socket is expected", fds_s);
      return -1;
    }
  if (fstat (fd, &st) < 0 || !S_ISSOCK (st.st_mode)
      || getsockopt (fd, SOL_SOCKET, SO_DOMAIN, &v, &len) < 0 || v != AF_UNIX
      || getsockopt (fd, SOL_SOCKET, SO_TYPE, &v, &len) < 0 || v != SOCK_STREAM
      || getsockopt (fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) < 0 || v != 1)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "The activation fd 3 is not a listening AF_UNIX stream socket");
      return -1;
    }
  if (fcntl (fd, F_SETFD, FD_CLOEXEC) < 0)
    {
      banger_set_error_from_errno (error, errno, "Cannot set FD_CLOEXEC on the activation fd");
      return -1;
    }
  return fd;
}

/* ---------------------------------------------------------------- object */

static void
banger_priv_server_finalize (GObject *object)
{
  BangerPrivServer *server = BANGER_PRIV_SERVER (object);

  banger_priv_server_stop (server);
  g_thread_pool_free (server->root_pool, FALSE, TRUE);
  g_clear_pointer (&server->per_uid, g_hash_table_unref);
  g_clear_pointer (&server->conns, g_hash_table_unref);
  g_clear_object (&server->cancellable);
  g_clear_pointer (&server->context, g_main_context_unref);
  g_mutex_clear (&server->jobs_lock);
  g_cond_clear (&server->jobs_idle);
  G_OBJECT_CLASS (banger_priv_server_parent_class)->finalize (object);
}

static void
banger_priv_server_class_init (BangerPrivServerClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = banger_priv_server_finalize;
}

static void
banger_priv_server_init (BangerPrivServer *server)
{
  server->per_uid = g_hash_table_new (g_direct_hash, g_direct_equal);
  server->conns = g_hash_table_new (g_direct_hash, g_direct_equal);
  server->cancellable = g_cancellable_new ();
  server->reserve_fd = -1;
  g_mutex_init (&server->jobs_lock);
  g_cond_init (&server->jobs_idle);
  /* exclusive: its threads exist from the start and are never lent to
   * another pool, so root never waits for one to be made */
  server->root_pool = g_thread_pool_new (root_pool_run, NULL, 2, TRUE, NULL);
}

BangerPrivServer *
banger_priv_server_new (const BangerPrivOp *table, BangerPrivState *state,
                        const BangerPrivServerLimits *limits)
{
  BangerPrivServer *server = g_object_new (BANGER_TYPE_PRIV_SERVER, NULL);

  server->table = table;
  server->state = state;
  server->limits = *limits;
  return server;
}
