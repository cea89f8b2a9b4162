/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * banger_extract_firecracker_api_sock over a NUL-separated argv, exactly as
 * read from /proc/<pid>/cmdline.  Never crashes; a found value is non-empty,
 * does not start with '-', and is one of the arguments (or the tail of a
 * --api-sock= argument). */
#include "fuzz-common.h"

#include "banger-proc-private.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_auto (GStrv) argv = banger_cmdline_split ((const char *) data, size);
  g_autofree char *sock = banger_extract_firecracker_api_sock ((const char *const *) argv);

  if (sock != NULL)
    {
      gboolean seen = FALSE;

      FUZZ_ASSERT (sock[0] != '\0' && sock[0] != '-');
      for (guint i = 1; argv[i] != NULL; i++)
        {
          if (g_str_equal (argv[i], sock)
              || (g_str_has_prefix (argv[i], "--api-sock=")
                  && g_str_equal (argv[i] + strlen ("--api-sock="), sock)))
            seen = TRUE;
        }
      FUZZ_ASSERT (seen);
    }
  return 0;
}
