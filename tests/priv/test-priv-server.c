/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The protocol server in-process, unprivileged: a BangerPrivServer on a
 * socket in a temporary directory, served from its own thread, with the test
 * operation table.  Covers the limits (size, read deadline, slow senders,
 * idle connections, per-uid cap), ordering of pipelined requests, and the
 * client's typed errors.  The root-only cases (another uid, the real
 * bangerd-root binary) are in test-priv-helper.c. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger-test.h"
#include "banger-error.h"
#include "banger-priv-client.h"
#include "banger-priv-executor.h"
#include "banger-priv-framer.h"
#include "banger-priv-server.h"
#include "priv-test-ops.h"
#include "priv-test-wire.h"

typedef struct
{
  char *dir;
  char *path;
  BangerPrivServerLimits limits;
  BangerPrivState *state;
  BangerPrivServer *server;
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
  g_autoptr (GError) error = NULL;

  g_main_context_push_thread_default (fx.context);
  fx.server = banger_priv_server_new (priv_test_ops (), fx.state, &fx.limits);
  if (!banger_priv_server_listen_path (fx.server, fx.path, getuid (), getgid (), &error))
    g_error ("listen: %s", error->message);
  banger_priv_server_start (fx.server);
  g_mutex_lock (&fx.lock);
  fx.ready = TRUE;
  g_cond_signal (&fx.cond);
  g_mutex_unlock (&fx.lock);
  g_main_loop_run (fx.loop);
  banger_priv_server_stop (fx.server);
  /* Let the cancelled reads and writes of closed connections complete, so
   * every connection (and its reference on the server) is released. */
  for (int i = 0; i < 100; i++)
    {
      while (g_main_context_iteration (fx.context, FALSE))
        ;
      g_usleep (1000);
    }
  g_clear_object (&fx.server);
  g_main_context_pop_thread_default (fx.context);
  return NULL;
}

static void
start_server (guint cap, guint message_ms, guint idle_ms)
{
  g_autoptr (BangerInstallConfig) config = banger_install_config_new ();

  memset (&fx, 0, sizeof fx);
  fx.dir = g_dir_make_tmp ("banger-priv-XXXXXX", NULL);
  ck_assert (fx.dir != NULL);
  fx.path = g_build_filename (fx.dir, "root.sock", NULL);
  fx.limits = (BangerPrivServerLimits){ cap, message_ms, idle_ms };
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
  ck_assert_msg (access (fx.path, F_OK) < 0, "the socket was left behind");
  g_rmdir (fx.dir);
  g_free (fx.path);
  g_free (fx.dir);
}

/* One echo request on a fresh connection: proves the server still serves. */
static void
assert_serves (void)
{
  int fd = wire_connect (fx.path, 5000);
  g_autofree char *reply = NULL;
  g_autofree char *code = NULL;
  gint64 id;

  ck_assert_msg (fd >= 0, "connect: %s", g_strerror (errno));
  ck_assert (wire_send_str (fd, "{\"id\":99,\"method\":\"priv.echo\",\"params\":{\"name\":\"ok\"}}"));
  reply = wire_read (fd);
  code = wire_reply_code (reply, &id, NULL);
  ck_assert_str_eq (code, "ok");
  ck_assert_int_eq (id, 99);
  close (fd);
}

START_TEST (test_socket_mode)
{
  struct stat st;

  start_server (8, 2000, 10000);
  ck_assert (lstat (fx.path, &st) == 0);
  ck_assert (S_ISSOCK (st.st_mode));
  ck_assert_uint_eq (st.st_mode & 07777, 0600);
  ck_assert_uint_eq (st.st_uid, getuid ());
  stop_server ();
}
END_TEST

START_TEST (test_client_typed_errors)
{
  g_autoptr (BangerPrivClient) client = NULL;
  g_autoptr (JsonObject) params = json_object_new ();
  g_autoptr (JsonObject) result = NULL;
  g_autoptr (GError) error = NULL;

  start_server (8, 2000, 10000);
  client = banger_priv_client_new (fx.path);
  json_object_set_string_member (params, "name", "vm1");
  json_object_set_int_member (params, "count", 42);
  result = banger_priv_client_call_sync (client, "priv.echo", params, "op-7", NULL, &error);
  ck_assert_msg (result != NULL, "%s", error ? error->message : "");
  ck_assert_str_eq (json_object_get_string_member (result, "name"), "vm1");
  ck_assert_int_eq (json_object_get_int_member (result, "count"), 42);
  g_clear_pointer (&result, json_object_unref);

  for (int code = 0; code <= BANGER_ERROR_VMM; code++)
    {
      g_autoptr (JsonObject) p = json_object_new ();
      g_autoptr (GError) e = NULL;
      g_autoptr (JsonObject) r = NULL;

      json_object_set_int_member (p, "code", code);
      r = banger_priv_client_call_sync (client, "priv.fail", p, NULL, NULL, &e);
      ck_assert (r == NULL);
      banger_assert_error (e, code);
      ck_assert_str_eq (e->message, "failing on purpose");
    }
  result = banger_priv_client_call_sync (client, "priv.nope", NULL, NULL, NULL, &error);
  banger_assert_error (error, BANGER_ERROR_UNSUPPORTED);
  g_clear_error (&error);
  json_object_set_string_member (params, "name", "Not_A_Name");
  result = banger_priv_client_call_sync (client, "priv.echo", params, NULL, NULL, &error);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  stop_server ();

  /* No helper: a typed error too. */
  result = banger_priv_client_call_sync (client, "priv.echo", params, NULL, NULL, &error);
  ck_assert (result == NULL);
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
}
END_TEST

typedef struct
{
  GMainLoop *loop;
  int done;
  int order[8];
} AsyncState;

static void
on_async_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  AsyncState *st = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) r = banger_priv_client_call_finish (BANGER_PRIV_CLIENT (source), res,
                                                             &error);

  ck_assert_msg (r != NULL, "%s", error ? error->message : "");
  st->order[st->done++] = (int) json_object_get_int_member (r, "seq");
  if (st->done == 8)
    g_main_loop_quit (st->loop);
}

START_TEST (test_client_async_queue)
{
  g_autoptr (BangerPrivClient) client = NULL;
  AsyncState st = { 0 };

  start_server (8, 2000, 10000);
  client = banger_priv_client_new (fx.path);
  st.loop = g_main_loop_new (NULL, FALSE);
  for (int i = 0; i < 8; i++)
    {
      g_autoptr (JsonObject) p = json_object_new ();
      json_object_set_int_member (p, "ms", (8 - i) * 5);
      json_object_set_int_member (p, "seq", i);
      banger_priv_client_call_async (client, "priv.sleep", p, NULL, NULL, on_async_done, &st);
    }
  g_main_loop_run (st.loop);
  for (int i = 0; i < 8; i++)
    ck_assert_int_eq (st.order[i], i);
  g_main_loop_unref (st.loop);
  g_clear_object (&client);
  stop_server ();
}
END_TEST

START_TEST (test_pipelined_in_order)
{
  GString *batch = g_string_new (NULL);
  int fd;

  start_server (8, 2000, 10000);
  fd = wire_connect (fx.path, 10000);
  ck_assert (fd >= 0);
  /* 40 requests in one write; later ones are faster, and some fail: the
   * replies still come back one per request, in request order. */
  for (int i = 0; i < 40; i++)
    {
      if (i % 7 == 3)
        g_string_append_printf (batch, "{\"id\":%d,\"method\":\"priv.nope\"}", i);
      else
        g_string_append_printf (batch,
                                "{\"id\":%d,\"method\":\"priv.sleep\",\"params\":{\"ms\":%d,\"seq\":%d}}",
                                i, (40 - i) % 5, i);
      g_string_append_c (batch, '\0');
    }
  ck_assert (wire_send (fd, batch->str, batch->len));
  for (int i = 0; i < 40; i++)
    {
      g_autofree char *reply = wire_read (fd);
      g_autofree char *code = NULL;
      gint64 id;

      ck_assert_msg (reply != NULL, "reply %d missing", i);
      code = wire_reply_code (reply, &id, NULL);
      ck_assert_int_eq (id, i);
      ck_assert_str_eq (code, i % 7 == 3 ? "unsupported" : "ok");
    }
  close (fd);
  g_string_free (batch, TRUE);
  stop_server ();
}
END_TEST

static void
send_oversize (gsize size, gboolean with_nul, const char *expect_code)
{
  g_autofree char *msg = g_malloc (size + 1);
  const char *head = "{\"id\":1,\"method\":\"priv.echo\",\"params\":{\"name\":\"big\"}}";
  g_autofree char *reply = NULL;
  g_autofree char *code = NULL;
  gint before = g_atomic_int_get (&priv_test_calls);
  gint64 id;
  int fd = wire_connect (fx.path, 5000);

  ck_assert (fd >= 0);
  memset (msg, ' ', size);
  memcpy (msg, head, strlen (head));
  msg[size] = '\0';
  (void) wire_send (fd, msg, size + (with_nul ? 1 : 0));
  reply = wire_read (fd);
  code = wire_reply_code (reply, &id, NULL);
  ck_assert_str_eq (code, expect_code);
  if (g_str_equal (expect_code, "ok"))
    {
      ck_assert_int_eq (g_atomic_int_get (&priv_test_calls), before + 1);
      close (fd);
      return;
    }
  ck_assert_int_eq (id, -1);
  ck_assert_msg (wire_wait_eof (fd, 3000), "connection not closed");
  ck_assert_int_eq (g_atomic_int_get (&priv_test_calls), before);
  close (fd);
}

START_TEST (test_size_limit)
{
  start_server (8, 5000, 10000);
  send_oversize (BANGER_PRIV_MESSAGE_MAX, TRUE, "ok");
  send_oversize (BANGER_PRIV_MESSAGE_MAX + 1, TRUE, "limit-exceeded");
  send_oversize (BANGER_PRIV_MESSAGE_MAX + 1, FALSE, "limit-exceeded");
  send_oversize (4 * BANGER_PRIV_MESSAGE_MAX, FALSE, "limit-exceeded");
  assert_serves ();
  stop_server ();
}
END_TEST

START_TEST (test_message_deadline)
{
  int fd;
  gint64 t0;
  g_autofree char *reply = NULL;
  g_autofree char *code = NULL;
  gint64 id;

  start_server (8, 300, 60000);
  fd = wire_connect (fx.path, 5000);
  t0 = g_get_monotonic_time ();
  /* a message that never ends */
  ck_assert (wire_send (fd, "{\"id\":1,\"method\":\"priv.echo\"", 28));
  reply = wire_read (fd);
  code = wire_reply_code (reply, &id, NULL);
  ck_assert_str_eq (code, "timed-out");
  ck_assert (wire_wait_eof (fd, 3000));
  ck_assert_int_ge (g_get_monotonic_time () - t0, 250 * 1000);
  ck_assert_int_le (g_get_monotonic_time () - t0, 3000 * 1000);
  close (fd);
  assert_serves ();
  stop_server ();
}
END_TEST

START_TEST (test_slow_sender)
{
  const char *msg = "{\"id\":1,\"method\":\"priv.echo\",\"params\":{\"name\":\"slow\"}}";
  gint before;
  gboolean closed = FALSE;
  gint64 t0;
  int fd;

  start_server (8, 300, 60000);
  before = g_atomic_int_get (&priv_test_calls);
  fd = wire_connect (fx.path, 5000);
  t0 = g_get_monotonic_time ();
  /* One byte every 50 ms: each byte is on time, the message is not.  The
   * deadline runs from the first byte and is not reset by later ones. */
  for (gsize i = 0; i <= strlen (msg); i++)
    {
      if (!wire_send (fd, msg + i, 1))
        {
          closed = TRUE;
          break;
        }
      g_usleep (50 * 1000);
      if (g_get_monotonic_time () - t0 > 1500 * 1000)
        break;
    }
  ck_assert (closed || wire_wait_eof (fd, 100));
  ck_assert_int_le (g_get_monotonic_time () - t0, 1600 * 1000);
  ck_assert_int_eq (g_atomic_int_get (&priv_test_calls), before);
  close (fd);
  assert_serves ();
  stop_server ();
}
END_TEST

START_TEST (test_idle_timeout)
{
  int fd;
  gint64 t0;

  start_server (8, 5000, 300);
  fd = wire_connect (fx.path, 5000);
  t0 = g_get_monotonic_time ();
  ck_assert (wire_wait_eof (fd, 3000));
  ck_assert_int_ge (g_get_monotonic_time () - t0, 250 * 1000);
  close (fd);
  stop_server ();
}
END_TEST

START_TEST (test_per_uid_cap)
{
  int fds[4];
  int extra;
  g_autofree char *reply = NULL;
  g_autofree char *code = NULL;
  gint64 id;

  start_server (4, 5000, 60000);
  for (int i = 0; i < 4; i++)
    {
      g_autofree char *r = NULL;
      fds[i] = wire_connect (fx.path, 5000);
      ck_assert (fds[i] >= 0);
      ck_assert (wire_send_str (fds[i], "{\"id\":1,\"method\":\"priv.echo\",\"params\":{\"name\":\"a\"}}"));
      r = wire_read (fds[i]);
      ck_assert (r != NULL);
    }
  extra = wire_connect (fx.path, 5000);
  ck_assert (extra >= 0);
  reply = wire_read (extra);
  code = wire_reply_code (reply, &id, NULL);
  ck_assert_str_eq (code, "limit-exceeded");
  ck_assert (wire_wait_eof (extra, 3000));
  close (extra);
  /* closing one frees a slot */
  close (fds[0]);
  for (int tries = 0; tries < 50; tries++)
    {
      g_autofree char *r = NULL;
      g_autofree char *c = NULL;
      int fd = wire_connect (fx.path, 5000);
      ck_assert (wire_send_str (fd, "{\"id\":5,\"method\":\"priv.echo\",\"params\":{\"name\":\"a\"}}"));
      r = wire_read (fd);
      c = wire_reply_code (r, &id, NULL);
      close (fd);
      if (g_str_equal (c, "ok"))
        break;
      ck_assert_msg (tries < 49, "no slot freed: %s", c);
      g_usleep (20 * 1000);
    }
  for (int i = 1; i < 4; i++)
    close (fds[i]);
  stop_server ();
}
END_TEST

/* Malformed messages over the socket: fatal ones close the connection with
 * "id": null; per-method ones keep it. */
START_TEST (test_attacks_over_socket)
{
  struct
  {
    const char *msg;
    const char *code;
    gboolean closes;
  } t[] = {
    { "{\"id\":1,\"method\":\"priv.echo\",\"params\":{\"name\":\"a\",\"name\":\"b\"}}", "protocol", TRUE },
    { "{\"id\":1,\"id\":1,\"method\":\"priv.echo\",\"params\":{\"name\":\"a\"}}", "protocol", TRUE },
    { "{\"id\":1,\"method\":\"priv.echo\",\"params\":{\"name\":\"\xc3\x28\"}}", "protocol", TRUE },
    { "{\"id\":1,\"method\":\"priv.nope\",\"params\":{}}", "unsupported", FALSE },
    { "{\"id\":1,\"method\":\"priv.echo\",\"params\":{\"name\":\"a\",\"extra\":1}}", "invalid-argument", FALSE },
    { "{\"id\":1,\"method\":\"priv.echo\",\"params\":{\"name\":\"a\"}} trailing", "protocol", TRUE },
  };
  GString *deep = g_string_new ("{\"id\":1,\"method\":\"priv.echo\",\"params\":{\"name\":\"a\",\"x\":");

  start_server (8, 5000, 60000);
  for (int i = 0; i < 1000; i++)
    g_string_append_c (deep, '[');
  for (int i = 0; i < 1000; i++)
    g_string_append_c (deep, ']');
  g_string_append (deep, "}}");

  for (gsize i = 0; i <= G_N_ELEMENTS (t); i++)
    {
      const char *msg = i < G_N_ELEMENTS (t) ? t[i].msg : deep->str;
      const char *want = i < G_N_ELEMENTS (t) ? t[i].code : "limit-exceeded";
      gboolean closes = i < G_N_ELEMENTS (t) ? t[i].closes : TRUE;
      gint before = g_atomic_int_get (&priv_test_calls);
      int fd = wire_connect (fx.path, 5000);
      g_autofree char *reply = NULL;
      g_autofree char *code = NULL;
      gint64 id;

      ck_assert (wire_send_str (fd, msg));
      reply = wire_read (fd);
      code = wire_reply_code (reply, &id, NULL);
      ck_assert_msg (g_str_equal (code, want), "case %zu: got %s, want %s", i, code, want);
      ck_assert_int_eq (id, closes ? -1 : 1);
      ck_assert_int_eq (g_atomic_int_get (&priv_test_calls), before);
      if (closes)
        ck_assert_msg (wire_wait_eof (fd, 3000), "case %zu: not closed", i);
      else
        {
          g_autofree char *r2 = NULL;
          g_autofree char *c2 = NULL;
          ck_assert (wire_send_str (fd, "{\"id\":2,\"method\":\"priv.echo\",\"params\":{\"name\":\"a\"}}"));
          r2 = wire_read (fd);
          c2 = wire_reply_code (r2, &id, NULL);
          ck_assert_str_eq (c2, "ok");
          ck_assert_int_eq (id, 2);
        }
      close (fd);
    }
  g_string_free (deep, TRUE);
  assert_serves ();
  stop_server ();
}
END_TEST

START_TEST (test_stale_socket_and_busy_path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerPrivServer) second = NULL;
  g_autofree char *file = NULL;

  start_server (8, 5000, 60000);
  /* A second server on a live socket is refused... */
  second = banger_priv_server_new (priv_test_ops (), fx.state, &fx.limits);
  ck_assert (!banger_priv_server_listen_path (second, fx.path, getuid (), getgid (), &error));
  banger_assert_error (error, BANGER_ERROR_ALREADY_EXISTS);
  g_clear_error (&error);
  /* ...and so is a path that is not a socket. */
  file = g_build_filename (fx.dir, "file", NULL);
  ck_assert (g_file_set_contents (file, "x", 1, NULL));
  ck_assert (!banger_priv_server_listen_path (second, file, getuid (), getgid (), &error));
  banger_assert_error (error, BANGER_ERROR_ALREADY_EXISTS);
  ck_assert (g_file_test (file, G_FILE_TEST_IS_REGULAR));
  g_unlink (file);
  assert_serves ();
  stop_server ();
}
END_TEST

START_TEST (test_client_survives_idle_close)
{
  g_autoptr (BangerPrivClient) client = NULL;
  g_autoptr (JsonObject) p = json_object_new ();
  AsyncState st = { 0 };

  /* The async client keeps its connection between calls; the helper closes
   * it when idle (with a farewell "timed-out" message).  The next call must
   * notice and reconnect, not take the farewell for its reply. */
  start_server (8, 2000, 200);
  client = banger_priv_client_new (fx.path);
  st.loop = g_main_loop_new (NULL, FALSE);
  for (int round = 0; round < 2; round++)
    {
      for (int i = 0; i < 4; i++)
        {
          g_autoptr (JsonObject) q = json_object_new ();
          json_object_set_int_member (q, "ms", 1);
          json_object_set_int_member (q, "seq", round * 4 + i);
          banger_priv_client_call_async (client, "priv.sleep", q, NULL, NULL, on_async_done, &st);
        }
      if (round == 0)
        {
          /* run until the first four are done, then idle past the timeout */
          while (st.done < 4)
            g_main_context_iteration (NULL, TRUE);
          g_usleep (600 * 1000);
        }
    }
  g_main_loop_run (st.loop);
  for (int i = 0; i < 8; i++)
    ck_assert_int_eq (st.order[i], i);
  g_main_loop_unref (st.loop);
  g_clear_object (&client);
  stop_server ();
}
END_TEST

START_TEST (test_client_not_reading)
{
  const char *req = "{\"id\":1,\"method\":\"priv.echo\",\"params\":{\"name\":\"a\"}}";
  gsize len = strlen (req) + 1;
  gboolean refused = FALSE;
  gint64 t0;
  int fd;

  start_server (8, 300, 60000);
  fd = wire_connect (fx.path, 5000);
  t0 = g_get_monotonic_time ();
  /* Pipeline requests and never read a reply: once the replies fill the
   * socket, the server's write deadline closes the connection. */
  while (g_get_monotonic_time () - t0 < 5000 * 1000)
    {
      ssize_t n = send (fd, req, len, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
        {
          refused = TRUE;
          break;
        }
      if (n < 0)
        g_usleep (5 * 1000);
    }
  ck_assert_msg (refused, "the server kept a connection that never reads");
  close (fd);
  assert_serves ();
  stop_server ();
}
END_TEST

START_TEST (test_out_of_descriptors)
{
  struct rlimit rl;
  int report[2];
  pid_t pid;
  int status;
  char c;

  start_server (1000, 2000, 300);
  ck_assert (getrlimit (RLIMIT_NOFILE, &rl) == 0);
  ck_assert (pipe2 (report, O_CLOEXEC) == 0);
  pid = fork ();
  ck_assert (pid >= 0);
  if (pid == 0)
    {
      /* 300 connections at once: more than the server has descriptors. */
      int fds[300];
      for (int i = 0; i < 300; i++)
        fds[i] = wire_connect (fx.path, 2000);
      (void) write (report[1], "x", 1);
      g_usleep (1000 * 1000);
      for (int i = 0; i < 300; i++)
        if (fds[i] >= 0)
          close (fds[i]);
      _exit (0);
    }
  close (report[1]);
  {
    /* The server process (this one) may only have 64 descriptors. */
    struct rlimit low = { 64, rl.rlim_max };
    ck_assert (setrlimit (RLIMIT_NOFILE, &low) == 0);
  }
  ck_assert (read (report[0], &c, 1) == 1);
  ck_assert (waitpid (pid, &status, 0) == pid);
  close (report[0]);
  ck_assert (setrlimit (RLIMIT_NOFILE, &rl) == 0);
  /* It backed off instead of spinning or dying, and serves again. */
  for (int tries = 0;; tries++)
    {
      int fd = wire_connect (fx.path, 2000);
      g_autofree char *reply = NULL;
      g_autofree char *code = NULL;
      gint64 id;

      if (fd >= 0 && wire_send_str (fd, "{\"id\":3,\"method\":\"priv.echo\",\"params\":{\"name\":\"a\"}}"))
        {
          reply = wire_read (fd);
          code = wire_reply_code (reply, &id, NULL);
        }
      if (fd >= 0)
        close (fd);
      if (code != NULL && g_str_equal (code, "ok"))
        break;
      ck_assert_msg (tries < 100, "the server did not recover");
      g_usleep (50 * 1000);
    }
  stop_server ();
}
END_TEST

/* ------------------------------------------------- a lying fake helper
 * The client must not trust the helper's bytes either: a fake server on a
 * raw socket answers each request with a canned reply. */

typedef struct
{
  char *path;
  const char *reply; /* sent after reading one request; "%ID%" = the request's id */
  gsize reply_len;   /* 0: strlen + NUL */
  int lfd;
} Fake;

static gpointer
fake_thread (gpointer data)
{
  Fake *f = data;
  int fd = accept4 (f->lfd, NULL, NULL, SOCK_CLOEXEC);
  g_autofree char *req = NULL;

  if (fd < 0)
    return NULL;
  req = wire_read (fd);
  if (req != NULL)
    {
      g_autoptr (JsonParser) parser = json_parser_new ();
      gint64 id = -1;
      g_autofree char *idstr = NULL;
      g_auto (GStrv) parts = NULL;
      g_autofree char *out = NULL;

      if (json_parser_load_from_data (parser, req, -1, NULL))
        id = json_object_get_int_member (json_node_get_object (json_parser_get_root (parser)), "id");
      idstr = g_strdup_printf ("%" G_GINT64_FORMAT, id);
      parts = g_strsplit (f->reply, "%ID%", -1);
      out = g_strjoinv (idstr, parts);
      (void) wire_send (fd, out, f->reply_len ? f->reply_len : strlen (out) + 1);
    }
  g_usleep (200 * 1000);
  close (fd);
  return NULL;
}

static GError *
call_fake (const char *reply, gsize reply_len)
{
  g_autofree char *dir = g_dir_make_tmp ("banger-fake-XXXXXX", NULL);
  Fake f = { g_build_filename (dir, "fake.sock", NULL), reply, reply_len, -1 };
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  g_autoptr (BangerPrivClient) client = NULL;
  g_autoptr (JsonObject) result = NULL;
  GError *error = NULL;
  GThread *t;

  f.lfd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_strlcpy (sa.sun_path, f.path, sizeof sa.sun_path);
  ck_assert (bind (f.lfd, (struct sockaddr *) &sa, sizeof sa) == 0 && listen (f.lfd, 4) == 0);
  t = g_thread_new ("fake", fake_thread, &f);
  client = banger_priv_client_new (f.path);
  result = banger_priv_client_call_sync (client, "priv.echo", NULL, NULL, NULL, &error);
  g_thread_join (t);
  close (f.lfd);
  g_unlink (f.path);
  g_rmdir (dir);
  g_free (f.path);
  if (result != NULL)
    {
      ck_assert (error == NULL);
      return NULL;
    }
  ck_assert (error != NULL);
  return error;
}

START_TEST (test_client_distrusts_replies)
{
  struct
  {
    const char *name;
    const char *reply;
    int code; /* -1: success */
  } t[] = {
    { "good", "{\"id\":%ID%,\"result\":{}}", -1 },
    { "typed error", "{\"id\":%ID%,\"error\":{\"code\":\"busy\",\"message\":\"m\"}}", BANGER_ERROR_BUSY },
    { "unknown error name", "{\"id\":%ID%,\"error\":{\"code\":\"from-the-future\",\"message\":\"m\"}}", BANGER_ERROR_FAILED },
    { "null id error", "{\"id\":null,\"error\":{\"code\":\"protocol\",\"message\":\"m\"}}", BANGER_ERROR_PROTOCOL },
    { "wrong id", "{\"id\":12345,\"result\":{}}", BANGER_ERROR_PROTOCOL },
    { "wrong id on an error", "{\"id\":12345,\"error\":{\"code\":\"busy\",\"message\":\"m\"}}", BANGER_ERROR_PROTOCOL },
    { "both result and error", "{\"id\":%ID%,\"result\":{},\"error\":{\"code\":\"busy\",\"message\":\"m\"}}", BANGER_ERROR_PROTOCOL },
    { "neither", "{\"id\":%ID%}", BANGER_ERROR_PROTOCOL },
    { "result not an object", "{\"id\":%ID%,\"result\":[1]}", BANGER_ERROR_PROTOCOL },
    { "duplicate key", "{\"id\":%ID%,\"result\":{},\"result\":{}}", BANGER_ERROR_PROTOCOL },
    { "extra key", "{\"id\":%ID%,\"result\":{},\"uid\":0}", BANGER_ERROR_PROTOCOL },
    { "error without message", "{\"id\":%ID%,\"error\":{\"code\":\"busy\"}}", BANGER_ERROR_PROTOCOL },
    { "not JSON", "HTTP/1.1 200 OK", BANGER_ERROR_PROTOCOL },
    { "bad UTF-8", "{\"id\":%ID%,\"result\":{\"a\":\"\xff\"}}", BANGER_ERROR_PROTOCOL },
    { "deep", "{\"id\":%ID%,\"result\":{\"a\":[[[[[[[[1]]]]]]]]}}", BANGER_ERROR_LIMIT_EXCEEDED },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (t); i++)
    {
      g_autoptr (GError) error = call_fake (t[i].reply, 0);
      if (t[i].code < 0)
        ck_assert_msg (error == NULL, "%s: %s", t[i].name, error ? error->message : "");
      else
        {
          ck_assert_msg (error != NULL, "%s: accepted", t[i].name);
          ck_assert_msg (error->domain == BANGER_ERROR && error->code == t[i].code,
                         "%s: got %s: %s", t[i].name, banger_error_to_name (error->code),
                         error->message);
        }
    }
}
END_TEST

START_TEST (test_client_bounded_reply)
{
  /* A reply that never ends with a NUL: the client stops at 64 KiB + 1. */
  gsize n = 4 * BANGER_PRIV_MESSAGE_MAX;
  g_autofree char *endless = g_malloc (n + 1);
  g_autoptr (GError) error = NULL;

  memset (endless, ' ', n);
  endless[n] = '\0';
  error = call_fake (endless, n);
  banger_assert_error (error, BANGER_ERROR_LIMIT_EXCEEDED);
  g_clear_error (&error);
  /* EOF without a reply */
  error = call_fake ("", 1);
  banger_assert_error (error, BANGER_ERROR_PROTOCOL);
}
END_TEST

START_TEST (test_client_cancelled)
{
  g_autoptr (BangerPrivClient) client = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (JsonObject) p = json_object_new ();
  g_autoptr (JsonObject) r = NULL;
  g_autoptr (GError) error = NULL;

  start_server (8, 2000, 10000);
  client = banger_priv_client_new (fx.path);
  g_cancellable_cancel (cancellable);
  json_object_set_int_member (p, "ms", 10);
  r = banger_priv_client_call_sync (client, "priv.sleep", p, NULL, cancellable, &error);
  ck_assert (r == NULL);
  banger_assert_error (error, BANGER_ERROR_CANCELLED);
  g_clear_error (&error);
  /* the client recovers on the next call */
  r = banger_priv_client_call_sync (client, "priv.sleep", p, NULL, NULL, &error);
  ck_assert_msg (r != NULL, "%s", error ? error->message : "");
  g_clear_object (&client);
  stop_server ();
}
END_TEST

static Suite *
server_suite (void)
{
  Suite *s = suite_create ("priv-server");
  TCase *tc = tcase_create ("server");

  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_socket_mode);
  tcase_add_test (tc, test_client_typed_errors);
  tcase_add_test (tc, test_client_async_queue);
  tcase_add_test (tc, test_pipelined_in_order);
  tcase_add_test (tc, test_size_limit);
  tcase_add_test (tc, test_message_deadline);
  tcase_add_test (tc, test_slow_sender);
  tcase_add_test (tc, test_idle_timeout);
  tcase_add_test (tc, test_per_uid_cap);
  tcase_add_test (tc, test_attacks_over_socket);
  tcase_add_test (tc, test_stale_socket_and_busy_path);
  tcase_add_test (tc, test_client_survives_idle_close);
  tcase_add_test (tc, test_client_not_reading);
  tcase_add_test (tc, test_out_of_descriptors);
  tcase_add_test (tc, test_client_distrusts_replies);
  tcase_add_test (tc, test_client_bounded_reply);
  tcase_add_test (tc, test_client_cancelled);
  suite_add_tcase (s, tc);
  return s;
}

BANGER_TEST_MAIN (server_suite)
