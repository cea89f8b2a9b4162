/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Writing the install's public key into a VM's own ext4 rootfs image at
 * /root/.ssh/authorized_keys, without mounting it: e2fsprogs' debugfs,
 * spawned with an argv array, commands on its stdin.  Internal API. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Where the key goes inside the guest. */
#define BANGER_GUEST_AUTHORIZED_KEYS "/root/.ssh/authorized_keys"

/* The largest authorized_keys line accepted. */
#define BANGER_GUEST_AUTHORIZED_KEY_MAX 16384

gboolean banger_guest_inject_authorized_key (const char *image, const char *public_line,
                                             GCancellable *cancellable, GError **error);
char *banger_guest_read_authorized_keys (const char *image, GCancellable *cancellable,
                                         GError **error);

G_END_DECLS
