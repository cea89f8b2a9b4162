/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The seed disk: how a guest learns its address again after a restore
 * (doc/guest.md, "Re-addressing after a restore"). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger-engine-private.h"
#include "banger-error-private.h"
#include "banger-error.h"

#define SEED_SIZE 4096

gboolean
banger_engine_seed_write (const char *path, const BangerVmmConfig *config, GError **error)
{
  g_autofree char *mac = banger_vmm_mac_for_vm (config->vm_id, 0);
  g_autoptr (GString) s = g_string_new ("BANGER-SEED 1\n");
  g_autofree char *block = g_malloc0 (SEED_SIZE);

  g_string_append_printf (s, "id=%s\n", config->vm_id);
  if (config->guest_ip != NULL)
    g_string_append_printf (s, "ip=%s::%s:%s:%s:eth0:off\n", config->guest_ip,
                            config->gateway_ip ? config->gateway_ip : "",
                            config->netmask ? config->netmask : "",
                            config->hostname ? config->hostname : "");
  g_string_append_printf (s, "mac=%s\n", mac);
  if (s->len >= SEED_SIZE)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_LIMIT_EXCEEDED,
                   "The seed of VM '%s' does not fit in %d bytes", config->vm_id, SEED_SIZE);
      return FALSE;
    }
  memcpy (block, s->str, s->len);
  {
    g_autofree char *tmp = g_strconcat (path, ".new", NULL);
    int fd;
    gssize n;

    g_unlink (tmp);
    fd = open (tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
      return banger_set_error_from_errno (error, errno, "Cannot create the seed disk '%s'", tmp);
    n = write (fd, block, SEED_SIZE);
    if (n != SEED_SIZE || fsync (fd) < 0)
      {
        int errsv = n < 0 ? errno : (n != SEED_SIZE ? EIO : errno);
        close (fd);
        g_unlink (tmp);
        return banger_set_error_from_errno (error, errsv, "Cannot write the seed disk '%s'", tmp);
      }
    close (fd);
    if (g_rename (tmp, path) < 0)
      {
        int errsv = errno;
        g_unlink (tmp);
        return banger_set_error_from_errno (error, errsv, "Cannot rename '%s'", tmp);
      }
  }
  return TRUE;
}
