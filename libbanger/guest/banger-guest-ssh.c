/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Endpoints and authenticated sessions (see banger-guest-ssh.h).
 *
 * The TCP connection is made here, not by libssh: a non-blocking connect
 * polled together with the GCancellable's fd, bounded by the deadline (for
 * the wait for SSH, a fresh connect every resend interval until one is
 * answered: banger_guest_ssh_open_full()).
 * libssh gets a dup of the socket (SSH_OPTIONS_FD) and owns that dup from
 * ssh_connect() on; the original stays ours until banger_guest_ssh_close(),
 * and is what the cancellation handler shuts down — so a cancellation can
 * never hit an fd number libssh has closed and the process has reused.
 *
 * libssh reads no ssh_config (SSH_OPTIONS_PROCESS_CONFIG off), knows only
 * banger's known-hosts file (the global one is /dev/null) and offers only
 * the install key.  libssh expands '%' escapes and a leading '~' in the
 * known-hosts path, so the path must be absolute and free of '%'. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libssh/libssh.h>

#include "banger-error.h"
#include "banger-guest-ssh.h"
#include "banger-quote.h"

struct _BangerGuestEndpoint
{
  char *address;
  guint16 port;
  char *user;
  BangerGuestKey *key;
  char *known_hosts;
  guint connect_timeout_ms;
  guint wait_resend_ms; /* banger_guest_wait_ssh: fresh connects this often (0: one) */
  GInetSocketAddress *sockaddr;
};

struct _BangerGuestSsh
{
  BangerGuestEndpoint *endpoint;
  ssh_session session;
  int fd;     /* ours: shut down on cancel, closed last */
  int lib_fd; /* the dup given to libssh (-1: none) */
  GCancellable *cancellable;
  gulong cancel_id;
};

/* Serialises "is this host known? record it" within the process, so that
 * concurrent first contacts write one line. */
static GMutex known_hosts_lock;

static void
libssh_init_once (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done))
    {
      ssh_init ();
      g_once_init_leave (&done, 1);
    }
}

static void
endpoint_clear (gpointer data)
{
  BangerGuestEndpoint *ep = data;

  g_free (ep->address);
  g_free (ep->user);
  g_free (ep->known_hosts);
  g_clear_pointer (&ep->key, banger_guest_key_unref);
  g_clear_object (&ep->sockaddr);
}

/**
 * banger_guest_endpoint_new:
 * @address: the guest's numeric IPv4 or IPv6 address (no host names: no
 *   resolver is ever waited on)
 * @port: the SSH port (0 means 22)
 * @key: the install key (banger_guest_key_load_or_create())
 * @known_hosts_path: absolute path of the known-hosts file banger keeps for
 *   this VM (made 0600 on first contact; its directory must exist)
 * @error: return location for a #GError
 *
 * Describes how to reach one guest: user `root`, the connect timeout
 * %BANGER_GUEST_SSH_DEFAULT_CONNECT_TIMEOUT_MS, the wait's resend interval
 * %BANGER_GUEST_SSH_DEFAULT_WAIT_RESEND_MS.  Set the user and the
 * timeouts before sharing the endpoint between threads; after that it is
 * read-only and may be used by several operations at once.
 *
 * A known-hosts file per VM (for example `<state dir>/vms/<id>/known_hosts`)
 * keeps a VM that gets a recycled IP address from being taken for the
 * previous owner of that address, whose host key it would not have.
 *
 * Returns: (transfer full): the endpoint, or %NULL with
 *   %BANGER_ERROR_INVALID_ARGUMENT when @address is not a numeric IP or
 *   @known_hosts_path is not absolute or contains '%'
 */
BangerGuestEndpoint *
banger_guest_endpoint_new (const char *address, guint16 port, BangerGuestKey *key,
                           const char *known_hosts_path, GError **error)
{
  g_autoptr (GInetAddress) inet = NULL;
  BangerGuestEndpoint *ep;

  g_return_val_if_fail (address != NULL, NULL);
  g_return_val_if_fail (key != NULL, NULL);
  g_return_val_if_fail (known_hosts_path != NULL, NULL);

  inet = g_inet_address_new_from_string (address);
  if (inet == NULL)
    {
      g_autofree char *q = banger_quote (address);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "'%s' is not a numeric IP address", q);
      return NULL;
    }
  if (!g_path_is_absolute (known_hosts_path) || strchr (known_hosts_path, '%') != NULL)
    {
      g_autofree char *q = banger_quote (known_hosts_path);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "The known-hosts path '%s' must be absolute and must not contain '%%'", q);
      return NULL;
    }
  ep = g_atomic_rc_box_new0 (BangerGuestEndpoint);
  ep->address = g_inet_address_to_string (inet);
  ep->port = port != 0 ? port : BANGER_GUEST_SSH_DEFAULT_PORT;
  ep->user = g_strdup (BANGER_GUEST_SSH_DEFAULT_USER);
  ep->key = banger_guest_key_ref (key);
  ep->known_hosts = g_strdup (known_hosts_path);
  ep->connect_timeout_ms = BANGER_GUEST_SSH_DEFAULT_CONNECT_TIMEOUT_MS;
  ep->wait_resend_ms = BANGER_GUEST_SSH_DEFAULT_WAIT_RESEND_MS;
  ep->sockaddr = G_INET_SOCKET_ADDRESS (g_inet_socket_address_new (inet, ep->port));
  return ep;
}

/**
 * banger_guest_endpoint_ref:
 * @endpoint: an endpoint
 *
 * Returns: (transfer full): @endpoint
 */
BangerGuestEndpoint *
banger_guest_endpoint_ref (BangerGuestEndpoint *endpoint)
{
  g_return_val_if_fail (endpoint != NULL, NULL);
  return g_atomic_rc_box_acquire (endpoint);
}

/**
 * banger_guest_endpoint_unref:
 * @endpoint: (transfer full): an endpoint
 *
 * Drops a reference.
 */
void
banger_guest_endpoint_unref (BangerGuestEndpoint *endpoint)
{
  g_return_if_fail (endpoint != NULL);
  g_atomic_rc_box_release_full (endpoint, endpoint_clear);
}

/**
 * banger_guest_endpoint_set_user:
 * @endpoint: an endpoint not yet shared with other threads
 * @user: the login name in the guest
 * @error: return location for a #GError
 *
 * Sets the user to log in as (default `root`).
 *
 * Returns: %TRUE, or %FALSE with %BANGER_ERROR_INVALID_ARGUMENT when @user
 *   is empty or holds characters other than letters, digits, '.', '_', '-'
 */
gboolean
banger_guest_endpoint_set_user (BangerGuestEndpoint *endpoint, const char *user, GError **error)
{
  g_return_val_if_fail (endpoint != NULL, FALSE);
  g_return_val_if_fail (user != NULL, FALSE);

  if (user[0] == '\0' || strlen (user) > 32 || user[0] == '-'
      || strspn (user, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
             != strlen (user))
    {
      g_autofree char *q = banger_quote (user);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "'%s' is not a user name (letters, digits, '.', '_', '-'; at most 32)", q);
      return FALSE;
    }
  g_free (endpoint->user);
  endpoint->user = g_strdup (user);
  return TRUE;
}

/**
 * banger_guest_endpoint_set_connect_timeout:
 * @endpoint: an endpoint not yet shared with other threads
 * @timeout_ms: the bound, in milliseconds, on one TCP connect plus SSH
 *   handshake plus authentication (0 restores the default)
 *
 * Sets the connect timeout.
 */
void
banger_guest_endpoint_set_connect_timeout (BangerGuestEndpoint *endpoint, guint timeout_ms)
{
  g_return_if_fail (endpoint != NULL);
  endpoint->connect_timeout_ms
      = timeout_ms != 0 ? timeout_ms : BANGER_GUEST_SSH_DEFAULT_CONNECT_TIMEOUT_MS;
}

/**
 * banger_guest_endpoint_set_wait_resend:
 * @endpoint: an endpoint not yet shared with other threads
 * @resend_ms: how often banger_guest_wait_ssh() starts a fresh TCP connect
 *   while none has been answered (at most 60000); 0: one connect per
 *   attempt, bounded by the connect timeout (the kernel's SYN
 *   retransmits, 1 s, 3 s, 7 s… after the first, are then its only retries)
 *
 * Sets the wait's resend interval (default
 * %BANGER_GUEST_SSH_DEFAULT_WAIT_RESEND_MS).
 */
void
banger_guest_endpoint_set_wait_resend (BangerGuestEndpoint *endpoint, guint resend_ms)
{
  g_return_if_fail (endpoint != NULL);
  g_return_if_fail (resend_ms <= 60000);
  endpoint->wait_resend_ms = resend_ms;
}

/**
 * banger_guest_endpoint_get_wait_resend:
 * @endpoint: an endpoint
 *
 * Returns: the wait's resend interval in milliseconds (0: none)
 */
guint
banger_guest_endpoint_get_wait_resend (BangerGuestEndpoint *endpoint)
{
  g_return_val_if_fail (endpoint != NULL, 0);
  return endpoint->wait_resend_ms;
}

/**
 * banger_guest_endpoint_get_address:
 * @endpoint: an endpoint
 *
 * Returns: the guest's address, in canonical form
 */
const char *
banger_guest_endpoint_get_address (BangerGuestEndpoint *endpoint)
{
  g_return_val_if_fail (endpoint != NULL, NULL);
  return endpoint->address;
}

/**
 * banger_guest_endpoint_get_port:
 * @endpoint: an endpoint
 *
 * Returns: the SSH port
 */
guint16
banger_guest_endpoint_get_port (BangerGuestEndpoint *endpoint)
{
  g_return_val_if_fail (endpoint != NULL, 0);
  return endpoint->port;
}

/**
 * banger_guest_endpoint_get_connect_timeout:
 * @endpoint: an endpoint
 *
 * Returns: the connect timeout in milliseconds
 */
guint
banger_guest_endpoint_get_connect_timeout (BangerGuestEndpoint *endpoint)
{
  g_return_val_if_fail (endpoint != NULL, 0);
  return endpoint->connect_timeout_ms;
}

/* ------------------------------------------------------------ session */

static void
on_cancelled (GCancellable *cancellable, gpointer data)
{
  BangerGuestSsh *ssh = data;

  /* wakes any poll libssh (or we) are blocked in; the fd is ours and is
   * closed only after this handler is disconnected */
  shutdown (ssh->fd, SHUT_RDWR);
}

/**
 * banger_guest_ssh_close:
 * @ssh: (transfer full): a session
 *
 * Disconnects and frees the session.  Never blocks for long: the socket
 * is shut down first.
 */
void
banger_guest_ssh_close (BangerGuestSsh *ssh)
{
  if (ssh == NULL)
    return;
  if (ssh->cancel_id != 0)
    g_cancellable_disconnect (ssh->cancellable, ssh->cancel_id);
  if (ssh->session != NULL)
    {
      if (ssh_is_connected (ssh->session))
        ssh_disconnect (ssh->session);
      ssh_free (ssh->session);
    }
  /* libssh 0.10 does not close a socket it was given with SSH_OPTIONS_FD
   * (the caller's, its documentation says): close the dup unless its number
   * no longer names our socket (a libssh that did close it) */
  if (ssh->lib_fd >= 0 && ssh->fd >= 0)
    {
      struct stat a, b;

      if (fstat (ssh->lib_fd, &a) == 0 && fstat (ssh->fd, &b) == 0 && a.st_dev == b.st_dev
          && a.st_ino == b.st_ino)
        close (ssh->lib_fd);
    }
  if (ssh->fd >= 0)
    close (ssh->fd);
  g_clear_object (&ssh->cancellable);
  g_clear_pointer (&ssh->endpoint, banger_guest_endpoint_unref);
  g_free (ssh);
}

/**
 * banger_guest_ssh_get_session:
 * @ssh: a session
 *
 * Returns: (transfer none): the libssh `ssh_session`
 */
gpointer
banger_guest_ssh_get_session (BangerGuestSsh *ssh)
{
  return ssh->session;
}

/**
 * banger_guest_ssh_fail:
 * @ssh: a session
 * @what: what failed, for the message ("SSH handshake")
 * @error: return location for a #GError
 *
 * Sets @error for a failed libssh call: %BANGER_ERROR_CANCELLED when the
 * session's cancellable fired, else %BANGER_ERROR_FAILED with libssh's
 * words.
 *
 * Returns: %FALSE
 */
gboolean
banger_guest_ssh_fail (BangerGuestSsh *ssh, const char *what, GError **error)
{
  if (g_cancellable_is_cancelled (ssh->cancellable))
    g_set_error (error, BANGER_ERROR, BANGER_ERROR_CANCELLED, "%s with %s:%u was cancelled", what,
                 ssh->endpoint->address, ssh->endpoint->port);
  else
    g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "%s with %s:%u failed: %s", what,
                 ssh->endpoint->address, ssh->endpoint->port, ssh_get_error (ssh->session));
  return FALSE;
}

/* At most this many connects of one attempt in flight (banger_guest_ssh_open_full's
 * @resend_ms): a SYN-ACK that comes later than the next fresh connect still
 * completes its own socket, up to this many intervals back. */
#define CONNECTS_IN_FLIGHT 8

static void
close_all (int *fds, guint *n)
{
  for (guint i = 0; i < *n; i++)
    close (fds[i]);
  *n = 0;
}

/* TCP connect, non-blocking, bounded by @deadline_us, interrupted by the
 * cancellable.  With @resend_us > 0 a fresh connect (a fresh SYN) is started
 * every @resend_us while none has completed, the earlier ones kept open
 * (CONNECTS_IN_FLIGHT at most, the oldest closed first): the first one to
 * complete wins, so a guest whose network comes up between two of the
 * kernel's SYN retransmits (1 s apart at first on kernels with
 * tcp_syn_linear_timeouts, then doubling) is reached
 * within @resend_us, and a slow SYN-ACK is never thrown away.  A refusal
 * or an unreachable host on any of them ends it at once (FAILED).
 * *inout_connects counts the connects started. */
static gboolean
tcp_connect (BangerGuestSsh *ssh, gint64 deadline_us, gint64 resend_us, guint *inout_connects,
             GError **error)
{
  BangerGuestEndpoint *ep = ssh->endpoint;
  struct sockaddr_storage ss;
  socklen_t ss_len = (socklen_t) g_socket_address_get_native_size (G_SOCKET_ADDRESS (ep->sockaddr));
  GPollFD cancel_pfd = { -1, 0, 0 };
  gboolean have_cancel_fd;
  int fds[CONNECTS_IN_FLIGHT];
  guint n = 0;
  gint64 next_start = g_get_monotonic_time ();
  gboolean ok = FALSE;

  if (!g_socket_address_to_native (G_SOCKET_ADDRESS (ep->sockaddr), &ss, sizeof ss, NULL))
    g_assert_not_reached ();
  have_cancel_fd = g_cancellable_make_pollfd (ssh->cancellable, &cancel_pfd);
  for (;;)
    {
      struct pollfd pfd[CONNECTS_IN_FLIGHT + 1];
      gint64 now = g_get_monotonic_time ();
      gint64 wake;
      int err = 0;
      socklen_t len = sizeof err;
      int polled;

      if (g_cancellable_is_cancelled (ssh->cancellable))
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_CANCELLED,
                       "Connecting to %s:%u was cancelled", ep->address, ep->port);
          break;
        }
      if (now >= deadline_us)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_TIMED_OUT,
                       "Connecting to %s:%u timed out", ep->address, ep->port);
          break;
        }
      if (now >= next_start)
        {
          int fd = socket (ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

          if (fd < 0)
            {
              g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "socket: %s",
                           g_strerror (errno));
              break;
            }
          if (n == CONNECTS_IN_FLIGHT)
            {
              close (fds[0]);
              memmove (fds, fds + 1, (n - 1) * sizeof fds[0]);
              n--;
            }
          fds[n++] = fd;
          if (inout_connects != NULL)
            (*inout_connects)++;
          next_start = resend_us > 0 ? now + resend_us : G_MAXINT64;
          if (connect (fd, (struct sockaddr *) &ss, ss_len) == 0)
            {
              ssh->fd = fd;
              n--;
              ok = TRUE;
              break;
            }
          if (errno != EINPROGRESS)
            {
              g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                           "Cannot connect to %s:%u: %s", ep->address, ep->port,
                           g_strerror (errno));
              break;
            }
        }
      wake = MIN (deadline_us, next_start);
      for (guint i = 0; i < n; i++)
        pfd[i] = (struct pollfd) { fds[i], POLLOUT, 0 };
      pfd[n] = (struct pollfd) { cancel_pfd.fd, POLLIN, 0 };
      polled = poll (pfd, have_cancel_fd ? n + 1 : n,
                     (int) MIN ((MAX (wake - now, 0) + 999) / 1000, G_MAXINT));
      if (polled < 0 && errno == EINTR)
        continue;
      if (polled < 0)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "poll: %s", g_strerror (errno));
          break;
        }
      for (guint i = 0; i < n && polled > 0; i++)
        {
          if (pfd[i].revents == 0)
            continue;
          if (getsockopt (fds[i], SOL_SOCKET, SO_ERROR, &err, &len) < 0)
            err = errno;
          if (err == 0)
            {
              ssh->fd = fds[i];
              fds[i] = fds[--n];
              ok = TRUE;
            }
          else
            g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "Cannot connect to %s:%u: %s",
                         ep->address, ep->port, g_strerror (err));
          break;
        }
      if (ok || err != 0)
        break;
    }
  close_all (fds, &n);
  if (have_cancel_fd)
    g_cancellable_release_fd (ssh->cancellable);
  return ok;
}

static gboolean
set_timeout (BangerGuestSsh *ssh, gint64 deadline_us)
{
  long usec = (long) MAX (deadline_us - g_get_monotonic_time (), 1000);
  long zero = 0;

  return ssh_options_set (ssh->session, SSH_OPTIONS_TIMEOUT, &zero) == SSH_OK
         && ssh_options_set (ssh->session, SSH_OPTIONS_TIMEOUT_USEC, &usec) == SSH_OK;
}

/* A known-hosts file that exists must be a regular file of ours that
 * others cannot write; an absent one is made 0600. */
static gboolean
prepare_known_hosts (const char *path, GError **error)
{
  struct stat st;
  int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);

  if (fd >= 0)
    {
      close (fd);
      return TRUE;
    }
  if (errno != EEXIST)
    {
      int errsv = errno;
      g_set_error (error, BANGER_ERROR,
                   errsv == ENOENT ? BANGER_ERROR_NOT_FOUND : BANGER_ERROR_FAILED,
                   "Cannot create the known-hosts file '%s': %s", path, g_strerror (errsv));
      return FALSE;
    }
  if (lstat (path, &st) < 0 || !S_ISREG (st.st_mode) || st.st_uid != geteuid ()
      || (st.st_mode & 022) != 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
                   "The known-hosts file '%s' is not a regular file owned by uid %u and "
                   "writable only by it",
                   path, (unsigned) geteuid ());
      return FALSE;
    }
  return TRUE;
}

static char *
server_fingerprint (ssh_session session)
{
  ssh_key srv = NULL;
  unsigned char *hash = NULL;
  size_t hlen = 0;
  char *fp;
  char *ret;

  if (ssh_get_server_publickey (session, &srv) != SSH_OK)
    return g_strdup ("?");
  if (ssh_get_publickey_hash (srv, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) != SSH_OK)
    {
      ssh_key_free (srv);
      return g_strdup ("?");
    }
  fp = ssh_get_fingerprint_hash (SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
  ret = g_strdup_printf ("%s %s", ssh_key_type_to_char (ssh_key_type (srv)), fp ? fp : "?");
  ssh_string_free_char (fp);
  ssh_clean_pubkey_hash (&hash);
  ssh_key_free (srv);
  return ret;
}

/* Trust on first use, then only that key.  Called with known_hosts_lock. */
static gboolean
check_host_key_locked (BangerGuestSsh *ssh, GError **error)
{
  BangerGuestEndpoint *ep = ssh->endpoint;
  enum ssh_known_hosts_e state = ssh_session_is_known_server (ssh->session);

  switch (state)
    {
    case SSH_KNOWN_HOSTS_OK:
      return TRUE;
    case SSH_KNOWN_HOSTS_NOT_FOUND:
    case SSH_KNOWN_HOSTS_UNKNOWN:
      if (ssh_session_update_known_hosts (ssh->session) != SSH_OK)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                       "Cannot record the host key of %s:%u in '%s': %s", ep->address, ep->port,
                       ep->known_hosts, ssh_get_error (ssh->session));
          return FALSE;
        }
      return TRUE;
    case SSH_KNOWN_HOSTS_CHANGED:
    case SSH_KNOWN_HOSTS_OTHER:
      {
        g_autofree char *fp = server_fingerprint (ssh->session);
        g_set_error (error, BANGER_ERROR, BANGER_ERROR_HOST_KEY_MISMATCH,
                     "The SSH host key of %s:%u changed: it now offers %s, which is not the key "
                     "recorded in '%s'; refusing to connect (remove the entry if this guest "
                     "was legitimately reinstalled)",
                     ep->address, ep->port, fp, ep->known_hosts);
        return FALSE;
      }
    case SSH_KNOWN_HOSTS_ERROR:
    default:
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                   "Cannot check the host key of %s:%u against '%s': %s", ep->address, ep->port,
                   ep->known_hosts, ssh_get_error (ssh->session));
      return FALSE;
    }
}

static gboolean
check_host_key (BangerGuestSsh *ssh, GError **error)
{
  gboolean ok;

  g_mutex_lock (&known_hosts_lock);
  ok = check_host_key_locked (ssh, error);
  g_mutex_unlock (&known_hosts_lock);
  return ok;
}

/**
 * banger_guest_ssh_open:
 * @endpoint: where to connect
 * @deadline_us: a g_get_monotonic_time() deadline for connect, handshake
 *   and authentication; 0 means now plus the endpoint's connect timeout
 * @cancellable: (nullable): interrupts any step, from any thread
 * @error: return location for a #GError
 *
 * Opens one authenticated SSH session.  Blocks the calling thread.
 *
 * Errors: %BANGER_ERROR_HOST_KEY_MISMATCH when the guest's host key is not
 * the one recorded in the known-hosts file (a changed key is never
 * accepted); %BANGER_ERROR_PERMISSION_DENIED when the guest refuses the
 * install key, or when the
 * known-hosts file is not the caller's; %BANGER_ERROR_TIMED_OUT when the
 * deadline passes; %BANGER_ERROR_CANCELLED; %BANGER_ERROR_NOT_FOUND when
 * the known-hosts file's directory is missing; %BANGER_ERROR_FAILED for a
 * refused or broken connection (retrying may help).
 *
 * Returns: (transfer full): the session, or %NULL with @error set
 */
BangerGuestSsh *
banger_guest_ssh_open (BangerGuestEndpoint *endpoint, gint64 deadline_us,
                       GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (endpoint != NULL, NULL);
  if (deadline_us == 0)
    deadline_us = g_get_monotonic_time () + (gint64) endpoint->connect_timeout_ms * 1000;
  return banger_guest_ssh_open_full (endpoint, deadline_us, 0, NULL, cancellable, error);
}

/**
 * banger_guest_ssh_open_full:
 * @endpoint: where to connect
 * @deadline_us: a g_get_monotonic_time() deadline
 * @resend_ms: 0, or the interval of fresh TCP connects while none has
 *   completed (the wait for SSH)
 * @inout_connects: (inout) (optional): incremented by the TCP connects
 *   started
 * @cancellable: (nullable): interrupts any step, from any thread
 * @error: return location for a #GError
 *
 * banger_guest_ssh_open() with a choice of how the TCP connect is made.
 * With @resend_ms 0, exactly banger_guest_ssh_open(): one connect, and
 * connect, handshake and authentication all bounded by @deadline_us.  With
 * @resend_ms > 0, a fresh connect is started every @resend_ms until one
 * completes (the earlier ones stay open: a late SYN-ACK still completes its
 * own), a refusal or unreachable host fails at once, and @deadline_us bounds
 * this connect phase; the handshake and authentication then get the
 * endpoint's connect timeout from the moment the connection is made (and
 * no more than @deadline_us).
 *
 * Returns: (transfer full): the session, or %NULL with @error set (errors
 *   as banger_guest_ssh_open())
 */
BangerGuestSsh *
banger_guest_ssh_open_full (BangerGuestEndpoint *endpoint, gint64 deadline_us, guint resend_ms,
                            guint *inout_connects, GCancellable *cancellable, GError **error)
{
  g_autoptr (BangerGuestSsh) ssh = NULL;
  int lib_fd;
  int verbosity = g_getenv ("BANGER_DEBUG_LIBSSH") ? SSH_LOG_PROTOCOL : SSH_LOG_NOLOG;
  bool off = false;
  int rc;

  g_return_val_if_fail (endpoint != NULL, NULL);
  libssh_init_once ();

  if (!prepare_known_hosts (endpoint->known_hosts, error))
    return NULL;

  ssh = g_new0 (BangerGuestSsh, 1);
  ssh->fd = -1;
  ssh->lib_fd = -1;
  ssh->endpoint = banger_guest_endpoint_ref (endpoint);
  ssh->cancellable = cancellable != NULL ? g_object_ref (cancellable) : g_cancellable_new ();

  if (!tcp_connect (ssh, deadline_us, (gint64) resend_ms * 1000, inout_connects, error))
    return NULL;
  if (resend_ms > 0)
    deadline_us
        = MIN (deadline_us, g_get_monotonic_time () + (gint64) endpoint->connect_timeout_ms * 1000);
  ssh->cancel_id = g_cancellable_connect (ssh->cancellable, G_CALLBACK (on_cancelled), ssh, NULL);

  ssh->session = ssh_new ();
  if (ssh->session == NULL)
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_FAILED, "ssh_new failed");
      return NULL;
    }
  lib_fd = fcntl (ssh->fd, F_DUPFD_CLOEXEC, 3);
  if (lib_fd < 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "dup: %s", g_strerror (errno));
      return NULL;
    }
  if (ssh_options_set (ssh->session, SSH_OPTIONS_LOG_VERBOSITY, &verbosity) != SSH_OK
      || ssh_options_set (ssh->session, SSH_OPTIONS_PROCESS_CONFIG, &off) != SSH_OK
      || ssh_options_set (ssh->session, SSH_OPTIONS_HOST, endpoint->address) != SSH_OK
      || ssh_options_set (ssh->session, SSH_OPTIONS_PORT, &(unsigned int) { endpoint->port })
             != SSH_OK
      || ssh_options_set (ssh->session, SSH_OPTIONS_USER, endpoint->user) != SSH_OK
      || ssh_options_set (ssh->session, SSH_OPTIONS_KNOWNHOSTS, endpoint->known_hosts) != SSH_OK
      || ssh_options_set (ssh->session, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null") != SSH_OK
      || !set_timeout (ssh, deadline_us)
      || ssh_options_set (ssh->session, SSH_OPTIONS_FD, &lib_fd) != SSH_OK)
    {
      close (lib_fd);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "Cannot set libssh options: %s",
                   ssh_get_error (ssh->session));
      return NULL;
    }

  /* from here libssh uses lib_fd; banger_guest_ssh_close() closes it */
  ssh->lib_fd = lib_fd;
  rc = ssh_connect (ssh->session);
  if (rc != SSH_OK)
    {
      if (g_get_monotonic_time () >= deadline_us && !g_cancellable_is_cancelled (ssh->cancellable))
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_TIMED_OUT,
                       "SSH handshake with %s:%u timed out: %s", endpoint->address,
                       endpoint->port, ssh_get_error (ssh->session));
          return NULL;
        }
      banger_guest_ssh_fail (ssh, "SSH handshake", error);
      return NULL;
    }
  if (!check_host_key (ssh, error))
    return NULL;

  if (!set_timeout (ssh, deadline_us))
    {
      banger_guest_ssh_fail (ssh, "Setting the SSH timeout", error);
      return NULL;
    }
  rc = ssh_userauth_publickey (ssh->session, NULL, banger_guest_key_get_ssh_key (endpoint->key));
  if (rc == SSH_AUTH_DENIED || rc == SSH_AUTH_PARTIAL)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
                   "The guest at %s:%u refused banger's key for user '%s' (is it in "
                   "/root/.ssh/authorized_keys?)",
                   endpoint->address, endpoint->port, endpoint->user);
      return NULL;
    }
  if (rc != SSH_AUTH_SUCCESS)
    {
      if (g_get_monotonic_time () >= deadline_us && !g_cancellable_is_cancelled (ssh->cancellable))
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_TIMED_OUT,
                       "SSH authentication with %s:%u timed out", endpoint->address,
                       endpoint->port);
          return NULL;
        }
      banger_guest_ssh_fail (ssh, "SSH authentication", error);
      return NULL;
    }
  return g_steal_pointer (&ssh);
}
