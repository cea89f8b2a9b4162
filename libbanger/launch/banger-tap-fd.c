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
#include "banger-tap-fd.h"

int
banger_tap_open (const char *name, GError **error)
{
  struct ifreq ifr;
  int fd;

  if (name == NULL || name[0] == '\0' || strlen (name) >= IFNAMSIZ)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "Interface name too long or empty");
      return -1;
    }
  fd = open ("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0)
    {
      banger_set_error_from_errno (error, errno, "Cannot open /dev/net/tun");
      return -1;
    }
  memset (&ifr, 0, sizeof ifr);
  g_strlcpy (ifr.ifr_name, name, IFNAMSIZ);
  /* IFF_TUN_EXCL is not set: this attaches to the existing persistent tap */
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
  if (ioctl (fd, TUNSETIFF, &ifr) < 0)
    {
      int errsv = errno;
      close (fd);
      banger_set_error_from_errno (error, errsv, "Cannot attach to tap '%s'", name);
      return -1;
    }
  return fd;
}
