/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__BANGER_H_INSIDE__) && !defined(BANGER_COMPILATION)
#error "Only <banger.h> can be included directly."
#endif

#include <banger-macros.h>

G_BEGIN_DECLS

/**
 * BangerVmState:
 * @BANGER_VM_STATE_CREATING: the create steps are running.
 * @BANGER_VM_STATE_STOPPED: the VM has its disks and no process.
 * @BANGER_VM_STATE_STARTING: the start steps are running.
 * @BANGER_VM_STATE_RUNNING: the VMM runs and the guest answered on SSH.
 * @BANGER_VM_STATE_STOPPING: the VMM is being stopped.
 * @BANGER_VM_STATE_FAILED: a step failed and was undone; the VM's failed
 *   step and error message say which and why.
 * @BANGER_VM_STATE_DELETING: the VM is being deleted.
 * @BANGER_VM_STATE_PAUSED: the VMM runs with the guest's vCPUs stopped
 *   (banger_client_vm_pause_async()); Since: 0.2.
 * @BANGER_VM_STATE_DELETED: the VM no longer exists: only in
 *   #BangerClient::vm-state-changed, when its record was removed (Since: 0.2)
 *
 * The state of a VM, as the engine records it.
 *
 * Since: 0.2
 */
typedef enum
{
  BANGER_VM_STATE_CREATING = 0,
  BANGER_VM_STATE_STOPPED = 1,
  BANGER_VM_STATE_STARTING = 2,
  BANGER_VM_STATE_RUNNING = 3,
  BANGER_VM_STATE_STOPPING = 4,
  BANGER_VM_STATE_FAILED = 5,
  BANGER_VM_STATE_DELETING = 6,
  BANGER_VM_STATE_PAUSED = 7,
  BANGER_VM_STATE_DELETED = 8,
} BangerVmState;

/**
 * BangerVmmKind:
 * @BANGER_VMM_KIND_DEFAULT: the engine's configured default (`[vmm] default=`).
 * @BANGER_VMM_KIND_FIRECRACKER: Firecracker.
 * @BANGER_VMM_KIND_QEMU: QEMU's microvm machine.
 *
 * Which virtual machine monitor runs a VM.
 *
 * Since: 0.2
 */
typedef enum
{
  BANGER_VMM_KIND_DEFAULT = 0,
  BANGER_VMM_KIND_FIRECRACKER = 1,
  BANGER_VMM_KIND_QEMU = 2,
} BangerVmmKind;

BANGER_AVAILABLE_IN_0_2
const char *banger_vm_state_to_string (BangerVmState state);
BANGER_AVAILABLE_IN_0_2
const char *banger_vmm_kind_to_string (BangerVmmKind kind);

/* ------------------------------------------------------------------ spec */

/**
 * BangerVmSpec:
 *
 * What to create: a VM's name, image, kernel and sizes.  A refcounted boxed
 * value; set it up, then pass it to banger_client_vm_create_async().
 *
 * Since: 0.2
 */
typedef struct _BangerVmSpec BangerVmSpec;

#define BANGER_TYPE_VM_SPEC (banger_vm_spec_get_type ())
BANGER_AVAILABLE_IN_0_2
GType banger_vm_spec_get_type (void) G_GNUC_CONST;

BANGER_AVAILABLE_IN_0_2
BangerVmSpec *banger_vm_spec_new (const char *name, const char *image, const char *kernel);
BANGER_AVAILABLE_IN_0_2
BangerVmSpec *banger_vm_spec_ref (BangerVmSpec *spec);
BANGER_AVAILABLE_IN_0_2
void banger_vm_spec_unref (BangerVmSpec *spec);
BANGER_AVAILABLE_IN_0_2
const char *banger_vm_spec_get_name (BangerVmSpec *spec);
BANGER_AVAILABLE_IN_0_2
const char *banger_vm_spec_get_image (BangerVmSpec *spec);
BANGER_AVAILABLE_IN_0_2
const char *banger_vm_spec_get_kernel (BangerVmSpec *spec);
BANGER_AVAILABLE_IN_0_2
void banger_vm_spec_set_vcpus (BangerVmSpec *spec, guint vcpus);
BANGER_AVAILABLE_IN_0_2
guint banger_vm_spec_get_vcpus (BangerVmSpec *spec);
BANGER_AVAILABLE_IN_0_2
void banger_vm_spec_set_memory_mib (BangerVmSpec *spec, guint64 memory_mib);
BANGER_AVAILABLE_IN_0_2
guint64 banger_vm_spec_get_memory_mib (BangerVmSpec *spec);
BANGER_AVAILABLE_IN_0_2
void banger_vm_spec_set_work_disk_size (BangerVmSpec *spec, guint64 work_disk_size);
BANGER_AVAILABLE_IN_0_2
guint64 banger_vm_spec_get_work_disk_size (BangerVmSpec *spec);
BANGER_AVAILABLE_IN_0_2
void banger_vm_spec_set_workspace (BangerVmSpec *spec, const char *workspace);
BANGER_AVAILABLE_IN_0_2
const char *banger_vm_spec_get_workspace (BangerVmSpec *spec);
BANGER_AVAILABLE_IN_0_2
void banger_vm_spec_set_vmm (BangerVmSpec *spec, BangerVmmKind vmm);
BANGER_AVAILABLE_IN_0_2
BangerVmmKind banger_vm_spec_get_vmm (BangerVmSpec *spec);
BANGER_AVAILABLE_IN_0_2
void banger_vm_spec_set_start (BangerVmSpec *spec, gboolean start);
BANGER_AVAILABLE_IN_0_2
gboolean banger_vm_spec_get_start (BangerVmSpec *spec);

BANGER_AVAILABLE_IN_0_2
gboolean banger_vm_spec_add_publish (BangerVmSpec *spec, const char *publish, GError **error);
BANGER_AVAILABLE_IN_0_2
const char *const *banger_vm_spec_get_publish (BangerVmSpec *spec);
BANGER_AVAILABLE_IN_0_2
gboolean banger_vm_spec_set_egress (BangerVmSpec *spec, const char *egress, GError **error);
BANGER_AVAILABLE_IN_0_2
const char *banger_vm_spec_get_egress (BangerVmSpec *spec);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerVmSpec, banger_vm_spec_unref)

/* ------------------------------------------------------------------ info */

/**
 * BangerVmInfo:
 *
 * What the engine knows about one VM at the moment it answered: its spec,
 * state and runtime handles.  A read-only refcounted boxed value.
 *
 * Since: 0.2
 */
typedef struct _BangerVmInfo BangerVmInfo;

#define BANGER_TYPE_VM_INFO (banger_vm_info_get_type ())
BANGER_AVAILABLE_IN_0_2
GType banger_vm_info_get_type (void) G_GNUC_CONST;

BANGER_AVAILABLE_IN_0_2
BangerVmInfo *banger_vm_info_ref (BangerVmInfo *info);
BANGER_AVAILABLE_IN_0_2
void banger_vm_info_unref (BangerVmInfo *info);
BANGER_AVAILABLE_IN_0_2
const char *banger_vm_info_get_id (BangerVmInfo *info);
BANGER_AVAILABLE_IN_0_2
const char *banger_vm_info_get_name (BangerVmInfo *info);
BANGER_AVAILABLE_IN_0_2
BangerVmState banger_vm_info_get_state (BangerVmInfo *info);
BANGER_AVAILABLE_IN_0_2
BangerVmmKind banger_vm_info_get_vmm (BangerVmInfo *info);
BANGER_AVAILABLE_IN_0_2
const char *banger_vm_info_get_image (BangerVmInfo *info);
BANGER_AVAILABLE_IN_0_2
const char *banger_vm_info_get_kernel (BangerVmInfo *info);
BANGER_AVAILABLE_IN_0_2
guint banger_vm_info_get_vcpus (BangerVmInfo *info);
BANGER_AVAILABLE_IN_0_2
guint64 banger_vm_info_get_memory_mib (BangerVmInfo *info);
BANGER_AVAILABLE_IN_0_2
guint64 banger_vm_info_get_work_disk_size (BangerVmInfo *info);
BANGER_AVAILABLE_IN_0_2
const char *banger_vm_info_get_rootfs_cow (BangerVmInfo *info);
BANGER_AVAILABLE_IN_0_2
gint banger_vm_info_get_pid (BangerVmInfo *info);
BANGER_AVAILABLE_IN_0_2
const char *banger_vm_info_get_ip (BangerVmInfo *info);
BANGER_AVAILABLE_IN_0_2
const char *banger_vm_info_get_tap (BangerVmInfo *info);
BANGER_AVAILABLE_IN_0_2
const char *banger_vm_info_get_publish (BangerVmInfo *info);
BANGER_AVAILABLE_IN_0_2
const char *banger_vm_info_get_egress (BangerVmInfo *info);
BANGER_AVAILABLE_IN_0_2
gint64 banger_vm_info_get_created_at (BangerVmInfo *info);
BANGER_AVAILABLE_IN_0_2
const char *banger_vm_info_get_failed_step (BangerVmInfo *info);
BANGER_AVAILABLE_IN_0_2
const char *banger_vm_info_get_error_message (BangerVmInfo *info);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerVmInfo, banger_vm_info_unref)

/**
 * BangerImageInfo:
 *
 * One imported root file system image.  A read-only refcounted boxed value.
 *
 * Since: 0.2
 */
typedef struct _BangerImageInfo BangerImageInfo;

#define BANGER_TYPE_IMAGE_INFO (banger_image_info_get_type ())
BANGER_AVAILABLE_IN_0_2
GType banger_image_info_get_type (void) G_GNUC_CONST;
BANGER_AVAILABLE_IN_0_2
BangerImageInfo *banger_image_info_ref (BangerImageInfo *info);
BANGER_AVAILABLE_IN_0_2
void banger_image_info_unref (BangerImageInfo *info);
BANGER_AVAILABLE_IN_0_2
const char *banger_image_info_get_name (BangerImageInfo *info);
BANGER_AVAILABLE_IN_0_2
const char *banger_image_info_get_path (BangerImageInfo *info);
BANGER_AVAILABLE_IN_0_2
guint64 banger_image_info_get_size (BangerImageInfo *info);
BANGER_AVAILABLE_IN_0_2
gint64 banger_image_info_get_created_at (BangerImageInfo *info);
BANGER_AVAILABLE_IN_0_2
const char *banger_image_info_get_ref (BangerImageInfo *info);
BANGER_AVAILABLE_IN_0_2
const char *banger_image_info_get_digest (BangerImageInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerImageInfo, banger_image_info_unref)

/**
 * BangerKernelInfo:
 *
 * One registered guest kernel.  A read-only refcounted boxed value.
 *
 * Since: 0.2
 */
typedef struct _BangerKernelInfo BangerKernelInfo;

#define BANGER_TYPE_KERNEL_INFO (banger_kernel_info_get_type ())
BANGER_AVAILABLE_IN_0_2
GType banger_kernel_info_get_type (void) G_GNUC_CONST;
BANGER_AVAILABLE_IN_0_2
BangerKernelInfo *banger_kernel_info_ref (BangerKernelInfo *info);
BANGER_AVAILABLE_IN_0_2
void banger_kernel_info_unref (BangerKernelInfo *info);
BANGER_AVAILABLE_IN_0_2
const char *banger_kernel_info_get_name (BangerKernelInfo *info);
BANGER_AVAILABLE_IN_0_2
const char *banger_kernel_info_get_kernel_path (BangerKernelInfo *info);
BANGER_AVAILABLE_IN_0_2
const char *banger_kernel_info_get_initrd_path (BangerKernelInfo *info);
BANGER_AVAILABLE_IN_0_2
const char *banger_kernel_info_get_cmdline (BangerKernelInfo *info);
BANGER_AVAILABLE_IN_0_2
gint64 banger_kernel_info_get_created_at (BangerKernelInfo *info);
BANGER_AVAILABLE_IN_0_2
const char *banger_kernel_info_get_ref (BangerKernelInfo *info);
BANGER_AVAILABLE_IN_0_2
const char *banger_kernel_info_get_digest (BangerKernelInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerKernelInfo, banger_kernel_info_unref)

G_END_DECLS
