/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "banger-error.h"
#include "banger-pool-tap-names.h"
#include "banger-quote.h"

char *
banger_pool_tap_name_new (void)
{
  GString *s = g_string_new (BANGER_POOL_TAP_PREFIX);

  for (guint i = 0; i < BANGER_POOL_TAP_TOKEN_LEN; i++)
    g_string_append_c (s, "0123456789abcdef"[g_random_int_range (0, 16)]);
  return g_string_free (s, FALSE);
}

static gboolean
is_token (const char *s)
{
  if (strlen (s) != BANGER_POOL_TAP_TOKEN_LEN)
    return FALSE;
  for (; *s; s++)
    if (!g_ascii_isdigit (*s) && !(*s >= 'a' && *s <= 'f'))
      return FALSE;
  return TRUE;
}

gboolean
banger_pool_tap_validate_name (const char *name, GError **error)
{
  if (name != NULL && g_str_has_prefix (name, BANGER_POOL_TAP_PREFIX)
      && is_token (name + strlen (BANGER_POOL_TAP_PREFIX)))
    return TRUE;
  {
    g_autofree char *q = banger_quote (name ? name : "");
    g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                 "'%s' is not a pool tap name ('" BANGER_POOL_TAP_PREFIX
                 "' and 11 hex digits)",
                 q);
  }
  return FALSE;
}

char *
banger_pool_tap_owner (const char *name)
{
  if (!banger_pool_tap_validate_name (name, NULL))
    return NULL;
  return g_strconcat (BANGER_POOL_TAP_OWNER_PREFIX, name + strlen (BANGER_POOL_TAP_PREFIX), NULL);
}

char *
banger_pool_tap_name_of_owner (const char *owner)
{
  if (owner == NULL || !g_str_has_prefix (owner, BANGER_POOL_TAP_OWNER_PREFIX)
      || !is_token (owner + strlen (BANGER_POOL_TAP_OWNER_PREFIX)))
    return NULL;
  return g_strconcat (BANGER_POOL_TAP_PREFIX, owner + strlen (BANGER_POOL_TAP_OWNER_PREFIX), NULL);
}
