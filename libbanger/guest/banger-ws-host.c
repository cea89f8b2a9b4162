/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The host side of a workspace (see banger-ws-host.h). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "banger-error.h"
#include "banger-quote.h"
#include "banger-ws-host.h"

static gboolean
fail_errno (GError **error, int errsv, const char *what, const char *path)
{
  g_autofree char *q = banger_quote (path);
  g_set_error (error, BANGER_ERROR,
               errsv == ENOENT   ? BANGER_ERROR_NOT_FOUND
               : errsv == EACCES ? BANGER_ERROR_PERMISSION_DENIED
               : errsv == ELOOP  ? BANGER_ERROR_PERMISSION_DENIED
                                 : BANGER_ERROR_FAILED,
               "%s '%s': %s", what, q, g_strerror (errsv));
  return FALSE;
}

int
banger_ws_host_open_root (const char *dir, GError **error)
{
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

  if (fd < 0)
    {
      int errsv = errno;
      if (errsv == ENOTDIR || errsv == ELOOP)
        {
          g_autofree char *q = banger_quote (dir);
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                       "The workspace '%s' is not a directory (or is a symlink)", q);
          return -1;
        }
      fail_errno (error, errsv, "Cannot open the workspace", dir);
      return -1;
    }
  return fd;
}

char *
banger_ws_host_hash (int root_fd, const char *path, GError **error)
{
  int fd = openat (root_fd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  guchar buf[65536];
  ssize_t n;

  /* a path with directories is resolved by openat; its components were
   * lstat'ed by the scan and the tree is the user's own */
  if (fd < 0)
    {
      fail_errno (error, errno, "Cannot open", path);
      return NULL;
    }
  while ((n = read (fd, buf, sizeof buf)) > 0)
    g_checksum_update (sum, buf, n);
  if (n < 0)
    {
      int errsv = errno;
      close (fd);
      fail_errno (error, errsv, "Cannot read", path);
      return NULL;
    }
  close (fd);
  return g_strdup (g_checksum_get_string (sum));
}

typedef struct
{
  int root_fd;
  const BangerWsManifest *base;
  BangerWsManifest *out;
  guint skipped;
  GCancellable *cancellable;
} Scan;

static gboolean
scan_dir (Scan *s, int dir_fd, const char *rel, guint depth, GError **error)
{
  DIR *d;
  struct dirent *de;
  /* a fresh open file description: a dup would share (and move) the
   * caller's directory offset */
  int fd2 = openat (dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  gboolean ok = TRUE;

  if (fd2 < 0 || (d = fdopendir (fd2)) == NULL)
    {
      if (fd2 >= 0)
        close (fd2);
      return fail_errno (error, errno, "Cannot read the directory", rel[0] ? rel : ".");
    }
  while (ok && (errno = 0, de = readdir (d)) != NULL)
    {
      g_autofree char *path = NULL;
      struct stat st;
      BangerWsEntry *e;

      if (g_str_equal (de->d_name, ".") || g_str_equal (de->d_name, ".."))
        continue;
      if (g_cancellable_set_error_if_cancelled (s->cancellable, error))
        {
          ok = FALSE;
          break;
        }
      path = rel[0] ? g_strconcat (rel, "/", de->d_name, NULL) : g_strdup (de->d_name);
      if (!banger_ws_path_is_valid (path))
        {
          g_autofree char *q = banger_quote (path);
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                       "The workspace path '%s' is too long, too deep or holds a control "
                       "character",
                       q);
          ok = FALSE;
          break;
        }
      if (banger_ws_manifest_size (s->out) >= BANGER_WS_MAX_ENTRIES)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_LIMIT_EXCEEDED,
                       "The workspace holds more than %d entries", BANGER_WS_MAX_ENTRIES);
          ok = FALSE;
          break;
        }
      if (fstatat (dirfd (d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        {
          if (errno == ENOENT)
            continue; /* went away meanwhile */
          ok = fail_errno (error, errno, "Cannot stat", path);
          break;
        }
      if (S_ISREG (st.st_mode))
        {
          const BangerWsEntry *b = banger_ws_manifest_lookup (s->base, path);
          e = banger_ws_entry_new (path, BANGER_WS_FILE);
          e->mode = st.st_mode & 07777;
          e->size = (guint64)st.st_size;
          e->mtime_ns = (gint64)st.st_mtim.tv_sec * G_GINT64_CONSTANT (1000000000)
                        + st.st_mtim.tv_nsec;
          if (b != NULL && b->type == BANGER_WS_FILE && b->size == e->size && b->mode == e->mode
              && b->mtime_ns != e->mtime_ns && b->hash != NULL)
            {
              e->hash = banger_ws_host_hash (s->root_fd, path, error);
              if (e->hash == NULL)
                {
                  banger_ws_entry_free (e);
                  ok = FALSE;
                  break;
                }
            }
          banger_ws_manifest_add (s->out, e);
        }
      else if (S_ISLNK (st.st_mode))
        {
          char target[BANGER_WS_MAX_PATH + 1];
          ssize_t n = readlinkat (dirfd (d), de->d_name, target, sizeof target - 1);
          if (n < 0)
            {
              ok = fail_errno (error, errno, "Cannot read the symlink", path);
              break;
            }
          target[n] = '\0';
          if (!banger_ws_symlink_stays_inside (path, target))
            {
              g_autofree char *qp = banger_quote (path);
              g_autofree char *qt = banger_quote (target);
              g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                           "The workspace symlink '%s' points to '%s', outside the workspace: "
                           "banger keeps symlinks as symlinks and follows none out of it",
                           qp, qt);
              ok = FALSE;
              break;
            }
          e = banger_ws_entry_new (path, BANGER_WS_SYMLINK);
          e->target = g_strdup (target);
          e->mtime_ns = (gint64)st.st_mtim.tv_sec * G_GINT64_CONSTANT (1000000000)
                        + st.st_mtim.tv_nsec;
          banger_ws_manifest_add (s->out, e);
        }
      else if (S_ISDIR (st.st_mode))
        {
          int sub;
          if (depth + 1 >= BANGER_WS_MAX_DEPTH)
            {
              g_set_error (error, BANGER_ERROR, BANGER_ERROR_LIMIT_EXCEEDED,
                           "The workspace is deeper than %d directories", BANGER_WS_MAX_DEPTH);
              ok = FALSE;
              break;
            }
          e = banger_ws_entry_new (path, BANGER_WS_DIR);
          e->mode = st.st_mode & 07777;
          banger_ws_manifest_add (s->out, e);
          sub = openat (dirfd (d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (sub < 0)
            {
              ok = fail_errno (error, errno, "Cannot open", path);
              break;
            }
          ok = scan_dir (s, sub, path, depth + 1, error);
          close (sub);
        }
      else
        s->skipped++;
    }
  if (ok && errno != 0 && de == NULL)
    ok = fail_errno (error, errno, "Cannot read the directory", rel[0] ? rel : ".");
  closedir (d);
  return ok;
}

BangerWsManifest *
banger_ws_host_scan (int root_fd, const BangerWsManifest *base, guint *out_skipped,
                     GCancellable *cancellable, GError **error)
{
  g_autoptr (BangerWsManifest) m = banger_ws_manifest_new ();
  Scan s = { root_fd, base, m, 0, cancellable };

  if (!scan_dir (&s, root_fd, "", 0, error))
    return NULL;
  if (out_skipped)
    *out_skipped = s.skipped;
  return g_steal_pointer (&m);
}

int
banger_ws_host_open_parent (int root_fd, const char *path, gboolean create, const char **out_name,
                            GError **error)
{
  const char *slash = strrchr (path, '/');
  g_auto (GStrv) parts = NULL;
  int fd;

  if (!banger_ws_path_is_valid (path))
    {
      g_autofree char *q = banger_quote (path);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "'%s' is not a workspace path", q);
      return -1;
    }
  *out_name = slash ? slash + 1 : path;
  fd = fcntl (root_fd, F_DUPFD_CLOEXEC, 3);
  if (fd < 0 || slash == NULL)
    return fd;
  {
    g_autofree char *dir = g_strndup (path, (gsize)(slash - path));
    parts = g_strsplit (dir, "/", -1);
  }
  for (guint i = 0; parts[i]; i++)
    {
      int next = openat (fd, parts[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (next < 0 && errno == ENOENT && create)
        {
          if (mkdirat (fd, parts[i], 0755) < 0 && errno != EEXIST)
            {
              int errsv = errno;
              close (fd);
              fail_errno (error, errsv, "Cannot create the directory of", path);
              return -1;
            }
          next = openat (fd, parts[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
      if (next < 0)
        {
          int errsv = errno;
          close (fd);
          fail_errno (error, errsv == ENOTDIR ? ELOOP : errsv, "Cannot open the directory of",
                      path);
          return -1;
        }
      close (fd);
      fd = next;
    }
  return fd;
}

/* rmdir or unlink @name in @dir_fd (a directory must be empty). */
static gboolean
remove_at (int dir_fd, const char *name, const char *path, GError **error)
{
  struct stat st;

  if (fstatat (dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? TRUE : fail_errno (error, errno, "Cannot stat", path);
  if (unlinkat (dir_fd, name, S_ISDIR (st.st_mode) ? AT_REMOVEDIR : 0) < 0 && errno != ENOENT)
    {
      if (errno == ENOTEMPTY || errno == EEXIST)
        {
          g_autofree char *q = banger_quote (path);
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_CONFLICT,
                       "The directory '%s' is not empty: not removed", q);
          return FALSE;
        }
      return fail_errno (error, errno, "Cannot remove", path);
    }
  return TRUE;
}

gboolean
banger_ws_host_remove (int root_fd, const char *path, GError **error)
{
  const char *name;
  int dfd = banger_ws_host_open_parent (root_fd, path, FALSE, &name, error);
  gboolean ok;

  if (dfd < 0)
    {
      if (error && *error && (*error)->code == BANGER_ERROR_NOT_FOUND)
        {
          g_clear_error (error);
          return TRUE;
        }
      return FALSE;
    }
  ok = remove_at (dfd, name, path, error);
  close (dfd);
  return ok;
}

gboolean
banger_ws_host_make (int root_fd, const BangerWsEntry *entry, GError **error)
{
  const char *name;
  int dfd = banger_ws_host_open_parent (root_fd, entry->path, TRUE, &name, error);
  struct stat st;
  gboolean ok = TRUE;

  if (dfd < 0)
    return FALSE;
  if (fstatat (dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
    {
      gboolean same_type = entry->type == BANGER_WS_DIR ? S_ISDIR (st.st_mode) : FALSE;
      if (!same_type && !remove_at (dfd, name, entry->path, error))
        {
          close (dfd);
          return FALSE;
        }
    }
  if (entry->type == BANGER_WS_DIR)
    {
      if (mkdirat (dfd, name, entry->mode ? entry->mode : 0755) < 0 && errno != EEXIST)
        ok = fail_errno (error, errno, "Cannot create the directory", entry->path);
      else
        {
          int sub = openat (dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (sub < 0 || fchmod (sub, entry->mode ? entry->mode : 0755) < 0)
            ok = fail_errno (error, errno, "Cannot set the mode of", entry->path);
          if (sub >= 0)
            close (sub);
        }
    }
  else if (entry->type == BANGER_WS_SYMLINK)
    {
      if (!banger_ws_symlink_stays_inside (entry->path, entry->target))
        {
          g_autofree char *q = banger_quote (entry->path);
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                       "The symlink '%s' points outside the workspace", q);
          ok = FALSE;
        }
      else if (symlinkat (entry->target, dfd, name) < 0)
        ok = fail_errno (error, errno, "Cannot create the symlink", entry->path);
      else
        {
          struct timespec ts[2] = { { 0, UTIME_OMIT },
                                    { entry->mtime_ns / 1000000000, entry->mtime_ns % 1000000000 } };
          utimensat (dfd, name, ts, AT_SYMLINK_NOFOLLOW);
        }
    }
  else
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                           "banger_ws_host_make: files go through begin/commit");
      ok = FALSE;
    }
  close (dfd);
  return ok;
}

int
banger_ws_host_begin_file (int root_fd, const char *path, char **out_tmp_name, int *out_dir_fd,
                           GError **error)
{
  const char *name;
  int dfd = banger_ws_host_open_parent (root_fd, path, TRUE, &name, error);
  int fd;

  if (dfd < 0)
    return -1;
  for (int attempt = 0; attempt < 100; attempt++)
    {
      g_autofree char *tmp = g_strdup_printf (".banger-pull-%08x", g_random_int ());
      fd = openat (dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
                   0600);
      if (fd >= 0)
        {
          *out_tmp_name = g_steal_pointer (&tmp);
          *out_dir_fd = dfd;
          return fd;
        }
      if (errno != EEXIST)
        break;
    }
  fail_errno (error, errno, "Cannot create a file beside", path);
  close (dfd);
  return -1;
}

gboolean
banger_ws_host_commit_file (int dir_fd, int fd, const char *tmp_name, const BangerWsEntry *entry,
                            GError **error)
{
  const char *slash = strrchr (entry->path, '/');
  const char *name = slash ? slash + 1 : entry->path;
  struct timespec ts[2] = { { 0, UTIME_OMIT },
                            { entry->mtime_ns / 1000000000, entry->mtime_ns % 1000000000 } };
  struct stat st;

  if (fchmod (fd, entry->mode) < 0 || futimens (fd, ts) < 0)
    {
      int errsv = errno;
      banger_ws_host_abort_file (dir_fd, fd, tmp_name);
      return fail_errno (error, errsv, "Cannot set the mode or time of", entry->path);
    }
  /* a directory in the way (type change) is removed first; a file or
   * symlink is replaced by the rename itself */
  if (fstatat (dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR (st.st_mode)
      && !remove_at (dir_fd, name, entry->path, error))
    {
      banger_ws_host_abort_file (dir_fd, fd, tmp_name);
      return FALSE;
    }
  if (renameat (dir_fd, tmp_name, dir_fd, name) < 0)
    {
      int errsv = errno;
      banger_ws_host_abort_file (dir_fd, fd, tmp_name);
      return fail_errno (error, errsv, "Cannot put in place", entry->path);
    }
  close (fd);
  close (dir_fd);
  return TRUE;
}

void
banger_ws_host_abort_file (int dir_fd, int fd, const char *tmp_name)
{
  close (fd);
  unlinkat (dir_fd, tmp_name, 0);
  close (dir_fd);
}
