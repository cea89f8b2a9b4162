/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Work disks: a sparse file + mkfs.ext4, unprivileged (see
 * banger-work-disk.h and doc/disks.md). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "banger-disk-file.h"
#include "banger-error-private.h"
#include "banger-quote.h"
#include "banger-work-disk.h"

static const char *const mkfs_candidates[] = { "/usr/sbin/mkfs.ext4", "/sbin/mkfs.ext4", NULL };

const char *
banger_work_disk_find_mkfs (GError **error)
{
  for (const char *const *p = mkfs_candidates; *p; p++)
    {
      struct stat st;
      if (stat (*p, &st) == 0 && S_ISREG (st.st_mode) && (st.st_mode & 0111) != 0)
        return *p;
    }
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_UNSUPPORTED,
               "mkfs.ext4 is not installed (package e2fsprogs)");
  return NULL;
}

/* Run mkfs on @fd (as /proc/self/fd/3).  *out_stderr gets its message when
 * it ran and failed. */
static gboolean
run_mkfs (const char *mkfs, int fd, gboolean prezeroed, char **out_stderr,
          GCancellable *cancellable, GError **error)
{
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GBytes) err_bytes = NULL;
  g_autoptr (GBytes) no_input = g_bytes_new_static ("", 0);
  g_autoptr (GError) local_error = NULL;
  const char *extended = prezeroed ? "lazy_itable_init=1,lazy_journal_init=1,"
                                     "assume_storage_prezeroed=1,nodiscard,root_owner=0:0"
                                   : "lazy_itable_init=1,lazy_journal_init=1,nodiscard,"
                                     "root_owner=0:0";
  const char *env[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL };
  int dup_fd;

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE
                                        | G_SUBPROCESS_FLAGS_STDOUT_SILENCE
                                        | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_set_environ (launcher, (char **) env);
  dup_fd = fcntl (fd, F_DUPFD_CLOEXEC, 3);
  if (dup_fd < 0)
    return banger_set_error_from_errno (error, errno, "Cannot duplicate the work disk's fd");
  g_subprocess_launcher_take_fd (launcher, dup_fd, 3);
  proc = g_subprocess_launcher_spawn (launcher, &local_error, mkfs, "-q", "-F", "-t", "ext4",
                                      "-b", "4096", "-m", "0", "-L", "banger-work", "-E",
                                      extended, "/proc/self/fd/3", NULL);
  if (proc == NULL)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "Cannot run %s: %s", mkfs,
                   local_error->message);
      return FALSE;
    }
  /* stdin: an empty pipe, closed at once (mke2fs never gets to ask). */
  if (!g_subprocess_communicate (proc, no_input, cancellable, NULL, &err_bytes, &local_error))
    {
      g_subprocess_force_exit (proc);
      g_subprocess_wait (proc, NULL, NULL);
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_set_error (error, BANGER_ERROR, BANGER_ERROR_CANCELLED,
                     "Making the work disk was cancelled");
      else
        g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "Cannot run %s: %s", mkfs,
                     local_error->message);
      return FALSE;
    }
  if (!g_subprocess_get_if_exited (proc) || g_subprocess_get_exit_status (proc) != 0)
    {
      g_autofree char *text = NULL;
      g_autofree char *valid = NULL;

      if (err_bytes != NULL)
        text = g_strndup (g_bytes_get_data (err_bytes, NULL),
                          MIN (g_bytes_get_size (err_bytes), 512));
      valid = g_utf8_make_valid (text != NULL ? g_strstrip (text) : "", -1);
      if (out_stderr != NULL)
        *out_stderr = g_strdup (valid);
      if (strstr (valid, "No space left") != NULL)
        g_set_error (error, BANGER_ERROR, BANGER_ERROR_LIMIT_EXCEEDED,
                     "mkfs.ext4 failed: no space left for the work disk (%s)", valid);
      else
        g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "mkfs.ext4 failed: %s",
                     valid[0] ? valid : "(no message)");
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_args (guint64 size, BangerWorkDiskFlags flags, GError **error)
{
  if ((flags & ~BANGER_WORK_DISK_ALL) != 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "Unknown work disk flags 0x%x", (unsigned) (flags & ~BANGER_WORK_DISK_ALL));
      return FALSE;
    }
  if (size > BANGER_WORK_DISK_MAX_SIZE)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_LIMIT_EXCEEDED,
                   "A work disk of %" G_GUINT64_FORMAT " bytes is larger than the limit (%"
                   G_GUINT64_FORMAT " bytes, 16 TiB)",
                   size, BANGER_WORK_DISK_MAX_SIZE);
      return FALSE;
    }
  if (size < BANGER_WORK_DISK_MIN_SIZE || size % 4096 != 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "A work disk must be a multiple of 4096 bytes and at least 16 MiB (asked: %"
                   G_GUINT64_FORMAT " bytes)",
                   size);
      return FALSE;
    }
  return TRUE;
}

static gboolean
create_sync (const char *dest, guint64 size, BangerWorkDiskFlags flags,
             GCancellable *cancellable, GError **error)
{
  g_autoptr (BangerDiskFile) file = NULL;
  g_autofree char *qdest = NULL;
  g_autofree char *mkfs_err = NULL;
  g_autoptr (GError) first_error = NULL;
  gboolean prezeroed = (flags & BANGER_WORK_DISK_NO_PREZEROED) == 0;
  const char *mkfs;
  int fd;

  if (!check_args (size, flags, error))
    return FALSE;
  mkfs = banger_work_disk_find_mkfs (error);
  if (mkfs == NULL)
    return FALSE;
  qdest = banger_quote (dest);
  if (g_cancellable_is_cancelled (cancellable))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_CANCELLED,
                   "Making the work disk '%s' was cancelled", qdest);
      return FALSE;
    }
  file = banger_disk_file_begin (dest, error);
  if (file == NULL)
    return FALSE;
  fd = banger_disk_file_get_fd (file);
  /* Sparse: the file costs what mkfs writes, a few MiB. */
  if (ftruncate (fd, (off_t) size) < 0)
    return banger_disk_set_io_error (error, errno, "Cannot size the work disk '%s'", qdest);

  if (!run_mkfs (mkfs, fd, prezeroed, &mkfs_err, cancellable, &first_error))
    {
      /* e2fsprogs < 1.47 does not know assume_storage_prezeroed: again
       * without it, on a file made empty again. */
      if (!prezeroed || mkfs_err == NULL || strstr (mkfs_err, "assume_storage_prezeroed") == NULL)
        {
          g_propagate_error (error, g_steal_pointer (&first_error));
          return FALSE;
        }
      if (!banger_disk_file_reset (file, error))
        return FALSE;
      if (ftruncate (fd, (off_t) size) < 0)
        return banger_disk_set_io_error (error, errno, "Cannot size the work disk '%s'", qdest);
      if (!run_mkfs (mkfs, fd, FALSE, NULL, cancellable, error))
        return FALSE;
    }
  if (g_cancellable_is_cancelled (cancellable))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_CANCELLED,
                   "Making the work disk '%s' was cancelled", qdest);
      return FALSE;
    }
  return banger_disk_file_commit (file, error);
}

gboolean
banger_work_disk_create (const char *dest, guint64 size, BangerWorkDiskFlags flags,
                         GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (dest != NULL, FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);

  return create_sync (dest, size, flags, cancellable, error);
}

typedef struct
{
  char *dest;
  guint64 size;
  BangerWorkDiskFlags flags;
} CreateData;

static void
create_data_free (gpointer data)
{
  CreateData *d = data;

  g_free (d->dest);
  g_free (d);
}

static void
create_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  CreateData *d = task_data;
  GError *error = NULL;

  if (!create_sync (d->dest, d->size, d->flags, cancellable, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

void
banger_work_disk_create_async (const char *dest, guint64 size, BangerWorkDiskFlags flags,
                               GCancellable *cancellable, GAsyncReadyCallback callback,
                               gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  CreateData *d;

  g_return_if_fail (dest != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, banger_work_disk_create_async);
  /* Our own CANCELLED error, not GIO's, when the cancellable fires. */
  g_task_set_check_cancellable (task, FALSE);
  d = g_new0 (CreateData, 1);
  d->dest = g_strdup (dest);
  d->size = size;
  d->flags = flags;
  g_task_set_task_data (task, d, create_data_free);
  g_task_run_in_thread (task, create_thread);
}

gboolean
banger_work_disk_create_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_async_result_is_tagged (result, banger_work_disk_create_async), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
