/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The tap pool: tap devices made ahead of time (by the helper), each free or
 * owned by one VM (doc/store.md). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _BangerStore BangerStore;

typedef struct
{
  char *name;  /* banger_validate_ifname() */
  char *vm_id; /* nullable: free when NULL */
  gint64 created_at;
} BangerStoreTap;

BangerStoreTap *banger_store_tap_copy (const BangerStoreTap *tap);
void banger_store_tap_free (BangerStoreTap *tap);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerStoreTap, banger_store_tap_free)

/* Adds a free tap to the pool.  INVALID_ARGUMENT for a name banger may not
 * own, ALREADY_EXISTS when it is in the pool. */
gboolean banger_store_tap_add (BangerStore *store, const char *name, GError **error);
/* Gives the oldest free tap to VM @vm_id, atomically.  BUSY when the pool
 * has none free (retry after a refill), NOT_FOUND when the VM does not
 * exist, ALREADY_EXISTS when it already owns a tap. */
BangerStoreTap *banger_store_tap_claim (BangerStore *store, const char *vm_id, GError **error);
/* Makes @name free again.  NOT_FOUND when not in the pool. */
gboolean banger_store_tap_release (BangerStore *store, const char *name, GError **error);
/* Frees the tap VM @vm_id owns, if any (not an error when none). */
gboolean banger_store_tap_release_for_vm (BangerStore *store, const char *vm_id, GError **error);
/* Takes @name out of the pool (the helper deleted it).  NOT_FOUND when not
 * in the pool, BUSY while a VM owns it. */
gboolean banger_store_tap_remove (BangerStore *store, const char *name, GError **error);
/* The pool, by name. */
GPtrArray *banger_store_tap_list (BangerStore *store, GError **error);
/* How many taps are free (for the refiller). */
gboolean banger_store_tap_count_free (BangerStore *store, guint *out_count, GError **error);

G_END_DECLS
