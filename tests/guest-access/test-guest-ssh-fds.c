/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * banger_guest_ssh_open()/close() against an in-process libssh server on
 * 127.0.0.1 (no guest, no root): the descriptors a session uses are all
 * released, whether the session succeeds (libssh 0.10 leaves the dup given
 * with SSH_OPTIONS_FD to us) or the peer hangs up during the handshake
 * (libssh closes that dup itself, and we must not close its number again). */
#include "config.h"

#include <dirent.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "banger-error.h"
#include "banger-guest-key.h"
#include "banger-guest-ssh.h"
#include "guest-access-test.h"
#include "ssh-test-server.h"

typedef enum
{
  SERVE_LOGIN,  /* key exchange, any public key accepted, until the client leaves */
  SERVE_HANG_UP /* accept, then close at once (EOF before the banner) */
} ServeMode;

typedef struct
{
  int listen_fd;
  ServeMode mode;
  gboolean authed;
} Server;

static char *tmpdir;
static BangerGuestKey *key;

static void
setup (void)
{
  g_autoptr (GError) error = NULL;

  tmpdir = g_dir_make_tmp ("banger-ssh-fds-XXXXXX", NULL);
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

static int
listen_loopback (guint16 *out_port)
{
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t len = sizeof a;
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  ck_assert (fd >= 0);
  ck_assert (bind (fd, (struct sockaddr *) &a, sizeof a) == 0);
  ck_assert (listen (fd, 4) == 0);
  ck_assert (getsockname (fd, (struct sockaddr *) &a, &len) == 0);
  *out_port = ntohs (a.sin_port);
  return fd;
}

static gpointer
serve_one (gpointer data)
{
  Server *srv = data;
  int fd = accept4 (srv->listen_fd, NULL, NULL, SOCK_CLOEXEC);

  if (fd < 0)
    return NULL;
  if (srv->mode == SERVE_HANG_UP)
    {
      close (fd);
      return NULL;
    }
  srv->authed = ssh_test_serve_fd (fd);
  return NULL;
}

static gpointer
serve_fd_thread (gpointer data)
{
  return GINT_TO_POINTER (ssh_test_serve_fd (GPOINTER_TO_INT (data)));
}

static BangerGuestEndpoint *
endpoint (guint16 port)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *kh = g_build_filename (tmpdir, "known_hosts", NULL);
  BangerGuestEndpoint *ep = banger_guest_endpoint_new ("127.0.0.1", port, key, kh, &error);

  ck_assert_msg (ep != NULL, "%s", error ? error->message : "?");
  banger_guest_endpoint_set_connect_timeout (ep, 10000);
  return ep;
}

START_TEST (test_session_releases_its_descriptors)
{
  g_autoptr (GError) error = NULL;
  Server srv = { -1, SERVE_LOGIN, FALSE };
  guint16 port = 0;
  guint before, after;
  GThread *thread;

  srv.listen_fd = listen_loopback (&port);
  {
    g_autoptr (BangerGuestEndpoint) ep = endpoint (port);
    BangerGuestSsh *ssh;

    before = count_fds ();
    thread = g_thread_new ("ssh-fds-server", serve_one, &srv);
    ssh = banger_guest_ssh_open (ep, 0, NULL, &error);
    ck_assert_msg (ssh != NULL, "%s", error ? error->message : "?");
    banger_guest_ssh_close (ssh);
    g_thread_join (thread); /* the server's end is closed too */
    after = count_fds ();
  }
  close (srv.listen_fd);
  ck_assert (srv.authed);
  ck_assert_uint_eq (after, before);
}
END_TEST

/* The peer hangs up before its banner: libssh closes the dup itself; close
 * must then neither leak nor close that number a second time. */
START_TEST (test_hang_up_releases_its_descriptors)
{
  g_autoptr (GError) error = NULL;
  Server srv = { -1, SERVE_HANG_UP, FALSE };
  guint16 port = 0;
  guint before, after;
  GThread *thread;

  srv.listen_fd = listen_loopback (&port);
  {
    g_autoptr (BangerGuestEndpoint) ep = endpoint (port);
    BangerGuestSsh *ssh;

    before = count_fds ();
    thread = g_thread_new ("ssh-fds-server", serve_one, &srv);
    ssh = banger_guest_ssh_open (ep, 0, NULL, &error);
    g_thread_join (thread);
    ck_assert (ssh == NULL);
    ck_assert_msg (g_error_matches (error, BANGER_ERROR, BANGER_ERROR_FAILED), "%s",
                   error ? error->message : "no error");
    after = count_fds ();
  }
  close (srv.listen_fd);
  ck_assert_uint_eq (after, before);
}
END_TEST

/* Sessions in several threads at once, sharing the endpoint and the install
 * key (as the engine's creates, execs and SSH waits do), each served by a
 * server thread of its own; the threads end (a corrupted heap shows when a
 * thread exits) and no descriptor is left. */
#define N_CLIENTS 4
#define N_ROUNDS 8

static gpointer
client_thread (gpointer data)
{
  BangerGuestEndpoint *ep = data;
  guint ok = 0;

  for (guint i = 0; i < N_ROUNDS; i++)
    {
      g_autoptr (GError) error = NULL;
      BangerGuestSsh *ssh = banger_guest_ssh_open (ep, 0, NULL, &error);
      if (ssh == NULL)
        {
          g_printerr ("# session %u: %s\n", i, error->message);
          continue;
        }
      banger_guest_ssh_close (ssh);
      ok++;
    }
  return GUINT_TO_POINTER (ok);
}

START_TEST (test_concurrent_sessions)
{
  g_autoptr (BangerGuestEndpoint) ep = NULL;
  GThread *clients[N_CLIENTS];
  GThread *servers[N_CLIENTS * N_ROUNDS];
  guint16 port = 0;
  int listen_fd = listen_loopback (&port);
  guint before, after, ok = 0, authed = 0;

  ep = endpoint (port);
  before = count_fds ();
  for (guint i = 0; i < N_CLIENTS; i++)
    clients[i] = g_thread_new ("ssh-fds-client", client_thread, ep);
  for (guint i = 0; i < N_CLIENTS * N_ROUNDS; i++)
    {
      int fd = accept4 (listen_fd, NULL, NULL, SOCK_CLOEXEC);
      ck_assert (fd >= 0);
      servers[i] = g_thread_new ("ssh-fds-server", serve_fd_thread, GINT_TO_POINTER (fd));
    }
  for (guint i = 0; i < N_CLIENTS; i++)
    ok += GPOINTER_TO_UINT (g_thread_join (clients[i]));
  for (guint i = 0; i < N_CLIENTS * N_ROUNDS; i++)
    authed += GPOINTER_TO_INT (g_thread_join (servers[i]));
  after = count_fds ();
  close (listen_fd);
  ck_assert_uint_eq (ok, N_CLIENTS * N_ROUNDS);
  ck_assert_uint_eq (authed, N_CLIENTS * N_ROUNDS);
  ck_assert_uint_eq (after, before);
}
END_TEST

static Suite *
ssh_fds_suite (void)
{
  Suite *s = suite_create ("guest-ssh-fds");
  TCase *tc = tcase_create ("fds");

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_session_releases_its_descriptors);
  tcase_add_test (tc, test_hang_up_releases_its_descriptors);
  tcase_add_test (tc, test_concurrent_sessions);
  suite_add_tcase (s, tc);
  return s;
}

BANGER_TEST_MAIN (ssh_fds_suite)
