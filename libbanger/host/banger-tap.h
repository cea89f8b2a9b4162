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

/* Attaching to it for a VMM: banger_tap_open() in launch/banger-tap-fd.h. */

G_END_DECLS
