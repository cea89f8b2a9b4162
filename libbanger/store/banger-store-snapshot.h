/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Snapshots in the store (the snapshots table): a running VM's memory and
 * device state plus a copy-on-write point of its disks, kept under
 * <state>/snapshots/<id>/ by the engine (doc/store.md, doc/engine.md).  A
 * snapshot outlives the VM it was taken of: it keeps what a restore needs
 * (image, kernel, VMM, sizes), and only the VM's name as text. */
#pragma once

#include <glib.h>

#include "banger-store-vm.h"

G_BEGIN_DECLS

typedef struct
{
  char *id;        /* 16 hex digits, made by the store */
  char *name;      /* unique; banger_store_validate_object_name() */
  char *vm_name;   /* the VM it was taken of (it may be gone since) */
  char *image_id;  /* the VM's image (a restored VM records it too) */
  char *kernel_id; /* the kernel the memory image runs */
  BangerStoreVmm vmm;
  guint vcpus;
  guint64 memory_mib;
  guint64 work_disk_bytes; /* 0: the VM had no work disk */
  gboolean diff;           /* Firecracker Diff: memory layered on @parent_id's */
  char *parent_id;         /* the Full snapshot a Diff one follows; NULL for Full */
  char *guest_ip;          /* nullable: the guest's address inside the snapshot */
  guint64 size_bytes;      /* bytes allocated by its files */
  gint64 created_at;       /* unix time, microseconds; made by the store */
  char *run;               /* nullable: the run of the VM (one VMM process, from its
                            * boot or restore to its stop) the memory was taken in;
                            * a Diff's parent is a Full of the same run (schema 7) */
} BangerStoreSnapshot;

BangerStoreSnapshot *banger_store_snapshot_new (const char *name, const BangerStoreVm *vm);
void banger_store_snapshot_free (BangerStoreSnapshot *snap);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerStoreSnapshot, banger_store_snapshot_free)

/* Records @snap (id: @snap->id when set, a DNS label; else made here;
 * created_at made here).  ALREADY_EXISTS when the name is taken (the
 * image, kernel and parent must exist: a foreign key); INVALID_ARGUMENT for a
 * bad name, zero sizes, or diff without a parent (and a parent without
 * diff). */
BangerStoreSnapshot *banger_store_snapshot_add (BangerStore *store, const BangerStoreSnapshot *snap,
                                                GError **error);
/* NOT_FOUND when absent. */
BangerStoreSnapshot *banger_store_snapshot_get_by_name (BangerStore *store, const char *name,
                                                        GError **error);
BangerStoreSnapshot *banger_store_snapshot_get_by_id (BangerStore *store, const char *id,
                                                      GError **error);
/* The newest Full snapshot taken in the run @run of a VM (a Diff's parent:
 * Firecracker's dirty-page tracking starts afresh with every boot or
 * restore, so a Full of another run is not the memory a Diff follows);
 * NOT_FOUND when that run has none. */
BangerStoreSnapshot *banger_store_snapshot_get_latest_full (BangerStore *store, const char *run,
                                                            GError **error);
/* All snapshots by name; GPtrArray of BangerStoreSnapshot* (owning). */
GPtrArray *banger_store_snapshot_list (BangerStore *store, GError **error);
/* NOT_FOUND when absent; BUSY while a Diff snapshot follows it. */
gboolean banger_store_snapshot_delete (BangerStore *store, const char *name, GError **error);

G_END_DECLS
