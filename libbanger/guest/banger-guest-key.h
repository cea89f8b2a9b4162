/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The install-wide SSH key (doc/guest.md, "Guest access"): one ed25519 key
 * per banger install, made on first use with libssh in a directory the
 * caller names (normally <state dir>/ssh), used to log into every guest.
 *
 * Internal API for the engine; not exported from libbanger-1.so. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The file names inside the key directory. */
#define BANGER_GUEST_KEY_FILE "id_ed25519"
#define BANGER_GUEST_KEY_PUB_FILE "id_ed25519.pub"

/* The comment written at the end of the public key line. */
#define BANGER_GUEST_KEY_COMMENT "banger"

/* The largest key file read (an ed25519 private key is ~400 bytes). */
#define BANGER_GUEST_KEY_MAX_BYTES (64 * 1024)

typedef struct _BangerGuestKey BangerGuestKey;

BangerGuestKey *banger_guest_key_load_or_create (const char *dir, gboolean *out_created,
                                                 GError **error);
BangerGuestKey *banger_guest_key_ref (BangerGuestKey *key);
void banger_guest_key_unref (BangerGuestKey *key);

const char *banger_guest_key_get_private_path (BangerGuestKey *key);
const char *banger_guest_key_get_public_path (BangerGuestKey *key);
const char *banger_guest_key_get_public_line (BangerGuestKey *key);
/* The libssh key (ssh_key), for the SSH modules of this folder. */
gpointer banger_guest_key_get_ssh_key (BangerGuestKey *key);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerGuestKey, banger_guest_key_unref)

G_END_DECLS
