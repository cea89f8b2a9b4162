/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Kernels in the store: a name, a kernel image, an optional initrd and extra
 * command-line arguments (doc/store.md). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _BangerStore BangerStore;

typedef struct
{
  char *id;          /* 16 hex digits, made by the store */
  char *name;        /* unique; banger_store_validate_object_name() */
  char *kernel_path; /* absolute */
  char *initrd_path; /* nullable, absolute */
  char *cmdline;     /* nullable: extra kernel arguments */
  char *ref;         /* nullable: the OCI reference or URL it was pulled from */
  char *digest;      /* nullable: "sha256:…" of what was pulled (manifest or file) */
  gint64 created_at; /* unix time, microseconds */
} BangerStoreKernel;

BangerStoreKernel *banger_store_kernel_new (const char *name, const char *kernel_path,
                                            const char *initrd_path, const char *cmdline);
BangerStoreKernel *banger_store_kernel_copy (const BangerStoreKernel *kernel);
void banger_store_kernel_free (BangerStoreKernel *kernel);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerStoreKernel, banger_store_kernel_free)

/* As the image functions: ALREADY_EXISTS, INVALID_ARGUMENT, NOT_FOUND, and
 * BUSY when deleting a kernel a VM boots. */
BangerStoreKernel *banger_store_kernel_add (BangerStore *store, const BangerStoreKernel *kernel,
                                            GError **error);
BangerStoreKernel *banger_store_kernel_get_by_name (BangerStore *store, const char *name,
                                                    GError **error);
BangerStoreKernel *banger_store_kernel_get_by_id (BangerStore *store, const char *id,
                                                  GError **error);
GPtrArray *banger_store_kernel_list (BangerStore *store, GError **error);
gboolean banger_store_kernel_delete (BangerStore *store, const char *name, GError **error);

G_END_DECLS
