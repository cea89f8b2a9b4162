/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Files a request names (work disks, COW files, base images) are opened
 * beneath a fixed root, one component at a time, and checked on the fd:
 * what is checked is what is used.  Files root makes in a directory the
 * owner controls (the VMM log) are created fresh, never re-used. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "banger-error-private.h"
#include "banger-path.h"
#include "banger-priv-ops-private.h"
#include "banger-quote.h"

/* Could the owner (@uid, primary group @gid) search the directory @st?
 * Mode bits only: supplementary groups and ACLs are not consulted, so the
 * answer errs towards "no" (an ACL that denies what the bits allow is the
 * exception, doc/security.md). */
static gboolean
owner_can_search (const struct stat *st, uid_t uid, gid_t gid)
{
  if (!S_ISDIR (st->st_mode))
    return FALSE;
  if (st->st_uid == uid)
    return (st->st_mode & S_IXUSR) != 0;
  if (gid != (gid_t) -1 && st->st_gid == gid)
    return (st->st_mode & S_IXGRP) != 0;
  return (st->st_mode & S_IXOTH) != 0;
}

static int
hidden (GError **error, const char *q)
{
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
               "'%s' does not exist or banger's owner cannot reach it", q);
  return -1;
}

int
banger_priv_open_owned_file_as (const char *root, const char *path, uid_t uid, gid_t gid,
                                gboolean allow_root, struct stat *out_st, GError **error)
{
  g_autofree char *q = banger_quote (path);
  g_auto (GStrv) parts = NULL;
  struct stat st;
  const char *rel;
  int fd;

  if (!banger_priv_validate_abs_path (path, error))
    return -1;
  if (root == NULL || !banger_path_is_under (path, root))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
                   "'%s' is not under banger's directory '%s'", q, root ? root : "(unset)");
      return -1;
    }
  /* path has no "." / ".." / "//" (checked above) and root is a prefix by
   * whole components, so the rest is the path relative to root. */
  rel = path + strlen (root);
  while (*rel == '/')
    rel++;
  fd = open (root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    {
      banger_set_error_from_errno (error, errno, "Cannot open '%s'", root);
      return -1;
    }
  /* One component at a time, each looked up only from a directory fd the
   * owner could search itself: nothing is revealed about a path the owner
   * could not stat ("missing" and "hidden" are the same answer). */
  parts = g_strsplit (rel, "/", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      g_autoptr (GError) local_error = NULL;
      int next;

      if (fstat (fd, &st) < 0 || !owner_can_search (&st, uid, gid))
        {
          close (fd);
          return hidden (error, q);
        }
      next = banger_open_beneath (fd, parts[i], O_PATH, &local_error);
      close (fd);
      if (next < 0)
        {
          if (g_error_matches (local_error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND))
            return hidden (error, q);
          g_propagate_error (error, g_steal_pointer (&local_error));
          return -1;
        }
      fd = next;
    }
  if (fstat (fd, &st) < 0)
    {
      int errsv = errno;
      close (fd);
      banger_set_error_from_errno (error, errsv, "Cannot stat '%s'", q);
      return -1;
    }
  if (!S_ISREG (st.st_mode))
    {
      close (fd);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
                   "'%s' is not a regular file", q);
      return -1;
    }
  if (st.st_nlink != 1)
    {
      close (fd);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
                   "'%s' has %lu hard links; banger only uses files with exactly one", q,
                   (unsigned long) st.st_nlink);
      return -1;
    }
  if (st.st_uid != uid && !(allow_root && st.st_uid == 0))
    {
      close (fd);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
                   "'%s' is owned by uid %u, not by banger's owner (uid %u)", q,
                   (unsigned) st.st_uid, (unsigned) uid);
      return -1;
    }
  if (out_st != NULL)
    *out_st = st;
  return fd;
}

int
banger_priv_open_owned_file (const char *root, const char *path, uid_t uid,
                             gboolean allow_root, struct stat *out_st, GError **error)
{
  return banger_priv_open_owned_file_as (root, path, uid, (gid_t) -1, allow_root, out_st, error);
}

int
banger_priv_reopen (int path_fd, const struct stat *st, int flags, GError **error)
{
  g_autofree char *proc = g_strdup_printf ("/proc/self/fd/%d", path_fd);
  struct stat now;
  int fd;

  fd = open (proc, flags | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    {
      banger_set_error_from_errno (error, errno, "Cannot re-open a checked file");
      return -1;
    }
  if (fstat (fd, &now) < 0 || now.st_dev != st->st_dev || now.st_ino != st->st_ino
      || !S_ISREG (now.st_mode))
    {
      close (fd);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
                   "The checked file changed before it could be used");
      return -1;
    }
  return fd;
}

int
banger_priv_create_fresh (int dir_fd, const char *name, int flags, mode_t mode, uid_t uid,
                          gid_t gid, GError **error)
{
  g_autofree char *q = banger_quote (name);
  struct stat st;
  int fd;

  if (unlinkat (dir_fd, name, 0) < 0 && errno != ENOENT)
    {
      if (errno == EISDIR || errno == EPERM)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
                       "'%s' is a directory; refusing to replace it", q);
          return -1;
        }
      banger_set_error_from_errno (error, errno, "Cannot remove the old '%s'", q);
      return -1;
    }
  fd = openat (dir_fd, name,
               flags | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, mode);
  if (fd < 0)
    {
      if (errno == EEXIST)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_ALREADY_EXISTS,
                       "'%s' re-appeared while banger was creating it", q);
          return -1;
        }
      banger_set_error_from_errno (error, errno, "Cannot create '%s'", q);
      return -1;
    }
  /* Ours alone until now (O_EXCL): only this inode is given away. */
  if (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode) || fchown (fd, uid, gid) < 0
      || fchmod (fd, mode) < 0)
    {
      int errsv = errno;
      close (fd);
      banger_set_error_from_errno (error, errsv, "Cannot set up '%s'", q);
      return -1;
    }
  return fd;
}
