/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * banger_guest_wait_ssh() against an in-process libssh server on 127.0.0.1
 * inside a network namespace the test makes (root), with nftables rules in
 * it standing for a guest whose network is not up yet:
 *
 *   - SYNs to the server dropped, then let through ("the guest's network
 *     comes up"): with the resend interval (250 ms) the server accepts
 *     within a fraction of a second of the lift; with it off (0) only at
 *     the kernel's next SYN retransmit (1 s, 3 s, 7 s… after the first:
 *     the namespace's tcp_syn_linear_timeouts is set to 0 where it exists),
 *     a second later — what the wait did before;
 *   - the first SYN-ACK of every connection dropped (an answer slower than
 *     the resend interval): still reached, because earlier connects stay
 *     open rather than being thrown away at each resend;
 *   - a wait that cannot succeed ends at its deadline or at cancellation,
 *     promptly, and leaves no descriptor behind. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "banger-error.h"
#include "banger-guest-key.h"
#include "banger-guest-ssh.h"
#include "banger-guest-wait.h"
#include "guest-access-test.h"
#include "ssh-test-server.h"

#define SYN_LINEAR "/proc/sys/net/ipv4/tcp_syn_linear_timeouts"

static char *tmpdir;
static BangerGuestKey *key;

/* -------------------------------------------------------------- netns */

static void
nft_apply (const char *ruleset)
{
  g_autofree char *path = g_build_filename (tmpdir, "rules.nft", NULL);
  const char *argv[] = { "nft", "-f", path, NULL };

  ck_assert (g_file_set_contents (path, ruleset, -1, NULL));
  ck_assert_msg (ga_run (argv, NULL, NULL), "nft -f failed:\n%s", ruleset);
}

static void
nft_lift (void)
{
  const char *argv[] = { "nft", "delete", "table", "inet", "bangerwait", NULL };
  ck_assert (ga_run (argv, NULL, NULL));
}

/* SYNs to @port dropped on arrival (silently: the sender sees nothing) */
static void
drop_syns (guint16 port)
{
  g_autofree char *rules = g_strdup_printf (
      "table inet bangerwait {\n"
      "  chain in {\n"
      "    type filter hook input priority 0; policy accept;\n"
      "    tcp dport %u tcp flags & (syn|ack) == syn drop\n"
      "  }\n"
      "}\n",
      port);
  nft_apply (rules);
}

/* The first SYN-ACK from @port to each client port dropped: every
 * connection is answered only by the server's SYN-ACK retransmit, ≈ 1 s
 * after its SYN (longer than the resend interval). */
static void
drop_first_syn_acks (guint16 port)
{
  g_autofree char *rules = g_strdup_printf (
      "table inet bangerwait {\n"
      "  set seen { type inet_service; }\n"
      "  chain in {\n"
      "    type filter hook input priority 0; policy accept;\n"
      "    tcp sport %u tcp flags & (syn|ack) == syn|ack tcp dport @seen accept\n"
      "    tcp sport %u tcp flags & (syn|ack) == syn|ack add @seen { tcp dport } drop\n"
      "  }\n"
      "}\n",
      port, port);
  nft_apply (rules);
}

/* ------------------------------------------------------------- server */

typedef struct
{
  int listen_fd;
  int stop[2];
  guint16 port;
  gint64 first_accept_us; /* 0 until a connection is accepted */
  guint authed;
  GThread *thread;
} Server;

/* Accepts and serves connections one after the other until stopped: a
 * connection the client gave up on fails at once and the next is served. */
static gpointer
server_thread (gpointer data)
{
  Server *srv = data;

  for (;;)
    {
      struct pollfd pfd[2] = { { srv->listen_fd, POLLIN, 0 }, { srv->stop[0], POLLIN, 0 } };
      int fd;

      if (poll (pfd, 2, -1) < 0 && errno != EINTR)
        break;
      if (pfd[1].revents != 0)
        break;
      if (pfd[0].revents == 0)
        continue;
      fd = accept4 (srv->listen_fd, NULL, NULL, SOCK_CLOEXEC);
      if (fd < 0)
        continue;
      if (srv->first_accept_us == 0)
        srv->first_accept_us = g_get_monotonic_time ();
      if (ssh_test_serve_fd (fd))
        g_atomic_int_inc (&srv->authed);
    }
  return NULL;
}

static void
server_start (Server *srv)
{
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t len = sizeof a;

  memset (srv, 0, sizeof *srv);
  srv->listen_fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ck_assert (srv->listen_fd >= 0);
  ck_assert (bind (srv->listen_fd, (struct sockaddr *) &a, sizeof a) == 0);
  ck_assert (listen (srv->listen_fd, 16) == 0);
  ck_assert (getsockname (srv->listen_fd, (struct sockaddr *) &a, &len) == 0);
  srv->port = ntohs (a.sin_port);
  ck_assert (pipe2 (srv->stop, O_CLOEXEC) == 0);
  srv->thread = g_thread_new ("wait-server", server_thread, srv);
}

static void
server_stop (Server *srv)
{
  ck_assert (write (srv->stop[1], "x", 1) == 1);
  g_thread_join (srv->thread);
  close (srv->stop[0]);
  close (srv->stop[1]);
  close (srv->listen_fd);
}

/* --------------------------------------------------------------- wait */

typedef struct
{
  BangerGuestEndpoint *ep;
  guint timeout_ms;
  GCancellable *cancellable;
  gboolean ok;
  guint attempts;
  guint connects;
  GError *error;
  gint64 end_us;
} Wait;

static gpointer
wait_thread (gpointer data)
{
  Wait *w = data;

  w->ok = banger_guest_wait_ssh_counted (w->ep, w->timeout_ms, &w->attempts, &w->connects,
                                         w->cancellable, &w->error);
  w->end_us = g_get_monotonic_time ();
  return NULL;
}

static BangerGuestEndpoint *
endpoint (guint16 port, guint resend_ms)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *kh = g_build_filename (tmpdir, "known_hosts", NULL);
  BangerGuestEndpoint *ep = banger_guest_endpoint_new ("127.0.0.1", port, key, kh, &error);

  ck_assert_msg (ep != NULL, "%s", error ? error->message : "?");
  banger_guest_endpoint_set_wait_resend (ep, resend_ms);
  return ep;
}

static guint
count_fds (void)
{
  DIR *d = opendir ("/proc/self/fd");
  struct dirent *e;
  guint n = 0;

  ck_assert (d != NULL);
  while ((e = readdir (d)) != NULL)
    if (e->d_name[0] != '.')
      n++;
  closedir (d);
  return n - 1; /* the DIR's own */
}

/* SYNs dropped for 2 s after the wait starts (its first SYN, sent within
 * the first second, is retransmitted by the kernel 1 s and 3 s later),
 * then let through.  Returns how long after the lift the server accepted,
 * in ms; *out_connects the wait's TCP connects. */
static double
wait_through_blackhole (guint resend_ms, guint *out_connects)
{
  Server srv;
  g_autoptr (BangerGuestEndpoint) ep = NULL;
  Wait w = { 0 };
  GThread *t;
  gint64 lift_us, t0;

  server_start (&srv);
  ep = endpoint (srv.port, resend_ms);
  drop_syns (srv.port);
  w.ep = ep;
  w.timeout_ms = 20000;
  t0 = g_get_monotonic_time ();
  t = g_thread_new ("wait", wait_thread, &w);
  g_usleep (2000 * 1000);
  nft_lift ();
  lift_us = g_get_monotonic_time ();
  g_thread_join (t);
  server_stop (&srv);
  ck_assert_msg (w.ok, "the wait failed: %s", w.error ? w.error->message : "?");
  ck_assert_uint_ge (srv.authed, 1);
  ck_assert (srv.first_accept_us > 0);
  *out_connects = w.connects;
  g_print ("# resend %u ms: lifted at %.0f ms, accepted %.0f ms after the lift, %u attempts, "
           "%u connects\n",
           resend_ms, (lift_us - t0) / 1000.0, (srv.first_accept_us - lift_us) / 1000.0,
           w.attempts, w.connects);
  /* nothing but lost SYNs before the lift: one login attempt */
  ck_assert_uint_eq (w.attempts, 1);
  return (srv.first_accept_us - lift_us) / 1000.0;
}

/* ----------------------------------------------------------------- tests */

static void
setup (void)
{
  g_autoptr (GError) error = NULL;
  const char *lo[] = { "ip", "link", "set", "lo", "up", NULL };

  ck_assert_msg (unshare (CLONE_NEWNET) == 0, "unshare: %s", g_strerror (errno));
  ck_assert (ga_run (lo, NULL, NULL));
  /* the classic SYN schedule in this namespace: retransmits 1, 3, 7 s…
   * after the first (kernels from 6.5 retransmit the first ones 1 s apart
   * by default, tcp_syn_linear_timeouts=4); where the knob is absent, that
   * is already the schedule */
  if (g_file_test (SYN_LINEAR, G_FILE_TEST_EXISTS))
    {
      int fd = open (SYN_LINEAR, O_WRONLY | O_CLOEXEC);
      ck_assert_msg (fd >= 0 && write (fd, "0\n", 2) == 2, "%s: %s", SYN_LINEAR,
                     g_strerror (errno));
      close (fd);
    }
  tmpdir = g_dir_make_tmp ("banger-wait-XXXXXX", NULL);
  ck_assert (tmpdir != NULL);
  key = banger_guest_key_load_or_create (tmpdir, NULL, &error);
  ck_assert_msg (key != NULL, "%s", error ? error->message : "?");
}

static void
teardown (void)
{
  g_clear_pointer (&key, banger_guest_key_unref);
  ga_rm_rf (tmpdir);
  g_clear_pointer (&tmpdir, g_free);
}

/* The default: a fresh connect every 250 ms, so the lift is seen within
 * one interval (plus scheduling on a loaded machine). */
START_TEST (test_resend_reaches_soon_after_lift)
{
  guint connects = 0;
  double ms = wait_through_blackhole (BANGER_GUEST_SSH_DEFAULT_WAIT_RESEND_MS, &connects);

  ck_assert_msg (ms < 700, "accepted %.0f ms after the lift", ms);
  /* 2 s at one connect per 250 ms */
  ck_assert_uint_ge (connects, 5);
}
END_TEST

/* Resending off (the wait before): one connect, retried by the kernel
 * only; the lift is seen at the retransmit 3 s after the first SYN. */
START_TEST (test_without_resend_waits_for_retransmit)
{
  guint connects = 0;
  double ms = wait_through_blackhole (0, &connects);

  ck_assert_msg (ms >= 800, "accepted only %.0f ms after the lift", ms);
  ck_assert_uint_eq (connects, 1);
}
END_TEST

/* Every connection answered ≈ 1 s after its SYN, 4 resend intervals:
 * a wait that closed each connect at the next resend would never get in. */
START_TEST (test_slow_answer_kept)
{
  Server srv;
  g_autoptr (BangerGuestEndpoint) ep = NULL;
  g_autoptr (GError) error = NULL;
  guint attempts = 0, connects = 0;
  gint64 t0;
  gboolean ok;

  server_start (&srv);
  ep = endpoint (srv.port, BANGER_GUEST_SSH_DEFAULT_WAIT_RESEND_MS);
  drop_first_syn_acks (srv.port);
  t0 = g_get_monotonic_time ();
  ok = banger_guest_wait_ssh_counted (ep, 15000, &attempts, &connects, NULL, &error);
  server_stop (&srv);
  ck_assert_msg (ok, "%s", error ? error->message : "?");
  g_print ("# slow answers: in after %.0f ms, %u attempts, %u connects\n",
           (g_get_monotonic_time () - t0) / 1000.0, attempts, connects);
  ck_assert_uint_ge (srv.authed, 1);
  /* the first connection's answer came ≈ 1 s after its SYN, in the first
   * attempt */
  ck_assert_uint_eq (attempts, 1);
  ck_assert_uint_ge (connects, 2);
}
END_TEST

/* No answer at all: the wait ends at its deadline (TIMED_OUT), or at once
 * when cancelled (CANCELLED), and the connects in flight are all closed. */
START_TEST (test_bounded_and_clean)
{
  Server srv;
  g_autoptr (BangerGuestEndpoint) ep = NULL;
  guint before;

  server_start (&srv);
  ep = endpoint (srv.port, BANGER_GUEST_SSH_DEFAULT_WAIT_RESEND_MS);
  drop_syns (srv.port);
  before = count_fds ();
  {
    g_autoptr (GError) error = NULL;
    guint attempts = 0, connects = 0;
    gint64 t0 = g_get_monotonic_time ();
    gboolean ok = banger_guest_wait_ssh_counted (ep, 1200, &attempts, &connects, NULL, &error);
    double ms = (g_get_monotonic_time () - t0) / 1000.0;

    ck_assert (!ok);
    banger_assert_error (error, BANGER_ERROR_TIMED_OUT);
    ck_assert_msg (ms >= 1200 && ms < 1700, "ended after %.0f ms", ms);
    ck_assert_uint_eq (attempts, 1);
    ck_assert_uint_ge (connects, 4);
    ck_assert_uint_eq (count_fds (), before);
  }
  {
    g_autoptr (GCancellable) cancel = g_cancellable_new ();
    Wait w = { 0 };
    GThread *t;
    gint64 cancelled_us;

    w.ep = ep;
    w.timeout_ms = 20000;
    w.cancellable = cancel;
    t = g_thread_new ("wait", wait_thread, &w);
    g_usleep (600 * 1000);
    cancelled_us = g_get_monotonic_time ();
    g_cancellable_cancel (cancel);
    g_thread_join (t);
    ck_assert (!w.ok);
    banger_assert_error (w.error, BANGER_ERROR_CANCELLED);
    ck_assert_msg (w.end_us - cancelled_us < 300 * 1000, "ended %.0f ms after the cancel",
                   (w.end_us - cancelled_us) / 1000.0);
    g_clear_error (&w.error);
  }
  ck_assert_uint_eq (count_fds (), before);
  server_stop (&srv);
  ck_assert_uint_eq (srv.authed, 0);
}
END_TEST

static Suite *
wait_suite (void)
{
  Suite *s = suite_create ("guest-wait");
  TCase *tc = tcase_create ("wait");

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_resend_reaches_soon_after_lift);
  tcase_add_test (tc, test_without_resend_waits_for_retransmit);
  tcase_add_test (tc, test_slow_answer_kept);
  tcase_add_test (tc, test_bounded_and_clean);
  suite_add_tcase (s, tc);
  return s;
}

BANGER_TEST_MAIN_ROOT (wait_suite, "a network namespace and nftables rules in it")
