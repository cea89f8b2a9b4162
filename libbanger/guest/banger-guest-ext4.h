/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Is this disk image ext4?  Read from the superblock, without mounting and
 * without libext2fs.  Internal API. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

gboolean banger_guest_ext4_check (const char *image, gboolean for_writing, GError **error);

G_END_DECLS
