/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The only digest algorithm banger stores and verifies. */
#define BANGER_DIGEST_PREFIX "sha256:"
#define BANGER_DIGEST_HEX_LEN 64
#define BANGER_DIGEST_LEN (sizeof BANGER_DIGEST_PREFIX - 1 + BANGER_DIGEST_HEX_LEN)

gboolean banger_digest_validate (const char *digest, GError **error);

char *banger_digest_from_checksum (GChecksum *checksum);

char *banger_digest_of_bytes (GBytes *bytes);

G_END_DECLS
