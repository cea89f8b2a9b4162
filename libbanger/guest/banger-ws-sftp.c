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

static BangerWsType
type_of (sftp_attributes a)
{
  switch (a->type)
    {
    case SSH_FILEXFER_TYPE_REGULAR:
      return BANGER_WS_FILE;
    case SSH_FILEXFER_TYPE_DIRECTORY:
      return BANGER_WS_DIR;
    case SSH_FILEXFER_TYPE_SYMLINK:
      return BANGER_WS_SYMLINK;
    default:
      return 0;
    }
}

static gboolean
scan_dir (BangerWsSftp *s, const char *rel, guint depth, BangerWsManifest *m, GError **error)
{
  g_autofree char *gp = guest_path (s, rel);
  sftp_dir dir = sftp_opendir (s->sftp, gp);
  sftp_attributes a;
  gboolean ok = TRUE;
  g_autoptr (GPtrArray) subdirs = g_ptr_array_new_with_free_func (g_free);

  if (dir == NULL)
    return sftp_fail (s, "Cannot list", gp, error);
  while (ok && (a = sftp_readdir (s->sftp, dir)) != NULL)
    {
      g_autofree char *path = NULL;
      BangerWsType t;
      BangerWsEntry *e;

      if (g_str_equal (a->name, ".") || g_str_equal (a->name, ".."))
        {
          sftp_attributes_free (a);
          continue;
        }
      path = rel[0] ? g_strconcat (rel, "/", a->name, NULL) : g_strdup (a->name);
      if (strchr (a->name, '/') != NULL || !banger_ws_path_is_valid (path))
        {
          g_autofree char *q = banger_quote (path);
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                       "The guest sent the workspace name '%s', which banger refuses", q);
          sftp_attributes_free (a);
          ok = FALSE;
          break;
        }
      if (banger_ws_manifest_size (m) >= BANGER_WS_MAX_ENTRIES)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_LIMIT_EXCEEDED,
                       "The guest's workspace holds more than %d entries", BANGER_WS_MAX_ENTRIES);
          sftp_attributes_free (a);
          ok = FALSE;
          break;
        }
      t = type_of (a);
      if (t == 0)
        {
          sftp_attributes_free (a);
          continue; /* sockets, FIFOs, devices: not synced */
        }
      e = banger_ws_entry_new (path, t);
      e->mode = t == BANGER_WS_SYMLINK ? 0 : (a->permissions & 07777);
      e->size = t == BANGER_WS_FILE ? a->size : 0;
      e->mtime_ns = t == BANGER_WS_DIR ? 0 : (gint64)a->mtime * G_GINT64_CONSTANT (1000000000);
      sftp_attributes_free (a);
      if (t == BANGER_WS_SYMLINK)
        {
          g_autofree char *lp = guest_path (s, path);
          char *target = sftp_readlink (s->sftp, lp);
          if (target == NULL)
            {
              banger_ws_entry_free (e);
              ok = sftp_fail (s, "Cannot read the symlink", lp, error);
              break;
            }
          e->target = g_strdup (target);
          ssh_string_free_char (target);
          if (!banger_ws_symlink_stays_inside (path, e->target))
            {
              g_autofree char *qp = banger_quote (path);
              g_autofree char *qt = banger_quote (e->target);
              g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                           "The guest's workspace symlink '%s' points to '%s', outside the "
                           "workspace: refused",
                           qp, qt);
              banger_ws_entry_free (e);
              ok = FALSE;
              break;
            }
        }
      if (t == BANGER_WS_DIR)
        g_ptr_array_add (subdirs, g_strdup (path));
      banger_ws_manifest_add (m, e);
    }
  if (ok && !sftp_dir_eof (dir))
    ok = sftp_fail (s, "Cannot list", gp, error);
  sftp_closedir (dir);
  for (guint i = 0; ok && i < subdirs->len; i++)
    {
      if (depth + 1 >= BANGER_WS_MAX_DEPTH)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_LIMIT_EXCEEDED,
                       "The guest's workspace is deeper than %d directories", BANGER_WS_MAX_DEPTH);
          return FALSE;
        }
      ok = scan_dir (s, subdirs->pdata[i], depth + 1, m, error);
    }
  return ok;
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

BangerWsManifest *
banger_ws_sftp_scan (BangerWsSftp *s, gboolean *out_root_missing, GError **error)
{
  g_autoptr (BangerWsManifest) m = banger_ws_manifest_new ();
  gboolean missing = FALSE;

  if (out_root_missing != NULL)
    *out_root_missing = FALSE;
  if (!banger_ws_sftp_check_root (s, &missing, error))
    return NULL;
  if (missing)
    {
      if (out_root_missing != NULL)
        *out_root_missing = TRUE;
      return g_steal_pointer (&m);
    }
  if (!scan_dir (s, "", 0, m, error))
    return NULL;
  return g_steal_pointer (&m);
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
