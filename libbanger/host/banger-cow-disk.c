/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Root disks copy-on-write over an image: the strategies, the chooser and
 * the create (see banger-cow-disk.h and doc/disks.md). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger-cow-disk.h"
#include "banger-disk-file.h"
#include "banger-error-private.h"
#include "banger-quote.h"
#include "banger-sparse-copy.h"

#ifndef XFS_SUPER_MAGIC
#define XFS_SUPER_MAGIC 0x58465342
#endif

static const char *const strategy_names[] = {
  [BANGER_COW_STRATEGY_DM_SNAPSHOT] = "dm-snapshot",
  [BANGER_COW_STRATEGY_REFLINK] = "reflink",
  [BANGER_COW_STRATEGY_SPARSE_COPY] = "sparse-copy",
};

const char *
banger_cow_strategy_to_string (BangerCowStrategy strategy)
{
  if ((guint) strategy >= G_N_ELEMENTS (strategy_names))
    return NULL;
  return strategy_names[strategy];
}

gboolean
banger_cow_strategy_from_string (const char *name, BangerCowStrategy *out_strategy)
{
  g_return_val_if_fail (name != NULL, FALSE);

  for (guint i = 0; i < G_N_ELEMENTS (strategy_names); i++)
    if (strcmp (name, strategy_names[i]) == 0)
      {
        if (out_strategy != NULL)
          *out_strategy = (BangerCowStrategy) i;
        return TRUE;
      }
  return FALSE;
}

/* "xfs", "btrfs", ... for messages. */
static char *
fs_name (int fd)
{
  struct statfs sfs;

  if (fstatfs (fd, &sfs) < 0)
    return g_strdup ("unknown file system");
  switch ((unsigned long) sfs.f_type)
    {
    case EXT4_SUPER_MAGIC:
      return g_strdup ("ext2/3/4");
    case XFS_SUPER_MAGIC:
      return g_strdup ("xfs");
    case BTRFS_SUPER_MAGIC:
      return g_strdup ("btrfs");
    case TMPFS_MAGIC:
      return g_strdup ("tmpfs");
    case OVERLAYFS_SUPER_MAGIC:
      return g_strdup ("overlayfs");
    case NFS_SUPER_MAGIC:
      return g_strdup ("nfs");
    default:
      return g_strdup_printf ("file system type 0x%lx", (unsigned long) sfs.f_type);
    }
}

/* A fresh, already unlinked file in @dir_path. */
static int
probe_file (const char *dir_path, GError **error)
{
  g_autofree char *tmpl = g_build_filename (dir_path, ".banger-reflink-probe-XXXXXX", NULL);
  int fd = g_mkstemp_full (tmpl, O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0600);

  if (fd < 0)
    {
      g_autofree char *q = banger_quote (dir_path);
      banger_disk_set_io_error (error, errno, "Cannot make a probe file in '%s'", q);
      return -1;
    }
  unlink (tmpl);
  return fd;
}

gboolean
banger_cow_probe_reflink (const char *target_dir, const char *image, gboolean *out_supported,
                          char **out_detail, GError **error)
{
  g_autofree char *qdir = NULL;
  g_autofree char *fs = NULL;
  int dir_fd, src_fd = -1, dst_fd = -1;
  int rc, errsv;

  g_return_val_if_fail (target_dir != NULL, FALSE);

  qdir = banger_quote (target_dir);
  dir_fd = open (target_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0)
    return banger_set_error_from_errno (error, errno, "Cannot open the disk directory '%s'",
                                        qdir);
  fs = fs_name (dir_fd);
  close (dir_fd);

  dst_fd = probe_file (target_dir, error);
  if (dst_fd < 0)
    return FALSE;
  if (image != NULL)
    {
      struct stat st;
      g_autofree char *qimg = banger_quote (image);

      src_fd = open (image, O_RDONLY | O_CLOEXEC | O_NOCTTY);
      if (src_fd < 0)
        {
          errsv = errno;
          close (dst_fd);
          return banger_set_error_from_errno (error, errsv, "Cannot open the image '%s'", qimg);
        }
      if (fstat (src_fd, &st) < 0 || !S_ISREG (st.st_mode))
        {
          close (src_fd);
          close (dst_fd);
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                       "The image '%s' is not a regular file", qimg);
          return FALSE;
        }
      /* One block (or the whole file when smaller): what a clone of the
       * image would do, at the cost of one extent. */
      {
        struct file_clone_range range = {
          .src_fd = src_fd,
          .src_offset = 0,
          .src_length = (guint64) MIN (st.st_size, (off_t) 4096),
          .dest_offset = 0,
        };
        rc = range.src_length == 0 ? ioctl (dst_fd, FICLONE, src_fd)
                                   : ioctl (dst_fd, FICLONERANGE, &range);
      }
    }
  else
    {
      char block[4096];

      memset (block, 0x5a, sizeof block);
      src_fd = probe_file (target_dir, error);
      if (src_fd < 0)
        {
          close (dst_fd);
          return FALSE;
        }
      if (pwrite (src_fd, block, sizeof block, 0) != (ssize_t) sizeof block)
        {
          errsv = errno;
          close (src_fd);
          close (dst_fd);
          return banger_disk_set_io_error (error, errsv, "Cannot write a probe file in '%s'",
                                           qdir);
        }
      rc = ioctl (dst_fd, FICLONE, src_fd);
    }
  errsv = errno;
  close (src_fd);
  close (dst_fd);

  *out_supported = rc == 0;
  if (out_detail != NULL)
    {
      if (rc == 0)
        *out_detail = g_strdup_printf ("FICLONE works in '%s' (%s)%s", qdir, fs,
                                       image != NULL ? " from the image" : "");
      else
        *out_detail = g_strdup_printf ("FICLONE does not work in '%s' (%s%s: %s)", qdir, fs,
                                       image != NULL ? ", from the image" : "",
                                       g_strerror (errsv));
    }
  return TRUE;
}

gboolean
banger_cow_choose (const char *target_dir, const char *image, BangerCowChooseFlags flags,
                   BangerCowStrategy *out_strategy, char **out_detail, GError **error)
{
  g_autofree char *reflink_detail = NULL;
  gboolean reflink = FALSE;

  g_return_val_if_fail (target_dir != NULL, FALSE);
  g_return_val_if_fail (out_strategy != NULL, FALSE);

  if ((flags & ~BANGER_COW_CHOOSE_ALL) != 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "Unknown copy-on-write chooser flags 0x%x",
                   (unsigned) (flags & ~BANGER_COW_CHOOSE_ALL));
      return FALSE;
    }
  if (flags & BANGER_COW_CHOOSE_DM_USABLE)
    {
      /* Still check the directory: the COW store is made there. */
      int fd = open (target_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0)
        {
          g_autofree char *q = banger_quote (target_dir);
          return banger_set_error_from_errno (error, errno, "Cannot open the disk directory '%s'",
                                              q);
        }
      close (fd);
      *out_strategy = BANGER_COW_STRATEGY_DM_SNAPSHOT;
      if (out_detail != NULL)
        *out_detail = g_strdup ("dm-snapshot: device-mapper is usable through the privileged "
                                "backend");
      return TRUE;
    }
  if (!banger_cow_probe_reflink (target_dir, image, &reflink, &reflink_detail, error))
    return FALSE;
  *out_strategy = reflink ? BANGER_COW_STRATEGY_REFLINK : BANGER_COW_STRATEGY_SPARSE_COPY;
  if (out_detail != NULL)
    *out_detail = g_strdup_printf ("%s: %s; device-mapper: not usable (no privileged backend "
                                   "reports it)",
                                   reflink ? "reflink" : "sparse-copy", reflink_detail);
  return TRUE;
}

guint64
banger_cow_dm_store_size (guint64 image_size)
{
  /* Persistent store, 4 KiB chunks: chunk 0 is the header; then areas of
   * one metadata chunk (256 exceptions of 16 bytes) followed by 256 data
   * chunks.  One spare area. */
  guint64 chunks = (image_size + 4095) / 4096;
  guint64 areas = (chunks + 255) / 256;

  return (1 + areas + 1 + chunks + 256) * 4096;
}

typedef struct
{
  BangerCowProgressFunc func;
  gpointer data;
} Progress;

static void
sparse_progress (guint64 done, guint64 total, gpointer user_data)
{
  Progress *p = user_data;
  p->func (done, total, p->data);
}

static gboolean
create_sync (BangerCowStrategy strategy, const char *image, const char *dest,
             BangerCowCreateFlags flags, BangerCowProgressFunc progress, gpointer progress_data,
             BangerCowResult *out_result, GCancellable *cancellable, GError **error)
{
  g_autoptr (BangerDiskFile) file = NULL;
  g_autofree char *qimg = NULL;
  g_autofree char *what = NULL;
  BangerCowResult res = { 0 };
  struct stat st;
  int img_fd, out_fd;

  if ((flags & ~BANGER_COW_CREATE_ALL) != 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "Unknown root disk flags 0x%x", (unsigned) (flags & ~BANGER_COW_CREATE_ALL));
      return FALSE;
    }
  if (banger_cow_strategy_to_string (strategy) == NULL)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "Unknown copy-on-write strategy %d", (int) strategy);
      return FALSE;
    }
  qimg = banger_quote (image);
  if (g_cancellable_is_cancelled (cancellable))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_CANCELLED,
                   "Making a root disk over '%s' was cancelled", qimg);
      return FALSE;
    }
  img_fd = open (image, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (img_fd < 0)
    {
      int errsv = errno;
      if (errsv == ENOENT)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
                       "The image '%s' does not exist", qimg);
          return FALSE;
        }
      return banger_set_error_from_errno (error, errsv, "Cannot open the image '%s'", qimg);
    }
  if (fstat (img_fd, &st) < 0 || !S_ISREG (st.st_mode))
    {
      close (img_fd);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "The image '%s' is not a regular file", qimg);
      return FALSE;
    }
  res.strategy = strategy;
  res.image_size = (guint64) st.st_size;
  if (strategy == BANGER_COW_STRATEGY_DM_SNAPSHOT && res.image_size % 512 != 0)
    {
      close (img_fd);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "The image '%s' is %" G_GUINT64_FORMAT
                   " bytes, not a whole number of 512-byte sectors: it cannot be a "
                   "device-mapper snapshot's origin",
                   qimg, res.image_size);
      return FALSE;
    }

  file = banger_disk_file_begin (dest, error);
  if (file == NULL)
    {
      close (img_fd);
      return FALSE;
    }
  out_fd = banger_disk_file_get_fd (file);
  what = g_strdup_printf ("the image '%s'", qimg);
  if (progress != NULL)
    progress (0, res.image_size, progress_data);

  switch (strategy)
    {
    case BANGER_COW_STRATEGY_DM_SNAPSHOT:
      /* An all-zero store reads as a new, empty persistent snapshot. */
      res.disk_size = banger_cow_dm_store_size (res.image_size);
      if (ftruncate (out_fd, (off_t) res.disk_size) < 0)
        {
          int errsv = errno;
          close (img_fd);
          return banger_disk_set_io_error (error, errsv,
                                           "Cannot size the copy-on-write store of '%s'",
                                           banger_disk_file_get_dest (file));
        }
      break;
    case BANGER_COW_STRATEGY_REFLINK:
      if (ioctl (out_fd, FICLONE, img_fd) < 0)
        {
          int errsv = errno;
          g_autofree char *qdest = banger_quote (dest);
          close (img_fd);
          if (errsv == EOPNOTSUPP || errsv == EXDEV || errsv == EINVAL || errsv == ENOTTY
              || errsv == ENOSYS)
            {
              g_set_error (error, BANGER_ERROR, BANGER_ERROR_UNSUPPORTED,
                           "Cannot reflink the image '%s' to '%s': %s (use sparse-copy)", qimg,
                           qdest, g_strerror (errsv));
              return FALSE;
            }
          return banger_disk_set_io_error (error, errsv, "Cannot reflink the image '%s' to '%s'",
                                           qimg, qdest);
        }
      res.disk_size = res.image_size;
      break;
    case BANGER_COW_STRATEGY_SPARSE_COPY:
      {
        BangerSparseCopyStats stats = { 0 };
        Progress p = { progress, progress_data };

        if (!banger_sparse_copy (img_fd, out_fd, res.image_size,
                                 (flags & BANGER_COW_CREATE_NO_COPY_FILE_RANGE)
                                     ? BANGER_SPARSE_COPY_NO_COPY_FILE_RANGE
                                     : BANGER_SPARSE_COPY_NONE,
                                 what, progress != NULL ? sparse_progress : NULL, &p, &stats,
                                 cancellable, error))
          {
            close (img_fd);
            return FALSE;
          }
        res.data_bytes = stats.data_bytes;
        res.used_copy_file_range = stats.used_copy_file_range;
        res.used_read_write = stats.used_read_write;
        res.disk_size = res.image_size;
      }
      break;
    }
  close (img_fd);

  if (g_cancellable_is_cancelled (cancellable))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_CANCELLED,
                   "Making a root disk over '%s' was cancelled", qimg);
      return FALSE;
    }
  if (!banger_disk_file_commit (file, error))
    return FALSE;
  if (progress != NULL)
    progress (res.image_size, res.image_size, progress_data);
  if (out_result != NULL)
    *out_result = res;
  return TRUE;
}

gboolean
banger_cow_disk_create (BangerCowStrategy strategy, const char *image, const char *dest,
                        BangerCowCreateFlags flags, BangerCowProgressFunc progress,
                        gpointer progress_data, BangerCowResult *out_result,
                        GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (image != NULL, FALSE);
  g_return_val_if_fail (dest != NULL, FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);

  return create_sync (strategy, image, dest, flags, progress, progress_data, out_result,
                      cancellable, error);
}

/* ---- async: the copy in a worker thread, progress marshalled back ---- */

/* Shared by the worker and the progress idles (refcounted): the worker
 * stores the latest figure and schedules one idle when none is pending; the
 * idle clears the flag in the same critical section where it reads the
 * figure, so the last figure is never lost and at most one idle is queued. */
typedef struct
{
  gatomicrefcount ref;
  GMainContext *context;
  BangerCowProgressFunc func;
  gpointer data;
  GMutex lock;
  guint64 done;       /* under lock */
  guint64 total;      /* under lock */
  gboolean pending;   /* under lock */
  guint64 last_done;  /* main context only */
  gboolean delivered; /* main context only */
} ProgressProxy;

static ProgressProxy *
progress_proxy_ref (ProgressProxy *p)
{
  g_atomic_ref_count_inc (&p->ref);
  return p;
}

static void
progress_proxy_unref (gpointer data)
{
  ProgressProxy *p = data;

  if (g_atomic_ref_count_dec (&p->ref))
    {
      g_main_context_unref (p->context);
      g_mutex_clear (&p->lock);
      g_free (p);
    }
}

static gboolean
progress_idle (gpointer data)
{
  ProgressProxy *p = data;
  guint64 done, total;

  g_mutex_lock (&p->lock);
  p->pending = FALSE;
  done = p->done;
  total = p->total;
  g_mutex_unlock (&p->lock);
  if (!p->delivered || done != p->last_done)
    {
      p->delivered = TRUE;
      p->last_done = done;
      p->func (done, total, p->data);
    }
  return G_SOURCE_REMOVE;
}

static void
progress_from_thread (guint64 done, guint64 total, gpointer user_data)
{
  ProgressProxy *p = user_data;
  gboolean schedule;

  g_mutex_lock (&p->lock);
  p->done = done;
  p->total = total;
  schedule = !p->pending;
  p->pending = TRUE;
  g_mutex_unlock (&p->lock);
  if (schedule)
    {
      /* Always a source on the caller's context, never
       * g_main_context_invoke(): that runs the callback right here, in the
       * worker, whenever no thread owns the context at this moment. */
      GSource *idle = g_idle_source_new ();
      g_source_set_priority (idle, G_PRIORITY_DEFAULT);
      g_source_set_callback (idle, progress_idle, progress_proxy_ref (p), progress_proxy_unref);
      g_source_attach (idle, p->context);
      g_source_unref (idle);
    }
}

typedef struct
{
  BangerCowStrategy strategy;
  char *image;
  char *dest;
  BangerCowCreateFlags flags;
  ProgressProxy *progress;
  BangerCowResult result;
} CreateData;

static void
create_data_free (gpointer data)
{
  CreateData *d = data;

  g_free (d->image);
  g_free (d->dest);
  if (d->progress != NULL)
    progress_proxy_unref (d->progress);
  g_free (d);
}

static void
create_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  CreateData *d = task_data;
  GError *error = NULL;

  if (!create_sync (d->strategy, d->image, d->dest, d->flags,
                    d->progress != NULL ? progress_from_thread : NULL, d->progress, &d->result,
                    cancellable, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

void
banger_cow_disk_create_async (BangerCowStrategy strategy, const char *image, const char *dest,
                              BangerCowCreateFlags flags, BangerCowProgressFunc progress,
                              gpointer progress_data, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  CreateData *d;

  g_return_if_fail (image != NULL);
  g_return_if_fail (dest != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, banger_cow_disk_create_async);
  /* Our own CANCELLED error, not GIO's, when the cancellable fires. */
  g_task_set_check_cancellable (task, FALSE);
  d = g_new0 (CreateData, 1);
  d->strategy = strategy;
  d->image = g_strdup (image);
  d->dest = g_strdup (dest);
  d->flags = flags;
  if (progress != NULL)
    {
      d->progress = g_new0 (ProgressProxy, 1);
      g_atomic_ref_count_init (&d->progress->ref);
      g_mutex_init (&d->progress->lock);
      d->progress->context = g_main_context_ref_thread_default ();
      d->progress->func = progress;
      d->progress->data = progress_data;
    }
  g_task_set_task_data (task, d, create_data_free);
  g_task_run_in_thread (task, create_thread);
}

gboolean
banger_cow_disk_create_finish (GAsyncResult *result, BangerCowResult *out_result, GError **error)
{
  CreateData *d;

  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_async_result_is_tagged (result, banger_cow_disk_create_async), FALSE);

  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;
  d = g_task_get_task_data (G_TASK (result));
  if (out_result != NULL)
    *out_result = d->result;
  return TRUE;
}
