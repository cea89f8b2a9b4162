/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * priv.egress_set {vm_id, guest_ip, gateway, egress} -> {egress}
 *
 * A VM's egress policy in banger's own nftables table
 * (banger-nft-reach.h): "nat" (no restriction; its rules removed), "none"
 * (the host side of its link only: @gateway) or a CIDR list (the gateway
 * and those networks).  Both addresses must be inside the VM network; the
 * policy text is parsed again here (banger-reach.h). */
#include "config.h"

#include "banger-error.h"
#include "banger-names.h"
#include "banger-nft-reach.h"
#include "banger-nft.h"
#include "banger-priv-ops-private.h"

static gboolean
validate_egress_text (const char *value, GError **error)
{
  g_autofree char *canon = banger_egress_parse (value, NULL, NULL, error);
  return canon != NULL;
}

const BangerParamSpec banger_op_egress_set_params[] = {
  { "vm_id", BANGER_PARAM_STRING, TRUE, 1, 63, banger_validate_vm_name },
  { "guest_ip", BANGER_PARAM_STRING, TRUE, 7, 15, banger_priv_validate_ipv4 },
  { "gateway", BANGER_PARAM_STRING, TRUE, 7, 15, banger_priv_validate_ipv4 },
  { "egress", BANGER_PARAM_STRING, TRUE, 3, 32 * 19, validate_egress_text },
  { NULL },
};

gboolean
banger_op_egress_set (BangerPrivState *state, const BangerPeerCred *caller, JsonObject *params,
                      JsonBuilder *result, GCancellable *cancellable, GError **error)
{
  const char *vm_id = banger_priv_param_vm_id (params, error);
  const char *guest_ip = banger_priv_param_string (params, "guest_ip");
  const char *gateway = banger_priv_param_string (params, "gateway");
  const char *egress = banger_priv_param_string (params, "egress");
  const char *table = state->nft_table != NULL ? state->nft_table : BANGER_NFT_DEFAULT_TABLE;
  g_autofree char *tag = NULL;

  if (vm_id == NULL || !banger_priv_check_guest_address (state, "guest address", guest_ip, error)
      || !banger_priv_check_guest_address (state, "gateway", gateway, error))
    return FALSE;
  if (g_str_equal (guest_ip, gateway))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "The guest address and the gateway are the same (%s)", guest_ip);
      return FALSE;
    }
  if (!banger_nft_egress_set (table, state->install_id, vm_id, guest_ip, gateway, egress, error))
    return FALSE;
  tag = banger_nft_egress_get (table, state->install_id, vm_id, error);
  if (tag == NULL)
    return FALSE;
  banger_priv_result_string (result, "egress", tag);
  return TRUE;
}
