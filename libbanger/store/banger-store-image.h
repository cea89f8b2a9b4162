/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Images in the store: a name and the ext4 root filesystem VMs are made
 * from (doc/store.md). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _BangerStore BangerStore;

typedef struct
{
  char *id;          /* 16 hex digits, made by the store */
  char *name;        /* unique; banger_store_validate_object_name() */
  char *rootfs_path; /* absolute */
  guint64 size_bytes;
  char *digest;      /* nullable: "sha256:<64 hex>" of the source, if known (a pulled
                      * image: its manifest) */
  char *ref;         /* nullable: the normalised OCI reference it was pulled from */
  gint64 created_at; /* unix time, microseconds */
} BangerStoreImage;

BangerStoreImage *banger_store_image_new (const char *name, const char *rootfs_path,
                                          guint64 size_bytes, const char *digest);
BangerStoreImage *banger_store_image_copy (const BangerStoreImage *image);
void banger_store_image_free (BangerStoreImage *image);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerStoreImage, banger_store_image_free)

/* Adds @image (id and created_at are ignored and made here); returns the
 * stored record.  ALREADY_EXISTS if the name is taken, INVALID_ARGUMENT for a
 * bad name, path or digest. */
BangerStoreImage *banger_store_image_add (BangerStore *store, const BangerStoreImage *image,
                                          GError **error);
/* NOT_FOUND when absent. */
BangerStoreImage *banger_store_image_get_by_ref (BangerStore *store, const char *ref,
                                                 GError **error);
/* NOT_FOUND when absent. */
BangerStoreImage *banger_store_image_get_by_name (BangerStore *store, const char *name,
                                                  GError **error);
BangerStoreImage *banger_store_image_get_by_id (BangerStore *store, const char *id,
                                                GError **error);
/* All images, by name; a GPtrArray of BangerStoreImage* (owning). */
GPtrArray *banger_store_image_list (BangerStore *store, GError **error);
/* NOT_FOUND when absent, BUSY while a VM is made from it. */
gboolean banger_store_image_delete (BangerStore *store, const char *name, GError **error);

G_END_DECLS
