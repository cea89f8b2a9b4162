/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The real host backend: loop devices with LOOP_CONFIGURE on an fd (no path
 * to race on), device-mapper through libdevmapper.  Without device-mapper in
 * the kernel every dm call answers UNSUPPORTED. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libdevmapper.h>
#include <linux/loop.h>
#include <string.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "banger-dm.h"
#include "banger-error-private.h"

static gboolean
real_dm_available (BangerHostBackend *self, GError **error)
{
  int fd = open ("/dev/mapper/control", O_RDWR | O_CLOEXEC);

  if (fd < 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_UNSUPPORTED,
                   "This kernel has no device-mapper (/dev/mapper/control: %s): root disks "
                   "cannot be copy-on-write snapshots here; give the VM a root disk of its own",
                   g_strerror (errno));
      return FALSE;
    }
  close (fd);
  return TRUE;
}

static char *
real_loop_attach (BangerHostBackend *self, int fd, const char *tag, gboolean read_only,
                  GError **error)
{
  int ctl = open ("/dev/loop-control", O_RDWR | O_CLOEXEC);

  if (ctl < 0)
    {
      banger_set_error_from_errno (error, errno, "Cannot open /dev/loop-control");
      return NULL;
    }
  /* Another process can take the free device between GET_FREE and
   * CONFIGURE: retry a few times on EBUSY. */
  for (int attempt = 0; attempt < 8; attempt++)
    {
      struct loop_config cfg;
      g_autofree char *dev = NULL;
      int n = ioctl (ctl, LOOP_CTL_GET_FREE);
      int lfd;

      if (n < 0)
        {
          int errsv = errno;
          close (ctl);
          banger_set_error_from_errno (error, errsv, "No free loop device");
          return NULL;
        }
      dev = g_strdup_printf ("/dev/loop%d", n);
      lfd = open (dev, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
      if (lfd < 0)
        continue;
      memset (&cfg, 0, sizeof cfg);
      cfg.fd = (guint32) fd;
      cfg.info.lo_flags = read_only ? LO_FLAGS_READ_ONLY : 0;
      g_strlcpy ((char *) cfg.info.lo_file_name, tag, LO_NAME_SIZE);
      if (ioctl (lfd, LOOP_CONFIGURE, &cfg) == 0)
        {
          close (lfd);
          close (ctl);
          return g_steal_pointer (&dev);
        }
      {
        int errsv = errno;
        close (lfd);
        if (errsv != EBUSY)
          {
            close (ctl);
            banger_set_error_from_errno (error, errsv, "Cannot attach %s", dev);
            return NULL;
          }
      }
    }
  close (ctl);
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_BUSY, "Every free loop device was taken");
  return NULL;
}

/* The lo_file_name of @dev, or NULL when it is not attached. */
static char *
loop_tag_of (const char *dev)
{
  struct loop_info64 info;
  int fd = open (dev, O_RDONLY | O_CLOEXEC);
  int rc;

  if (fd < 0)
    return NULL;
  memset (&info, 0, sizeof info);
  rc = ioctl (fd, LOOP_GET_STATUS64, &info);
  close (fd);
  if (rc < 0)
    return NULL;
  return g_strndup ((const char *) info.lo_file_name, LO_NAME_SIZE);
}

static GStrv
real_loop_find (BangerHostBackend *self, const char *tag, GError **error)
{
  g_autoptr (GPtrArray) found = g_ptr_array_new_with_free_func (g_free);
  DIR *d = opendir ("/sys/block");
  struct dirent *de;

  if (d == NULL)
    {
      banger_set_error_from_errno (error, errno, "Cannot list /sys/block");
      return NULL;
    }
  while ((de = readdir (d)) != NULL)
    {
      g_autofree char *dev = NULL;
      g_autofree char *t = NULL;

      if (!g_str_has_prefix (de->d_name, "loop"))
        continue;
      dev = g_strconcat ("/dev/", de->d_name, NULL);
      t = loop_tag_of (dev);
      if (t != NULL && g_str_equal (t, tag))
        g_ptr_array_add (found, g_steal_pointer (&dev));
    }
  closedir (d);
  g_ptr_array_add (found, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&found), FALSE);
}

static gboolean
real_loop_detach (BangerHostBackend *self, const char *dev, const char *tag, GError **error)
{
  g_autofree char *t = loop_tag_of (dev);
  int fd;

  if (t == NULL)
    return TRUE; /* already detached */
  if (!g_str_equal (t, tag))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
                   "Loop device %s is not banger's; leaving it alone", dev);
      return FALSE;
    }
  fd = open (dev, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return banger_set_error_from_errno (error, errno, "Cannot open %s", dev);
  if (ioctl (fd, LOOP_CLR_FD, 0) < 0 && errno != ENXIO)
    {
      int errsv = errno;
      close (fd);
      return banger_set_error_from_errno (error, errsv, "Cannot detach %s", dev);
    }
  close (fd);
  return TRUE;
}

static gboolean
dm_run (struct dm_task *dmt, const char *what, const char *name, GError **error)
{
  if (!dm_task_run (dmt))
    {
      int errsv = dm_task_get_errno (dmt);
      dm_task_destroy (dmt);
      return banger_set_error_from_errno (error, errsv ? errsv : EIO,
                                          "device-mapper %s of '%s' failed", what, name);
    }
  return TRUE;
}

static gboolean
real_dm_create (BangerHostBackend *self, const char *name, const char *uuid, const char *table,
                GError **error)
{
  g_auto (GStrv) f = g_strsplit (table, " ", 4); /* start length target params */
  struct dm_task *dmt;

  if (!real_dm_available (self, error))
    return FALSE;
  if (g_strv_length (f) != 4)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT, "Bad dm table");
      return FALSE;
    }
  dm_udev_set_sync_support (0);
  dmt = dm_task_create (DM_DEVICE_CREATE);
  if (dmt == NULL || !dm_task_set_name (dmt, name) || !dm_task_set_uuid (dmt, uuid)
      || !dm_task_add_target (dmt, g_ascii_strtoull (f[0], NULL, 10),
                              g_ascii_strtoull (f[1], NULL, 10), f[2], f[3]))
    {
      if (dmt)
        dm_task_destroy (dmt);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "Cannot prepare dm device '%s'",
                   name);
      return FALSE;
    }
  if (!dm_run (dmt, "create", name, error))
    return FALSE;
  dm_task_destroy (dmt);
  return TRUE;
}

static char *
real_dm_get_uuid (BangerHostBackend *self, const char *name, GError **error)
{
  struct dm_task *dmt;
  struct dm_info info;
  char *uuid;

  if (!real_dm_available (self, error))
    return NULL;
  dmt = dm_task_create (DM_DEVICE_INFO);
  if (dmt == NULL || !dm_task_set_name (dmt, name))
    {
      if (dmt)
        dm_task_destroy (dmt);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "Cannot query dm device '%s'",
                   name);
      return NULL;
    }
  if (!dm_run (dmt, "info", name, error))
    return NULL;
  if (!dm_task_get_info (dmt, &info) || !info.exists)
    {
      dm_task_destroy (dmt);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND, "No dm device '%s'", name);
      return NULL;
    }
  uuid = g_strdup (dm_task_get_uuid (dmt));
  dm_task_destroy (dmt);
  return uuid;
}

/* /dev/mapper/<name> resolved (udev makes it a symlink to ../dm-N; without
 * udev libdevmapper makes it a node) and device-mapper's own word on the
 * device number of @name. */
static char *
real_dm_device_node (BangerHostBackend *self, const char *name, dev_t *out_rdev,
                     GError **error)
{
  g_autofree char *path = g_strconcat ("/dev/mapper/", name, NULL);
  struct dm_task *dmt;
  struct dm_info info;
  char *node;

  dmt = dm_task_create (DM_DEVICE_INFO);
  if (dmt == NULL || !dm_task_set_name (dmt, name))
    {
      if (dmt)
        dm_task_destroy (dmt);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "Cannot query dm device '%s'",
                   name);
      return NULL;
    }
  if (!dm_run (dmt, "info", name, error))
    return NULL;
  if (!dm_task_get_info (dmt, &info) || !info.exists)
    {
      dm_task_destroy (dmt);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND, "No dm device '%s'", name);
      return NULL;
    }
  *out_rdev = makedev (info.major, info.minor);
  dm_task_destroy (dmt);
  node = realpath (path, NULL);
  if (node == NULL)
    banger_set_error_from_errno (error, errno, "Cannot resolve '%s'", path);
  return node;
}

static gboolean
real_dm_remove (BangerHostBackend *self, const char *name, GError **error)
{
  struct dm_task *dmt;

  if (!real_dm_available (self, error))
    return FALSE;
  dm_udev_set_sync_support (0);
  dmt = dm_task_create (DM_DEVICE_REMOVE);
  if (dmt == NULL || !dm_task_set_name (dmt, name))
    {
      if (dmt)
        dm_task_destroy (dmt);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "Cannot prepare removal of '%s'",
                   name);
      return FALSE;
    }
  if (!dm_run (dmt, "remove", name, error))
    return FALSE;
  dm_task_destroy (dmt);
  return TRUE;
}

static BangerHostBackend real_backend = {
  real_dm_available, real_loop_attach, real_loop_find, real_loop_detach,
  real_dm_create,    real_dm_get_uuid, real_dm_remove, NULL,
  NULL,              real_dm_device_node,
};

BangerHostBackend *
banger_host_backend_real (void)
{
  return &real_backend;
}
