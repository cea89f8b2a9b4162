/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include "banger-error.h"

G_BEGIN_DECLS

/* Map an error from any domain (BANGER_ERROR, G_IO_ERROR) to a BangerError
 * code, for sending it over a socket. */
BangerError banger_error_code_from_gerror (const GError *error);

/* Map an errno value to the closest BangerError code. */
BangerError banger_error_code_from_errno (int errsv);

/* Set a BANGER_ERROR from errno: "<formatted message>: <strerror>".  Always
 * returns FALSE so it can end a failing function. */
gboolean banger_set_error_from_errno (GError **error, int errsv, const char *format, ...)
    G_GNUC_PRINTF (3, 4);

G_END_DECLS
