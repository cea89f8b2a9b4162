/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Turn an error from another domain (GIO, GLib file and spawn errors) into
 * the BANGER_ERROR code it means, keeping its message.  Always returns
 * FALSE so it can end a failing function. */
gboolean banger_image_error_normalize (GError **error);

G_END_DECLS
