/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "banger-error-private.h"
#include "banger-tap.h"

gboolean
banger_tap_create (const char *name, uid_t owner, GError **error)
{
  struct ifreq ifr;
  int fd;

  if (strlen (name) >= IFNAMSIZ)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "Interface name too long");
      return FALSE;
    }
  fd = open ("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0)
    return banger_set_error_from_errno (error, errno, "Cannot open /dev/net/tun");
  memset (&ifr, 0, sizeof ifr);
  g_strlcpy (ifr.ifr_name, name, IFNAMSIZ);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
  if (ioctl (fd, TUNSETIFF, &ifr) < 0)
    {
      int errsv = errno;
      close (fd);
      return banger_set_error_from_errno (error, errsv, "Cannot create tap '%s'", name);
    }
  if (ioctl (fd, TUNSETOWNER, (unsigned long) owner) < 0
      || ioctl (fd, TUNSETPERSIST, 1UL) < 0)
    {
      int errsv = errno;
      close (fd); /* not persistent yet: closing removes it */
      return banger_set_error_from_errno (error, errsv, "Cannot configure tap '%s'", name);
    }
  close (fd);
  return TRUE;
}

gboolean
banger_tap_create_marked (const char *name, uid_t owner,
                          gboolean (*mark) (const char *name, gpointer data), gpointer data,
                          GError **error)
{
  struct ifreq ifr;
  int fd;

  if (strlen (name) >= IFNAMSIZ)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "Interface name too long");
      return FALSE;
    }
  fd = open ("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0)
    return banger_set_error_from_errno (error, errno, "Cannot open /dev/net/tun");
  memset (&ifr, 0, sizeof ifr);
  g_strlcpy (ifr.ifr_name, name, IFNAMSIZ);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
  if (ioctl (fd, TUNSETIFF, &ifr) < 0)
    {
      int errsv = errno;
      close (fd);
      return banger_set_error_from_errno (error, errsv, "Cannot create tap '%s'", name);
    }
  if (ioctl (fd, TUNSETOWNER, (unsigned long) owner) < 0)
    {
      int errsv = errno;
      close (fd);
      return banger_set_error_from_errno (error, errsv, "Cannot configure tap '%s'", name);
    }
  /* marked while it still dies with this fd: a crash before TUNSETPERSIST
   * leaves nothing, after it a marked tap that reconcile can find */
  if (!mark (name, data))
    {
      close (fd);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "Cannot mark tap '%s'", name);
      return FALSE;
    }
  if (ioctl (fd, TUNSETPERSIST, 1UL) < 0)
    {
      int errsv = errno;
      close (fd);
      return banger_set_error_from_errno (error, errsv, "Cannot configure tap '%s'", name);
    }
  close (fd);
  return TRUE;
}
