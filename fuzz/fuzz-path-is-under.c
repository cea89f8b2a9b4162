/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * banger_path_is_under: the input is "PATH\0ROOT".  Never crashes; an
 * accepted pair is absolute, and the path never contains a ".." that could
 * leave root after normalisation (checked with an independent normaliser). */
#include "fuzz-common.h"

#include "banger-path-private.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const uint8_t *nul = memchr (data, '\0', size);
  g_autofree char *path = NULL;
  g_autofree char *root = NULL;

  if (nul == NULL)
    {
      path = fuzz_cstring (data, size);
      root = g_strdup ("/run/banger");
    }
  else
    {
      path = fuzz_cstring (data, nul - data);
      root = fuzz_cstring (nul + 1, size - (nul - data) - 1);
    }

  if (banger_path_is_under (path, root))
    {
      g_autofree char *np = banger_path_normalize (path);
      g_autofree char *nr = banger_path_normalize (root);
      gsize rl;

      FUZZ_ASSERT (path[0] == '/' && root[0] == '/');
      FUZZ_ASSERT (np != NULL && nr != NULL);
      rl = strlen (nr);
      /* Strictly below, by whole components. */
      FUZZ_ASSERT (strlen (np) > rl);
      FUZZ_ASSERT (strncmp (np, nr, rl) == 0);
      FUZZ_ASSERT (g_str_equal (nr, "/") || np[rl] == '/');
      FUZZ_ASSERT (strstr (np, "/../") == NULL && !g_str_has_suffix (np, "/.."));
      /* Anything strictly below root is never root itself. */
      FUZZ_ASSERT (!banger_path_is_under (root, path));
    }
  return 0;
}
