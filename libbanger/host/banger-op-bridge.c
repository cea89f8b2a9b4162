/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * priv.create_bridge {name, address?, mtu?} -> {created}
 * priv.delete_bridge {name} -> {deleted}
 *
 * The bridge the VM network hangs off.  Its name must be one of banger's
 * (banger_validate_ifname: "bng" prefix, so never eth0, lo, docker0 …), and
 * an existing one is touched (reconfigured, deleted, enslaved to) only when
 * it carries this install's marker as its ifalias
 * (banger_priv_check_own_bridge).  Its address must lie inside the install's
 * VM network (banger_priv_check_vm_address); at most max-bridges exist. */
#include "config.h"

#include "banger-error.h"
#include "banger-host-names.h"
#include "banger-names.h"
#include "banger-netlink.h"
#include "banger-priv-ops-private.h"

const BangerParamSpec banger_op_create_bridge_params[] = {
  { "name", BANGER_PARAM_STRING, TRUE, 4, 15, banger_validate_ifname },
  { "address", BANGER_PARAM_STRING, FALSE, 9, 18, banger_priv_validate_ipv4_cidr },
  { "mtu", BANGER_PARAM_INT, FALSE, 68, 65535, NULL },
  { NULL },
};

gboolean
banger_op_create_bridge (BangerPrivState *state, const BangerPeerCred *caller,
                         JsonObject *params, JsonBuilder *result, GCancellable *cancellable,
                         GError **error)
{
  const char *name = banger_priv_param_string (params, "name");
  const char *address = banger_priv_param_string (params, "address");
  gint64 mtu = banger_priv_param_int (params, "mtu", 0);
  g_auto (BangerLinkInfo) info = { 0 };
  g_autoptr (GError) local_error = NULL;
  gboolean created = FALSE;

  if (!banger_validate_ifname (name, error))
    return FALSE;
  if (address != NULL && !banger_priv_validate_ipv4_cidr (address, error))
    return FALSE;
  if (mtu != 0 && (mtu < 68 || mtu > 65535))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT, "MTU out of range");
      return FALSE;
    }
  if (banger_netlink_get_link (name, &info, &local_error))
    {
      if (!banger_priv_check_own_bridge (state, name, &info, error))
        return FALSE;
      if (address != NULL && !banger_priv_check_vm_address (state, address, info.ifindex, error))
        return FALSE;
    }
  else if (g_error_matches (local_error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND))
    {
      g_autofree char *marker = banger_host_marker (state->install_id, "bridge");
      guint n = 0;

      if (address != NULL && !banger_priv_check_vm_address (state, address, 0, error))
        return FALSE;
      if (!banger_netlink_count_marked (marker, &n, error))
        return FALSE;
      if (n >= state->max_bridges)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_LIMIT_EXCEEDED,
                       "This install already has %u bridges (max-bridges in the install config)",
                       n);
          return FALSE;
        }
      if (!banger_netlink_create_bridge (name, error))
        return FALSE;
      created = TRUE;
      if (!banger_netlink_set_alias (name, marker, error))
        {
          banger_netlink_delete_link (name, NULL);
          return FALSE;
        }
    }
  else
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  if (!banger_netlink_configure (name, (guint) mtu, NULL, error)
      || (address != NULL && !banger_netlink_add_address (name, address, error)))
    {
      if (created)
        banger_netlink_delete_link (name, NULL);
      return FALSE;
    }
  banger_priv_result_bool (result, "created", created);
  return TRUE;
}

const BangerParamSpec banger_op_delete_bridge_params[] = {
  { "name", BANGER_PARAM_STRING, TRUE, 4, 15, banger_validate_ifname },
  { NULL },
};

gboolean
banger_op_delete_bridge (BangerPrivState *state, const BangerPeerCred *caller,
                         JsonObject *params, JsonBuilder *result, GCancellable *cancellable,
                         GError **error)
{
  const char *name = banger_priv_param_string (params, "name");
  g_auto (BangerLinkInfo) info = { 0 };
  g_autoptr (GError) local_error = NULL;

  if (!banger_validate_ifname (name, error))
    return FALSE;
  if (!banger_netlink_get_link (name, &info, &local_error))
    {
      if (!g_error_matches (local_error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      banger_priv_result_bool (result, "deleted", FALSE);
      return TRUE;
    }
  if (!banger_priv_check_own_bridge (state, name, &info, error))
    return FALSE;
  if (!banger_netlink_delete_link (name, error))
    return FALSE;
  banger_priv_result_bool (result, "deleted", TRUE);
  return TRUE;
}
