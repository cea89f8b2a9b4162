/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * banger_cmdline_split: joining the pieces with NULs gives back the input
 * (minus one trailing NUL), so no byte is lost or invented. */
#include "fuzz-common.h"

#include "banger-proc-private.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_auto (GStrv) argv = banger_cmdline_split ((const char *) data, size);
  g_autoptr (GByteArray) joined = g_byte_array_new ();
  gsize expect = size;

  for (guint i = 0; argv[i] != NULL; i++)
    {
      if (i > 0)
        g_byte_array_append (joined, (const guint8 *) "", 1);
      g_byte_array_append (joined, (const guint8 *) argv[i], strlen (argv[i]));
    }
  if (size > 0 && data[size - 1] == '\0')
    expect = size - 1;
  FUZZ_ASSERT (joined->len == expect);
  FUZZ_ASSERT (expect == 0 || memcmp (joined->data, data, expect) == 0);
  return 0;
}
