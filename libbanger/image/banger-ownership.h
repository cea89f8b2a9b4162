/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* What a file in an unpacked image really is, as the layer said: owner and
 * the full mode (setuid/setgid/sticky included).  The staging tree on the
 * host holds neither (see doc/images.md); the ext4 builder applies these. */
typedef struct
{
  guint32 uid;
  guint32 gid;
  guint32 mode; /* st_mode: type and permission bits */
} BangerOwnership;

typedef struct
{
  char *path; /* relative to the tree; "" is its root */
  BangerOwnership own;
} BangerOwnershipEntry;

/* The record file: a header, then one record per file in the tree. */
typedef struct
{
  guint64 content_bytes; /* allocated bytes of the tree (st_blocks) */
  guint64 inodes;        /* files, directories, links */
  GPtrArray *entries;    /* BangerOwnershipEntry */
} BangerOwnershipList;

void banger_ownership_list_free (BangerOwnershipList *list);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerOwnershipList, banger_ownership_list_free)

gboolean banger_ownership_list_save (const BangerOwnershipList *list, const char *path,
                                     GError **error);
BangerOwnershipList *banger_ownership_list_load (const char *path, GError **error);

G_END_DECLS
