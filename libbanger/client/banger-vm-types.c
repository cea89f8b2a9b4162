/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The public value types of the client API: BangerVmSpec (what to create)
 * and the read-only BangerVmInfo, BangerImageInfo, BangerKernelInfo (what
 * the engine answered).  The info types hold the engine's JSON object and
 * read their fields from it; banger_*_info_new_from_json() checks every
 * field's type first, so a getter never meets a wrong one. */
#include "config.h"

#include "banger-client-private.h"
#include "banger-error.h"
#include "banger-reach.h"

/**
 * banger_vm_state_to_string:
 * @state: a #BangerVmState
 *
 * The name the engine and the CLI use for @state (`running`, `stopped`, …).
 *
 * Returns: (transfer none): a static string
 *
 * Since: 0.2
 */
const char *
banger_vm_state_to_string (BangerVmState state)
{
  static const char *const names[] = { "creating", "stopped",  "starting", "running", "stopping",
                                       "failed",   "deleting", "paused",   "deleted" };
  g_return_val_if_fail ((guint)state < G_N_ELEMENTS (names), "unknown");
  return names[state];
}

gboolean
banger_vm_state_from_string (const char *s, BangerVmState *out)
{
  for (guint i = 0; i <= BANGER_VM_STATE_DELETED; i++)
    if (g_strcmp0 (s, banger_vm_state_to_string (i)) == 0)
      {
        *out = i;
        return TRUE;
      }
  return FALSE;
}

/**
 * banger_vmm_kind_to_string:
 * @kind: a #BangerVmmKind
 *
 * The name of @kind: `firecracker`, `qemu`, or `default`.
 *
 * Returns: (transfer none): a static string
 *
 * Since: 0.2
 */
const char *
banger_vmm_kind_to_string (BangerVmmKind kind)
{
  switch (kind)
    {
    case BANGER_VMM_KIND_FIRECRACKER:
      return "firecracker";
    case BANGER_VMM_KIND_QEMU:
      return "qemu";
    case BANGER_VMM_KIND_DEFAULT:
    default:
      return "default";
    }
}

gboolean
banger_vmm_kind_from_string (const char *s, BangerVmmKind *out)
{
  if (g_strcmp0 (s, "firecracker") == 0)
    *out = BANGER_VMM_KIND_FIRECRACKER;
  else if (g_strcmp0 (s, "qemu") == 0)
    *out = BANGER_VMM_KIND_QEMU;
  else
    return FALSE;
  return TRUE;
}

/* ------------------------------------------------------------------ spec */

struct _BangerVmSpec
{
  gatomicrefcount ref;
  char *name;
  char *image;
  char *kernel;
  guint vcpus;
  guint64 memory_mib;
  guint64 work_disk_size;
  BangerVmmKind vmm;
  gboolean start;
  char *workspace;
  GPtrArray *publish; /* canonical texts, NULL-terminated; NULL: none yet */
  char *egress;       /* NULL: nat */
};

G_DEFINE_BOXED_TYPE (BangerVmSpec, banger_vm_spec, banger_vm_spec_ref, banger_vm_spec_unref)

/**
 * banger_vm_spec_new:
 * @name: the VM's name, a DNS label (banger_validate_vm_name())
 * @image: the name of an imported image
 * @kernel: the name of a registered kernel
 *
 * A spec with the engine's defaults: 1 vCPU, 256 MiB, no work disk, the
 * default VMM, started after creation.  The values are checked by the
 * engine when the VM is created.
 *
 * Returns: (transfer full): a new #BangerVmSpec
 *
 * Since: 0.2
 */
BangerVmSpec *
banger_vm_spec_new (const char *name, const char *image, const char *kernel)
{
  BangerVmSpec *spec;

  g_return_val_if_fail (name != NULL && image != NULL && kernel != NULL, NULL);
  spec = g_new0 (BangerVmSpec, 1);
  g_atomic_ref_count_init (&spec->ref);
  spec->name = g_strdup (name);
  spec->image = g_strdup (image);
  spec->kernel = g_strdup (kernel);
  spec->start = TRUE;
  return spec;
}

/**
 * banger_vm_spec_ref:
 * @spec: a #BangerVmSpec
 *
 * Returns: (transfer full): @spec, with one more reference
 *
 * Since: 0.2
 */
BangerVmSpec *
banger_vm_spec_ref (BangerVmSpec *spec)
{
  g_return_val_if_fail (spec != NULL, NULL);
  g_atomic_ref_count_inc (&spec->ref);
  return spec;
}

/**
 * banger_vm_spec_unref:
 * @spec: (transfer full): a #BangerVmSpec
 *
 * Drops one reference; the last one frees @spec.
 *
 * Since: 0.2
 */
void
banger_vm_spec_unref (BangerVmSpec *spec)
{
  g_return_if_fail (spec != NULL);
  if (!g_atomic_ref_count_dec (&spec->ref))
    return;
  g_free (spec->name);
  g_free (spec->image);
  g_free (spec->kernel);
  g_free (spec->workspace);
  g_clear_pointer (&spec->publish, g_ptr_array_unref);
  g_free (spec->egress);
  g_free (spec);
}

/**
 * banger_vm_spec_get_name:
 * @spec: a #BangerVmSpec
 *
 * Returns: (transfer none): the VM name
 *
 * Since: 0.2
 */
const char *
banger_vm_spec_get_name (BangerVmSpec *spec)
{
  g_return_val_if_fail (spec != NULL, 0);
  return spec->name;
}

/**
 * banger_vm_spec_get_image:
 * @spec: a #BangerVmSpec
 *
 * Returns: (transfer none): the image name
 *
 * Since: 0.2
 */
const char *
banger_vm_spec_get_image (BangerVmSpec *spec)
{
  g_return_val_if_fail (spec != NULL, 0);
  return spec->image;
}

/**
 * banger_vm_spec_get_kernel:
 * @spec: a #BangerVmSpec
 *
 * Returns: (transfer none): the kernel name
 *
 * Since: 0.2
 */
const char *
banger_vm_spec_get_kernel (BangerVmSpec *spec)
{
  g_return_val_if_fail (spec != NULL, 0);
  return spec->kernel;
}

/**
 * banger_vm_spec_set_vcpus:
 * @spec: a #BangerVmSpec
 * @vcpus: vCPUs, 1–32 (0: the default, 1)
 *
 * Since: 0.2
 */
void
banger_vm_spec_set_vcpus (BangerVmSpec *spec, guint vcpus)
{
  g_return_if_fail (spec != NULL);
  spec->vcpus = vcpus;
}

/**
 * banger_vm_spec_get_vcpus:
 * @spec: a #BangerVmSpec
 *
 * Returns: the vCPUs (0: the default)
 *
 * Since: 0.2
 */
guint
banger_vm_spec_get_vcpus (BangerVmSpec *spec)
{
  g_return_val_if_fail (spec != NULL, 0);
  return spec->vcpus;
}

/**
 * banger_vm_spec_set_memory_mib:
 * @spec: a #BangerVmSpec
 * @memory_mib: memory in MiB, 64–262144 (0: the default, 256)
 *
 * Since: 0.2
 */
void
banger_vm_spec_set_memory_mib (BangerVmSpec *spec, guint64 memory_mib)
{
  g_return_if_fail (spec != NULL);
  spec->memory_mib = memory_mib;
}

/**
 * banger_vm_spec_get_memory_mib:
 * @spec: a #BangerVmSpec
 *
 * Returns: the memory in MiB (0: the default)
 *
 * Since: 0.2
 */
guint64
banger_vm_spec_get_memory_mib (BangerVmSpec *spec)
{
  g_return_val_if_fail (spec != NULL, 0);
  return spec->memory_mib;
}

/**
 * banger_vm_spec_set_work_disk_size:
 * @spec: a #BangerVmSpec
 * @work_disk_size: bytes of a fresh ext4 work disk (the guest's /dev/vdb), a multiple of 4096 from
 * 16 MiB; 0: none
 *
 * Since: 0.2
 */
void
banger_vm_spec_set_work_disk_size (BangerVmSpec *spec, guint64 work_disk_size)
{
  g_return_if_fail (spec != NULL);
  spec->work_disk_size = work_disk_size;
}

/**
 * banger_vm_spec_get_work_disk_size:
 * @spec: a #BangerVmSpec
 *
 * Returns: the work disk size in bytes (0: none)
 *
 * Since: 0.2
 */
guint64
banger_vm_spec_get_work_disk_size (BangerVmSpec *spec)
{
  g_return_val_if_fail (spec != NULL, 0);
  return spec->work_disk_size;
}

/**
 * banger_vm_spec_set_workspace:
 * @spec: a #BangerVmSpec
 * @workspace: (nullable): `DIR[:GUESTDIR]`: an absolute host directory
 *   synced into the guest at GUESTDIR (default `/workspace`) over SFTP;
 *   %NULL: none (doc/workspace.md)
 *
 * Since: 0.2
 */
void
banger_vm_spec_set_workspace (BangerVmSpec *spec, const char *workspace)
{
  g_return_if_fail (spec != NULL);
  g_free (spec->workspace);
  spec->workspace = g_strdup (workspace);
}

/**
 * banger_vm_spec_get_workspace:
 * @spec: a #BangerVmSpec
 *
 * Returns: (nullable): the workspace binding, or %NULL
 *
 * Since: 0.2
 */
const char *
banger_vm_spec_get_workspace (BangerVmSpec *spec)
{
  g_return_val_if_fail (spec != NULL, NULL);
  return spec->workspace;
}

/**
 * banger_vm_spec_set_vmm:
 * @spec: a #BangerVmSpec
 * @vmm: the VMM
 *
 * Since: 0.2
 */
void
banger_vm_spec_set_vmm (BangerVmSpec *spec, BangerVmmKind vmm)
{
  g_return_if_fail (spec != NULL);
  spec->vmm = vmm;
}

/**
 * banger_vm_spec_get_vmm:
 * @spec: a #BangerVmSpec
 *
 * Returns: the VMM
 *
 * Since: 0.2
 */
BangerVmmKind
banger_vm_spec_get_vmm (BangerVmSpec *spec)
{
  g_return_val_if_fail (spec != NULL, 0);
  return spec->vmm;
}

/**
 * banger_vm_spec_set_start:
 * @spec: a #BangerVmSpec
 * @start: whether vm.create boots the VM (default %TRUE); %FALSE leaves it stopped with its disks
 * made
 *
 * Since: 0.2
 */
void
banger_vm_spec_set_start (BangerVmSpec *spec, gboolean start)
{
  g_return_if_fail (spec != NULL);
  spec->start = start;
}

/**
 * banger_vm_spec_get_start:
 * @spec: a #BangerVmSpec
 *
 * Returns: whether the VM is started after creation
 *
 * Since: 0.2
 */
gboolean
banger_vm_spec_get_start (BangerVmSpec *spec)
{
  g_return_val_if_fail (spec != NULL, 0);
  return spec->start;
}

/* ------------------------------------------------------------ vm info */

struct _BangerVmInfo
{
  gatomicrefcount ref;
  JsonObject *obj;
};

G_DEFINE_BOXED_TYPE (BangerVmInfo, banger_vm_info, banger_vm_info_ref, banger_vm_info_unref)

/**
 * banger_vm_info_ref:
 * @info: a #BangerVmInfo
 *
 * Returns: (transfer full): @info, with one more reference
 *
 * Since: 0.2
 */
BangerVmInfo *
banger_vm_info_ref (BangerVmInfo *info)
{
  g_return_val_if_fail (info != NULL, NULL);
  g_atomic_ref_count_inc (&info->ref);
  return info;
}

/**
 * banger_vm_info_unref:
 * @info: (transfer full): a #BangerVmInfo
 *
 * Drops one reference; the last one frees @info.
 *
 * Since: 0.2
 */
void
banger_vm_info_unref (BangerVmInfo *info)
{
  g_return_if_fail (info != NULL);
  if (!g_atomic_ref_count_dec (&info->ref))
    return;
  json_object_unref (info->obj);
  g_free (info);
}

static const ClientField vm_fields[] = {
  { "state", CLIENT_FIELD_STRING },
  { "vmm", CLIENT_FIELD_STRING },
  { "id", CLIENT_FIELD_STRING },
  { "name", CLIENT_FIELD_STRING },
  { "image", CLIENT_FIELD_STRING_NULLABLE },
  { "kernel", CLIENT_FIELD_STRING_NULLABLE },
  { "vcpus", CLIENT_FIELD_INT },
  { "memory_mib", CLIENT_FIELD_INT },
  { "work_disk_bytes", CLIENT_FIELD_INT },
  { "rootfs_cow", CLIENT_FIELD_STRING },
  { "pid", CLIENT_FIELD_INT },
  { "ip", CLIENT_FIELD_STRING_NULLABLE },
  { "tap", CLIENT_FIELD_STRING_NULLABLE },
  { "created_at", CLIENT_FIELD_INT },
  { "failed_step", CLIENT_FIELD_STRING_NULLABLE },
  { "error", CLIENT_FIELD_STRING_NULLABLE },
  { NULL, 0 },
};

BangerVmInfo *
banger_vm_info_new_from_json (JsonObject *obj, GError **error)
{
  BangerVmInfo *info;

  if (!banger_client_check_fields (obj, vm_fields, "vm", error))
    return NULL;
  info = g_new0 (BangerVmInfo, 1);
  g_atomic_ref_count_init (&info->ref);
  info->obj = json_object_ref (obj);
  return info;
}

/**
 * banger_vm_info_get_id:
 * @info: a #BangerVmInfo
 *
 * Returns: (transfer none): the VM id: host objects are named from it
 *
 * Since: 0.2
 */
const char *
banger_vm_info_get_id (BangerVmInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);
  return json_object_get_string_member_with_default (info->obj, "id", NULL);
}

/**
 * banger_vm_info_get_name:
 * @info: a #BangerVmInfo
 *
 * Returns: (transfer none): the VM name
 *
 * Since: 0.2
 */
const char *
banger_vm_info_get_name (BangerVmInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);
  return json_object_get_string_member_with_default (info->obj, "name", NULL);
}

/**
 * banger_vm_info_get_image:
 * @info: a #BangerVmInfo
 *
 * Returns: (transfer none) (nullable): the image name
 *
 * Since: 0.2
 */
const char *
banger_vm_info_get_image (BangerVmInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);
  return json_object_get_string_member_with_default (info->obj, "image", NULL);
}

/**
 * banger_vm_info_get_kernel:
 * @info: a #BangerVmInfo
 *
 * Returns: (transfer none) (nullable): the kernel name
 *
 * Since: 0.2
 */
const char *
banger_vm_info_get_kernel (BangerVmInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);
  return json_object_get_string_member_with_default (info->obj, "kernel", NULL);
}

/**
 * banger_vm_info_get_vcpus:
 * @info: a #BangerVmInfo
 *
 * Returns: the vCPUs
 *
 * Since: 0.2
 */
guint
banger_vm_info_get_vcpus (BangerVmInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);
  return (guint)json_object_get_int_member_with_default (info->obj, "vcpus", 0);
}

/**
 * banger_vm_info_get_memory_mib:
 * @info: a #BangerVmInfo
 *
 * Returns: the memory in MiB
 *
 * Since: 0.2
 */
guint64
banger_vm_info_get_memory_mib (BangerVmInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);
  return (guint64)json_object_get_int_member_with_default (info->obj, "memory_mib", 0);
}

/**
 * banger_vm_info_get_work_disk_size:
 * @info: a #BangerVmInfo
 *
 * Returns: the work disk size in bytes (0: none)
 *
 * Since: 0.2
 */
guint64
banger_vm_info_get_work_disk_size (BangerVmInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);
  return (guint64)json_object_get_int_member_with_default (info->obj, "work_disk_bytes", 0);
}

/**
 * banger_vm_info_get_rootfs_cow:
 * @info: a #BangerVmInfo
 *
 * Returns: (transfer none): how the root disk is layered over the image: `dm-snapshot`, `reflink`,
 * `sparse-copy` (`auto` before the disk exists)
 *
 * Since: 0.2
 */
const char *
banger_vm_info_get_rootfs_cow (BangerVmInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);
  return json_object_get_string_member_with_default (info->obj, "rootfs_cow", NULL);
}

/**
 * banger_vm_info_get_pid:
 * @info: a #BangerVmInfo
 *
 * Returns: the VMM's process id, 0 when not running
 *
 * Since: 0.2
 */
gint
banger_vm_info_get_pid (BangerVmInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);
  return (gint)json_object_get_int_member_with_default (info->obj, "pid", 0);
}

/**
 * banger_vm_info_get_ip:
 * @info: a #BangerVmInfo
 *
 * Returns: (transfer none) (nullable): the guest's IPv4 address
 *
 * Since: 0.2
 */
const char *
banger_vm_info_get_ip (BangerVmInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);
  return json_object_get_string_member_with_default (info->obj, "ip", NULL);
}

/**
 * banger_vm_info_get_tap:
 * @info: a #BangerVmInfo
 *
 * Returns: (transfer none) (nullable): the host tap, while running
 *
 * Since: 0.2
 */
const char *
banger_vm_info_get_tap (BangerVmInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);
  return json_object_get_string_member_with_default (info->obj, "tap", NULL);
}

/**
 * banger_vm_info_get_created_at:
 * @info: a #BangerVmInfo
 *
 * Returns: when the VM was created: unix time in microseconds
 *
 * Since: 0.2
 */
gint64
banger_vm_info_get_created_at (BangerVmInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);
  return (gint64)json_object_get_int_member_with_default (info->obj, "created_at", 0);
}

/**
 * banger_vm_info_get_failed_step:
 * @info: a #BangerVmInfo
 *
 * Returns: (transfer none) (nullable): the step that failed last, if any
 *
 * Since: 0.2
 */
const char *
banger_vm_info_get_failed_step (BangerVmInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);
  return json_object_get_string_member_with_default (info->obj, "failed_step", NULL);
}

/**
 * banger_vm_info_get_error_message:
 * @info: a #BangerVmInfo
 *
 * Returns: (transfer none) (nullable): why it failed
 *
 * Since: 0.2
 */
const char *
banger_vm_info_get_error_message (BangerVmInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);
  return json_object_get_string_member_with_default (info->obj, "error", NULL);
}

/* ------------------------------------------------------------ image info */

struct _BangerImageInfo
{
  gatomicrefcount ref;
  JsonObject *obj;
};

G_DEFINE_BOXED_TYPE (BangerImageInfo, banger_image_info, banger_image_info_ref,
                     banger_image_info_unref)

/**
 * banger_image_info_ref:
 * @info: a #BangerImageInfo
 *
 * Returns: (transfer full): @info, with one more reference
 *
 * Since: 0.2
 */
BangerImageInfo *
banger_image_info_ref (BangerImageInfo *info)
{
  g_return_val_if_fail (info != NULL, NULL);
  g_atomic_ref_count_inc (&info->ref);
  return info;
}

/**
 * banger_image_info_unref:
 * @info: (transfer full): a #BangerImageInfo
 *
 * Drops one reference; the last one frees @info.
 *
 * Since: 0.2
 */
void
banger_image_info_unref (BangerImageInfo *info)
{
  g_return_if_fail (info != NULL);
  if (!g_atomic_ref_count_dec (&info->ref))
    return;
  json_object_unref (info->obj);
  g_free (info);
}

static const ClientField image_fields[] = {
  { "name", CLIENT_FIELD_STRING },
  { "rootfs", CLIENT_FIELD_STRING },
  { "size_bytes", CLIENT_FIELD_INT },
  { "created_at", CLIENT_FIELD_INT },
  { NULL, 0 },
};

BangerImageInfo *
banger_image_info_new_from_json (JsonObject *obj, GError **error)
{
  BangerImageInfo *info;

  if (!banger_client_check_fields (obj, image_fields, "image", error))
    return NULL;
  info = g_new0 (BangerImageInfo, 1);
  g_atomic_ref_count_init (&info->ref);
  info->obj = json_object_ref (obj);
  return info;
}

/**
 * banger_image_info_get_name:
 * @info: a #BangerImageInfo
 *
 * Returns: (transfer none): the image name
 *
 * Since: 0.2
 */
const char *
banger_image_info_get_name (BangerImageInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);
  return json_object_get_string_member_with_default (info->obj, "name", NULL);
}

/**
 * banger_image_info_get_path:
 * @info: a #BangerImageInfo
 *
 * Returns: (transfer none): the image file, under the engine's state dir
 *
 * Since: 0.2
 */
const char *
banger_image_info_get_path (BangerImageInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);
  return json_object_get_string_member_with_default (info->obj, "rootfs", NULL);
}

/**
 * banger_image_info_get_size:
 * @info: a #BangerImageInfo
 *
 * Returns: its size in bytes
 *
 * Since: 0.2
 */
guint64
banger_image_info_get_size (BangerImageInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);
  return (guint64)json_object_get_int_member_with_default (info->obj, "size_bytes", 0);
}

/**
 * banger_image_info_get_created_at:
 * @info: a #BangerImageInfo
 *
 * Returns: when it was imported: unix time in microseconds
 *
 * Since: 0.2
 */
gint64
banger_image_info_get_created_at (BangerImageInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);
  return (gint64)json_object_get_int_member_with_default (info->obj, "created_at", 0);
}

/**
 * banger_image_info_get_ref:
 * @info: a #BangerImageInfo
 *
 * Returns: (transfer none) (nullable): the normalised OCI reference the
 *   image was pulled from (`docker.io/library/alpine:3.19`), or %NULL for
 *   an imported image
 *
 * Since: 0.2
 */
const char *
banger_image_info_get_ref (BangerImageInfo *info)
{
  g_return_val_if_fail (info != NULL, NULL);
  return json_object_get_string_member_with_default (info->obj, "ref", NULL);
}

/**
 * banger_image_info_get_digest:
 * @info: a #BangerImageInfo
 *
 * Returns: (transfer none) (nullable): the `sha256:` digest of the pulled
 *   image's manifest, or %NULL when unknown
 *
 * Since: 0.2
 */
const char *
banger_image_info_get_digest (BangerImageInfo *info)
{
  g_return_val_if_fail (info != NULL, NULL);
  return json_object_get_string_member_with_default (info->obj, "digest", NULL);
}

/* ------------------------------------------------------------ kernel info */

struct _BangerKernelInfo
{
  gatomicrefcount ref;
  JsonObject *obj;
};

G_DEFINE_BOXED_TYPE (BangerKernelInfo, banger_kernel_info, banger_kernel_info_ref,
                     banger_kernel_info_unref)

/**
 * banger_kernel_info_ref:
 * @info: a #BangerKernelInfo
 *
 * Returns: (transfer full): @info, with one more reference
 *
 * Since: 0.2
 */
BangerKernelInfo *
banger_kernel_info_ref (BangerKernelInfo *info)
{
  g_return_val_if_fail (info != NULL, NULL);
  g_atomic_ref_count_inc (&info->ref);
  return info;
}

/**
 * banger_kernel_info_unref:
 * @info: (transfer full): a #BangerKernelInfo
 *
 * Drops one reference; the last one frees @info.
 *
 * Since: 0.2
 */
void
banger_kernel_info_unref (BangerKernelInfo *info)
{
  g_return_if_fail (info != NULL);
  if (!g_atomic_ref_count_dec (&info->ref))
    return;
  json_object_unref (info->obj);
  g_free (info);
}

static const ClientField kernel_fields[] = {
  { "name", CLIENT_FIELD_STRING },
  { "kernel", CLIENT_FIELD_STRING },
  { "initrd", CLIENT_FIELD_STRING_NULLABLE },
  { "cmdline", CLIENT_FIELD_STRING_NULLABLE },
  { "created_at", CLIENT_FIELD_INT },
  { NULL, 0 },
};

BangerKernelInfo *
banger_kernel_info_new_from_json (JsonObject *obj, GError **error)
{
  BangerKernelInfo *info;

  if (!banger_client_check_fields (obj, kernel_fields, "kernel", error))
    return NULL;
  info = g_new0 (BangerKernelInfo, 1);
  g_atomic_ref_count_init (&info->ref);
  info->obj = json_object_ref (obj);
  return info;
}

/**
 * banger_kernel_info_get_name:
 * @info: a #BangerKernelInfo
 *
 * Returns: (transfer none): the kernel name
 *
 * Since: 0.2
 */
const char *
banger_kernel_info_get_name (BangerKernelInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);
  return json_object_get_string_member_with_default (info->obj, "name", NULL);
}

/**
 * banger_kernel_info_get_kernel_path:
 * @info: a #BangerKernelInfo
 *
 * Returns: (transfer none): the kernel file, under the engine's state dir
 *
 * Since: 0.2
 */
const char *
banger_kernel_info_get_kernel_path (BangerKernelInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);
  return json_object_get_string_member_with_default (info->obj, "kernel", NULL);
}

/**
 * banger_kernel_info_get_initrd_path:
 * @info: a #BangerKernelInfo
 *
 * Returns: (transfer none) (nullable): the initrd file
 *
 * Since: 0.2
 */
const char *
banger_kernel_info_get_initrd_path (BangerKernelInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);
  return json_object_get_string_member_with_default (info->obj, "initrd", NULL);
}

/**
 * banger_kernel_info_get_cmdline:
 * @info: a #BangerKernelInfo
 *
 * Returns: (transfer none) (nullable): extra kernel arguments
 *
 * Since: 0.2
 */
const char *
banger_kernel_info_get_cmdline (BangerKernelInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);
  return json_object_get_string_member_with_default (info->obj, "cmdline", NULL);
}

/**
 * banger_kernel_info_get_ref:
 * @info: a #BangerKernelInfo
 *
 * Returns: (transfer none) (nullable): the OCI reference or URL the kernel
 *   was pulled from, or %NULL for one added from files
 *
 * Since: 0.2
 */
const char *
banger_kernel_info_get_ref (BangerKernelInfo *info)
{
  g_return_val_if_fail (info != NULL, NULL);
  return json_object_get_string_member_with_default (info->obj, "ref", NULL);
}

/**
 * banger_kernel_info_get_digest:
 * @info: a #BangerKernelInfo
 *
 * Returns: (transfer none) (nullable): the `sha256:` digest of what was
 *   pulled (the artifact's manifest, or the URL's file)
 *
 * Since: 0.2
 */
const char *
banger_kernel_info_get_digest (BangerKernelInfo *info)
{
  g_return_val_if_fail (info != NULL, NULL);
  return json_object_get_string_member_with_default (info->obj, "digest", NULL);
}

/**
 * banger_kernel_info_get_created_at:
 * @info: a #BangerKernelInfo
 *
 * Returns: when it was added: unix time in microseconds
 *
 * Since: 0.2
 */
gint64
banger_kernel_info_get_created_at (BangerKernelInfo *info)
{
  g_return_val_if_fail (info != NULL, 0);
  return (gint64)json_object_get_int_member_with_default (info->obj, "created_at", 0);
}

/**
 * banger_vm_info_get_state:
 * @info: a #BangerVmInfo
 *
 * Returns: the VM's state when the engine answered
 *
 * Since: 0.2
 */
BangerVmState
banger_vm_info_get_state (BangerVmInfo *info)
{
  BangerVmState state = BANGER_VM_STATE_FAILED;

  g_return_val_if_fail (info != NULL, BANGER_VM_STATE_FAILED);
  banger_vm_state_from_string (json_object_get_string_member_with_default (info->obj, "state", ""),
                               &state);
  return state;
}

/**
 * banger_vm_info_get_vmm:
 * @info: a #BangerVmInfo
 *
 * Returns: the VM's VMM
 *
 * Since: 0.2
 */
BangerVmmKind
banger_vm_info_get_vmm (BangerVmInfo *info)
{
  BangerVmmKind kind = BANGER_VMM_KIND_DEFAULT;

  g_return_val_if_fail (info != NULL, BANGER_VMM_KIND_DEFAULT);
  banger_vmm_kind_from_string (json_object_get_string_member_with_default (info->obj, "vmm", ""),
                               &kind);
  return kind;
}

/* ---------------------------------------------------- publishes, egress */

/**
 * banger_vm_spec_add_publish:
 * @spec: a #BangerVmSpec
 * @publish: `[HOSTIP:]HOSTPORT:GUESTPORT[/tcp|/udp]`: a host port forwarded
 *   to the guest (HOSTIP absent: every address of the host)
 * @error: return location for a #GError
 *
 * Adds a port publish (repeatable, at most 32).  The text is checked here
 * (%BANGER_ERROR_INVALID_ARGUMENT: ports 1-65535, a plain IPv4 host
 * address, no overlap with a publish already added); whether the host port
 * is free is checked when the VM boots (%BANGER_ERROR_BUSY).
 *
 * Returns: %TRUE when added
 *
 * Since: 0.2
 */
gboolean
banger_vm_spec_add_publish (BangerVmSpec *spec, const char *publish, GError **error)
{
  g_autoptr (GPtrArray) texts = g_ptr_array_new ();
  g_autoptr (GArray) list = NULL;
  BangerPublish p;

  g_return_val_if_fail (spec != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  if (!banger_publish_parse (publish, &p, error))
    return FALSE;
  for (guint i = 0; spec->publish != NULL && i + 1 < spec->publish->len; i++)
    g_ptr_array_add (texts, spec->publish->pdata[i]);
  g_ptr_array_add (texts, (gpointer)publish);
  g_ptr_array_add (texts, NULL);
  list = banger_publish_parse_list ((const char *const *)texts->pdata, error);
  if (list == NULL)
    return FALSE;
  if (spec->publish == NULL)
    {
      spec->publish = g_ptr_array_new_with_free_func (g_free);
      g_ptr_array_add (spec->publish, NULL);
    }
  g_ptr_array_insert (spec->publish, spec->publish->len - 1, banger_publish_to_string (&p));
  return TRUE;
}

/**
 * banger_vm_spec_get_publish:
 * @spec: a #BangerVmSpec
 *
 * Returns: (transfer none) (array zero-terminated=1) (nullable): the
 *   publishes added, canonical (`HOSTIP:HOSTPORT:GUESTPORT/PROTO`), or %NULL
 *   for none
 *
 * Since: 0.2
 */
const char *const *
banger_vm_spec_get_publish (BangerVmSpec *spec)
{
  g_return_val_if_fail (spec != NULL, NULL);
  return spec->publish ? (const char *const *)spec->publish->pdata : NULL;
}

/**
 * banger_vm_spec_set_egress:
 * @spec: a #BangerVmSpec
 * @egress: (nullable): `nat` (the default: anywhere, masqueraded), `none`
 *   (the host side of its link only) or a comma-separated list of IPv4
 *   networks (`a.b.c.d/n,…`: those and the host side of its link)
 * @error: return location for a #GError
 *
 * Sets where the VM may send traffic, enforced in banger's nftables table.
 *
 * Returns: %TRUE when @egress is valid (%BANGER_ERROR_INVALID_ARGUMENT
 *   otherwise, @spec unchanged)
 *
 * Since: 0.2
 */
gboolean
banger_vm_spec_set_egress (BangerVmSpec *spec, const char *egress, GError **error)
{
  char *canon;

  g_return_val_if_fail (spec != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  canon = banger_egress_parse (egress, NULL, NULL, error);
  if (canon == NULL)
    return FALSE;
  g_free (spec->egress);
  spec->egress = canon;
  return TRUE;
}

/**
 * banger_vm_spec_get_egress:
 * @spec: a #BangerVmSpec
 *
 * Returns: (transfer none): the egress policy (`nat` unless set)
 *
 * Since: 0.2
 */
const char *
banger_vm_spec_get_egress (BangerVmSpec *spec)
{
  g_return_val_if_fail (spec != NULL, NULL);
  return spec->egress ? spec->egress : "nat";
}

/**
 * banger_vm_info_get_publish:
 * @info: a #BangerVmInfo
 *
 * Returns: (transfer none): the VM's publishes, canonical and
 *   comma-separated (`0.0.0.0:8080:80/tcp,…`), `""` for none
 *
 * Since: 0.2
 */
const char *
banger_vm_info_get_publish (BangerVmInfo *info)
{
  g_return_val_if_fail (info != NULL, NULL);
  return json_object_get_string_member_with_default (info->obj, "publish", "");
}

/**
 * banger_vm_info_get_egress:
 * @info: a #BangerVmInfo
 *
 * Returns: (transfer none): the VM's egress policy (`nat`, `none` or its
 *   networks)
 *
 * Since: 0.2
 */
const char *
banger_vm_info_get_egress (BangerVmInfo *info)
{
  g_return_val_if_fail (info != NULL, NULL);
  return json_object_get_string_member_with_default (info->obj, "egress", "nat");
}
