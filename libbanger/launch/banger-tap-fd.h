/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The tap a VMM is given as an fd: whoever spawns the VMM (the root helper,
 * or the direct launcher of a caller allowed to) attaches to the existing
 * tap and passes the queue fd; the VMM never opens /dev/net/tun. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Attach to the existing tap @name (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, in
 * the caller's network namespace) and return the queue fd (O_CLOEXEC), for
 * QEMU's -netdev tap,fd=N. */
int banger_tap_open (const char *name, GError **error);

G_END_DECLS
