/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "priv-test-wire.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "banger-error.h"
#include "banger-priv-message.h"

int
wire_connect (const char *path, guint timeout_ms)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

  if (fd < 0)
    return -1;
  g_strlcpy (sa.sun_path, path, sizeof sa.sun_path);
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (connect (fd, (struct sockaddr *) &sa, sizeof sa) < 0)
    {
      int errsv = errno;
      close (fd);
      errno = errsv;
      return -1;
    }
  return fd;
}

gboolean
wire_send (int fd, const void *data, gsize len)
{
  const char *p = data;

  while (len > 0)
    {
      ssize_t n = send (fd, p, len, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      p += n;
      len -= n;
    }
  return TRUE;
}

gboolean
wire_send_str (int fd, const char *s)
{
  return wire_send (fd, s, strlen (s) + 1);
}

char *
wire_read (int fd)
{
  GString *s = g_string_new (NULL);

  for (;;)
    {
      char c;
      ssize_t n = recv (fd, &c, 1, 0);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          g_string_free (s, TRUE);
          return NULL;
        }
      if (c == '\0')
        return g_string_free (s, FALSE);
      g_string_append_c (s, c);
      if (s->len > 1024 * 1024)
        {
          g_string_free (s, TRUE);
          return NULL;
        }
    }
}

gboolean
wire_wait_eof (int fd, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * (gint64) 1000;

  for (;;)
    {
      struct pollfd pfd = { fd, POLLIN, 0 };
      gint64 left = (deadline - g_get_monotonic_time ()) / 1000;
      char buf[4096];
      ssize_t n;

      if (left <= 0 || poll (&pfd, 1, (int) left) <= 0)
        return FALSE;
      n = recv (fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno == ECONNRESET))
        return TRUE;
      if (n < 0 && errno != EAGAIN && errno != EINTR)
        return FALSE;
    }
}

char *
wire_reply_code (const char *reply, gint64 *out_id, JsonObject **out_result)
{
  g_autoptr (GError) error = NULL;
  gint64 id = G_MININT64;
  gboolean ok;

  if (reply == NULL)
    return g_strdup ("(no reply)");
  ok = banger_priv_reply_parse (reply, strlen (reply), &id, out_result, &error);
  if (out_id)
    *out_id = id;
  if (ok)
    return g_strdup ("ok");
  if (id == G_MININT64)
    return g_strdup ("(malformed reply)");
  return g_strdup (banger_error_to_name (error->code));
}
