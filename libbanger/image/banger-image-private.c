/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Small helpers shared by the image layer. */
#include "config.h"

#include "banger-error-private.h"
#include "banger-image-private.h"

/**
 * banger_image_error_normalize:
 * @error: (inout) (nullable): an error location
 *
 * Replaces an error of another domain with the #BANGER_ERROR code it means
 * (banger_error_code_from_gerror()), keeping its message.
 *
 * Returns: %FALSE, always
 */
gboolean
banger_image_error_normalize (GError **error)
{
  GError *converted;

  if (error == NULL || *error == NULL || (*error)->domain == BANGER_ERROR)
    return FALSE;
  converted = g_error_new_literal (BANGER_ERROR, banger_error_code_from_gerror (*error),
                                   (*error)->message);
  g_error_free (*error);
  *error = converted;
  return FALSE;
}
