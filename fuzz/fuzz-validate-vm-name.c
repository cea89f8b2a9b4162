/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * banger_validate_vm_name: never crashes, and whatever it accepts is an RFC
 * 1123 label (checked here independently). */
#include "fuzz-common.h"

#include "banger-error.h"
#include "banger-names.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *name = fuzz_cstring (data, size);
  g_autoptr (GError) error = NULL;
  gsize len = strlen (name);

  if (banger_validate_vm_name (name, &error))
    {
      FUZZ_ASSERT (error == NULL);
      FUZZ_ASSERT (len >= 1 && len <= BANGER_VM_NAME_MAX);
      FUZZ_ASSERT (name[0] != '-' && name[len - 1] != '-');
      for (gsize i = 0; i < len; i++)
        FUZZ_ASSERT ((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9')
                     || name[i] == '-');
    }
  else
    {
      FUZZ_ASSERT (error != NULL && error->domain == BANGER_ERROR);
      FUZZ_ASSERT (g_utf8_validate (error->message, -1, NULL));
    }
  return 0;
}
