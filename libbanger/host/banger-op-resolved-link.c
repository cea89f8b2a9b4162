/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * priv.resolved_link {bridge, address, domain} -> {ifindex, domains}
 *
 * Route <domain> and the reverse zone of the VM network to banger's DNS
 * responder in systemd-resolved, on banger's bridge only (per link, as
 * libvirt and Lima do; doc/dns.md, "Host resolution").  Checked here:
 * @bridge is a bridge carrying this install's marker; @address
 * ("a.b.c.d/len", the responder's) is inside the VM network and is on that
 * very bridge; @domain is a plain lowercase domain (banger-reach.h).
 * resolved forgets the settings when the link goes, so nothing is left
 * after a crash.  UNSUPPORTED when resolved does not run here. */
#include "config.h"

#include "banger-error.h"
#include "banger-ipv4.h"
#include "banger-names.h"
#include "banger-netlink.h"
#include "banger-priv-ops-private.h"
#include "banger-reach.h"
#include "banger-resolved.h"

static gboolean
validate_domain (const char *value, GError **error)
{
  return banger_validate_dns_domain (value, error);
}

const BangerParamSpec banger_op_resolved_link_params[] = {
  { "bridge", BANGER_PARAM_STRING, TRUE, 4, 15, banger_validate_ifname },
  { "address", BANGER_PARAM_STRING, TRUE, 9, 18, banger_priv_validate_ipv4_cidr },
  { "domain", BANGER_PARAM_STRING, TRUE, 1, 190, validate_domain },
  { NULL },
};

gboolean
banger_op_resolved_link (BangerPrivState *state, const BangerPeerCred *caller, JsonObject *params,
                         JsonBuilder *result, GCancellable *cancellable, GError **error)
{
  const char *bridge = banger_priv_param_string (params, "bridge");
  const char *address = banger_priv_param_string (params, "address");
  const char *domain = banger_priv_param_string (params, "domain");
  g_auto (BangerLinkInfo) info = { 0 };
  g_autofree char *reverse = NULL;
  guint32 addr = 0;
  guint prefix = 0;
  int where = 0;
  const char *domains[3] = { NULL, NULL, NULL };

  if (!banger_validate_ifname (bridge, error) || !banger_priv_validate_ipv4_cidr (address, error)
      || !banger_validate_dns_domain (domain, error))
    return FALSE;
  if (!banger_netlink_get_link (bridge, &info, error)
      || !banger_priv_check_own_bridge (state, bridge, &info, error)
      || !banger_priv_check_vm_address (state, address, info.ifindex, error))
    return FALSE;
  if (!banger_ipv4_parse_cidr (address, &addr, &prefix)
      || !banger_netlink_find_address (addr, &where, error))
    return FALSE;
  if (where != info.ifindex)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
                   "Address %s is not on bridge '%s'", address, bridge);
      return FALSE;
    }
  reverse = banger_reverse_zone (addr, prefix);
  domains[0] = domain;
  domains[1] = reverse;
  if (!banger_resolved_set_link (info.ifindex, addr, domains, cancellable, error))
    return FALSE;
  banger_priv_result_int (result, "ifindex", info.ifindex);
  json_builder_set_member_name (result, "domains");
  json_builder_begin_array (result);
  for (guint i = 0; domains[i] != NULL; i++)
    json_builder_add_string_value (result, domains[i]);
  json_builder_end_array (result);
  return TRUE;
}
