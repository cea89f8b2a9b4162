/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * banger_validate_ifname: never crashes, and whatever it accepts is banger's
 * prefix plus [a-z0-9], within IFNAMSIZ - 1 bytes. */
#include "fuzz-common.h"

#include "banger-error.h"
#include "banger-names.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *name = fuzz_cstring (data, size);
  g_autoptr (GError) error = NULL;
  gsize len = strlen (name);
  gsize plen = strlen (BANGER_IFNAME_PREFIX);

  if (banger_validate_ifname (name, &error))
    {
      FUZZ_ASSERT (error == NULL);
      FUZZ_ASSERT (len > plen && len <= BANGER_IFNAME_MAX);
      FUZZ_ASSERT (strncmp (name, BANGER_IFNAME_PREFIX, plen) == 0);
      for (gsize i = plen; i < len; i++)
        FUZZ_ASSERT ((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9'));
    }
  else
    {
      FUZZ_ASSERT (error != NULL && error->domain == BANGER_ERROR);
      FUZZ_ASSERT (g_utf8_validate (error->message, -1, NULL));
    }
  return 0;
}
