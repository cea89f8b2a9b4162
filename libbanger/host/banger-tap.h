/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Persistent tap devices through the tun ioctls on /dev/net/tun. */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

/* Create persistent tap @name (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR) owned by
 * @owner (TUNSETOWNER), so that a VMM running as @owner can open it. */
gboolean banger_tap_create (const char *name, uid_t owner, GError **error);

/* The same, with @mark (setting its ownership marker) called while the tap
 * is not yet persistent: if this process dies before the tap is marked, the
 * kernel removes it with the tun fd, so no unmarked tap of banger's name is
 * ever left behind. */
gboolean banger_tap_create_marked (const char *name, uid_t owner,
                                   gboolean (*mark) (const char *name, gpointer data),
                                   gpointer data, GError **error);

/* Attaching to it for a VMM: banger_tap_open() in launch/banger-tap-fd.h. */

G_END_DECLS
