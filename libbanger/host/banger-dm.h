/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * dm-snapshot root disks: a read-only loop device over the base image, a loop
 * device over the VM's COW file, and a dm "snapshot" target over both, all
 * named after the VM id (banger-host-names.h).  The kernel calls go through a
 * backend of function pointers so the logic (names, tables, the
 * refuse-foreign-device rule, rollback) is tested against a recording fake;
 * state->backend selects it, NULL is the real one (libdevmapper + loop
 * ioctls). */
#pragma once

#include <sys/types.h>

#include "banger-priv-op.h"

G_BEGIN_DECLS

typedef struct _BangerHostBackend BangerHostBackend;
struct _BangerHostBackend
{
  /* device-mapper present?  UNSUPPORTED when not. */
  gboolean (*dm_available) (BangerHostBackend *self, GError **error);
  /* Attach the open regular file @fd to a free loop device whose
   * lo_file_name is @tag; returns "/dev/loopN". */
  char *(*loop_attach) (BangerHostBackend *self, int fd, const char *tag, gboolean read_only,
                        GError **error);
  /* Every attached loop device whose lo_file_name is exactly @tag. */
  GStrv (*loop_find) (BangerHostBackend *self, const char *tag, GError **error);
  /* Detach @dev, only if its lo_file_name is still @tag. */
  gboolean (*loop_detach) (BangerHostBackend *self, const char *dev, const char *tag,
                           GError **error);
  gboolean (*dm_create) (BangerHostBackend *self, const char *name, const char *uuid,
                         const char *table, GError **error);
  /* The UUID of the dm device @name; NULL with NOT_FOUND when there is none. */
  char *(*dm_get_uuid) (BangerHostBackend *self, const char *name, GError **error);
  gboolean (*dm_remove) (BangerHostBackend *self, const char *name, GError **error);
  gpointer user_data;
  /* Nullable: the block device of dm device @name (the real one:
   * "/dev/mapper/<name>"); a fake names a file the engine's tests can
   * write the SSH key into. */
  char *(*dm_device_path) (BangerHostBackend *self, const char *name);
  /* Nullable (then nothing is handed to the owner): the device node of dm
   * device @name, already resolved (the real one: /dev/mapper/<name>
   * resolved to /dev/dm-N), and in @out_rdev the device number
   * device-mapper itself gives for @name.  banger_dm_node_give() checks
   * the node against it. */
  char *(*dm_device_node) (BangerHostBackend *self, const char *name, dev_t *out_rdev,
                           GError **error);
};

BangerHostBackend *banger_host_backend_real (void);
/* state->backend, or the real backend. */
BangerHostBackend *banger_host_backend_get (BangerPrivState *state);

gboolean banger_dm_available (BangerPrivState *state, GError **error);

/* Build the snapshot for @vm_id: @base_fd (read-only base image, @base_size
 * bytes, a multiple of 512) and @cow_fd (the VM's COW file).  On failure
 * everything attached so far is detached again.  @out_device gets
 * "/dev/mapper/banger-<vm>-rootfs". */
gboolean banger_dm_snapshot_create (BangerPrivState *state, const char *vm_id, int base_fd,
                                    guint64 base_size, int cow_fd, char **out_device,
                                    GError **error);
/* Hand the node of the dm device @name (carrying @uuid) to @uid:@gid, mode
 * 0600, so the owner's QEMU and tools can open it.  The node is opened
 * O_PATH|O_NOFOLLOW and refused (PERMISSION_DENIED, nothing changed) unless
 * it is a block device whose major and minor are exactly those
 * device-mapper reports for @name; the change goes through that fd.  A
 * backend without dm_device_node: nothing to do. */
gboolean banger_dm_node_give (BangerHostBackend *b, const char *name, const char *uuid,
                              uid_t uid, gid_t gid, GError **error);
/* The block device of @vm_id's snapshot when it exists and carries banger's
 * UUID (priv.launch_vmm accepts it as the rootfs); NULL otherwise. */
char *banger_dm_own_device (BangerPrivState *state, const char *vm_id);
/* Remove the snapshot and its loop devices.  A dm device with banger's name
 * but not banger's UUID is refused (PERMISSION_DENIED) and left alone.
 * Nothing there is success (idempotent); @out_removed counts what went. */
gboolean banger_dm_snapshot_remove (BangerPrivState *state, const char *vm_id,
                                    guint *out_removed, GError **error);

G_END_DECLS
