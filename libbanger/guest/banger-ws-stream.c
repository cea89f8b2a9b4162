/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The bulk transfers of a workspace sync (see banger-ws-stream.h).
 *
 * Each guest command runs on a new exec channel of the sync's SSH session
 * (the SFTP channel stays open beside it): `cd -- ROOT && COMMAND`, ROOT
 * quoted for the guest's shell.  The session is blocking with its 60 s
 * timeout (banger-ws-sftp.c); a GCancellable shuts its socket. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive_entry.h>
#include <libssh/libssh.h>

#include "banger-error.h"
#include "banger-quote.h"
#include "banger-ws-host.h"
#include "banger-ws-stream.h"

/* one write to the channel (a multiple of tar's 512-byte record) */
#define WRITE_CHUNK (32 * 1024)
#define IO_BUF (64 * 1024)
/* no progress for this long ends a command */
#define STALL_US (G_GINT64_CONSTANT (60) * G_USEC_PER_SEC)

typedef struct archive_entry WsArchiveEntry;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WsArchiveEntry, archive_entry_free)

typedef struct
{
  BangerGuestSsh *ssh;
  ssh_channel ch;
  GString *err; /* the command's stderr, its first STDERR_MAX bytes */
  const char *what;
  GCancellable *cancellable;
  gboolean eof_sent;
  /* stdout's consumer (the listing); NULL: discarded */
  gboolean (*on_stdout) (gpointer user, const char *data, gsize len, GError **error);
  gpointer user;
} Chan;

static void
chan_clear (Chan *c)
{
  if (c->ch != NULL)
    {
      ssh_channel_close (c->ch);
      ssh_channel_free (c->ch);
      c->ch = NULL;
    }
  if (c->err != NULL)
    g_string_free (c->err, TRUE);
  c->err = NULL;
}

static gboolean
chan_open (Chan *c, BangerWsSftp *sftp, const char *what, const char *command,
           GCancellable *cancellable, GError **error)
{
  g_autofree char *root = g_shell_quote (banger_ws_sftp_get_root (sftp));
  g_autofree char *line = g_strdup_printf ("cd -- %s && %s", root, command);

  c->ssh = banger_ws_sftp_get_ssh (sftp);
  c->err = g_string_new (NULL);
  c->what = what;
  c->cancellable = cancellable;
  c->ch = ssh_channel_new (banger_guest_ssh_get_session (c->ssh));
  if (c->ch == NULL || ssh_channel_open_session (c->ch) != SSH_OK)
    return banger_guest_ssh_fail (c->ssh, "Opening an SSH channel for the workspace", error);
  if (ssh_channel_request_exec (c->ch, line) != SSH_OK)
    return banger_guest_ssh_fail (c->ssh, what, error);
  return TRUE;
}

/* Takes what the command wrote (stderr kept, bounded; stdout of the push
 * commands discarded) without waiting. */
static gboolean
chan_drain (Chan *c, gboolean stdout_too, GError **error)
{
  char buf[4096];

  for (int is_err = 1; is_err >= (stdout_too ? 0 : 1); is_err--)
    for (;;)
      {
        int n = ssh_channel_read_nonblocking (c->ch, buf, sizeof buf, is_err);
        if (n == SSH_ERROR)
          return banger_guest_ssh_fail (c->ssh, c->what, error);
        if (n <= 0)
          break;
        if (is_err && c->err->len < BANGER_WS_STREAM_STDERR_MAX)
          g_string_append_len (c->err, buf, MIN ((gsize)n, BANGER_WS_STREAM_STDERR_MAX - c->err->len));
        if (!is_err && c->on_stdout != NULL && !c->on_stdout (c->user, buf, (gsize)n, error))
          return FALSE;
      }
  return TRUE;
}

/* The guest's stderr, quoted for a message. */
static char *
chan_stderr (Chan *c)
{
  g_autofree char *s = g_strstrip (g_strdup (c->err->str));
  return s[0] ? banger_quote (s) : g_strdup ("(nothing on stderr)");
}

static gboolean
chan_write_all (Chan *c, const void *data, gsize len, GError **error)
{
  const char *p = data;

  while (len > 0)
    {
      int n = ssh_channel_write (c->ch, p, (uint32_t)MIN (len, WRITE_CHUNK));
      if (n == SSH_ERROR || n < 0)
        {
          g_autofree char *q = NULL;
          chan_drain (c, FALSE, NULL);
          if (g_cancellable_is_cancelled (c->cancellable))
            return banger_guest_ssh_fail (c->ssh, c->what, error);
          q = chan_stderr (c);
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                       "%s: the guest stopped reading (%s)", c->what, q);
          return FALSE;
        }
      p += n;
      len -= (gsize)n;
      if (!chan_drain (c, FALSE, error))
        return FALSE;
    }
  return TRUE;
}

/* EOF on the command's stdin, then its output until EOF, then its exit
 * status. */
static gboolean
chan_finish (Chan *c, int *out_status, GError **error)
{
  gint64 last = g_get_monotonic_time ();

  if (!c->eof_sent && ssh_channel_send_eof (c->ch) != SSH_OK && !ssh_channel_is_closed (c->ch))
    return banger_guest_ssh_fail (c->ssh, c->what, error);
  c->eof_sent = TRUE;
  while (!ssh_channel_is_eof (c->ch) && !ssh_channel_is_closed (c->ch))
    {
      gsize before = c->err->len;
      int n = ssh_channel_poll_timeout (c->ch, 1000, 0);
      if (n == SSH_ERROR)
        return banger_guest_ssh_fail (c->ssh, c->what, error);
      if (!chan_drain (c, TRUE, error))
        return FALSE;
      if (n > 0 || c->err->len != before)
        last = g_get_monotonic_time ();
      if (g_cancellable_is_cancelled (c->cancellable))
        return banger_guest_ssh_fail (c->ssh, c->what, error);
      if (g_get_monotonic_time () - last > STALL_US)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_TIMED_OUT,
                       "%s: the guest did not finish within %d s", c->what,
                       (int)(STALL_US / G_USEC_PER_SEC));
          return FALSE;
        }
    }
  if (!chan_drain (c, TRUE, error))
    return FALSE;
  *out_status = ssh_channel_get_exit_status (c->ch);
  return TRUE;
}

/* Runs COMMAND in the guest root with @list on its stdin. */
static gboolean
run_with_input (BangerWsSftp *sftp, const char *what, const char *command, GString *list,
                int *out_status, char **out_stderr, GCancellable *cancellable, GError **error)
{
  Chan c = { 0 };
  gboolean ok = chan_open (&c, sftp, what, command, cancellable, error)
                && chan_write_all (&c, list->str, list->len, error)
                && chan_finish (&c, out_status, error);

  if (ok)
    *out_stderr = chan_stderr (&c);
  chan_clear (&c);
  return ok;
}

gboolean
banger_ws_stream_remove (BangerWsSftp *sftp, GPtrArray *files, GPtrArray *dirs,
                         GCancellable *cancellable, GError **error)
{
  for (int pass = 0; pass < 2; pass++)
    {
      GPtrArray *paths = pass == 0 ? files : dirs;
      g_autoptr (GString) list = g_string_new (NULL);
      g_autofree char *err = NULL;
      int status = -1;

      if (paths == NULL || paths->len == 0)
        continue;
      for (guint i = 0; i < paths->len; i++)
        g_string_append_len (list, paths->pdata[i], (gssize)strlen (paths->pdata[i]) + 1);
      if (!run_with_input (sftp,
                           pass == 0 ? "Removing files in the guest's workspace"
                                     : "Removing directories in the guest's workspace",
                           pass == 0 ? "xargs -0 -r rm -f --" : "xargs -0 -r rmdir --", list,
                           &status, &err, cancellable, error))
        return FALSE;
      if (status != 0)
        {
          /* rmdir's "Directory not empty": the guest added something */
          g_set_error (error, BANGER_ERROR,
                       pass == 1 && strstr (err, "not empty") != NULL ? BANGER_ERROR_CONFLICT
                                                                       : BANGER_ERROR_FAILED,
                       pass == 1 ? "A guest directory to remove is not empty or could not be "
                                   "removed (exit status %d): %s"
                                 : "Removing files in the guest's workspace failed (exit "
                                   "status %d): %s",
                       status, err);
          return FALSE;
        }
    }
  return TRUE;
}

/* --------------------------------------------------------------- listing */

/* One line of `stat -c '%f %s %Y %n'`: raw mode (hex), size, mtime
 * (seconds), "./PATH". */
typedef struct
{
  BangerWsManifest *m;
  GPtrArray *symlinks;
  GString *line;
} Listing;

static gboolean
listing_line (Listing *l, const char *line, GError **error)
{
  const char *p = line;
  char *end;
  guint64 mode, size;
  gint64 mtime;
  BangerWsType t;
  BangerWsEntry *e;

  errno = 0;
  mode = g_ascii_strtoull (p, &end, 16);
  if (end == p || *end != ' ')
    goto bad;
  p = end + 1;
  size = g_ascii_strtoull (p, &end, 10);
  if (end == p || *end != ' ')
    goto bad;
  p = end + 1;
  mtime = g_ascii_strtoll (p, &end, 10);
  if (end == p || *end != ' ' || errno != 0)
    goto bad;
  p = end + 1;
  if (g_str_equal (p, "."))
    return TRUE;
  if (!g_str_has_prefix (p, "./"))
    goto bad;
  p += 2;
  if (!banger_ws_path_is_valid (p))
    {
      g_autofree char *q = banger_quote (p);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "The guest sent the workspace name '%s', which banger refuses", q);
      return FALSE;
    }
  switch (mode & S_IFMT)
    {
    case S_IFREG:
      t = BANGER_WS_FILE;
      break;
    case S_IFDIR:
      t = BANGER_WS_DIR;
      break;
    case S_IFLNK:
      t = BANGER_WS_SYMLINK;
      break;
    default:
      return TRUE; /* sockets, FIFOs, devices: not synced */
    }
  if (banger_ws_manifest_size (l->m) >= BANGER_WS_MAX_ENTRIES)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_LIMIT_EXCEEDED,
                   "The guest's workspace holds more than %d entries", BANGER_WS_MAX_ENTRIES);
      return FALSE;
    }
  e = banger_ws_entry_new (p, t);
  e->mode = t == BANGER_WS_SYMLINK ? 0 : (guint32)(mode & 07777);
  e->size = t == BANGER_WS_FILE ? size : 0;
  e->mtime_ns = t == BANGER_WS_DIR ? 0 : mtime * G_GINT64_CONSTANT (1000000000);
  if (t == BANGER_WS_SYMLINK)
    g_ptr_array_add (l->symlinks, g_strdup (e->path));
  banger_ws_manifest_add (l->m, e);
  return TRUE;

bad:
  {
    g_autofree char *q = banger_quote (line);
    g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                 "The guest's listing has the line '%s', which banger cannot read", q);
    return FALSE;
  }
}

static gboolean
listing_data (gpointer user, const char *data, gsize len, GError **error)
{
  Listing *l = user;

  for (gsize i = 0; i < len; i++)
    {
      if (data[i] != '\n')
        {
          if (l->line->len > BANGER_WS_MAX_PATH + 128)
            {
              g_set_error (error, BANGER_ERROR, BANGER_ERROR_LIMIT_EXCEEDED,
                           "The guest's listing has a line longer than %d bytes",
                           BANGER_WS_MAX_PATH + 128);
              return FALSE;
            }
          g_string_append_c (l->line, data[i]);
          continue;
        }
      if (!listing_line (l, l->line->str, error))
        return FALSE;
      g_string_truncate (l->line, 0);
    }
  return TRUE;
}

BangerWsManifest *
banger_ws_stream_scan (BangerWsSftp *sftp, gboolean *out_root_missing, GError **error)
{
  g_autoptr (BangerWsManifest) m = banger_ws_manifest_new ();
  g_autoptr (GPtrArray) symlinks = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GString) line = g_string_new (NULL);
  Listing l = { m, symlinks, line };
  Chan c = { 0 };
  gboolean missing = FALSE, ok;
  int status = -1;

  if (out_root_missing != NULL)
    *out_root_missing = FALSE;
  if (!banger_ws_sftp_check_root (sftp, &missing, error))
    return NULL;
  if (missing)
    {
      if (out_root_missing != NULL)
        *out_root_missing = TRUE;
      return g_steal_pointer (&m);
    }
  c.on_stdout = listing_data;
  c.user = &l;
  ok = chan_open (&c, sftp, "Listing the guest's workspace",
                  "find . -print0 | xargs -0 -r stat -c '%f %s %Y %n'", NULL, error)
       && chan_finish (&c, &status, error);
  if (ok && line->len > 0)
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                           "The guest's listing ends in the middle of a line");
      ok = FALSE;
    }
  if (ok && status != 0)
    {
      /* a directory it could not read would look like deletions */
      g_autofree char *q = chan_stderr (&c);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                   "Listing the guest's workspace failed (exit status %d): %s", status, q);
      ok = FALSE;
    }
  chan_clear (&c);
  if (!ok)
    return NULL;
  /* symlink targets: one SFTP readlink each */
  for (guint i = 0; i < symlinks->len; i++)
    {
      const char *path = symlinks->pdata[i];
      BangerWsEntry *e = banger_ws_manifest_lookup_mutable (m, path);
      g_autofree char *target = NULL;

      if (e == NULL || e->type != BANGER_WS_SYMLINK || e->target != NULL)
        continue; /* listed twice */
      target = banger_ws_sftp_readlink (sftp, path, error);
      if (target == NULL)
        return NULL;
      if (!banger_ws_symlink_stays_inside (path, target))
        {
          g_autofree char *qp = banger_quote (path);
          g_autofree char *qt = banger_quote (target);
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                       "The guest's workspace symlink '%s' points to '%s', outside the "
                       "workspace: refused",
                       qp, qt);
          return NULL;
        }
      e->target = g_steal_pointer (&target);
    }
  return g_steal_pointer (&m);
}

/* ------------------------------------------------------------------ push */

typedef struct
{
  Chan *chan;
  GError *error;
} PushCtx;

static la_ssize_t
push_write (struct archive *a, void *data, const void *buf, size_t len)
{
  PushCtx *p = data;

  if (p->error == NULL && !chan_write_all (p->chan, buf, len, &p->error))
    {
      archive_set_error (a, EIO, "%s", p->error->message);
      return -1;
    }
  return p->error == NULL ? (la_ssize_t)len : -1;
}

static gboolean
archive_fail (struct archive *a, PushCtx *p, const char *what, const char *path, GError **error)
{
  g_autofree char *q = banger_quote (path ? path : "");

  if (p->error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&p->error));
      return FALSE;
    }
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "%s '%s' to the guest: %s", what, q,
               archive_error_string (a) ? archive_error_string (a) : "libarchive failed");
  return FALSE;
}

static void
entry_basics (struct archive_entry *ae, const char *path, mode_t type, guint32 perm)
{
  archive_entry_set_pathname (ae, path);
  archive_entry_set_filetype (ae, type);
  archive_entry_set_perm (ae, perm);
  archive_entry_set_uid (ae, 0);
  archive_entry_set_gid (ae, 0);
}

/* One file: its header from the open file (not the scan), then exactly
 * that many bytes (a file that shrank meanwhile is padded by libarchive:
 * its hash is then unknown and the size differs next time). */
static gboolean
push_file (struct archive *a, PushCtx *p, int root_fd, BangerWsEntry *e, guchar *buf,
           guint64 *inout_bytes, GError **error)
{
  g_autoptr (WsArchiveEntry) ae = archive_entry_new ();
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  struct stat st;
  guint64 left, total = 0;
  int fd = openat (root_fd, e->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

  if (fd < 0 || fstat (fd, &st) < 0 || !S_ISREG (st.st_mode))
    {
      g_autofree char *q = banger_quote (e->path);
      int errsv = fd < 0 ? errno : 0;
      if (fd >= 0)
        close (fd);
      g_set_error (error, BANGER_ERROR,
                   errsv == ENOENT ? BANGER_ERROR_NOT_FOUND : BANGER_ERROR_FAILED,
                   "Cannot read the workspace file '%s': %s", q,
                   errsv ? g_strerror (errsv) : "not a regular file any more");
      return FALSE;
    }
  entry_basics (ae, e->path, AE_IFREG, st.st_mode & 07777);
  archive_entry_set_size (ae, st.st_size);
  archive_entry_set_mtime (ae, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
  if (archive_write_header (a, ae) != ARCHIVE_OK)
    {
      close (fd);
      return archive_fail (a, p, "Cannot send", e->path, error);
    }
  left = (guint64)st.st_size;
  while (left > 0)
    {
      ssize_t n = read (fd, buf, MIN (left, (guint64)IO_BUF));
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          g_autofree char *q = banger_quote (e->path);
          int errsv = errno;
          close (fd);
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "Cannot read '%s': %s", q,
                       g_strerror (errsv));
          return FALSE;
        }
      if (n == 0)
        break; /* shrank since the fstat */
      if (archive_write_data (a, buf, (size_t)n) != n)
        {
          close (fd);
          return archive_fail (a, p, "Cannot send", e->path, error);
        }
      g_checksum_update (sum, buf, n);
      left -= (guint64)n;
      total += (guint64)n;
    }
  close (fd);
  if (archive_write_finish_entry (a) != ARCHIVE_OK)
    return archive_fail (a, p, "Cannot send", e->path, error);
  e->mode = st.st_mode & 07777;
  e->size = (guint64)st.st_size;
  e->mtime_ns = (gint64)st.st_mtim.tv_sec * G_GINT64_CONSTANT (1000000000) + st.st_mtim.tv_nsec;
  g_free (e->hash);
  e->hash = left == 0 ? g_strdup (g_checksum_get_string (sum)) : NULL;
  *inout_bytes += total;
  return TRUE;
}

gboolean
banger_ws_stream_push (BangerWsSftp *sftp, int host_root_fd, GPtrArray *entries,
                       guint64 *inout_bytes, GCancellable *cancellable, GError **error)
{
  Chan c = { 0 };
  PushCtx p = { &c, NULL };
  struct archive *a = NULL;
  g_autofree guchar *buf = NULL;
  gboolean ok = FALSE;
  gint64 now_s = g_get_real_time () / G_USEC_PER_SEC;
  int status = -1;

  if (entries->len == 0)
    return TRUE;
  /* -o: owner from the archive is 0:0 anyway; mode and mtime restored */
  if (!chan_open (&c, sftp, "Sending the workspace to the guest's tar", "exec tar -x -o -f -",
                  cancellable, error))
    goto out;
  buf = g_malloc (IO_BUF);
  a = archive_write_new ();
  if (archive_write_set_format_gnutar (a) != ARCHIVE_OK || archive_write_add_filter_none (a) != ARCHIVE_OK
      || archive_write_set_bytes_per_block (a, WRITE_CHUNK) != ARCHIVE_OK
      || archive_write_set_bytes_in_last_block (a, 1) != ARCHIVE_OK
      || archive_write_open (a, &p, NULL, push_write, NULL) != ARCHIVE_OK)
    {
      archive_fail (a, &p, "Cannot start the archive of", "", error);
      goto out;
    }
  for (guint i = 0; i < entries->len; i++)
    {
      BangerWsEntry *e = entries->pdata[i];

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        goto out;
      if (e->type == BANGER_WS_FILE)
        {
          if (!push_file (a, &p, host_root_fd, e, buf, inout_bytes, error))
            goto out;
          continue;
        }
      {
        g_autoptr (WsArchiveEntry) ae = archive_entry_new ();
        if (e->type == BANGER_WS_DIR)
          {
            entry_basics (ae, e->path, AE_IFDIR, e->mode ? e->mode : 0755);
            archive_entry_set_mtime (ae, now_s, 0);
          }
        else
          {
            entry_basics (ae, e->path, AE_IFLNK, 0777);
            archive_entry_set_symlink (ae, e->target);
            archive_entry_set_mtime (ae, e->mtime_ns / 1000000000, 0);
          }
        if (archive_write_header (a, ae) != ARCHIVE_OK)
          {
            archive_fail (a, &p, "Cannot send", e->path, error);
            goto out;
          }
      }
    }
  if (archive_write_close (a) != ARCHIVE_OK)
    {
      archive_fail (a, &p, "Cannot send the end of the archive", "", error);
      goto out;
    }
  if (!chan_finish (&c, &status, error))
    goto out;
  if (status != 0)
    {
      g_autofree char *q = chan_stderr (&c);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                   "The guest's tar failed writing the workspace (exit status %d): %s", status,
                   q);
      goto out;
    }
  ok = TRUE;
out:
  if (a != NULL)
    archive_write_free (a);
  g_clear_error (&p.error);
  chan_clear (&c);
  return ok;
}

/* ------------------------------------------------------------------ pull */

gboolean
banger_ws_stream_extract (struct archive *a, int root_fd, GHashTable *wanted,
                          GHashTable *received, guint64 *inout_bytes, GCancellable *cancellable,
                          GError **error)
{
  g_autofree guchar *buf = g_malloc (IO_BUF);
  struct archive_entry *ae;
  int r;

  while ((r = archive_read_next_header (a, &ae)) == ARCHIVE_OK)
    {
      const char *name = archive_entry_pathname (ae);
      g_autoptr (GChecksum) sum = NULL;
      g_autofree char *tmp = NULL;
      BangerWsEntry *want;
      guint64 total = 0;
      int dir_fd = -1, fd;
      la_ssize_t n;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      want = name != NULL && banger_ws_path_is_valid (name) ? g_hash_table_lookup (wanted, name)
                                                            : NULL;
      if (want == NULL || g_hash_table_contains (received, name)
          || archive_entry_filetype (ae) != AE_IFREG)
        {
          g_autofree char *q = banger_quote (name ? name : "");
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                       "The guest's archive holds '%s', %s: refused, nothing of it written", q,
                       want == NULL ? "which banger did not ask for"
                       : archive_entry_filetype (ae) != AE_IFREG
                           ? "which is not a regular file"
                           : "a second time");
          return FALSE;
        }
      /* a hard link whose content came (or comes) with another name */
      if (archive_entry_size (ae) == 0 && archive_entry_nlink (ae) > 1)
        continue;
      fd = banger_ws_host_begin_file (root_fd, want->path, &tmp, &dir_fd, error);
      if (fd < 0)
        return FALSE;
      sum = g_checksum_new (G_CHECKSUM_SHA256);
      while ((n = archive_read_data (a, buf, IO_BUF)) > 0)
        {
          const guchar *p = buf;
          la_ssize_t left = n;
          while (left > 0)
            {
              ssize_t w = write (fd, p, (size_t)left);
              if (w < 0 && errno == EINTR)
                continue;
              if (w < 0)
                {
                  g_autofree char *q = banger_quote (want->path);
                  int errsv = errno;
                  banger_ws_host_abort_file (dir_fd, fd, tmp);
                  g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                               "Cannot write the pulled file '%s': %s", q, g_strerror (errsv));
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
          g_autofree char *q = banger_quote (want->path);
          banger_ws_host_abort_file (dir_fd, fd, tmp);
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                       "Reading '%s' from the guest's archive: %s", q,
                       archive_error_string (a) ? archive_error_string (a) : "failed");
          return FALSE;
        }
      want->mode = archive_entry_perm (ae) & 07777;
      want->mtime_ns = (gint64)archive_entry_mtime (ae) * G_GINT64_CONSTANT (1000000000);
      want->size = total;
      g_free (want->hash);
      want->hash = g_strdup (g_checksum_get_string (sum));
      if (!banger_ws_host_commit_file (dir_fd, fd, tmp, want, error))
        return FALSE;
      g_hash_table_add (received, want->path);
      *inout_bytes += total;
    }
  if (r != ARCHIVE_EOF)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL, "The guest's archive is malformed: %s",
                   archive_error_string (a) ? archive_error_string (a) : "libarchive failed");
      return FALSE;
    }
  return TRUE;
}

typedef struct
{
  Chan *chan;
  GString *list; /* the names for cpio's stdin */
  gsize sent;
  guchar *buf;
  GError *error;
} PullCtx;

static la_ssize_t
pull_read (struct archive *a, void *data, const void **out)
{
  PullCtx *p = data;
  Chan *c = p->chan;
  gint64 last = g_get_monotonic_time ();

  if (p->error != NULL)
    return -1;
  for (;;)
    {
      int n;
      /* the names go while the stream comes: cpio reads them as it writes */
      if (p->sent < p->list->len)
        {
          uint32_t w = ssh_channel_window_size (c->ch);
          if (w > 0)
            {
              n = ssh_channel_write (c->ch, p->list->str + p->sent,
                                     (uint32_t)MIN ((gsize)MIN (w, WRITE_CHUNK),
                                                    p->list->len - p->sent));
              if (n < 0)
                goto fail;
              p->sent += (gsize)n;
              last = g_get_monotonic_time ();
            }
          if (p->sent == p->list->len)
            {
              if (ssh_channel_send_eof (c->ch) != SSH_OK)
                goto fail;
              c->eof_sent = TRUE;
            }
        }
      n = ssh_channel_read_nonblocking (c->ch, p->buf, IO_BUF, 0);
      if (n == SSH_ERROR)
        goto fail;
      if (n > 0)
        {
          *out = p->buf;
          return n;
        }
      if (!chan_drain (c, FALSE, &p->error))
        goto failed;
      if (ssh_channel_is_eof (c->ch) || ssh_channel_is_closed (c->ch))
        return 0;
      if (g_cancellable_is_cancelled (c->cancellable))
        goto fail;
      if (g_get_monotonic_time () - last > STALL_US)
        {
          g_set_error (&p->error, BANGER_ERROR, BANGER_ERROR_TIMED_OUT,
                       "%s: nothing came for %d s", c->what, (int)(STALL_US / G_USEC_PER_SEC));
          goto failed;
        }
      n = ssh_channel_poll_timeout (c->ch, p->sent < p->list->len ? 10 : 1000, 0);
      if (n == SSH_ERROR)
        goto fail;
      if (n > 0)
        last = g_get_monotonic_time ();
    }
fail:
  banger_guest_ssh_fail (c->ssh, c->what, &p->error);
failed:
  archive_set_error (a, EIO, "%s", p->error->message);
  return -1;
}

gboolean
banger_ws_stream_pull (BangerWsSftp *sftp, int host_root_fd, GHashTable *wanted,
                       GHashTable *received, guint64 *inout_bytes, GCancellable *cancellable,
                       GError **error)
{
  Chan c = { 0 };
  g_autoptr (GString) list = g_string_new (NULL);
  g_autofree guchar *buf = NULL;
  PullCtx p = { &c, list, 0, NULL, NULL };
  struct archive *a = NULL;
  GHashTableIter it;
  gpointer key;
  gboolean ok = FALSE;
  int status = -1;

  if (g_hash_table_size (wanted) == 0)
    return TRUE;
  g_hash_table_iter_init (&it, wanted);
  while (g_hash_table_iter_next (&it, &key, NULL))
    g_string_append_len (list, key, (gssize)strlen (key) + 1);
  if (!chan_open (&c, sftp, "Fetching the workspace from the guest's cpio",
                  "exec cpio -o -H newc -0", cancellable, error))
    goto out;
  buf = g_malloc (IO_BUF);
  p.buf = buf;
  a = archive_read_new ();
  if (archive_read_support_format_cpio (a) != ARCHIVE_OK
      || archive_read_open (a, &p, NULL, pull_read, NULL) != ARCHIVE_OK)
    {
      if (p.error != NULL)
        g_propagate_error (error, g_steal_pointer (&p.error));
      else
        g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                     "The guest's archive cannot be read: %s",
                     archive_error_string (a) ? archive_error_string (a) : "libarchive failed");
      goto out;
    }
  if (!banger_ws_stream_extract (a, host_root_fd, wanted, received, inout_bytes, cancellable,
                                 error))
    {
      /* the transport's error says more than libarchive's echo of it */
      if (p.error != NULL && error != NULL)
        {
          g_clear_error (error);
          g_propagate_error (error, g_steal_pointer (&p.error));
        }
      else if (error != NULL && g_error_matches (*error, BANGER_ERROR, BANGER_ERROR_PROTOCOL))
        {
          /* a cut stream: cpio stopped (a file gone since the listing) */
          g_autofree char *q = NULL;
          chan_drain (&c, FALSE, NULL);
          q = chan_stderr (&c);
          g_prefix_error (error, "The guest's cpio said %s: ", q);
        }
      goto out;
    }
  /* the rest of the stream (cpio's padding) and the exit status; a
   * missing file makes cpio say so and exit 1: not an error here, the
   * caller fetches what did not come */
  while (p.error == NULL && !ssh_channel_is_eof (c.ch) && !ssh_channel_is_closed (c.ch))
    {
      const void *dummy;
      if (pull_read (a, &p, &dummy) <= 0)
        break;
    }
  if (p.error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&p.error));
      goto out;
    }
  if (!chan_finish (&c, &status, error))
    goto out;
  ok = TRUE;
out:
  if (a != NULL)
    archive_read_free (a);
  g_clear_error (&p.error);
  chan_clear (&c);
  return ok;
}
