/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * IPv4 text forms, parsed once for every layer (the install config's VM
 * network, the store's lease subnets).  Private to the library. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* "a.b.c.d": four decimal octets 0-255, no leading zeros, nothing else.
 * @out is in host byte order. */
gboolean banger_ipv4_parse_address (const char *text, guint32 *out);

/* "a.b.c.d/N" with N 0-32 (no leading zero).  The caller checks the range
 * of prefixes it accepts and whether host bits may be set.  Digits are read
 * by hand, never through errno (g_ascii_string_to_unsigned reads an errno
 * that a racing first use of GLib's C locale can leave at EAGAIN). */
gboolean banger_ipv4_parse_cidr (const char *text, guint32 *out_addr, guint *out_prefix);

G_END_DECLS
