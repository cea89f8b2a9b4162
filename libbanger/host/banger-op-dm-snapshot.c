/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * priv.dm_snapshot_create {vm_id, base, cow} and priv.dm_snapshot_remove
 * {vm_id}.  base and cow are files under banger's state dir, opened beneath
 * it and checked (regular, one link, owned by the owner — the base may also
 * be root's); the loop devices are attached to those fds, never to a path.
 * The naming, rollback and refuse-foreign rules are in banger-dm.c. */
#include "config.h"

#include <fcntl.h>
#include <unistd.h>

#include "banger-dm.h"
#include "banger-names.h"
#include "banger-priv-ops-private.h"

static void
close_fds (int a, int b, int c, int d)
{
  int fds[] = { a, b, c, d };
  for (gsize i = 0; i < G_N_ELEMENTS (fds); i++)
    if (fds[i] >= 0)
      close (fds[i]);
}

const BangerParamSpec banger_op_dm_snapshot_create_params[] = {
  { "vm_id", BANGER_PARAM_STRING, TRUE, 1, 63, banger_validate_vm_name },
  { "base", BANGER_PARAM_STRING, TRUE, 2, 4095, banger_priv_validate_abs_path },
  { "cow", BANGER_PARAM_STRING, TRUE, 2, 4095, banger_priv_validate_abs_path },
  { NULL },
};

gboolean
banger_op_dm_snapshot_create (BangerPrivState *state, const BangerPeerCred *caller,
                              JsonObject *params, JsonBuilder *result,
                              GCancellable *cancellable, GError **error)
{
  const char *vm_id = banger_priv_param_vm_id (params, error);
  g_autofree char *device = NULL;
  struct stat base_st, cow_st;
  int base_path_fd = -1, cow_path_fd = -1, base_fd = -1, cow_fd = -1;
  gboolean ok = FALSE;

  if (vm_id == NULL)
    return FALSE;
  /* Say "unsupported" before looking at any file: it is the answer that
   * matters on a kernel without device-mapper. */
  if (!banger_dm_available (state, error))
    return FALSE;
  base_path_fd = banger_priv_open_owned_file_as (state->state_dir,
                                              banger_priv_param_string (params, "base"),
                                              state->owner_uid, state->owner_gid, TRUE, &base_st, error);
  if (base_path_fd < 0)
    goto out;
  cow_path_fd = banger_priv_open_owned_file_as (state->state_dir,
                                             banger_priv_param_string (params, "cow"),
                                             state->owner_uid, state->owner_gid, FALSE, &cow_st, error);
  if (cow_path_fd < 0)
    goto out;
  base_fd = banger_priv_reopen (base_path_fd, &base_st, O_RDONLY, error);
  if (base_fd < 0)
    goto out;
  cow_fd = banger_priv_reopen (cow_path_fd, &cow_st, O_RDWR, error);
  if (cow_fd < 0)
    goto out;
  if (!banger_dm_snapshot_create (state, vm_id, base_fd, (guint64) base_st.st_size, cow_fd,
                                  &device, error))
    goto out;
  banger_priv_result_string (result, "device", device);
  ok = TRUE;
out:
  close_fds (base_path_fd, cow_path_fd, base_fd, cow_fd);
  return ok;
}

const BangerParamSpec banger_op_dm_snapshot_remove_params[] = {
  { "vm_id", BANGER_PARAM_STRING, TRUE, 1, 63, banger_validate_vm_name },
  { NULL },
};

gboolean
banger_op_dm_snapshot_remove (BangerPrivState *state, const BangerPeerCred *caller,
                              JsonObject *params, JsonBuilder *result,
                              GCancellable *cancellable, GError **error)
{
  const char *vm_id = banger_priv_param_vm_id (params, error);
  guint removed = 0;

  if (vm_id == NULL)
    return FALSE;
  if (!banger_dm_snapshot_remove (state, vm_id, &removed, error))
    return FALSE;
  banger_priv_result_int (result, "removed", removed);
  return TRUE;
}
