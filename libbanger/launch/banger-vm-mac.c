/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "banger-vm-mac.h"

char *
banger_vm_mac_for (const char *vm_id, guint nic_index)
{
  g_autofree char *input = g_strdup_printf ("%s/%u", vm_id, nic_index);
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  guint8 digest[32];
  gsize len = sizeof digest;

  g_checksum_update (sum, (const guchar *) input, -1);
  g_checksum_get_digest (sum, digest, &len);
  /* 0x02: locally administered, unicast */
  return g_strdup_printf ("02:%02x:%02x:%02x:%02x:%02x", digest[0], digest[1], digest[2],
                          digest[3], digest[4]);
}
