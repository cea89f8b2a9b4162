/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The engine: one object holding the VM, image and kernel services, the
 * store, the privileged backend and the install's SSH key (doc/engine.md).
 * bangerd is this engine behind a socket; BangerClient's embedded mode runs
 * the same engine in-process.  There is one implementation of each service.
 *
 * Every service call is synchronous and thread-safe: callers run it in a
 * worker thread (the daemon's executor thread, a GTask).  Calls on one VM
 * are serialised by a per-VM lock; different VMs proceed in parallel.
 * @op_id (nullable) names the operation in the store and in every log line
 * of its work, here and in bangerd-root. */
#pragma once

#include <gio/gio.h>

#include "banger-engine-config.h"
#include "banger-priv-backend.h"
#include "banger-store.h"

G_BEGIN_DECLS

#define BANGER_TYPE_ENGINE (banger_engine_get_type ())
G_DECLARE_FINAL_TYPE (BangerEngine, banger_engine, BANGER, ENGINE, GObject)

/* Takes @config.  Makes the state dir (0700) and runtime dir, opens the
 * store, and picks the backend: bangerd-root at config->helper_socket, else
 * the in-process executor when running as root, else PERMISSION_DENIED
 * saying how to install the helper. */
BangerEngine *banger_engine_new (BangerEngineConfig *config, GError **error);

const BangerEngineConfig *banger_engine_get_config (BangerEngine *self);
BangerStore *banger_engine_get_store (BangerEngine *self);
BangerPrivBackend *banger_engine_get_backend (BangerEngine *self);

/* ---------------------------------------------------------------- kernels */

/* Copies @kernel_path (and @initrd_path) under the state dir. */
BangerStoreKernel *banger_engine_kernel_add (BangerEngine *self, const char *name,
                                             const char *kernel_path, const char *initrd_path,
                                             const char *cmdline, const char *op_id,
                                             GCancellable *cancellable, GError **error);
GPtrArray *banger_engine_kernel_list (BangerEngine *self, GError **error);
/* BUSY while a VM uses it. */
gboolean banger_engine_kernel_delete (BangerEngine *self, const char *name, const char *op_id,
                                      GError **error);

/* ----------------------------------------------------------------- images */

/* Copies the ext4 @rootfs_path under the state dir (reflink when the file
 * system can, else a sparse copy). */
BangerStoreImage *banger_engine_image_import (BangerEngine *self, const char *name,
                                              const char *rootfs_path, const char *op_id,
                                              GCancellable *cancellable, GError **error);
GPtrArray *banger_engine_image_list (BangerEngine *self, GError **error);
gboolean banger_engine_image_delete (BangerEngine *self, const char *name, const char *op_id,
                                     GError **error);

/* -------------------------------------------------------------------- VMs */

typedef struct
{
  const char *name;
  const char *image;       /* image name */
  const char *kernel;      /* kernel name */
  guint vcpus;             /* 0: 1 */
  guint64 memory_mib;      /* 0: 256 */
  guint64 work_disk_bytes; /* 0: none */
  int vmm;                 /* BangerStoreVmm, or -1: the config's default */
  gboolean no_start;       /* stop after the disks: state stopped */
  const char *workspace;   /* nullable: "DIR[:GUESTDIR]" (doc/workspace.md) */
  const char *const *publish; /* nullable: [HOSTIP:]HOSTPORT:GUESTPORT[/tcp|/udp] each */
  const char *egress;         /* nullable: nat (default), none or CIDR,… */
} BangerEngineVmSpec;

/* What `vm show` says: the record, its runtime handles and its addresses. */
typedef struct
{
  BangerStoreVm *vm;
  char *image;  /* image name (nullable if gone) */
  char *kernel; /* kernel name */
  gint pid;     /* 0: not running */
  char *ip;     /* nullable */
  char *tap;    /* nullable: only while running */
  char *publish; /* canonical publishes, comma-joined ("" for none) */
  char *egress;  /* nat, none or the CIDR list */
} BangerEngineVmInfo;

void banger_engine_vm_info_free (BangerEngineVmInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerEngineVmInfo, banger_engine_vm_info_free)

/* The create step runner: validate → record (state creating) → rootfs →
 * work-disk → inject-key → lease → tap → nat → launch → start → ssh →
 * running.  On failure every step done is undone in reverse and the record
 * is left in state failed with failed_step and the error. */
BangerEngineVmInfo *banger_engine_vm_create (BangerEngine *self, const BangerEngineVmSpec *spec,
                                             const char *op_id, GCancellable *cancellable,
                                             GError **error);
BangerEngineVmInfo *banger_engine_vm_get (BangerEngine *self, const char *name, GError **error);
/* BangerEngineVmInfo*, by name. */
GPtrArray *banger_engine_vm_list (BangerEngine *self, GError **error);
/* The boot steps (tap → nat → launch → start → ssh) of a stopped VM. */
gboolean banger_engine_vm_start (BangerEngine *self, const char *name, const char *op_id,
                                 GCancellable *cancellable, GError **error);
/* The VMM's graceful stop ladder, then tap, NAT rule, cgroup and run dir are
 * removed; disks and the IP lease are kept. */
gboolean banger_engine_vm_stop (BangerEngine *self, const char *name, const char *op_id,
                                GCancellable *cancellable, GError **error);
/* KILL at once, then the same clean-up as stop. */
gboolean banger_engine_vm_kill (BangerEngine *self, const char *name, const char *op_id,
                                GCancellable *cancellable, GError **error);
/* Kill if running, remove every host object, the disks, the lease and the
 * record. */
gboolean banger_engine_vm_delete (BangerEngine *self, const char *name, const char *op_id,
                                  GCancellable *cancellable, GError **error);
/* A stopped VM's vCPUs and memory (0: keep).  BUSY unless stopped. */
gboolean banger_engine_vm_set (BangerEngine *self, const char *name, guint vcpus,
                               guint64 memory_mib, const char *op_id, GError **error);
/* Run @argv in the running VM over SSH (libssh, the install key); output
 * is written to @stdout_stream / @stderr_stream as it arrives. */
gboolean banger_engine_vm_exec (BangerEngine *self, const char *name, const char *const *argv,
                                GOutputStream *stdout_stream, GOutputStream *stderr_stream,
                                int *out_exit_status, GCancellable *cancellable, GError **error);

/* At start-up (banger_engine_new calls it): VMs recorded running whose VMM
 * still lives (pid and start time match) are adopted; those whose VMM is
 * gone are cleaned up and marked stopped; interrupted starts and stops end
 * stopped, interrupted creates are undone (failed, step "interrupted"),
 * interrupted deletes are finished. */
gboolean banger_engine_reconcile (BangerEngine *self, GError **error);

G_END_DECLS
