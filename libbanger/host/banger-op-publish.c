/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * priv.publish_set {vm_id, guest_ip, publish} -> {publish}
 * priv.publish_list {vm_id} -> {publish}
 *
 * A VM's port publishes as DNAT rules in banger's own nftables table
 * (banger-nft-reach.h).  @publish is the canonical comma-joined list
 * (banger-reach.h: HOSTIP:HOSTPORT:GUESTPORT/PROTO,…; "" removes them all);
 * it replaces what the VM had, atomically.  Checked here, again, whatever
 * the executor's table let through: the list's syntax and overlaps, the
 * guest address inside the VM network, host ports below 1024 for root
 * callers only, each host address local and not loopback, each host port
 * free (no other VM's publish, no bound socket: BUSY). */
#include "config.h"

#include "banger-error.h"
#include "banger-ipv4.h"
#include "banger-names.h"
#include "banger-nft-reach.h"
#include "banger-nft.h"
#include "banger-priv-ops-private.h"

static const char *
table_of (BangerPrivState *state)
{
  return state->nft_table != NULL ? state->nft_table : BANGER_NFT_DEFAULT_TABLE;
}

static gboolean
validate_publish_text (const char *value, GError **error)
{
  g_autoptr (GArray) list = banger_publish_list_split (value, error);
  return list != NULL;
}

gboolean
banger_priv_check_guest_address (BangerPrivState *state, const char *what, const char *ip,
                                 GError **error)
{
  guint32 a = 0;
  guint32 mask = state->vm_prefix == 0 ? 0 : 0xffffffffu << (32 - state->vm_prefix);

  if (!banger_priv_validate_ipv4 (ip, error))
    return FALSE;
  if (banger_ipv4_parse_address (ip, &a) && (a & mask) == state->vm_net && a != state->vm_net
      && a != (state->vm_net | ~mask))
    return TRUE;
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
               "The %s %s is not a host address inside the VM network %u.%u.%u.%u/%u", what, ip,
               state->vm_net >> 24, (state->vm_net >> 16) & 0xff, (state->vm_net >> 8) & 0xff,
               state->vm_net & 0xff, state->vm_prefix);
  return FALSE;
}

const BangerParamSpec banger_op_publish_set_params[] = {
  { "vm_id", BANGER_PARAM_STRING, TRUE, 1, 63, banger_validate_vm_name },
  { "guest_ip", BANGER_PARAM_STRING, TRUE, 7, 15, banger_priv_validate_ipv4 },
  /* at most BANGER_PUBLISH_MAX canonical entries of ≤ 31 bytes + commas */
  { "publish", BANGER_PARAM_STRING, TRUE, 0, 32 * 32, validate_publish_text },
  { NULL },
};

gboolean
banger_op_publish_set (BangerPrivState *state, const BangerPeerCred *caller, JsonObject *params,
                       JsonBuilder *result, GCancellable *cancellable, GError **error)
{
  const char *vm_id = banger_priv_param_vm_id (params, error);
  const char *guest_ip = banger_priv_param_string (params, "guest_ip");
  const char *text = banger_priv_param_string (params, "publish");
  g_autoptr (GArray) list = NULL;
  g_autofree char *now = NULL;

  if (vm_id == NULL || !banger_priv_check_guest_address (state, "guest address", guest_ip, error))
    return FALSE;
  list = banger_publish_list_split (text, error);
  if (list == NULL)
    return FALSE;
  for (guint i = 0; i < list->len; i++)
    {
      const BangerPublish *p = &g_array_index (list, BangerPublish, i);
      if (p->host_port < 1024 && caller->uid != 0)
        {
          g_autofree char *t = banger_publish_to_string (p);
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
                       "Publish '%s': host ports below 1024 are root's (the owner may publish "
                       "1024-65535)",
                       t);
          return FALSE;
        }
    }
  if (!banger_nft_publish_set (table_of (state), state->install_id, vm_id, guest_ip, list, error))
    return FALSE;
  now = banger_nft_publish_list (table_of (state), state->install_id, vm_id, error);
  if (now == NULL)
    return FALSE;
  banger_priv_result_string (result, "publish", now);
  return TRUE;
}

const BangerParamSpec banger_op_publish_list_params[] = {
  { "vm_id", BANGER_PARAM_STRING, TRUE, 1, 63, banger_validate_vm_name },
  { NULL },
};

gboolean
banger_op_publish_list (BangerPrivState *state, const BangerPeerCred *caller, JsonObject *params,
                        JsonBuilder *result, GCancellable *cancellable, GError **error)
{
  const char *vm_id = banger_priv_param_vm_id (params, error);
  g_autofree char *list = NULL;

  if (vm_id == NULL)
    return FALSE;
  list = banger_nft_publish_list (table_of (state), state->install_id, vm_id, error);
  if (list == NULL)
    return FALSE;
  banger_priv_result_string (result, "publish", list);
  return TRUE;
}
