/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Files a request names (work disks, COW files, base images) are opened
 * beneath a fixed root with banger_open_beneath() and checked on the fd:
 * what is checked is what is used. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "banger-error-private.h"
#include "banger-path.h"
#include "banger-priv-ops-private.h"
#include "banger-quote.h"

int
banger_priv_open_owned_file (const char *root, const char *path, uid_t uid,
                             gboolean allow_root, struct stat *out_st, GError **error)
{
  g_autofree char *q = banger_quote (path);
  struct stat st;
  const char *rel;
  int root_fd;
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
  root_fd = open (root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0)
    {
      banger_set_error_from_errno (error, errno, "Cannot open '%s'", root);
      return -1;
    }
  fd = banger_open_beneath (root_fd, rel, O_PATH, error);
  close (root_fd);
  if (fd < 0)
    return -1;
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
