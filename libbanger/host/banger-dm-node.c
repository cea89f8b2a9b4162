/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Handing a dm snapshot's device node to the install's owner (bangerd-root
 * with an unprivileged bangerd: the owner's QEMU and debugfs open it).  The
 * rule: only a block device node whose device number is exactly the one
 * device-mapper reports for the name banger gave it, with banger's UUID;
 * never a symlink, never another node.  The check and the change go through
 * one O_PATH fd, so nothing can be swapped in between. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "banger-dm.h"
#include "banger-error-private.h"

static gboolean
refuse (GError **error, const char *node, const char *why)
{
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
               "Not handing '%s' to the owner: %s", node, why);
  return FALSE;
}

gboolean
banger_dm_node_give (BangerHostBackend *b, const char *name, const char *uuid, uid_t uid,
                     gid_t gid, GError **error)
{
  g_autofree char *existing = NULL;
  g_autofree char *node = NULL;
  g_autofree char *proc = NULL;
  dev_t want = 0;
  struct stat st;
  int fd;

  if (b->dm_device_node == NULL)
    return TRUE;
  existing = b->dm_get_uuid (b, name, error);
  if (existing == NULL)
    return FALSE;
  if (uuid == NULL || !g_str_equal (existing, uuid))
    return refuse (error, name, "its UUID is not banger's");
  node = b->dm_device_node (b, name, &want, error);
  if (node == NULL)
    return FALSE;
  fd = open (node, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return banger_set_error_from_errno (error, errno, "Cannot open the device node '%s'", node);
  if (fstat (fd, &st) != 0)
    {
      int errsv = errno;
      close (fd);
      return banger_set_error_from_errno (error, errsv, "Cannot stat '%s'", node);
    }
  if (!S_ISBLK (st.st_mode))
    {
      close (fd);
      return refuse (error, node, S_ISLNK (st.st_mode) ? "it is a symlink" : "not a block device");
    }
  if (major (st.st_rdev) != major (want))
    {
      close (fd);
      return refuse (error, node, "not a device-mapper device");
    }
  if (minor (st.st_rdev) != minor (want))
    {
      close (fd);
      return refuse (error, node, "another device-mapper device than the one created");
    }
  /* fchmod/fchown refuse an O_PATH fd: chmod through its /proc link (the
   * inode itself, no path lookup) and fchownat with AT_EMPTY_PATH. */
  proc = g_strdup_printf ("/proc/self/fd/%d", fd);
  if (chmod (proc, S_IRUSR | S_IWUSR) != 0 || fchownat (fd, "", uid, gid, AT_EMPTY_PATH) != 0)
    {
      int errsv = errno;
      close (fd);
      return banger_set_error_from_errno (error, errsv, "Cannot hand '%s' to uid %u", node,
                                          (guint) uid);
    }
  close (fd);
  return TRUE;
}
