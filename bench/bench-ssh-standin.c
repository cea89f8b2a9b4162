/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The SSH stand-in for fake-Firecracker guests (see bench-ssh-standin.h):
 * libssh's server side, a thread per session, public key only. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib-unix.h>
#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <libssh/server.h>

#include "bench-ssh-standin.h"

#define SESSION_TIMEOUT_US (20 * G_USEC_PER_SEC)

struct _BenchSshStandin
{
  char *pubkey_path;
  ssh_bind bind;
  int listen_fd;
  int stop_pipe[2];
  GThread *acceptor;
  gint active;  /* session threads running (atomic) */
  guint logins; /* atomic */
};

typedef struct
{
  BenchSshStandin *s;
  ssh_session session;
  gboolean authed;
} Session;

/* ---------------------------------------------------------- the listener */

typedef struct
{
  const char *netns_path;
  int fd;
  int err;
} ListenArgs;

/* In a thread of its own: setns() changes only the calling thread's
 * namespace, and the socket stays in the namespace it was made in. */
static gpointer
listen_thread (gpointer data)
{
  ListenArgs *a = data;
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons (22) };
  int one = 1;
  int ns = open (a->netns_path, O_RDONLY | O_CLOEXEC);

  a->fd = -1;
  if (ns < 0 || setns (ns, CLONE_NEWNET) < 0)
    {
      a->err = errno;
      if (ns >= 0)
        close (ns);
      return NULL;
    }
  close (ns);
  a->fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (a->fd < 0 || setsockopt (a->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0
      || bind (a->fd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen (a->fd, 128) < 0)
    {
      a->err = errno;
      if (a->fd >= 0)
        close (a->fd);
      a->fd = -1;
    }
  return NULL;
}

/* ----------------------------------------------------------- a session */

static int
auth_pubkey (ssh_session session, const char *user, struct ssh_key_struct *pubkey,
             char signature_state, void *userdata)
{
  Session *sess = userdata;
  ssh_key want = NULL;
  int match;

  if (signature_state != SSH_PUBLICKEY_STATE_NONE && signature_state != SSH_PUBLICKEY_STATE_VALID)
    return SSH_AUTH_DENIED;
  if (ssh_pki_import_pubkey_file (sess->s->pubkey_path, &want) != SSH_OK)
    return SSH_AUTH_DENIED;
  match = ssh_key_cmp (want, pubkey, SSH_KEY_CMP_PUBLIC) == 0;
  ssh_key_free (want);
  if (!match)
    return SSH_AUTH_DENIED;
  if (signature_state == SSH_PUBLICKEY_STATE_VALID)
    {
      sess->authed = TRUE;
      g_atomic_int_inc ((gint *)&sess->s->logins);
    }
  return SSH_AUTH_SUCCESS;
}

static gpointer
session_thread (gpointer data)
{
  Session *sess = data;
  struct ssh_server_callbacks_struct cb = {
    .userdata = sess,
    .auth_pubkey_function = auth_pubkey,
  };
  ssh_event ev = NULL;
  gint64 deadline = g_get_monotonic_time () + SESSION_TIMEOUT_US;

  ssh_callbacks_init (&cb);
  ssh_set_server_callbacks (sess->session, &cb);
  ssh_set_auth_methods (sess->session, SSH_AUTH_METHOD_PUBLICKEY);
  if (ssh_handle_key_exchange (sess->session) == SSH_OK)
    {
      ev = ssh_event_new ();
      if (ev != NULL && ssh_event_add_session (ev, sess->session) == SSH_OK)
        /* until the client goes (it closes right after authenticating),
         * as a guest's sshd does: closing first would leave the client a
         * half-closed socket that no real guest gives it */
        while (g_get_monotonic_time () < deadline
               && !(ssh_get_status (sess->session) & (SSH_CLOSED | SSH_CLOSED_ERROR)))
          if (ssh_event_dopoll (ev, 100) == SSH_ERROR)
            break;
      if (ev != NULL)
        {
          ssh_event_remove_session (ev, sess->session);
          ssh_event_free (ev);
        }
    }
  ssh_disconnect (sess->session);
  ssh_free (sess->session);
  g_atomic_int_dec_and_test (&sess->s->active);
  g_free (sess);
  return NULL;
}

static gpointer
accept_thread (gpointer data)
{
  BenchSshStandin *s = data;

  for (;;)
    {
      struct pollfd p[2] = { { s->listen_fd, POLLIN, 0 }, { s->stop_pipe[0], POLLIN, 0 } };
      Session *sess;
      GThread *t;
      int fd;

      if (poll (p, 2, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          break;
        }
      if (p[1].revents)
        break;
      fd = accept4 (s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
      if (fd < 0)
        continue;
      sess = g_new0 (Session, 1);
      sess->s = s;
      sess->session = ssh_new ();
      if (sess->session == NULL || ssh_bind_accept_fd (s->bind, sess->session, fd) != SSH_OK)
        {
          if (sess->session != NULL)
            ssh_free (sess->session);
          close (fd);
          g_free (sess);
          continue;
        }
      g_atomic_int_inc (&s->active);
      t = g_thread_new ("ssh-standin", session_thread, sess);
      g_thread_unref (t);
    }
  return NULL;
}

/* ---------------------------------------------------------------- API */

BenchSshStandin *
bench_ssh_standin_new (const char *netns_path, const char *pubkey_path, GError **error)
{
  BenchSshStandin *s = g_new0 (BenchSshStandin, 1);
  ListenArgs a = { netns_path, -1, 0 };
  ssh_key host = NULL;

  s->listen_fd = -1;
  s->stop_pipe[0] = s->stop_pipe[1] = -1;
  s->pubkey_path = g_strdup (pubkey_path);
  g_thread_join (g_thread_new ("ssh-standin-listen", listen_thread, &a));
  if (a.fd < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (a.err),
                   "SSH stand-in: cannot listen on port 22 in %s: %s", netns_path,
                   g_strerror (a.err));
      bench_ssh_standin_free (s);
      return NULL;
    }
  s->listen_fd = a.fd;
  if (!g_unix_open_pipe (s->stop_pipe, FD_CLOEXEC, error))
    {
      bench_ssh_standin_free (s);
      return NULL;
    }
  s->bind = ssh_bind_new ();
  /* a fresh host key: each VM's known-hosts file is its own */
  if (s->bind == NULL || ssh_pki_generate (SSH_KEYTYPE_ED25519, 0, &host) != SSH_OK
      || ssh_bind_options_set (s->bind, SSH_BIND_OPTIONS_IMPORT_KEY, host) != SSH_OK)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                           "SSH stand-in: cannot make its host key");
      bench_ssh_standin_free (s);
      return NULL;
    }
  s->acceptor = g_thread_new ("ssh-standin-accept", accept_thread, s);
  return s;
}

guint
bench_ssh_standin_get_logins (BenchSshStandin *s)
{
  return (guint)g_atomic_int_get ((gint *)&s->logins);
}

void
bench_ssh_standin_free (BenchSshStandin *s)
{
  if (s == NULL)
    return;
  if (s->acceptor != NULL)
    {
      char c = 'q';
      if (write (s->stop_pipe[1], &c, 1) != 1)
        g_warning ("SSH stand-in: cannot stop its acceptor");
      g_thread_join (s->acceptor);
    }
  /* sessions end by themselves (client gone, or their deadline) */
  while (g_atomic_int_get (&s->active) > 0)
    g_usleep (10 * 1000);
  if (s->bind != NULL)
    ssh_bind_free (s->bind);
  if (s->listen_fd >= 0)
    close (s->listen_fd);
  if (s->stop_pipe[0] >= 0)
    close (s->stop_pipe[0]);
  if (s->stop_pipe[1] >= 0)
    close (s->stop_pipe[1]);
  g_free (s->pubkey_path);
  g_free (s);
}
