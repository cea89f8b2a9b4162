/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * priv.cleanup_vm {vm_id} -> {removed: [...], errors: [...]}
 *
 * Removes everything named after the VM, in dependency order, and is
 * idempotent (a second call removes nothing and succeeds):
 *   1. the VMM the helper launched for it (SIGKILL through its pidfd, reaped);
 *   2. its cgroup scope: whatever is still inside is killed (cgroup.kill),
 *      then the scope and any sub-cgroup (the jailer's) are removed;
 *   3. its tap (only if it is this install's: tun owner + marker) and the
 *      permanent neighbour entries for its MAC on this install's bridges
 *      (priv.neigh_set);
 *   4. its NAT element(s), port publishes and egress rules in banger's
 *      nftables table;
 *   5. its dm snapshot and loop devices (skipped where there is no
 *      device-mapper);
 *   6. its run dir (<runtime>/vm/<id>) and jail (<runtime>/jail/<fc>/<id>),
 *      removed fd-by-fd with unlinkat: symlinks are never followed, a mount
 *      in the run dir is refused, one in the jail (the VM's bind-mounted
 *      files, banger-jail-mounts.c) detached first; none is ever crossed.
 * Every step is attempted; the first failure is returned after all ran.
 * BUSY, with nothing done, while a launch of the VM is under way. */
#include "config.h"

#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <signal.h>

#include "banger-dm.h"
#include "banger-error.h"
#include "banger-names.h"
#include "banger-nft.h"
#include "banger-nft-reach.h"
#include "banger-pidfd.h"
#include "banger-priv-dirs.h"
#include "banger-priv-ops-private.h"
#include "banger-vm-cgroup.h"
#include "banger-vm-paths.h"
#include "banger-vmm-authorize.h"

const BangerParamSpec banger_op_cleanup_vm_params[] = {
  { "vm_id", BANGER_PARAM_STRING, TRUE, 1, 63, banger_validate_vm_name },
  { NULL },
};

static void
note_error (GError **first, GPtrArray *errors, GError *e)
{
  g_ptr_array_add (errors, g_strdup (e->message));
  if (*first == NULL)
    *first = e;
  else
    g_error_free (e);
}

static gboolean
kill_registered (BangerPrivState *state, const char *vm_id)
{
  BangerPrivVmm *vmm;
  int pidfd = -1;

  g_mutex_lock (&state->lock);
  vmm = g_hash_table_lookup (banger_priv_state_vmms_locked (state), vm_id);
  if (vmm != NULL)
    pidfd = fcntl (vmm->pidfd, F_DUPFD_CLOEXEC, 3);
  g_mutex_unlock (&state->lock);
  if (pidfd < 0)
    return FALSE;
  banger_pidfd_send_signal (pidfd, SIGKILL);
  {
    struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
    poll (&pfd, 1, 5000);
  }
  close (pidfd);
  banger_priv_state_reap (state);
  return TRUE;
}

gboolean
banger_op_cleanup_vm (BangerPrivState *state, const BangerPeerCred *caller, JsonObject *params,
                      JsonBuilder *result, GCancellable *cancellable, GError **error)
{
  const char *vm_id = banger_priv_param_vm_id (params, error);
  g_autoptr (GPtrArray) removed = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) errors = g_ptr_array_new_with_free_func (g_free);
  GError *first = NULL;
  GError *e = NULL;
  gboolean flag = FALSE;
  guint n = 0;

  if (vm_id == NULL)
    return FALSE;
  /* A launch waiting for its VMM's exec (without the executor lock) owns
   * the VM's scope and run dir until it has registered or failed. */
  if (banger_priv_state_is_launching (state, vm_id))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_BUSY,
                   "VM '%s' is being launched; clean it up when the launch has ended", vm_id);
      return FALSE;
    }

  if (kill_registered (state, vm_id))
    g_ptr_array_add (removed, g_strdup ("vmm"));

  if (banger_vm_cgroup_remove (state, vm_id, &flag, &e))
    {
      if (flag)
        g_ptr_array_add (removed, g_strdup ("cgroup"));
    }
  else
    note_error (&first, errors, g_steal_pointer (&e));

  if (banger_priv_delete_vm_tap (state, vm_id, &flag, &e))
    {
      if (flag)
        g_ptr_array_add (removed, g_strdup ("tap"));
    }
  else
    note_error (&first, errors, g_steal_pointer (&e));

  if (banger_priv_neigh_clear_vm (state, vm_id, &n, &e))
    {
      if (n > 0)
        g_ptr_array_add (removed, g_strdup ("neigh"));
    }
  else
    note_error (&first, errors, g_steal_pointer (&e));

  if (banger_nft_nat_disable_for (state->nft_table ? state->nft_table : BANGER_NFT_DEFAULT_TABLE,
                                  state->install_id, vm_id, &n, &e))
    {
      if (n > 0)
        g_ptr_array_add (removed, g_strdup ("nat"));
    }
  else
    note_error (&first, errors, g_steal_pointer (&e));

  if (banger_nft_reach_clear (state->nft_table ? state->nft_table : BANGER_NFT_DEFAULT_TABLE,
                              state->install_id, vm_id, &n, &e))
    {
      if (n > 0)
        g_ptr_array_add (removed, g_strdup ("forwards"));
    }
  else
    note_error (&first, errors, g_steal_pointer (&e));

  n = 0;
  if (banger_dm_available (state, NULL))
    {
      if (banger_dm_snapshot_remove (state, vm_id, &n, &e))
        {
          if (n > 0)
            g_ptr_array_add (removed, g_strdup ("dm"));
        }
      else
        note_error (&first, errors, g_steal_pointer (&e));
    }

  if (state->runtime_dir != NULL)
    {
      g_autofree char *run_rel = banger_vm_run_dir_relative (vm_id);
      g_autofree char *jail_rel = banger_vm_helper_jail_relative (state->firecracker_path, vm_id);

      if (banger_priv_remove_tree (state->runtime_dir, run_rel, &flag, &e))
        {
          if (flag)
            g_ptr_array_add (removed, g_strdup ("run_dir"));
        }
      else
        note_error (&first, errors, g_steal_pointer (&e));
      if (banger_priv_remove_jail_tree (state->runtime_dir, jail_rel, &flag, &e))
        {
          if (flag)
            g_ptr_array_add (removed, g_strdup ("jail"));
        }
      else
        note_error (&first, errors, g_steal_pointer (&e));
    }

  if (first != NULL)
    {
      g_propagate_error (error, first);
      return FALSE;
    }
  if (result != NULL)
    {
      json_builder_set_member_name (result, "removed");
      json_builder_begin_array (result);
      for (guint i = 0; i < removed->len; i++)
        json_builder_add_string_value (result, removed->pdata[i]);
      json_builder_end_array (result);
    }
  return TRUE;
}
