/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Content digests as OCI writes them: "sha256:" and 64 lowercase hex digits. */
#include "config.h"

#include <string.h>

#include "banger-digest.h"
#include "banger-error.h"
#include "banger-quote.h"

/**
 * banger_digest_validate:
 * @digest: (nullable): a digest string such as `sha256:0123…`
 * @error: return location for a #GError
 *
 * Checks that @digest is a sha256 digest in canonical form: the `sha256:`
 * prefix and exactly 64 lowercase hexadecimal digits.  Other algorithms
 * registered by OCI (sha512) are refused with %BANGER_ERROR_UNSUPPORTED;
 * anything else with %BANGER_ERROR_INVALID_ARGUMENT.
 *
 * Returns: %TRUE if @digest is valid
 */
gboolean
banger_digest_validate (const char *digest, GError **error)
{
  g_autofree char *quoted = NULL;
  const char *hex;

  if (digest != NULL && g_str_has_prefix (digest, BANGER_DIGEST_PREFIX))
    {
      hex = digest + strlen (BANGER_DIGEST_PREFIX);
      if (strlen (hex) == BANGER_DIGEST_HEX_LEN
          && strspn (hex, "0123456789abcdef") == BANGER_DIGEST_HEX_LEN)
        return TRUE;
    }
  quoted = banger_quote (digest);
  if (digest != NULL && g_str_has_prefix (digest, "sha512:"))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_UNSUPPORTED,
                   "Digest '%s' uses sha512; only sha256 digests are supported", quoted);
      return FALSE;
    }
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
               "Digest '%s' is not 'sha256:' followed by 64 lowercase hex digits", quoted);
  return FALSE;
}

/**
 * banger_digest_from_checksum:
 * @checksum: a %G_CHECKSUM_SHA256 checksum that has seen all the data
 *
 * Returns: (transfer full): the digest string, `sha256:<hex>`
 */
char *
banger_digest_from_checksum (GChecksum *checksum)
{
  return g_strconcat (BANGER_DIGEST_PREFIX, g_checksum_get_string (checksum), NULL);
}

/**
 * banger_digest_of_bytes:
 * @bytes: data
 *
 * Returns: (transfer full): the sha256 digest of @bytes, `sha256:<hex>`
 */
char *
banger_digest_of_bytes (GBytes *bytes)
{
  g_autofree char *hex = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, bytes);

  return g_strconcat (BANGER_DIGEST_PREFIX, hex, NULL);
}
