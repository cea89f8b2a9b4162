/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "banger-proc.h"

G_BEGIN_DECLS

/* Split the raw bytes of a /proc/<pid>/cmdline at NULs: empty arguments are
 * kept, an unterminated last argument is kept. */
char **banger_cmdline_split (const char *buf, gsize len);

G_END_DECLS
