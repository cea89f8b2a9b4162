/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "banger-quote.h"

#define QUOTE_MAX_BYTES 64

char *
banger_quote (const char *untrusted)
{
  GString *out;
  gsize i;

  if (untrusted == NULL)
    return g_strdup ("(null)");

  out = g_string_new (NULL);
  for (i = 0; untrusted[i] != '\0' && i < QUOTE_MAX_BYTES; i++)
    {
      guchar c = (guchar) untrusted[i];
      if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\')
        g_string_append_c (out, (char) c);
      else
        g_string_append_printf (out, "\\x%02x", c);
    }
  if (untrusted[i] != '\0')
    g_string_append (out, "...");
  return g_string_free (out, FALSE);
}
