/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "banger-ipv4.h"

/* A decimal number of 1-3 digits ending at @end or '\0', no leading zero,
 * at most @max.  *@p is moved past it. */
static gboolean
parse_decimal (const char **p, char end, guint max, guint *out)
{
  const char *s = *p;
  guint v = 0;
  guint n = 0;

  while (*s >= '0' && *s <= '9')
    {
      if (n == 3 || (n == 1 && v == 0))
        return FALSE;
      v = v * 10 + (guint) (*s - '0');
      n++;
      s++;
    }
  if (n == 0 || v > max || *s != end)
    return FALSE;
  *p = s;
  *out = v;
  return TRUE;
}

static gboolean
parse_address_until (const char **p, char end, guint32 *out)
{
  guint32 addr = 0;

  for (guint i = 0; i < 4; i++)
    {
      guint octet;

      if (!parse_decimal (p, i < 3 ? '.' : end, 255, &octet))
        return FALSE;
      addr = (addr << 8) | octet;
      if (i < 3)
        (*p)++;
    }
  *out = addr;
  return TRUE;
}

gboolean
banger_ipv4_parse_address (const char *text, guint32 *out)
{
  const char *p = text;

  return text != NULL && parse_address_until (&p, '\0', out);
}

gboolean
banger_ipv4_parse_cidr (const char *text, guint32 *out_addr, guint *out_prefix)
{
  const char *p = text;
  guint32 addr;
  guint prefix;

  if (text == NULL || !parse_address_until (&p, '/', &addr))
    return FALSE;
  p++;
  if (!parse_decimal (&p, '\0', 32, &prefix))
    return FALSE;
  *out_addr = addr;
  *out_prefix = prefix;
  return TRUE;
}
