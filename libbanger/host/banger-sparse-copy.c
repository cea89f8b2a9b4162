/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Data-extent copy (see banger-sparse-copy.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "banger-disk-file.h"
#include "banger-error-private.h"
#include "banger-sparse-copy.h"

/* Per copy_file_range call / per cancellation check. */
#define CHUNK (16 * 1024 * 1024)
/* The pread/pwrite buffer. */
#define RW_BUF (1024 * 1024)

static gboolean
check_cancelled (GCancellable *cancellable, const char *what, GError **error)
{
  if (g_cancellable_is_cancelled (cancellable))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_CANCELLED, "Copying %s was cancelled",
                   what);
      return FALSE;
    }
  return TRUE;
}

/* pread/pwrite [off, end) (no zero detection: the source's layout is kept). */
static gboolean
copy_read_write (int in_fd, int out_fd, guint64 off, guint64 end, guint8 *buf, const char *what,
                 BangerSparseCopyProgress progress, gpointer progress_data, guint64 size,
                 GCancellable *cancellable, GError **error)
{
  while (off < end)
    {
      gsize want = MIN ((guint64) RW_BUF, end - off);
      ssize_t n = pread (in_fd, buf, want, (off_t) off);
      gsize done = 0;

      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return banger_set_error_from_errno (error, errno, "Cannot read %s", what);
        }
      if (n == 0)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                       "%s shrank while it was being copied", what);
          return FALSE;
        }
      while (done < (gsize) n)
        {
          ssize_t w = pwrite (out_fd, buf + done, (gsize) n - done, (off_t) (off + done));
          if (w < 0)
            {
              if (errno == EINTR)
                continue;
              return banger_disk_set_io_error (error, errno, "Cannot write the copy of %s", what);
            }
          done += (gsize) w;
        }
      off += (guint64) n;
      if (progress != NULL)
        progress (off, size, progress_data);
      if (!check_cancelled (cancellable, what, error))
        return FALSE;
    }
  return TRUE;
}

gboolean
banger_sparse_copy (int in_fd, int out_fd, guint64 size, BangerSparseCopyFlags flags,
                    const char *what, BangerSparseCopyProgress progress, gpointer progress_data,
                    BangerSparseCopyStats *stats, GCancellable *cancellable, GError **error)
{
  BangerSparseCopyStats st = { 0 };
  gboolean use_cfr = (flags & BANGER_SPARSE_COPY_NO_COPY_FILE_RANGE) == 0;
  g_autofree guint8 *buf = NULL;
  guint64 off = 0;

  if ((flags & ~BANGER_SPARSE_COPY_ALL) != 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "Unknown sparse copy flags 0x%x", (unsigned) (flags & ~BANGER_SPARSE_COPY_ALL));
      return FALSE;
    }
  if (size > G_MAXINT64)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_LIMIT_EXCEEDED, "%s is too large", what);
      return FALSE;
    }

  /* The final size first: every write then lands inside the file, so no
   * file system preallocates past EOF for an extending write (xfs does,
   * and once the size grows over it those blocks stay allocated). */
  if (ftruncate (out_fd, (off_t) size) < 0)
    return banger_disk_set_io_error (error, errno, "Cannot size the copy of %s", what);

  while (off < size)
    {
      off_t data, hole;

      if (!check_cancelled (cancellable, what, error))
        return FALSE;
      data = lseek (in_fd, (off_t) off, SEEK_DATA);
      if (data < 0 && errno == ENXIO)
        break; /* only a hole is left */
      if (data < 0 && errno == EINVAL)
        {
          /* No SEEK_DATA on this file system: all of it is data. */
          data = (off_t) off;
          hole = (off_t) size;
        }
      else if (data < 0)
        return banger_set_error_from_errno (error, errno, "Cannot find the data in %s", what);
      else
        {
          hole = lseek (in_fd, data, SEEK_HOLE);
          if (hole < 0)
            return banger_set_error_from_errno (error, errno, "Cannot find the holes in %s",
                                                what);
        }
      if ((guint64) data >= size)
        break;
      if ((guint64) hole > size)
        hole = (off_t) size;
      st.extents++;
      st.data_bytes += (guint64) (hole - data);

      off = (guint64) data;
      while (use_cfr && off < (guint64) hole)
        {
          loff_t in_off = (loff_t) off, out_off = (loff_t) off;
          gsize want = MIN ((guint64) CHUNK, (guint64) hole - off);
          ssize_t n = copy_file_range (in_fd, &in_off, out_fd, &out_off, want, 0);

          if (n < 0)
            {
              int errsv = errno;
              if (errsv == EINTR)
                continue;
              if (errsv == EXDEV || errsv == EINVAL || errsv == EOPNOTSUPP || errsv == ENOSYS)
                {
                  use_cfr = FALSE; /* this pair of files: pread/pwrite from here on */
                  break;
                }
              return banger_disk_set_io_error (error, errsv, "Cannot copy %s", what);
            }
          if (n == 0)
            {
              g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                           "%s shrank while it was being copied", what);
              return FALSE;
            }
          st.used_copy_file_range = TRUE;
          off += (guint64) n;
          if (progress != NULL)
            progress (off, size, progress_data);
          if (!check_cancelled (cancellable, what, error))
            return FALSE;
        }
      if (off < (guint64) hole)
        {
          if (buf == NULL)
            buf = g_malloc (RW_BUF);
          st.used_read_write = TRUE;
          if (!copy_read_write (in_fd, out_fd, off, (guint64) hole, buf, what, progress,
                                progress_data, size, cancellable, error))
            return FALSE;
          off = (guint64) hole;
        }
    }
  if (progress != NULL)
    progress (size, size, progress_data);
  if (stats != NULL)
    *stats = st;
  return TRUE;
}
