/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "banger-error-private.h"
#include "banger-path.h"
#include "banger-priv-dirs.h"

#define MAX_DEPTH 32

static gboolean
valid_component (const char *c)
{
  return c[0] != '\0' && !g_str_equal (c, ".") && !g_str_equal (c, "..")
         && strchr (c, '/') == NULL;
}

int
banger_priv_ensure_dir (const char *root, const char *rel, mode_t mode, uid_t uid, gid_t gid,
                        GError **error)
{
  g_auto (GStrv) parts = g_strsplit (rel, "/", -1);
  int fd = open (root, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);

  if (fd < 0)
    {
      banger_set_error_from_errno (error, errno, "Cannot open '%s'", root);
      return -1;
    }
  for (guint i = 0; parts[i] != NULL; i++)
    {
      gboolean last = parts[i + 1] == NULL;
      gboolean created;
      struct stat st;
      int next;

      if (!valid_component (parts[i]))
        {
          close (fd);
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                       "Internal: bad directory path '%s'", rel);
          return -1;
        }
      created = mkdirat (fd, parts[i], last ? mode : 0755) == 0;
      if (!created && errno != EEXIST)
        {
          int errsv = errno;
          close (fd);
          banger_set_error_from_errno (error, errsv, "Cannot create '%s' in '%s'", parts[i], root);
          return -1;
        }
      next = banger_open_beneath (fd, parts[i], O_RDONLY | O_DIRECTORY, error);
      close (fd);
      if (next < 0)
        return -1;
      fd = next;
      if (fstat (fd, &st) < 0 || !S_ISDIR (st.st_mode))
        {
          close (fd);
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
                       "'%s' in '%s' is not a directory", parts[i], root);
          return -1;
        }
      /* The helper's umask (0077) would leave a new intermediate directory
       * closed to the owner, who must reach its own run dir below it. */
      if (!last && created && fchmod (fd, 0755) < 0)
        {
          int errsv = errno;
          close (fd);
          banger_set_error_from_errno (error, errsv, "Cannot set the mode of '%s'", parts[i]);
          return -1;
        }
      if (last && (fchown (fd, uid, gid) < 0 || fchmod (fd, mode) < 0))
        {
          int errsv = errno;
          close (fd);
          banger_set_error_from_errno (error, errsv, "Cannot set the owner of '%s'", rel);
          return -1;
        }
    }
  return fd;
}

static guint64
mount_id_of (int dirfd, const char *name)
{
  struct statx stx;

  if (statx (dirfd, name, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT, STATX_MNT_ID,
             &stx) < 0
      || !(stx.stx_mask & STATX_MNT_ID))
    return 0;
  return stx.stx_mnt_id;
}

/* The entry @name of @fd is a mount point (its mount id is not @mnt).
 * Without @detach that is refused; with it, whatever is mounted there is
 * detached (umount2 MNT_DETACH, never following a symlink, as often as
 * mounts are stacked) until the entry is @mnt's own again. */
static gboolean
leave_mount (int fd, const char *name, guint64 mnt, gboolean detach, GError **error)
{
  g_autofree char *path = g_strdup_printf ("/proc/self/fd/%d/%s", fd, name);

  for (guint i = 0; detach && i < 8; i++)
    {
      if (umount2 (path, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && errno != EINVAL)
        return banger_set_error_from_errno (error, errno, "Cannot detach the mount '%s'", name);
      if (mount_id_of (fd, name) == mnt)
        return TRUE;
    }
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
               "'%s' is a mount point; refusing to remove across it", name);
  return FALSE;
}

/* Empty the directory @fd (mount id @mnt), depth-first.  Nothing is ever
 * removed through a mount: a mount point is refused or (@detach) detached
 * first, so a bind-mounted file's or directory's source is never touched. */
static gboolean
empty_dir (int fd, guint64 mnt, gboolean detach, guint depth, GError **error)
{
  DIR *d;
  struct dirent *de;
  gboolean ok = TRUE;
  int dup_fd;

  if (depth > MAX_DEPTH)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_LIMIT_EXCEEDED,
                   "Directory tree deeper than %d levels", MAX_DEPTH);
      return FALSE;
    }
  dup_fd = fcntl (fd, F_DUPFD_CLOEXEC, 3);
  if (dup_fd < 0 || (d = fdopendir (dup_fd)) == NULL)
    {
      if (dup_fd >= 0)
        close (dup_fd);
      return banger_set_error_from_errno (error, errno, "Cannot read a directory");
    }
  while (ok && (de = readdir (d)) != NULL)
    {
      struct stat st;

      if (g_str_equal (de->d_name, ".") || g_str_equal (de->d_name, ".."))
        continue;
      if (fstatat (fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        {
          if (errno == ENOENT)
            continue;
          ok = banger_set_error_from_errno (error, errno, "Cannot stat '%s'", de->d_name);
          break;
        }
      if (!S_ISLNK (st.st_mode) && mount_id_of (fd, de->d_name) != mnt)
        {
          if (!leave_mount (fd, de->d_name, mnt, detach, error))
            {
              ok = FALSE;
              break;
            }
          /* what was under the mount: the entry of this directory's own */
          if (fstatat (fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            {
              if (errno == ENOENT)
                continue;
              ok = banger_set_error_from_errno (error, errno, "Cannot stat '%s'", de->d_name);
              break;
            }
        }
      if (S_ISDIR (st.st_mode))
        {
          int child = openat (fd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (child < 0)
            {
              ok = banger_set_error_from_errno (error, errno, "Cannot open '%s'", de->d_name);
              break;
            }
          /* (re-checked on the fd: a directory swapped in meanwhile) */
          if (mount_id_of (child, "") != mnt)
            {
              close (child);
              g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
                           "'%s' is a mount point; refusing to remove across it", de->d_name);
              ok = FALSE;
              break;
            }
          ok = empty_dir (child, mnt, detach, depth + 1, error);
          close (child);
          if (ok && unlinkat (fd, de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT)
            ok = banger_set_error_from_errno (error, errno, "Cannot remove '%s'", de->d_name);
        }
      else if (unlinkat (fd, de->d_name, 0) < 0 && errno != ENOENT)
        ok = banger_set_error_from_errno (error, errno, "Cannot remove '%s'", de->d_name);
    }
  closedir (d);
  return ok;
}

static gboolean
remove_tree (const char *root, const char *rel, gboolean detach, gboolean *out_removed,
             GError **error)
{
  g_autofree char *parent_rel = g_path_get_dirname (rel);
  g_autofree char *base = g_path_get_basename (rel);
  int root_fd, parent_fd, fd;
  guint64 mnt;
  gboolean ok;

  *out_removed = FALSE;
  if (!valid_component (base) || g_path_is_absolute (rel))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "Internal: bad directory path '%s'", rel);
      return FALSE;
    }
  root_fd = open (root, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (root_fd < 0)
    {
      if (errno == ENOENT)
        return TRUE;
      return banger_set_error_from_errno (error, errno, "Cannot open '%s'", root);
    }
  if (g_str_equal (parent_rel, "."))
    parent_fd = fcntl (root_fd, F_DUPFD_CLOEXEC, 3);
  else
    {
      g_autoptr (GError) local_error = NULL;
      parent_fd = banger_open_beneath (root_fd, parent_rel, O_RDONLY | O_DIRECTORY, &local_error);
      if (parent_fd < 0)
        {
          close (root_fd);
          if (g_error_matches (local_error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND))
            return TRUE;
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
    }
  close (root_fd);
  mnt = mount_id_of (parent_fd, "");
  fd = openat (parent_fd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    {
      int errsv = errno;
      close (parent_fd);
      if (errsv == ENOENT)
        return TRUE;
      if (errsv == ENOTDIR || errsv == ELOOP)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
                       "'%s' is not a directory (a symlink?); leaving it alone", rel);
          return FALSE;
        }
      return banger_set_error_from_errno (error, errsv, "Cannot open '%s'", rel);
    }
  if (mount_id_of (fd, "") != mnt)
    {
      close (fd);
      if (!leave_mount (parent_fd, base, mnt, detach, error))
        {
          close (parent_fd);
          return FALSE;
        }
      fd = openat (parent_fd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0 || mount_id_of (fd, "") != mnt)
        {
          int errsv = errno;
          if (fd >= 0)
            close (fd);
          close (parent_fd);
          if (fd < 0 && errsv == ENOENT)
            return TRUE;
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
                       "'%s' cannot be reopened on its own mount; leaving it alone", rel);
          return FALSE;
        }
    }
  ok = empty_dir (fd, mnt, detach, 0, error);
  close (fd);
  if (ok && unlinkat (parent_fd, base, AT_REMOVEDIR) < 0 && errno != ENOENT)
    ok = banger_set_error_from_errno (error, errno, "Cannot remove '%s'", rel);
  close (parent_fd);
  if (ok)
    *out_removed = TRUE;
  return ok;
}

gboolean
banger_priv_remove_tree (const char *root, const char *rel, gboolean *out_removed, GError **error)
{
  return remove_tree (root, rel, FALSE, out_removed, error);
}

gboolean
banger_priv_remove_jail_tree (const char *root, const char *rel, gboolean *out_removed,
                              GError **error)
{
  return remove_tree (root, rel, TRUE, out_removed, error);
}
