/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * priv.delete_tap {vm_id} -> {deleted}
 *
 * Deletes only the tap whose name is derived from the VM id (and the
 * install id), and only when it is this install's: a tun device owned by the
 * owner uid with banger's marker as its ifalias.  Anything else of that name
 * is refused and left intact.
 * Nothing there is success (deleted: false) so cleanup can be repeated. */
#include "config.h"

#include "banger-error.h"
#include "banger-host-names.h"
#include "banger-names.h"
#include "banger-netlink.h"
#include "banger-priv-ops-private.h"

const BangerParamSpec banger_op_delete_tap_params[] = {
  { "vm_id", BANGER_PARAM_STRING, TRUE, 1, 63, banger_validate_vm_name },
  { NULL },
};

gboolean
banger_priv_delete_vm_tap (BangerPrivState *state, const char *vm_id, gboolean *out_deleted,
                           GError **error)
{
  g_autofree char *name = banger_host_tap_name_for (state->install_id, vm_id, error);
  g_auto (BangerLinkInfo) info = { 0 };
  g_autoptr (GError) local_error = NULL;

  *out_deleted = FALSE;
  if (name == NULL)
    return FALSE;
  if (!banger_netlink_get_link (name, &info, &local_error))
    {
      if (g_error_matches (local_error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND))
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  if (!banger_priv_check_own_tap (state, vm_id, name, &info, error))
    return FALSE;
  if (!banger_netlink_delete_link (name, error))
    return FALSE;
  *out_deleted = TRUE;
  return TRUE;
}

gboolean
banger_op_delete_tap (BangerPrivState *state, const BangerPeerCred *caller, JsonObject *params,
                      JsonBuilder *result, GCancellable *cancellable, GError **error)
{
  const char *vm_id = banger_priv_param_vm_id (params, error);
  gboolean deleted = FALSE;

  if (vm_id == NULL || !banger_priv_delete_vm_tap (state, vm_id, &deleted, error))
    return FALSE;
  banger_priv_result_bool (result, "deleted", deleted);
  return TRUE;
}
