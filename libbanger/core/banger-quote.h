/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A printable rendering of untrusted bytes for error messages: printable
 * ASCII is kept, everything else (control bytes, non-ASCII, quotes and
 * backslashes) becomes a \xNN escape; more than 64 bytes are cut with "...".
 * NULL renders as "(null)". */
char *banger_quote (const char *untrusted);

G_END_DECLS
