/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "banger-error.h"
#include "banger-priv-framer.h"

#define FRAMER_INITIAL_ALLOC 4096

void
banger_priv_framer_init (BangerPrivFramer *framer, gsize max_message)
{
  memset (framer, 0, sizeof *framer);
  framer->limit = max_message;
}

void
banger_priv_framer_clear (BangerPrivFramer *framer)
{
  g_clear_pointer (&framer->buf, g_free);
  framer->alloc = framer->len = framer->scanned = 0;
}

guint8 *
banger_priv_framer_get_space (BangerPrivFramer *framer, gsize *out_avail)
{
  gsize cap = framer->limit + 1; /* one byte past the bound detects "too big" */

  if (framer->len == framer->alloc && framer->alloc < cap)
    {
      gsize want = framer->alloc ? framer->alloc * 2 : FRAMER_INITIAL_ALLOC;
      framer->alloc = MIN (want, cap);
      framer->buf = g_realloc (framer->buf, framer->alloc);
    }
  *out_avail = framer->alloc - framer->len;
  return framer->buf + framer->len;
}

void
banger_priv_framer_commit (BangerPrivFramer *framer, gsize n)
{
  g_return_if_fail (framer->len + n <= framer->alloc);
  framer->len += n;
}

gboolean
banger_priv_framer_has_partial (const BangerPrivFramer *framer)
{
  return framer->len > 0;
}

gboolean
banger_priv_framer_next (BangerPrivFramer *framer, GBytes **out_message, GError **error)
{
  const guint8 *nul;
  gsize mlen;

  nul = framer->len > framer->scanned
            ? memchr (framer->buf + framer->scanned, '\0', framer->len - framer->scanned)
            : NULL;
  if (nul == NULL)
    {
      framer->scanned = framer->len;
      if (framer->len > framer->limit)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_LIMIT_EXCEEDED,
                       "Message exceeds %" G_GSIZE_FORMAT " bytes", framer->limit);
          return FALSE;
        }
      return FALSE;
    }
  mlen = nul - framer->buf;
  *out_message = g_bytes_new (framer->buf, mlen);
  memmove (framer->buf, nul + 1, framer->len - mlen - 1);
  framer->len -= mlen + 1;
  framer->scanned = 0;
  return TRUE;
}

gboolean
banger_priv_framer_feed (BangerPrivFramer *framer, const void *data, gsize len,
                         GPtrArray *messages, GError **error)
{
  const guint8 *p = data;

  while (len > 0)
    {
      gsize avail;
      guint8 *space = banger_priv_framer_get_space (framer, &avail);
      gsize n = MIN (avail, len);
      GBytes *msg;
      GError *local = NULL;

      g_return_val_if_fail (avail > 0, FALSE);
      memcpy (space, p, n);
      banger_priv_framer_commit (framer, n);
      p += n;
      len -= n;
      while (banger_priv_framer_next (framer, &msg, &local))
        g_ptr_array_add (messages, msg);
      if (local != NULL)
        {
          g_propagate_error (error, local);
          return FALSE;
        }
    }
  return TRUE;
}
