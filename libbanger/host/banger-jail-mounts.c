/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Bind mounts of the VM's files into its jail (see banger-jail-mounts.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "banger-error-private.h"
#include "banger-jail-mounts.h"
#include "banger-path.h"
#include "banger-priv-ops-private.h"
#include "banger-quote.h"

typedef struct
{
  const char *param;    /* the file's path */
  const char *rw_param; /* bool: mount it read-write (NULL: always read-only) */
  const char *name;     /* in the jail root (the driver's NAME_* / "disk-<id>") */
} JailFile;

static const JailFile files[] = {
  { "jail_kernel", NULL, "kernel" },
  { "jail_initrd", NULL, "initrd" },
  { "jail_disk_rootfs", "jail_disk_rootfs_rw", "disk-rootfs" },
  { "jail_disk_work", "jail_disk_work_rw", "disk-work" },
  { "jail_disk_seed", "jail_disk_seed_rw", "disk-seed" },
  /* a restore's snapshot files (the driver's NAME_RESTORE_*): read-only,
   * Firecracker maps the memory privately */
  { "jail_restore_state", NULL, "restore.vmstate" },
  { "jail_restore_mem", NULL, "restore.mem" },
};

const char *const banger_jail_mount_params[]
    = { "jail_kernel",         "jail_initrd",       "jail_disk_rootfs",
        "jail_disk_rootfs_rw", "jail_disk_work",    "jail_disk_work_rw",
        "jail_disk_seed",      "jail_disk_seed_rw", "jail_restore_state",
        "jail_restore_mem",    NULL };

/* O_PATH fd of @path: beneath the state dir, no symlink on the way, a
 * regular file of the owner. */
static int
open_owner_file (BangerPrivState *state, const char *what, const char *path, GError **error)
{
  g_autofree char *q = banger_quote (path);
  struct stat st;
  int dir_fd, fd;

  if (state->state_dir == NULL || !banger_path_is_under (path, state->state_dir)
      || g_str_equal (path, state->state_dir))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
                   "The %s '%s' is not under banger's state directory", what, q);
      return -1;
    }
  dir_fd = open (state->state_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0)
    {
      banger_set_error_from_errno (error, errno, "Cannot open the state directory");
      return -1;
    }
  {
    const char *rel = path + strlen (state->state_dir);
    while (*rel == '/')
      rel++;
    fd = banger_open_beneath (dir_fd, rel, O_PATH, error);
  }
  close (dir_fd);
  if (fd < 0)
    return -1;
  if (fstat (fd, &st) < 0)
    {
      banger_set_error_from_errno (error, errno, "Cannot inspect the %s '%s'", what, q);
      close (fd);
      return -1;
    }
  if (!S_ISREG (st.st_mode) || st.st_uid != state->owner_uid)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
                   "The %s '%s' must be a regular file of uid %u to go into the jail", what, q,
                   (guint)state->owner_uid);
      close (fd);
      return -1;
    }
  return fd;
}

static gboolean
mount_one (BangerPrivState *state, int root_fd, const JailFile *f, const char *path,
           gboolean writable, GError **error)
{
  g_autofree char *src = NULL;
  g_autofree char *dst = NULL;
  g_autofree char *in_jail = NULL;
  unsigned long flags = MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | MS_NOEXEC;
  int src_fd, dst_fd;
  gboolean ok = TRUE;

  src_fd = open_owner_file (state, f->param, path, error);
  if (src_fd < 0)
    return FALSE;
  /* the mount point: a new empty file (the jail root is fresh, root's) */
  dst_fd = openat (root_fd, f->name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (dst_fd >= 0)
    {
      close (dst_fd);
      dst_fd = openat (root_fd, f->name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    }
  if (dst_fd < 0)
    {
      banger_set_error_from_errno (error, errno, "Cannot create '%s' in the jail", f->name);
      close (src_fd);
      return FALSE;
    }
  src = g_strdup_printf ("/proc/self/fd/%d", src_fd);
  dst = g_strdup_printf ("/proc/self/fd/%d", dst_fd);
  if (mount (src, dst, NULL, MS_BIND, NULL) < 0)
    ok = banger_set_error_from_errno (error, errno, "Cannot bind-mount '%s' into the jail", path);
  close (src_fd);
  close (dst_fd);
  if (!ok)
    return FALSE;
  /* the new mount (on top of the placeholder the fd above still names) */
  in_jail = g_strdup_printf ("/proc/self/fd/%d/%s", root_fd, f->name);
  if (!writable)
    flags |= MS_RDONLY;
  if (mount (NULL, in_jail, NULL, flags, NULL) < 0)
    return banger_set_error_from_errno (error, errno, "Cannot make '%s' in the jail %s", f->name,
                                        writable ? "nosuid" : "read-only");
  return TRUE;
}

gboolean
banger_jail_mounts_stage (BangerPrivState *state, int root_fd, JsonObject *params, GError **error)
{
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      const char *path = banger_priv_param_string (params, files[i].param);
      gboolean writable
          = files[i].rw_param != NULL && banger_priv_param_bool (params, files[i].rw_param, FALSE);

      if (path == NULL)
        continue;
      if (!mount_one (state, root_fd, &files[i], path, writable, error))
        return FALSE;
    }
  return TRUE;
}
