/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Message framing of banger's sockets: each message is one JSON text followed
 * by a single NUL byte (as varlink).  The framer is the bounded buffer a
 * connection reads into: it never holds more than max_message + 1 bytes, so
 * an oversized message is detected while it is being read, before anything
 * past the bound is allocated. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The largest message, in bytes, not counting its terminating NUL. */
#define BANGER_PRIV_MESSAGE_MAX (64 * 1024)

typedef struct
{
  guint8 *buf;
  gsize alloc;       /* bytes allocated, grows by doubling up to limit + 1 */
  gsize len;         /* bytes buffered */
  gsize scanned;     /* buf[0..scanned) holds no NUL */
  gsize limit;       /* max_message */
} BangerPrivFramer;

void banger_priv_framer_init (BangerPrivFramer *framer, gsize max_message);
void banger_priv_framer_clear (BangerPrivFramer *framer);

/* Where the next read goes, and how much it may read (always >= 1 after
 * banger_priv_framer_next() has drained the complete messages). */
guint8 *banger_priv_framer_get_space (BangerPrivFramer *framer, gsize *out_avail);
void banger_priv_framer_commit (BangerPrivFramer *framer, gsize n);

/* The next complete message (without its NUL) into @out_message: TRUE.
 * FALSE with no error: none complete yet.  FALSE with
 * BANGER_ERROR_LIMIT_EXCEEDED: more than max_message bytes buffered without a
 * NUL; the connection must be dropped. */
gboolean banger_priv_framer_next (BangerPrivFramer *framer, GBytes **out_message, GError **error);

/* Bytes of an incomplete message are buffered. */
gboolean banger_priv_framer_has_partial (const BangerPrivFramer *framer);

/* Feed @len bytes as a socket would deliver them (in as many reads as the
 * buffer needs), appending each complete message to @messages (GBytes). */
gboolean banger_priv_framer_feed (BangerPrivFramer *framer, const void *data, gsize len,
                                  GPtrArray *messages, GError **error);

G_END_DECLS
