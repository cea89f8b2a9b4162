/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifdef HAVE_OPENAT2
#include <linux/openat2.h>
#endif

#include "banger-error-private.h"
#include "banger-path-private.h"
#include "banger-quote.h"

/* Split an absolute path into its normalised components.  NULL on NULL,
 * empty or relative input. */
static GPtrArray *
path_components (const char *path)
{
  g_autoptr (GPtrArray) comps = NULL;
  g_auto (GStrv) parts = NULL;

  if (path == NULL || path[0] != '/')
    return NULL;

  comps = g_ptr_array_new_with_free_func (g_free);
  parts = g_strsplit (path, "/", -1);
  for (char **p = parts; *p != NULL; p++)
    {
      if ((*p)[0] == '\0' || g_str_equal (*p, "."))
        continue;
      if (g_str_equal (*p, ".."))
        {
          if (comps->len > 0)
            g_ptr_array_remove_index (comps, comps->len - 1);
          continue;
        }
      g_ptr_array_add (comps, g_strdup (*p));
    }
  return g_steal_pointer (&comps);
}

char *
banger_path_normalize (const char *path)
{
  g_autoptr (GPtrArray) comps = path_components (path);
  GString *out;

  if (comps == NULL)
    return NULL;
  if (comps->len == 0)
    return g_strdup ("/");
  out = g_string_new (NULL);
  for (guint i = 0; i < comps->len; i++)
    {
      g_string_append_c (out, '/');
      g_string_append (out, comps->pdata[i]);
    }
  return g_string_free (out, FALSE);
}

/**
 * banger_path_is_under:
 * @path: (nullable): an absolute path
 * @root: (nullable): an absolute directory path
 *
 * Whether @path lies strictly below @root.  Both are first normalised
 * lexically: repeated `/` collapse, `.` components are dropped, `..` removes
 * the component before it (and stays at `/` at the top), a trailing `/` is
 * ignored.  The comparison is by whole components, so `/run/banger2/x` is not
 * under `/run/banger`, and a path equal to @root is not under it.
 *
 * This check is lexical only: it does not look at the file system, so a
 * symbolic link below @root can still point elsewhere.  Code that then opens
 * the file must use banger_open_beneath() at the moment of use.
 *
 * Returns: %TRUE if both are absolute and @path is strictly below @root;
 *   %FALSE otherwise, including for %NULL, empty or relative input.
 *
 * Since: 0.1
 */
gboolean
banger_path_is_under (const char *path, const char *root)
{
  g_autoptr (GPtrArray) p = path_components (path);
  g_autoptr (GPtrArray) r = path_components (root);

  if (p == NULL || r == NULL)
    return FALSE;
  if (p->len <= r->len)
    return FALSE;
  for (guint i = 0; i < r->len; i++)
    {
      if (!g_str_equal (p->pdata[i], r->pdata[i]))
        return FALSE;
    }
  return TRUE;
}

static gboolean
beneath_error (GError **error, int errsv, const char *relpath)
{
  g_autofree char *quoted = banger_quote (relpath);

  switch (errsv)
    {
    case ELOOP:
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
                   "Refusing to open '%s': it is or passes through a symbolic link", quoted);
      return FALSE;
    case EXDEV:
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
                   "Refusing to open '%s': it escapes its root directory or crosses a mount",
                   quoted);
      return FALSE;
    default:
      return banger_set_error_from_errno (error, errsv, "Cannot open '%s'", quoted);
    }
}

static int
mount_id_of (int fd, guint64 *out_id)
{
  struct statx stx;

  if (statx (fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &stx) < 0)
    return -errno;
  if (!(stx.stx_mask & STATX_MNT_ID))
    return -ENOSYS;
  *out_id = stx.stx_mnt_id;
  return 0;
}

static gboolean
check_same_mount (int fd, guint64 root_mnt, const char *relpath, GError **error)
{
  guint64 mnt = 0;
  int r = mount_id_of (fd, &mnt);

  if (r < 0)
    return banger_set_error_from_errno (error, -r, "Cannot identify the mount of '%s'", relpath);
  if (mnt != root_mnt)
    return beneath_error (error, EXDEV, relpath);
  return TRUE;
}

int
banger_open_beneath_walk (int root_fd, const char *relpath, int flags, GError **error)
{
  g_auto (GStrv) parts = NULL;
  g_autoptr (GPtrArray) comps = g_ptr_array_new ();
  guint64 root_mnt = 0;
  int cur;
  int r;
  int fd;

  if (relpath[0] == '/')
    return beneath_error (error, EXDEV, relpath), -1;

  parts = g_strsplit (relpath, "/", -1);
  for (char **p = parts; *p != NULL; p++)
    {
      if ((*p)[0] == '\0' || g_str_equal (*p, "."))
        continue;
      if (g_str_equal (*p, ".."))
        return beneath_error (error, EXDEV, relpath), -1;
      g_ptr_array_add (comps, *p);
    }

  r = mount_id_of (root_fd, &root_mnt);
  if (r < 0)
    return banger_set_error_from_errno (error, -r, "Cannot identify the root's mount"), -1;

  if (comps->len == 0)
    {
      fd = openat (root_fd, ".", flags | O_CLOEXEC | O_NOCTTY);
      if (fd < 0)
        return beneath_error (error, errno, relpath), -1;
      return fd;
    }

  cur = root_fd;
  for (guint i = 0; i + 1 < comps->len; i++)
    {
      const char *comp = comps->pdata[i];
      int next = openat (cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      int errsv = errno;

      if (next < 0)
        {
          struct stat st;
          if (fstatat (cur, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK (st.st_mode))
            errsv = ELOOP;
          if (cur != root_fd)
            close (cur);
          return beneath_error (error, errsv, relpath), -1;
        }
      if (cur != root_fd)
        close (cur);
      cur = next;
      if (!check_same_mount (cur, root_mnt, relpath, error))
        {
          close (cur);
          return -1;
        }
    }

  fd = openat (cur, comps->pdata[comps->len - 1],
               flags | O_NOFOLLOW | O_CLOEXEC | ((flags & O_PATH) == O_PATH ? 0 : O_NOCTTY), 0600);
  r = errno;
  if (cur != root_fd)
    close (cur);
  if (fd < 0)
    return beneath_error (error, r, relpath), -1;
  if ((flags & O_PATH) == O_PATH)
    {
      struct stat st;
      if (fstat (fd, &st) == 0 && S_ISLNK (st.st_mode))
        {
          close (fd);
          return beneath_error (error, ELOOP, relpath), -1;
        }
    }
  if (!check_same_mount (fd, root_mnt, relpath, error))
    {
      close (fd);
      return -1;
    }
  return fd;
}

/**
 * banger_open_beneath:
 * @root_fd: a directory file descriptor
 * @relpath: a path relative to @root_fd
 * @flags: open(2) flags; `O_CLOEXEC` and `O_NOFOLLOW` are always added,
 *   and a file created with `O_CREAT` gets mode 0600
 * @error: return location for a #GError
 *
 * Opens @relpath strictly beneath @root_fd, for use at the moment a
 * privileged operation touches a file (unlike banger_path_is_under(), this
 * looks at the file system).  Refused with %BANGER_ERROR_PERMISSION_DENIED:
 * absolute paths, any `..` that would leave @root_fd, symbolic links in any
 * component (including the last), "magic" links such as `/proc/self/fd/N`,
 * and crossing into another mount.
 *
 * Uses openat2() with `RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
 * RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV`; where the kernel lacks openat2(),
 * it walks the path one component at a time with `O_NOFOLLOW`, refuses every
 * `..`, and compares mount ids.
 *
 * Returns: a new file descriptor (close it), or -1 with @error set.
 *
 * Since: 0.1
 */
int
banger_open_beneath (int root_fd, const char *relpath, int flags, GError **error)
{
  if (root_fd < 0 || relpath == NULL || relpath[0] == '\0')
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                           "banger_open_beneath needs a directory fd and a non-empty path");
      return -1;
    }
  if (relpath[0] == '/')
    return beneath_error (error, EXDEV, relpath), -1;

#if defined(HAVE_OPENAT2) && defined(SYS_openat2)
  {
    /* openat2() is strict: a mode without O_CREAT/O_TMPFILE, or O_PATH with
     * flags it ignores, is EINVAL. */
    const gboolean creates = (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
    const gboolean is_path = (flags & O_PATH) == O_PATH;
    struct open_how how = {
      .flags = (guint64) (flags | O_CLOEXEC | O_NOFOLLOW | (is_path ? 0 : O_NOCTTY)),
      .mode = creates ? 0600 : 0,
      .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS
                 | RESOLVE_NO_XDEV,
    };
    for (int attempt = 0; attempt < 8; attempt++)
      {
        int fd = (int) syscall (SYS_openat2, root_fd, relpath, &how, sizeof how);
        if (fd >= 0)
          {
            /* O_PATH|O_NOFOLLOW returns the link itself rather than ELOOP. */
            struct stat st;
            if (is_path && (fstat (fd, &st) != 0 || S_ISLNK (st.st_mode)))
              {
                close (fd);
                return beneath_error (error, ELOOP, relpath), -1;
              }
            return fd;
          }
        if (errno == EAGAIN || errno == EINTR)
          continue;
        if (errno == ENOSYS)
          break;
        return beneath_error (error, errno, relpath), -1;
      }
    if (errno != ENOSYS)
      return beneath_error (error, errno, relpath), -1;
  }
#endif
  return banger_open_beneath_walk (root_fd, relpath, flags, error);
}
