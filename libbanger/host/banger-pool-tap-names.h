/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The names of the tap pool's taps (doc/host.md, "The tap pool").  A pool
 * tap is made before any VM exists, so it cannot be named from a VM id: it
 * is named from a random token, "bngp" + 11 hex digits, and its owner (in
 * its marker, as a VM tap's owner is the VM id) is "pool-" + the same token.
 * Neither can be a VM's: VM ids are 16 hex digits, VM taps are "bngt…".
 * When a VM takes a pool tap, the helper renames it to the VM's own tap name
 * and re-marks it, so every tap in use is still named from its VM id. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define BANGER_POOL_TAP_PREFIX "bngp"
#define BANGER_POOL_TAP_OWNER_PREFIX "pool-"
#define BANGER_POOL_TAP_TOKEN_LEN 11

/* A fresh random pool tap name ("bngp" + 11 hex digits). */
char *banger_pool_tap_name_new (void);
/* INVALID_ARGUMENT unless @name is "bngp" + exactly 11 lowercase hex digits. */
gboolean banger_pool_tap_validate_name (const char *name, GError **error);
/* The owner id that goes into the marker of pool tap @name ("pool-<token>"),
 * or NULL when @name is not a pool tap name. */
char *banger_pool_tap_owner (const char *name);
/* The pool tap name of owner id @owner ("pool-<token>"), or NULL. */
char *banger_pool_tap_name_of_owner (const char *owner);

G_END_DECLS
