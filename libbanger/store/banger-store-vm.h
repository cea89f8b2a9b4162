/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * VMs in the store.  The durable spec and state (BangerStoreVm) live apart
 * from the handles of a running VM (BangerStoreVmRuntime), which are only
 * meaningful while its process lives and are cleared when it stops
 * (doc/store.md). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _BangerStore BangerStore;

/* The states a VM record goes through; the strings (banger_store_vm_state_
 * to_string) are what the file holds and never change. */
typedef enum
{
  BANGER_STORE_VM_STATE_CREATING, /* intent recorded, create steps running */
  BANGER_STORE_VM_STATE_STOPPED,
  BANGER_STORE_VM_STATE_STARTING,
  BANGER_STORE_VM_STATE_RUNNING,
  BANGER_STORE_VM_STATE_STOPPING,
  BANGER_STORE_VM_STATE_FAILED, /* failed_step and error say why */
  BANGER_STORE_VM_STATE_DELETING,
  BANGER_STORE_VM_STATE_PAUSED, /* running, its vCPUs stopped (vm.pause) */
} BangerStoreVmState;
#define BANGER_STORE_VM_STATE_LAST BANGER_STORE_VM_STATE_PAUSED

typedef enum
{
  BANGER_STORE_VMM_FIRECRACKER,
  BANGER_STORE_VMM_QEMU,
} BangerStoreVmm;
#define BANGER_STORE_VMM_LAST BANGER_STORE_VMM_QEMU

/* How the VM's root filesystem is layered over its image: AUTO until the
 * create step has picked one. */
typedef enum
{
  BANGER_STORE_ROOTFS_COW_AUTO,
  BANGER_STORE_ROOTFS_COW_DM_SNAPSHOT,
  BANGER_STORE_ROOTFS_COW_REFLINK,
  BANGER_STORE_ROOTFS_COW_SPARSE_COPY,
} BangerStoreRootfsCow;
#define BANGER_STORE_ROOTFS_COW_LAST BANGER_STORE_ROOTFS_COW_SPARSE_COPY

const char *banger_store_vm_state_to_string (BangerStoreVmState state);
gboolean banger_store_vm_state_from_string (const char *s, BangerStoreVmState *out);
const char *banger_store_vmm_to_string (BangerStoreVmm vmm);
gboolean banger_store_vmm_from_string (const char *s, BangerStoreVmm *out);
const char *banger_store_rootfs_cow_to_string (BangerStoreRootfsCow cow);
gboolean banger_store_rootfs_cow_from_string (const char *s, BangerStoreRootfsCow *out);

typedef struct
{
  /* the spec */
  char *id;        /* a VM name (DNS label) too: host objects are named from it */
  char *name;      /* DNS label, unique */
  char *image_id;  /* BangerStoreImage.id */
  char *kernel_id; /* BangerStoreKernel.id */
  guint vcpus;
  guint64 memory_mib;
  guint64 work_disk_bytes; /* 0: no work disk */
  BangerStoreVmm vmm;
  BangerStoreRootfsCow rootfs_cow;
  gint64 created_at; /* unix time, microseconds; made by the store */
  /* the state */
  BangerStoreVmState state;
  char *failed_step; /* nullable: the create/start step that failed */
  char *error;       /* nullable: why */
  gint64 updated_at; /* last change of spec or state; made by the store */
} BangerStoreVm;

/* A spec with the given name, image, kernel and VMM; 1 vCPU, 128 MiB, no
 * work disk, rootfs_cow AUTO, state CREATING, id NULL (the store makes one). */
BangerStoreVm *banger_store_vm_new (const char *name, const char *image_id,
                                    const char *kernel_id, BangerStoreVmm vmm);
BangerStoreVm *banger_store_vm_copy (const BangerStoreVm *vm);
void banger_store_vm_free (BangerStoreVm *vm);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerStoreVm, banger_store_vm_free)

/* Records a new VM (the intent of a create): @vm's spec and state as given;
 * id: @vm->id when set (must be a DNS label), else 16 random hex digits.
 * Returns the stored record.  ALREADY_EXISTS when the name (or id) is taken
 * — two concurrent creates of one name: exactly one succeeds;
 * NOT_FOUND when the image or kernel does not exist; INVALID_ARGUMENT for a
 * bad name, zero vCPUs or memory, an out-of-range enum. */
BangerStoreVm *banger_store_vm_create (BangerStore *store, const BangerStoreVm *vm,
                                       GError **error);
/* NOT_FOUND when absent. */
BangerStoreVm *banger_store_vm_get_by_name (BangerStore *store, const char *name,
                                            GError **error);
BangerStoreVm *banger_store_vm_get_by_id (BangerStore *store, const char *id, GError **error);
/* All VMs by name; GPtrArray of BangerStoreVm* (owning). */
GPtrArray *banger_store_vm_list (BangerStore *store, GError **error);

/* Rewrites the mutable spec of VM @vm->id from @vm: image_id, kernel_id,
 * vcpus, memory_mib, work_disk_bytes, vmm, rootfs_cow (not name, id,
 * created_at, state).  When @only_in_state is not -1 the update happens only
 * if the VM is in that state (checked in the same statement), else BUSY.
 * NOT_FOUND, INVALID_ARGUMENT as for create. */
gboolean banger_store_vm_update_spec (BangerStore *store, const BangerStoreVm *vm,
                                      int only_in_state, GError **error);

/* Sets the state of VM @id, with @failed_step and @message (both nullable;
 * NULL clears them).  When @from is not -1 the change happens only if the VM
 * is in state @from (compare-and-set, one statement), else BUSY with the
 * current state in the message.  NOT_FOUND when absent. */
gboolean banger_store_vm_set_state (BangerStore *store, const char *id, int from,
                                    BangerStoreVmState to, const char *failed_step,
                                    const char *message, GError **error);

/* Deletes VM @id and its runtime handles.  NOT_FOUND when absent; BUSY while
 * it still holds an IP lease or a tap (release them first: they stand for
 * host objects that the caller must undo). */
gboolean banger_store_vm_delete (BangerStore *store, const char *id, GError **error);

/* Told after each committed change of a VM's state, in the thread that
 * made it (the store's lock is not held): @name is NULL when the change
 * did not know it (set_state); @state is a BangerStoreVmState, or -1 when
 * the record was deleted.  The engine turns these into events. */
typedef void (*BangerStoreVmChangedFunc) (BangerStore *store, const char *vm_id, const char *name,
                                          int state, gpointer user_data);
/* Set once, before the store is shared between threads. */
void banger_store_set_vm_changed_func (BangerStore *store, BangerStoreVmChangedFunc func,
                                       gpointer user_data);

/* ----------------------------------------------------------- runtime */

/* The handles of a VM whose VMM process was launched.  pid + start_time +
 * cgroup identify the process again after a daemon restart (a pid alone can
 * be reused): start_time is field 22 of /proc/<pid>/stat (clock ticks after
 * boot), cgroup the path from /proc/<pid>/cgroup. */
typedef struct
{
  char *vm_id;
  gint pid;            /* > 0 */
  guint64 start_time;  /* /proc/<pid>/stat field 22 */
  char *cgroup;        /* nullable */
  char *api_socket;    /* nullable: the VMM's API/QMP socket */
  char *log_path;      /* nullable */
  /* Read-only, filled by get/list from the VM's tap and lease rows (the
   * single source of truth for those): */
  char *tap;           /* nullable */
  char *ip;            /* nullable: dotted quad */
  gint64 updated_at;
} BangerStoreVmRuntime;

BangerStoreVmRuntime *banger_store_vm_runtime_new (const char *vm_id, gint pid,
                                                   guint64 start_time);
BangerStoreVmRuntime *banger_store_vm_runtime_copy (const BangerStoreVmRuntime *rt);
void banger_store_vm_runtime_free (BangerStoreVmRuntime *rt);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerStoreVmRuntime, banger_store_vm_runtime_free)

/* Records (replacing) the runtime handles of @rt->vm_id; tap and ip are
 * ignored.  NOT_FOUND when the VM does not exist; INVALID_ARGUMENT for
 * pid <= 0. */
gboolean banger_store_vm_runtime_set (BangerStore *store, const BangerStoreVmRuntime *rt,
                                      GError **error);
/* NOT_FOUND when the VM has no runtime record. */
BangerStoreVmRuntime *banger_store_vm_runtime_get (BangerStore *store, const char *vm_id,
                                                   GError **error);
/* Every runtime record (for reconcile at daemon start), by vm_id. */
GPtrArray *banger_store_vm_runtime_list (BangerStore *store, GError **error);
/* Forgets the handles (the process is gone).  No error when there were none;
 * NOT_FOUND when the VM does not exist. */
gboolean banger_store_vm_runtime_clear (BangerStore *store, const char *vm_id, GError **error);

G_END_DECLS
