/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * priv.nat_enable {vm_id, guest_ip} and priv.nat_disable {vm_id}: one tagged
 * element per VM in banger's own nftables table (state->nft_table, default
 * "banger"); see banger-nft.h for the table and why nothing else is touched. */
#include "config.h"

#include "banger-names.h"
#include "banger-nft.h"
#include "banger-priv-ops-private.h"

static const char *
table_of (BangerPrivState *state)
{
  return state->nft_table != NULL ? state->nft_table : BANGER_NFT_DEFAULT_TABLE;
}

const BangerParamSpec banger_op_nat_enable_params[] = {
  { "vm_id", BANGER_PARAM_STRING, TRUE, 1, 63, banger_validate_vm_name },
  { "guest_ip", BANGER_PARAM_STRING, TRUE, 7, 15, banger_priv_validate_ipv4 },
  { NULL },
};

gboolean
banger_op_nat_enable (BangerPrivState *state, const BangerPeerCred *caller, JsonObject *params,
                      JsonBuilder *result, GCancellable *cancellable, GError **error)
{
  const char *vm_id = banger_priv_param_vm_id (params, error);
  const char *guest_ip = banger_priv_param_string (params, "guest_ip");

  if (vm_id == NULL || !banger_priv_validate_ipv4 (guest_ip, error))
    return FALSE;
  if (!banger_nft_nat_enable_for (table_of (state), state->install_id, vm_id, guest_ip,
                                  state->max_nat_elements, error))
    return FALSE;
  banger_priv_result_string (result, "table", table_of (state));
  return TRUE;
}

const BangerParamSpec banger_op_nat_disable_params[] = {
  { "vm_id", BANGER_PARAM_STRING, TRUE, 1, 63, banger_validate_vm_name },
  { NULL },
};

gboolean
banger_op_nat_disable (BangerPrivState *state, const BangerPeerCred *caller, JsonObject *params,
                       JsonBuilder *result, GCancellable *cancellable, GError **error)
{
  const char *vm_id = banger_priv_param_vm_id (params, error);
  guint removed = 0;

  if (vm_id == NULL)
    return FALSE;
  if (!banger_nft_nat_disable_for (table_of (state), state->install_id, vm_id, &removed,
                                   error))
    return FALSE;
  banger_priv_result_int (result, "removed", removed);
  return TRUE;
}
