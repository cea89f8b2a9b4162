/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * priv.neigh_set {vm_id, bridge, guest_ip} -> {mac}
 *
 * A permanent neighbour (ARP) entry on banger's bridge for a VM's guest
 * address, so that the host's TCP connects to a guest whose network is not
 * up yet send their SYN at once instead of queueing behind ARP resolution
 * (3 probes 1 s apart, then a failure): the engine's SSH wait starts a
 * fresh connect every 250 ms (banger-guest-wait.c).
 * The client names neither the MAC nor any other device: the MAC is the
 * one the VM's NIC gets, derived here from the vm_id (banger_vm_mac_for,
 * the same function the VMM drivers use); the device must be a bridge of
 * this install (banger_priv_check_own_bridge); the address a host address
 * inside the install's VM network (banger_priv_check_guest_address) that
 * is no address of this host.  An entry for the same address is replaced
 * (the lease moved to this VM).  priv.cleanup_vm removes the VM's entries
 * (banger_priv_neigh_clear_vm). */
#include "config.h"

#include "banger-error.h"
#include "banger-host-names.h"
#include "banger-ipv4.h"
#include "banger-names.h"
#include "banger-netlink.h"
#include "banger-priv-ops-private.h"
#include "banger-vm-mac.h"

const BangerParamSpec banger_op_neigh_set_params[] = {
  { "vm_id", BANGER_PARAM_STRING, TRUE, 1, 63, banger_validate_vm_name },
  { "bridge", BANGER_PARAM_STRING, TRUE, 4, 15, banger_validate_ifname },
  { "guest_ip", BANGER_PARAM_STRING, TRUE, 7, 15, banger_priv_validate_ipv4 },
  { NULL },
};

gboolean
banger_op_neigh_set (BangerPrivState *state, const BangerPeerCred *caller, JsonObject *params,
                     JsonBuilder *result, GCancellable *cancellable, GError **error)
{
  const char *vm_id = banger_priv_param_vm_id (params, error);
  const char *bridge = banger_priv_param_string (params, "bridge");
  const char *guest_ip = banger_priv_param_string (params, "guest_ip");
  g_auto (BangerLinkInfo) br = { 0 };
  g_autofree char *mac = NULL;
  guint32 addr = 0;
  int on = 0;

  if (vm_id == NULL)
    return FALSE;
  if (!banger_validate_ifname (bridge, error)
      || !banger_priv_check_guest_address (state, "guest address", guest_ip, error))
    return FALSE;
  (void) banger_ipv4_parse_address (guest_ip, &addr); /* checked just above */
  if (!banger_netlink_find_address (addr, &on, error))
    return FALSE;
  if (on != 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
                   "%s is an address of this host (interface index %d), not a guest's", guest_ip,
                   on);
      return FALSE;
    }
  if (!banger_netlink_get_link (bridge, &br, error)
      || !banger_priv_check_own_bridge (state, bridge, &br, error))
    return FALSE;
  mac = banger_vm_mac_for (vm_id, 0);
  if (!banger_netlink_neigh_replace (bridge, guest_ip, mac, error))
    return FALSE;
  banger_priv_result_string (result, "mac", mac);
  return TRUE;
}

gboolean
banger_priv_neigh_clear_vm (BangerPrivState *state, const char *vm_id, guint *out_count,
                            GError **error)
{
  g_autofree char *marker = banger_host_marker (state->install_id, "bridge");
  g_autofree char *mac = banger_vm_mac_for (vm_id, 0);
  g_autoptr (GPtrArray) bridges = banger_netlink_list_marked (marker, error);
  guint total = 0;

  *out_count = 0;
  if (bridges == NULL)
    return FALSE;
  for (guint i = 0; i + 1 < bridges->len; i += 2)
    {
      guint n = 0;
      /* exactly this install's bridge marker, not a longer alias */
      if (g_strcmp0 (bridges->pdata[i + 1], marker) != 0)
        continue;
      if (!banger_netlink_neigh_delete_lladdr (bridges->pdata[i], mac, &n, error))
        return FALSE;
      total += n;
    }
  *out_count = total;
  return TRUE;
}
