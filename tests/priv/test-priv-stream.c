/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Pushed messages (banger-priv-stream.h): the bounded queue alone (room,
 * waiting, overflow, close, cancel), the envelope, and through a real
 * BangerPrivServer on a temporary socket: events in order before the reply,
 * backpressure on a caller that does not read, a kept stream (a
 * subscription) that outlives its reply, ends when the caller closes, and
 * is dropped with a farewell when it overflows. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger-error.h"
#include "banger-priv-executor.h"
#include "banger-priv-server.h"
#include "banger-priv-stream.h"
#include "banger-test.h"
#include "priv-test-wire.h"

static JsonNode *
event_new (gint64 i, gsize pad)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree char *p = g_strnfill (pad, 'x');

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "i");
  json_builder_add_int_value (b, i);
  json_builder_set_member_name (b, "pad");
  json_builder_add_string_value (b, p);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static gboolean
push (BangerPrivStream *s, gint64 i, gsize pad, gboolean wait, GError **error)
{
  g_autoptr (JsonNode) e = event_new (i, pad);
  return banger_priv_stream_push (s, e, wait, NULL, error);
}

/* ------------------------------------------------------------- queue */

START_TEST (test_queue_bound)
{
  g_autoptr (BangerPrivStream) s = banger_priv_stream_new (100);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) first = NULL;
  g_autoptr (JsonNode) big = event_new (0, BANGER_PRIV_EVENT_MAX);

  /* an empty queue takes one event whatever its size */
  ck_assert (push (s, 0, 200, FALSE, &error));
  ck_assert_uint_eq (banger_priv_stream_get_n_pushed (s), 1);
  /* full, no wait: the stream ends (overflowed) */
  ck_assert (!push (s, 1, 10, FALSE, &error));
  ck_assert (g_error_matches (error, BANGER_ERROR, BANGER_ERROR_LIMIT_EXCEEDED));
  g_clear_error (&error);
  ck_assert (banger_priv_stream_overflowed (s));
  ck_assert (banger_priv_stream_is_closed (s));
  ck_assert (!push (s, 2, 1, TRUE, &error));
  ck_assert (g_error_matches (error, BANGER_ERROR, BANGER_ERROR_CANCELLED));
  g_clear_error (&error);
  /* what was queued is still there for the consumer */
  first = banger_priv_stream_pop (s);
  ck_assert (first != NULL);
  ck_assert (banger_priv_stream_pop (s) == NULL);
  /* one event larger than a message carries */
  ck_assert (!banger_priv_stream_push (s, big, TRUE, NULL, &error));
  ck_assert (g_error_matches (error, BANGER_ERROR, BANGER_ERROR_LIMIT_EXCEEDED));
  g_clear_error (&error);
  /* no stream: nothing to push on */
  ck_assert (!push (NULL, 0, 1, TRUE, &error));
  ck_assert (g_error_matches (error, BANGER_ERROR, BANGER_ERROR_UNSUPPORTED));
}
END_TEST

typedef struct
{
  BangerPrivStream *s;
  GCancellable *cancellable;
  gint64 n;
  gint done; /* atomic: pushes completed */
  gboolean ok;
  int code;
} Producer;

static gpointer
producer_thread (gpointer data)
{
  Producer *p = data;

  for (gint64 i = 0; i < p->n; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (JsonNode) e = event_new (i, 100);
      if (!banger_priv_stream_push (p->s, e, TRUE, p->cancellable, &error))
        {
          p->ok = FALSE;
          p->code = error->code;
          return NULL;
        }
      g_atomic_int_inc (&p->done);
    }
  p->ok = TRUE;
  return NULL;
}

START_TEST (test_queue_waits)
{
  g_autoptr (BangerPrivStream) s = banger_priv_stream_new (1000);
  Producer p = { s, NULL, 50, 0, FALSE, 0 };
  GThread *t = g_thread_new ("producer", producer_thread, &p);
  gint64 got = 0;

  /* ~130 bytes an event: at most 8 fit, then the producer waits */
  g_usleep (200 * 1000);
  ck_assert_int_le (g_atomic_int_get (&p.done), 8);
  ck_assert_int_ge (g_atomic_int_get (&p.done), 1);
  while (got < 50)
    {
      g_autoptr (GBytes) e = banger_priv_stream_pop (s);
      if (e == NULL)
        {
          g_usleep (1000);
          continue;
        }
      {
        g_autofree char *want = g_strdup_printf ("{\"i\":%" G_GINT64_FORMAT ",", got);
        ck_assert (g_str_has_prefix (g_bytes_get_data (e, NULL), want));
      }
      banger_priv_stream_delivered (s, g_bytes_get_size (e));
      got++;
    }
  g_thread_join (t);
  ck_assert (p.ok);
}
END_TEST

START_TEST (test_queue_close_and_cancel_wake)
{
  g_autoptr (BangerPrivStream) s = banger_priv_stream_new (150);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  Producer p = { s, NULL, 10, 0, FALSE, 0 };
  Producer q;
  GThread *t = g_thread_new ("producer", producer_thread, &p);

  g_usleep (100 * 1000);
  ck_assert_int_eq (g_atomic_int_get (&p.done), 1); /* the second waits */
  banger_priv_stream_close (s);
  g_thread_join (t);
  ck_assert (!p.ok);
  ck_assert_int_eq (p.code, BANGER_ERROR_CANCELLED);

  /* a waiting producer's cancellable */
  g_clear_pointer (&s, banger_priv_stream_unref);
  s = banger_priv_stream_new (150);
  q = (Producer){ s, cancellable, 10, 0, FALSE, 0 };
  t = g_thread_new ("producer", producer_thread, &q);
  g_usleep (100 * 1000);
  ck_assert_int_eq (g_atomic_int_get (&q.done), 1);
  g_cancellable_cancel (cancellable);
  g_thread_join (t);
  ck_assert (!q.ok);
  ck_assert_int_eq (q.code, BANGER_ERROR_CANCELLED);
}
END_TEST

START_TEST (test_envelope)
{
  g_autoptr (GBytes) text = g_bytes_new_static ("{\"type\":\"x\"}", 12);
  g_autoptr (GBytes) msg = banger_priv_event_message (42, text);
  g_autoptr (JsonObject) event = NULL;
  g_autoptr (JsonObject) result = NULL;
  g_autoptr (GError) error = NULL;
  gsize len;
  const char *data = g_bytes_get_data (msg, &len);
  gint64 id = -5;

  /* NUL-terminated, like every message */
  ck_assert_int_eq (data[len - 1], '\0');
  ck_assert_str_eq (data, "{\"id\":42,\"event\":{\"type\":\"x\"}}");
  ck_assert (banger_priv_incoming_parse (data, len - 1, &id, &event, &result, &error));
  ck_assert_int_eq (id, 42);
  ck_assert (event != NULL && result == NULL);
  ck_assert_str_eq (json_object_get_string_member (event, "type"), "x");
  g_clear_pointer (&event, json_object_unref);
  /* a reply goes through the reply parser */
  {
    const char *r = "{\"id\":3,\"result\":{\"event\":1}}";
    ck_assert (banger_priv_incoming_parse (r, strlen (r), &id, &event, &result, &error));
  }
  ck_assert (event == NULL && result != NULL);
  ck_assert_int_eq (id, 3);
  /* an event with anything else is a protocol error */
  {
    const char *r = "{\"id\":3,\"event\":{},\"x\":1}";
    ck_assert (!banger_priv_incoming_parse (r, strlen (r), &id, &event, NULL, &error));
  }
  ck_assert (g_error_matches (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL));
  g_clear_error (&error);
  {
    const char *r = "{\"id\":3,\"event\":[]}";
    ck_assert (!banger_priv_incoming_parse (r, strlen (r), &id, &event, NULL, &error));
  }
  ck_assert (g_error_matches (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL));
}
END_TEST

/* ------------------------------------------------------------ server */

static gint pushed_count;     /* atomic: events test.push has queued */
static BangerPrivStream *kept; /* test.keep's stream */
static GMutex kept_lock;

static gboolean
op_push (BangerPrivState *state, const BangerPeerCred *caller, JsonObject *params,
         JsonBuilder *result, GCancellable *cancellable, GError **error)
{
  gint64 n = json_object_get_int_member (params, "n");
  gint64 pad = json_object_get_int_member (params, "pad");

  for (gint64 i = 0; i < n; i++)
    {
      g_autoptr (JsonNode) e = event_new (i, (gsize)pad);
      if (!banger_priv_stream_push (banger_priv_current_stream (), e, TRUE, cancellable, error))
        return FALSE;
      g_atomic_int_inc (&pushed_count);
    }
  json_builder_set_member_name (result, "pushed");
  json_builder_add_int_value (result, n);
  return TRUE;
}

static gboolean
op_keep (BangerPrivState *state, const BangerPeerCred *caller, JsonObject *params,
         JsonBuilder *result, GCancellable *cancellable, GError **error)
{
  BangerPrivStream *s = banger_priv_current_stream ();

  banger_priv_stream_keep (s);
  g_mutex_lock (&kept_lock);
  g_clear_pointer (&kept, banger_priv_stream_unref);
  kept = banger_priv_stream_ref (s);
  g_mutex_unlock (&kept_lock);
  return TRUE;
}

static const BangerParamSpec push_params[] = {
  { "n", BANGER_PARAM_INT, TRUE, 0, 100000, NULL },
  { "pad", BANGER_PARAM_INT, TRUE, 0, 60000, NULL },
  { NULL },
};
static const BangerParamSpec no_params[] = { { NULL } };
static const BangerPrivOp table[] = {
  { "test.push", push_params, op_push, BANGER_PRIV_OP_CONCURRENT | BANGER_PRIV_OP_WORKER },
  { "test.keep", no_params, op_keep, BANGER_PRIV_OP_CONCURRENT | BANGER_PRIV_OP_WORKER },
  { NULL, NULL, NULL, 0 },
};

typedef struct
{
  char *dir;
  char *path;
  BangerPrivState *state;
  GMainContext *context;
  GMainLoop *loop;
  GThread *thread;
  GMutex lock;
  GCond cond;
  gboolean ready;
} Fixture;

static Fixture fx;

static gpointer
server_thread (gpointer data)
{
  BangerPrivServerLimits limits = { 16, 5000, 60000 };
  g_autoptr (BangerPrivServer) server = NULL;
  g_autoptr (GError) error = NULL;

  g_main_context_push_thread_default (fx.context);
  server = banger_priv_server_new (table, fx.state, &limits);
  if (!banger_priv_server_listen_path (server, fx.path, getuid (), getgid (), &error))
    g_error ("listen: %s", error->message);
  banger_priv_server_start (server);
  g_mutex_lock (&fx.lock);
  fx.ready = TRUE;
  g_cond_signal (&fx.cond);
  g_mutex_unlock (&fx.lock);
  g_main_loop_run (fx.loop);
  banger_priv_server_stop (server);
  for (int i = 0; i < 100; i++)
    {
      while (g_main_context_iteration (fx.context, FALSE))
        ;
      g_usleep (1000);
    }
  g_main_context_pop_thread_default (fx.context);
  return NULL;
}

static void
start_server (void)
{
  g_autoptr (BangerInstallConfig) config = banger_install_config_new ();

  memset (&fx, 0, sizeof fx);
  fx.dir = g_dir_make_tmp ("banger-stream-XXXXXX", NULL);
  fx.path = g_build_filename (fx.dir, "s.sock", NULL);
  config->owner_uid = getuid () != 0 ? getuid () : 4242;
  config->owner_gid = getgid ();
  fx.state = banger_priv_state_new (config);
  fx.context = g_main_context_new ();
  fx.loop = g_main_loop_new (fx.context, FALSE);
  g_mutex_init (&fx.lock);
  g_cond_init (&fx.cond);
  fx.thread = g_thread_new ("server", server_thread, NULL);
  g_mutex_lock (&fx.lock);
  while (!fx.ready)
    g_cond_wait (&fx.cond, &fx.lock);
  g_mutex_unlock (&fx.lock);
}

static gboolean
quit_loop (gpointer data)
{
  g_main_loop_quit (fx.loop);
  return G_SOURCE_REMOVE;
}

static void
stop_server (void)
{
  g_main_context_invoke (fx.context, quit_loop, NULL);
  g_thread_join (fx.thread);
  g_main_loop_unref (fx.loop);
  g_main_context_unref (fx.context);
  banger_priv_state_free (fx.state);
  g_mutex_lock (&kept_lock);
  g_clear_pointer (&kept, banger_priv_stream_unref);
  g_mutex_unlock (&kept_lock);
  g_rmdir (fx.dir);
  g_free (fx.path);
  g_free (fx.dir);
}

/* The next message: an event's "i" (>= 0), or -1 for the reply (its
 * result in @out_result), -2 for anything else. */
static gint64
next_message (int fd, gint64 *out_id, JsonObject **out_result)
{
  g_autofree char *m = wire_read (fd);
  g_autoptr (JsonObject) event = NULL;
  g_autoptr (GError) error = NULL;

  if (m == NULL)
    return -2;
  if (!banger_priv_incoming_parse (m, strlen (m), out_id, &event, out_result, &error))
    return -2;
  return event != NULL ? json_object_get_int_member (event, "i") : -1;
}

START_TEST (test_server_events_before_reply)
{
  int fd;
  gint64 id = 0;
  g_autoptr (JsonObject) result = NULL;

  start_server ();
  g_atomic_int_set (&pushed_count, 0);
  fd = wire_connect (fx.path, 10000);
  ck_assert (fd >= 0);
  ck_assert (wire_send_str (fd, "{\"id\":9,\"method\":\"test.push\",\"params\":{\"n\":200,"
                                "\"pad\":8000}}"));
  /* not reading: the handler is held back (1.6 MB do not fit the queue and
   * the socket's buffers) */
  g_usleep (500 * 1000);
  ck_assert_int_lt (g_atomic_int_get (&pushed_count), 200);
  ck_assert_int_gt (g_atomic_int_get (&pushed_count), 0);
  for (gint64 i = 0; i < 200; i++)
    {
      gint64 got = next_message (fd, &id, NULL);
      ck_assert_int_eq (got, i);
      ck_assert_int_eq (id, 9);
    }
  ck_assert_int_eq (next_message (fd, &id, &result), -1);
  ck_assert_int_eq (id, 9);
  ck_assert_int_eq (json_object_get_int_member (result, "pushed"), 200);
  g_clear_pointer (&result, json_object_unref);
  /* the connection serves the next request as usual */
  ck_assert (wire_send_str (fd, "{\"id\":10,\"method\":\"test.push\",\"params\":{\"n\":0,"
                                "\"pad\":0}}"));
  ck_assert_int_eq (next_message (fd, &id, &result), -1);
  ck_assert_int_eq (id, 10);
  close (fd);
  stop_server ();
}
END_TEST

static BangerPrivStream *
take_kept (void)
{
  BangerPrivStream *s;
  g_mutex_lock (&kept_lock);
  s = kept ? banger_priv_stream_ref (kept) : NULL;
  g_mutex_unlock (&kept_lock);
  return s;
}

START_TEST (test_server_kept_stream)
{
  g_autoptr (BangerPrivStream) s = NULL;
  g_autoptr (GError) error = NULL;
  int fd;
  gint64 id = 0;
  gboolean refused = FALSE;

  start_server ();
  fd = wire_connect (fx.path, 10000);
  ck_assert (fd >= 0);
  ck_assert (wire_send_str (fd, "{\"id\":4,\"method\":\"test.keep\"}"));
  ck_assert_int_eq (next_message (fd, &id, NULL), -1);
  ck_assert_int_eq (id, 4);
  s = take_kept ();
  ck_assert (s != NULL);
  /* after the reply: events still come, with the request's id */
  ck_assert (push (s, 7, 10, FALSE, &error));
  ck_assert_int_eq (next_message (fd, &id, NULL), 7);
  ck_assert_int_eq (id, 4);
  /* the caller closes: pushes fail soon after */
  close (fd);
  for (int i = 0; i < 500 && !refused; i++)
    {
      refused = !push (s, 8, 10, FALSE, NULL);
      g_usleep (10 * 1000);
    }
  ck_assert (refused);
  ck_assert (banger_priv_stream_is_closed (s));
  stop_server ();
}
END_TEST

START_TEST (test_server_overflow_farewell)
{
  g_autoptr (BangerPrivStream) s = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *code = NULL;
  int fd;
  gint64 id = 0, last = -3;
  guint n = 0;

  start_server ();
  fd = wire_connect (fx.path, 10000);
  ck_assert (fd >= 0);
  ck_assert (wire_send_str (fd, "{\"id\":5,\"method\":\"test.keep\"}"));
  ck_assert_int_eq (next_message (fd, &id, NULL), -1);
  s = take_kept ();
  /* a subscriber that does not read: pushes never wait; the queue fills
   * and the stream ends */
  while (push (s, n, 4000, FALSE, &error))
    n++;
  ck_assert (g_error_matches (error, BANGER_ERROR, BANGER_ERROR_LIMIT_EXCEEDED));
  ck_assert (banger_priv_stream_overflowed (s));
  /* the caller gets what was written, then the farewell, then EOF */
  for (;;)
    {
      g_autofree char *m = wire_read (fd);
      ck_assert_msg (m != NULL, "no farewell before the end");
      if (strstr (m, "\"event\"") != NULL)
        continue;
      code = wire_reply_code (m, &last, NULL);
      break;
    }
  ck_assert_str_eq (code, "limit-exceeded");
  ck_assert_int_eq (last, -1);
  ck_assert (wire_wait_eof (fd, 5000));
  close (fd);
  stop_server ();
}
END_TEST

static Suite *
stream_suite (void)
{
  Suite *s = suite_create ("priv-stream");
  TCase *tc = tcase_create ("stream");

  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_queue_bound);
  tcase_add_test (tc, test_queue_waits);
  tcase_add_test (tc, test_queue_close_and_cancel_wake);
  tcase_add_test (tc, test_envelope);
  tcase_add_test (tc, test_server_events_before_reply);
  tcase_add_test (tc, test_server_kept_stream);
  tcase_add_test (tc, test_server_overflow_farewell);
  suite_add_tcase (s, tc);
  return s;
}

BANGER_TEST_MAIN (stream_suite)
