/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Fresh disk files, written under a temporary name and renamed into place
 * (see banger-disk-file.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "banger-disk-file.h"
#include "banger-error-private.h"
#include "banger-quote.h"

struct _BangerDiskFile
{
  char *dest;
  char *name;     /* basename of dest */
  char *tmp_name; /* in the same directory */
  int dir_fd;
  int fd;
  gboolean committed;
};

gboolean
banger_disk_set_io_error (GError **error, int errsv, const char *format, ...)
{
  va_list args;
  g_autofree char *msg = NULL;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  if (errsv == ENOSPC || errsv == EDQUOT || errsv == EFBIG)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_LIMIT_EXCEEDED, "%s: %s", msg,
                   g_strerror (errsv));
      return FALSE;
    }
  return banger_set_error_from_errno (error, errsv, "%s", msg);
}

guint64
banger_disk_allocated_bytes (int fd)
{
  struct stat st;

  if (fstat (fd, &st) < 0)
    return 0;
  return (guint64) st.st_blocks * 512;
}

BangerDiskFile *
banger_disk_file_begin (const char *dest, GError **error)
{
  g_autoptr (BangerDiskFile) file = NULL;
  g_autofree char *q = NULL;
  g_autofree char *dir = NULL;
  struct stat st;

  g_return_val_if_fail (dest != NULL, NULL);

  q = banger_quote (dest);
  file = g_new0 (BangerDiskFile, 1);
  file->dir_fd = -1;
  file->fd = -1;
  file->dest = g_strdup (dest);
  file->name = g_path_get_basename (dest);
  if (dest[0] == '\0' || g_str_has_suffix (dest, "/") || strcmp (file->name, ".") == 0
      || strcmp (file->name, "..") == 0 || strcmp (file->name, "/") == 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "'%s' does not name a file", q);
      return NULL;
    }
  if (strlen (file->name) > 200)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "The file name of '%s' is too long (at most 200 bytes)", q);
      return NULL;
    }
  dir = g_path_get_dirname (dest);
  file->dir_fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (file->dir_fd < 0)
    {
      int errsv = errno;
      g_autofree char *qd = banger_quote (dir);
      banger_set_error_from_errno (error, errsv, "Cannot open the directory '%s' of '%s'", qd,
                                   q);
      return NULL;
    }
  if (fstatat (file->dir_fd, file->name, &st, AT_SYMLINK_NOFOLLOW) == 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_ALREADY_EXISTS,
                   "'%s' already exists; a disk is only ever made fresh", q);
      return NULL;
    }
  else if (errno != ENOENT)
    {
      banger_set_error_from_errno (error, errno, "Cannot look at '%s'", q);
      return NULL;
    }

  for (int attempt = 0; attempt < 16; attempt++)
    {
      static const char chars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
      char suffix[7];

      for (gsize i = 0; i < 6; i++)
        suffix[i] = chars[g_random_int_range (0, sizeof chars - 1)];
      suffix[6] = '\0';
      g_free (file->tmp_name);
      file->tmp_name = g_strdup_printf (".%s.tmp-%s", file->name, suffix);
      file->fd = openat (file->dir_fd, file->tmp_name,
                         O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0600);
      if (file->fd >= 0)
        return g_steal_pointer (&file);
      if (errno != EEXIST)
        {
          int errsv = errno;
          g_clear_pointer (&file->tmp_name, g_free);
          banger_disk_set_io_error (error, errsv, "Cannot create a temporary file next to '%s'",
                                    q);
          return NULL;
        }
    }
  g_clear_pointer (&file->tmp_name, g_free);
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
               "Cannot find a free temporary name next to '%s'", q);
  return NULL;
}

int
banger_disk_file_get_fd (BangerDiskFile *file)
{
  return file->fd;
}

const char *
banger_disk_file_get_dest (BangerDiskFile *file)
{
  return file->dest;
}

int
banger_disk_file_get_dir_fd (BangerDiskFile *file)
{
  return file->dir_fd;
}

gboolean
banger_disk_file_reset (BangerDiskFile *file, GError **error)
{
  if (ftruncate (file->fd, 0) < 0)
    {
      g_autofree char *q = banger_quote (file->dest);
      return banger_disk_set_io_error (error, errno, "Cannot truncate the temporary file of '%s'",
                                       q);
    }
  return TRUE;
}

gboolean
banger_disk_file_commit (BangerDiskFile *file, GError **error)
{
  g_autofree char *q = banger_quote (file->dest);

  g_return_val_if_fail (!file->committed, FALSE);

  if (fsync (file->fd) < 0)
    return banger_disk_set_io_error (error, errno, "Cannot sync '%s' to disk", q);
  if (renameat2 (file->dir_fd, file->tmp_name, file->dir_fd, file->name, RENAME_NOREPLACE) < 0)
    {
      int errsv = errno;

      if (errsv == EEXIST)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_ALREADY_EXISTS,
                       "'%s' appeared while it was being made; it was left alone", q);
          return FALSE;
        }
      if (errsv != EINVAL && errsv != ENOSYS)
        return banger_set_error_from_errno (error, errsv, "Cannot rename the new disk to '%s'",
                                            q);
      /* A file system without RENAME_NOREPLACE: link() never replaces
       * either; the temporary name is removed after. */
      if (linkat (file->dir_fd, file->tmp_name, file->dir_fd, file->name, 0) < 0)
        {
          errsv = errno;
          if (errsv == EEXIST)
            {
              g_set_error (error, BANGER_ERROR, BANGER_ERROR_ALREADY_EXISTS,
                           "'%s' appeared while it was being made; it was left alone", q);
              return FALSE;
            }
          return banger_set_error_from_errno (error, errsv, "Cannot link the new disk to '%s'",
                                              q);
        }
      unlinkat (file->dir_fd, file->tmp_name, 0);
    }
  g_clear_pointer (&file->tmp_name, g_free);
  if (fsync (file->dir_fd) < 0)
    {
      int errsv = errno;
      /* Undo: what we just renamed there is ours. */
      unlinkat (file->dir_fd, file->name, 0);
      return banger_set_error_from_errno (error, errsv, "Cannot sync the directory of '%s'", q);
    }
  file->committed = TRUE;
  return TRUE;
}

void
banger_disk_file_free (BangerDiskFile *file)
{
  if (file == NULL)
    return;
  if (!file->committed && file->tmp_name != NULL && file->dir_fd >= 0)
    unlinkat (file->dir_fd, file->tmp_name, 0);
  if (file->fd >= 0)
    close (file->fd);
  if (file->dir_fd >= 0)
    close (file->dir_fd);
  g_free (file->dest);
  g_free (file->name);
  g_free (file->tmp_name);
  g_free (file);
}
