/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * priv.create_tap {vm_id, bridge?, mtu?, address?} -> {name}
 *
 * The client never names the tap: it is derived from the install id and the
 * VM id (banger_host_tap_name_for: "bngt" + hash) and checked by
 * banger_validate_ifname.  Created with the tun ioctls, owned by banger's
 * owner uid, marked (ifalias banger_host_tap_marker), then brought up over
 * netlink, optionally with an MTU, enslaved to one of this install's bridges
 * and given a host-side address inside the install's VM network
 * (banger_priv_check_vm_address).  Calling it again for the same VM
 * reconfigures the existing tap, only when it is this install's
 * (banger_priv_check_own_tap).  At most max-taps of this install's taps
 * exist at once (LIMIT_EXCEEDED). */
#include "config.h"

#include "banger-error.h"
#include "banger-host-names.h"
#include "banger-names.h"
#include "banger-netlink.h"
#include "banger-priv-ops-private.h"
#include "banger-tap.h"

static gboolean
mark_tap (const char *name, gpointer marker)
{
  return banger_netlink_set_alias (name, marker, NULL);
}

const BangerParamSpec banger_op_create_tap_params[] = {
  { "vm_id", BANGER_PARAM_STRING, TRUE, 1, 63, banger_validate_vm_name },
  { "bridge", BANGER_PARAM_STRING, FALSE, 4, 15, banger_validate_ifname },
  { "mtu", BANGER_PARAM_INT, FALSE, 68, 65535, NULL },
  { "address", BANGER_PARAM_STRING, FALSE, 9, 18, banger_priv_validate_ipv4_cidr },
  { NULL },
};

gboolean
banger_op_create_tap (BangerPrivState *state, const BangerPeerCred *caller, JsonObject *params,
                      JsonBuilder *result, GCancellable *cancellable, GError **error)
{
  const char *vm_id = banger_priv_param_vm_id (params, error);
  const char *bridge = banger_priv_param_string (params, "bridge");
  const char *address = banger_priv_param_string (params, "address");
  gint64 mtu = banger_priv_param_int (params, "mtu", 0);
  g_autofree char *name = NULL;
  g_autofree char *marker = NULL;
  g_auto (BangerLinkInfo) info = { 0 };
  g_autoptr (GError) local_error = NULL;
  gboolean created = FALSE;

  if (vm_id == NULL)
    return FALSE;
  if (bridge != NULL && !banger_validate_ifname (bridge, error))
    return FALSE;
  if (address != NULL && !banger_priv_validate_ipv4_cidr (address, error))
    return FALSE;
  if (mtu != 0 && (mtu < 68 || mtu > 65535))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "MTU %" G_GINT64_FORMAT " is out of range (68-65535)", mtu);
      return FALSE;
    }
  name = banger_host_tap_name_for (state->install_id, vm_id, error);
  if (name == NULL)
    return FALSE;
  marker = banger_host_tap_marker (state->install_id, vm_id);
  if (bridge != NULL)
    {
      g_auto (BangerLinkInfo) br = { 0 };
      if (!banger_netlink_get_link (bridge, &br, error))
        return FALSE;
      if (g_strcmp0 (br.kind, "bridge") != 0)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                       "'%s' is not a bridge", bridge);
          return FALSE;
        }
      if (!banger_priv_check_own_bridge (state, bridge, &br, error))
        return FALSE;
    }

  if (banger_netlink_get_link (name, &info, &local_error))
    {
      if (!banger_priv_check_own_tap (state, vm_id, name, &info, error))
        return FALSE;
      if (address != NULL && !banger_priv_check_vm_address (state, address, info.ifindex, error))
        return FALSE;
    }
  else if (g_error_matches (local_error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND))
    {
      g_autofree char *prefix = banger_host_marker (state->install_id, "tap:");
      guint n = 0;

      if (address != NULL && !banger_priv_check_vm_address (state, address, 0, error))
        return FALSE;
      if (!banger_netlink_count_marked (prefix, &n, error))
        return FALSE;
      if (n >= state->max_taps)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_LIMIT_EXCEEDED,
                       "This install already has %u taps (max-taps in the install config)", n);
          return FALSE;
        }
      if (!banger_tap_create_marked (name, state->owner_uid, mark_tap, marker, error))
        return FALSE;
      created = TRUE;
    }
  else
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  if (!banger_netlink_configure (name, (guint) mtu, bridge, error)
      || (address != NULL && !banger_netlink_add_address (name, address, error)))
    {
      if (created)
        banger_netlink_delete_link (name, NULL); /* undo our own half-made tap */
      return FALSE;
    }
  banger_priv_result_string (result, "name", name);
  banger_priv_result_bool (result, "created", created);
  return TRUE;
}
