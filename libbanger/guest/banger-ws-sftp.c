/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The guest side of a workspace over SFTP (see banger-ws-sftp.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libssh/libssh.h>
#include <libssh/sftp.h>

#include "banger-error.h"
#include "banger-quote.h"
#include "banger-ws-sftp.h"

struct _BangerWsSftp
{
  BangerGuestSsh *ssh;
  sftp_session sftp;
  char *root;
};

void
banger_ws_sftp_close (BangerWsSftp *s)
{
  if (s == NULL)
    return;
  if (s->sftp != NULL)
    sftp_free (s->sftp);
  g_clear_pointer (&s->ssh, banger_guest_ssh_close);
  g_free (s->root);
  g_free (s);
}

BangerGuestSsh *
banger_ws_sftp_get_ssh (BangerWsSftp *s)
{
  return s->ssh;
}

const char *
banger_ws_sftp_get_root (BangerWsSftp *s)
{
  return s->root;
}

static gboolean
sftp_fail (BangerWsSftp *s, const char *what, const char *path, GError **error)
{
  int code = s->sftp ? sftp_get_error (s->sftp) : -1;
  g_autofree char *q = banger_quote (path ? path : "");

  if (code == SSH_FX_NO_SUCH_FILE)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND, "%s '%s' in the guest: no such file",
                   what, q);
      return FALSE;
    }
  if (code == SSH_FX_PERMISSION_DENIED)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
                   "%s '%s' in the guest: permission denied", what, q);
      return FALSE;
    }
  {
    g_autofree char *w = g_strdup_printf ("%s '%s' (SFTP status %d)", what, q, code);
    return banger_guest_ssh_fail (s->ssh, w, error);
  }
}

static char *
guest_path (BangerWsSftp *s, const char *rel)
{
  return rel && rel[0] ? g_strconcat (s->root, "/", rel, NULL) : g_strdup (s->root);
}

BangerWsSftp *
banger_ws_sftp_open (BangerGuestEndpoint *endpoint, const char *guest_dir,
                     GCancellable *cancellable, GError **error)
{
  g_autoptr (BangerWsSftp) s = g_new0 (BangerWsSftp, 1);
  ssh_session session;
  long timeout = BANGER_WS_SFTP_TIMEOUT_S, zero = 0;

  s->root = g_strdup (guest_dir);
  s->ssh = banger_guest_ssh_open (endpoint, 0, cancellable, error);
  if (s->ssh == NULL)
    return NULL;
  session = banger_guest_ssh_get_session (s->ssh);
  ssh_options_set (session, SSH_OPTIONS_TIMEOUT, &timeout);
  ssh_options_set (session, SSH_OPTIONS_TIMEOUT_USEC, &zero);
  s->sftp = sftp_new (session);
  if (s->sftp == NULL)
    {
      banger_guest_ssh_fail (s->ssh, "Opening the SFTP subsystem (is sftp-server in the guest?)",
                             error);
      return NULL;
    }
  if (sftp_init (s->sftp) != SSH_OK)
    {
      banger_guest_ssh_fail (s->ssh,
                             "Starting SFTP (the guest's SSH server needs an sftp-server)",
                             error);
      return NULL;
    }
  return g_steal_pointer (&s);
}

gboolean
banger_ws_sftp_check_root (BangerWsSftp *s, gboolean *out_missing, GError **error)
{
  sftp_attributes a = sftp_lstat (s->sftp, s->root);

  *out_missing = FALSE;
  if (a == NULL)
    {
      if (sftp_get_error (s->sftp) == SSH_FX_NO_SUCH_FILE)
        {
          *out_missing = TRUE;
          return TRUE;
        }
      return sftp_fail (s, "Cannot stat", s->root, error);
    }
  if (a->type != SSH_FILEXFER_TYPE_DIRECTORY)
    {
      g_autofree char *q = banger_quote (s->root);
      sftp_attributes_free (a);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "'%s' in the guest is not a directory", q);
      return FALSE;
    }
  sftp_attributes_free (a);
  return TRUE;
}

char *
banger_ws_sftp_readlink (BangerWsSftp *s, const char *rel, GError **error)
{
  g_autofree char *lp = guest_path (s, rel);
  char *target = sftp_readlink (s->sftp, lp);
  char *copy;

  if (target == NULL)
    {
      sftp_fail (s, "Cannot read the symlink", lp, error);
      return NULL;
    }
  copy = g_strdup (target);
  ssh_string_free_char (target);
  return copy;
}

gboolean
banger_ws_sftp_make_root (BangerWsSftp *s, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (s->root, "/", -1);
  g_autoptr (GString) p = g_string_new (NULL);

  for (guint i = 0; parts[i]; i++)
    {
      sftp_attributes a;
      if (parts[i][0] == '\0')
        continue;
      g_string_append_printf (p, "/%s", parts[i]);
      a = sftp_stat (s->sftp, p->str);
      if (a != NULL)
        {
          gboolean dir = a->type == SSH_FILEXFER_TYPE_DIRECTORY;
          sftp_attributes_free (a);
          if (dir)
            continue;
          {
            g_autofree char *q = banger_quote (p->str);
            g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                         "'%s' in the guest is not a directory", q);
            return FALSE;
          }
        }
      if (sftp_mkdir (s->sftp, p->str, 0755) < 0)
        return sftp_fail (s, "Cannot create the directory", p->str, error);
    }
  return TRUE;
}

gboolean
banger_ws_sftp_get_file (BangerWsSftp *s, BangerWsEntry *entry, int fd, guint64 *inout_bytes,
                         GError **error)
{
  g_autofree char *gp = guest_path (s, entry->path);
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree guchar *buf = g_malloc (BANGER_WS_SFTP_CHUNK);
  sftp_file f = sftp_open (s->sftp, gp, O_RDONLY, 0);
  ssize_t n;
  guint64 total = 0;

  if (f == NULL)
    return sftp_fail (s, "Cannot open", gp, error);
  while ((n = sftp_read (f, buf, BANGER_WS_SFTP_CHUNK)) > 0)
    {
      const guchar *p = buf;
      ssize_t left = n;
      while (left > 0)
        {
          ssize_t w = write (fd, p, (size_t)left);
          if (w < 0 && errno == EINTR)
            continue;
          if (w < 0)
            {
              int errsv = errno;
              sftp_close (f);
              g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                           "Cannot write the pulled file: %s", g_strerror (errsv));
              return FALSE;
            }
          p += w;
          left -= w;
        }
      g_checksum_update (sum, buf, n);
      total += (guint64)n;
    }
  if (n < 0)
    {
      sftp_close (f);
      return sftp_fail (s, "Cannot read", gp, error);
    }
  sftp_close (f);
  g_free (entry->hash);
  entry->hash = g_strdup (g_checksum_get_string (sum));
  entry->size = total;
  *inout_bytes += total;
  return TRUE;
}
