/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The tap pool's operations (doc/host.md, "The tap pool"):
 *
 *   priv.pool_tap_create {tap, bridge?, mtu?} -> {name, created}
 *   priv.pool_tap_claim  {tap, vm_id}         -> {name}
 *   priv.pool_tap_return {vm_id, tap}         -> {name}
 *   priv.pool_tap_delete {tap}                -> {deleted}
 *
 * A pool tap is named "bngp" + a random token and marked with the owner
 * "pool-<token>" (banger-pool-tap-names.h).  Claiming one renames it to the
 * VM's own tap name (banger_host_tap_name_for) and re-marks it for the VM,
 * so that launch_vmm, delete_tap and cleanup_vm find it exactly as a tap
 * made for the VM; returning does the reverse once no VMM of the VM is
 * left.  Every step checks the tap is this install's (tun owner + marker),
 * as create_tap does; the new name must be free (ALREADY_EXISTS). */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "banger-error.h"
#include "banger-host-names.h"
#include "banger-names.h"
#include "banger-netlink.h"
#include "banger-pool-tap-names.h"
#include "banger-priv-ops-private.h"
#include "banger-tap.h"

static gboolean
validate_pool_tap (const char *value, GError **error)
{
  return banger_pool_tap_validate_name (value, error);
}

/* The link @name, which must exist and be this install's tap of @owner. */
static gboolean
get_own_tap (BangerPrivState *state, const char *owner, const char *name, BangerLinkInfo *info,
             GError **error)
{
  return banger_netlink_get_link (name, info, error)
         && banger_priv_check_own_tap (state, owner, name, info, error);
}

/* NOT_FOUND is what a free name answers. */
static gboolean
check_name_free (const char *name, GError **error)
{
  g_auto (BangerLinkInfo) info = { 0 };
  g_autoptr (GError) local = NULL;

  if (banger_netlink_get_link (name, &info, &local))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_ALREADY_EXISTS,
                   "A network interface named '%s' already exists", name);
      return FALSE;
    }
  if (g_error_matches (local, BANGER_ERROR, BANGER_ERROR_NOT_FOUND))
    return TRUE;
  g_propagate_error (error, g_steal_pointer (&local));
  return FALSE;
}

/* Rename @from (marked for @from_owner) to @to (marked for @to_owner) and
 * bring it up.  The marker moves first; on a failure both are put back. */
static gboolean
move_tap (const char *from, const char *from_marker, const char *to, const char *to_marker,
          const char *bridge, GError **error)
{
  if (!banger_netlink_set_alias (from, to_marker, error))
    return FALSE;
  if (!banger_netlink_rename (from, to, error))
    {
      banger_netlink_set_alias (from, from_marker, NULL);
      banger_netlink_configure (from, 0, NULL, NULL);
      return FALSE;
    }
  if (!banger_netlink_configure (to, 0, bridge, error))
    {
      if (banger_netlink_rename (to, from, NULL))
        {
          banger_netlink_set_alias (from, from_marker, NULL);
          banger_netlink_configure (from, 0, NULL, NULL);
        }
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_bridge (BangerPrivState *state, const char *bridge, GError **error)
{
  g_auto (BangerLinkInfo) br = { 0 };

  if (bridge == NULL)
    return TRUE;
  if (!banger_validate_ifname (bridge, error) || !banger_netlink_get_link (bridge, &br, error))
    return FALSE;
  if (g_strcmp0 (br.kind, "bridge") != 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT, "'%s' is not a bridge",
                   bridge);
      return FALSE;
    }
  return banger_priv_check_own_bridge (state, bridge, &br, error);
}

/* ------------------------------------------------------------- create */

static gboolean
mark_tap (const char *name, gpointer marker)
{
  return banger_netlink_set_alias (name, marker, NULL);
}

const BangerParamSpec banger_op_pool_tap_create_params[] = {
  { "tap", BANGER_PARAM_STRING, TRUE, 15, 15, validate_pool_tap },
  { "bridge", BANGER_PARAM_STRING, FALSE, 4, 15, banger_validate_ifname },
  { "mtu", BANGER_PARAM_INT, FALSE, 68, 65535, NULL },
  { NULL },
};

gboolean
banger_op_pool_tap_create (BangerPrivState *state, const BangerPeerCred *caller,
                           JsonObject *params, JsonBuilder *result, GCancellable *cancellable,
                           GError **error)
{
  const char *name = banger_priv_param_string (params, "tap");
  const char *bridge = banger_priv_param_string (params, "bridge");
  gint64 mtu = banger_priv_param_int (params, "mtu", 0);
  g_autofree char *owner = banger_pool_tap_owner (name);
  g_autofree char *marker = NULL;
  g_auto (BangerLinkInfo) info = { 0 };
  g_autoptr (GError) local = NULL;
  gboolean created = FALSE;

  if (owner == NULL)
    return banger_pool_tap_validate_name (name, error);
  if (mtu != 0 && (mtu < 68 || mtu > 65535))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "MTU %" G_GINT64_FORMAT " is out of range (68-65535)", mtu);
      return FALSE;
    }
  if (!check_bridge (state, bridge, error))
    return FALSE;
  marker = banger_host_tap_marker (state->install_id, owner);
  if (banger_netlink_get_link (name, &info, &local))
    {
      if (!banger_priv_check_own_tap (state, owner, name, &info, error))
        return FALSE;
    }
  else if (g_error_matches (local, BANGER_ERROR, BANGER_ERROR_NOT_FOUND))
    {
      g_autofree char *prefix = banger_host_marker (state->install_id, "tap:");
      guint n = 0;

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
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  if (!banger_netlink_configure (name, (guint) mtu, bridge, error))
    {
      if (created)
        banger_netlink_delete_link (name, NULL);
      return FALSE;
    }
  banger_priv_result_string (result, "name", name);
  banger_priv_result_bool (result, "created", created);
  return TRUE;
}

/* -------------------------------------------------------------- claim */

const BangerParamSpec banger_op_pool_tap_claim_params[] = {
  { "tap", BANGER_PARAM_STRING, TRUE, 15, 15, validate_pool_tap },
  { "vm_id", BANGER_PARAM_STRING, TRUE, 1, 63, banger_validate_vm_name },
  { NULL },
};

gboolean
banger_op_pool_tap_claim (BangerPrivState *state, const BangerPeerCred *caller,
                          JsonObject *params, JsonBuilder *result, GCancellable *cancellable,
                          GError **error)
{
  const char *name = banger_priv_param_string (params, "tap");
  const char *vm_id = banger_priv_param_vm_id (params, error);
  g_autofree char *owner = banger_pool_tap_owner (name);
  g_autofree char *vm_tap = NULL;
  g_autofree char *pool_marker = NULL;
  g_autofree char *vm_marker = NULL;
  g_auto (BangerLinkInfo) info = { 0 };

  if (vm_id == NULL)
    return FALSE;
  if (owner == NULL)
    return banger_pool_tap_validate_name (name, error);
  if (g_str_has_prefix (vm_id, BANGER_POOL_TAP_OWNER_PREFIX))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "'%s' is a pool tap's owner, not a VM id", vm_id);
      return FALSE;
    }
  vm_tap = banger_host_tap_name_for (state->install_id, vm_id, error);
  if (vm_tap == NULL || !get_own_tap (state, owner, name, &info, error)
      || !check_name_free (vm_tap, error))
    return FALSE;
  pool_marker = banger_host_tap_marker (state->install_id, owner);
  vm_marker = banger_host_tap_marker (state->install_id, vm_id);
  if (!move_tap (name, pool_marker, vm_tap, vm_marker, NULL, error))
    return FALSE;
  banger_priv_result_string (result, "name", vm_tap);
  return TRUE;
}

/* ------------------------------------------------------------- return */

const BangerParamSpec banger_op_pool_tap_return_params[] = {
  { "vm_id", BANGER_PARAM_STRING, TRUE, 1, 63, banger_validate_vm_name },
  { "tap", BANGER_PARAM_STRING, TRUE, 15, 15, validate_pool_tap },
  { NULL },
};

/* Is anything of @vm_id still able to hold its tap open: a registered VMM,
 * a launch under way, a process in its scope? */
static gboolean
check_vm_quiet (BangerPrivState *state, const char *vm_id, GError **error)
{
  g_autofree char *root = NULL;
  g_autofree char *scope = NULL;
  g_autofree char *procs = NULL;
  g_autofree char *text = NULL;
  gboolean registered;

  banger_priv_state_reap (state);
  g_mutex_lock (&state->lock);
  registered = g_hash_table_contains (banger_priv_state_vmms_locked (state), vm_id);
  g_mutex_unlock (&state->lock);
  if (registered || banger_priv_state_is_launching (state, vm_id))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_BUSY,
                   "VM '%s' still has a VMM; its tap goes back to the pool after it has exited",
                   vm_id);
      return FALSE;
    }
  root = banger_priv_state_cgroup_root (state, NULL);
  scope = banger_host_scope_name (vm_id, NULL);
  if (root == NULL || scope == NULL)
    return TRUE;
  procs = g_build_filename (root, scope, "cgroup.procs", NULL);
  if (g_file_get_contents (procs, &text, NULL, NULL) && text[0] != '\0')
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_BUSY,
                   "VM '%s' still has processes in its cgroup; its tap goes back to the pool "
                   "after they have exited",
                   vm_id);
      return FALSE;
    }
  return TRUE;
}

gboolean
banger_op_pool_tap_return (BangerPrivState *state, const BangerPeerCred *caller,
                           JsonObject *params, JsonBuilder *result, GCancellable *cancellable,
                           GError **error)
{
  const char *vm_id = banger_priv_param_vm_id (params, error);
  const char *name = banger_priv_param_string (params, "tap");
  g_autofree char *owner = banger_pool_tap_owner (name);
  g_autofree char *vm_tap = NULL;
  g_autofree char *pool_marker = NULL;
  g_autofree char *vm_marker = NULL;
  g_auto (BangerLinkInfo) info = { 0 };

  if (vm_id == NULL)
    return FALSE;
  if (owner == NULL)
    return banger_pool_tap_validate_name (name, error);
  vm_tap = banger_host_tap_name_for (state->install_id, vm_id, error);
  if (vm_tap == NULL || !get_own_tap (state, vm_id, vm_tap, &info, error)
      || !check_vm_quiet (state, vm_id, error) || !check_name_free (name, error))
    return FALSE;
  pool_marker = banger_host_tap_marker (state->install_id, owner);
  vm_marker = banger_host_tap_marker (state->install_id, vm_id);
  if (!move_tap (vm_tap, vm_marker, name, pool_marker, NULL, error))
    return FALSE;
  banger_priv_result_string (result, "name", name);
  return TRUE;
}

/* ------------------------------------------------------------- delete */

const BangerParamSpec banger_op_pool_tap_delete_params[] = {
  { "tap", BANGER_PARAM_STRING, TRUE, 4, 15, banger_validate_ifname },
  { NULL },
};

/* Any tap of this install by name: a pool tap, and also a tap left
 * half-way through a claim or return by a crash (its name and its marker's
 * owner disagree), which nothing else can name.  The proof is the same as
 * everywhere: a tun owned by the owner uid with this install's tap marker. */
gboolean
banger_op_pool_tap_delete (BangerPrivState *state, const BangerPeerCred *caller,
                           JsonObject *params, JsonBuilder *result, GCancellable *cancellable,
                           GError **error)
{
  const char *name = banger_priv_param_string (params, "tap");
  g_autofree char *prefix = banger_host_marker (state->install_id, "tap:");
  g_auto (BangerLinkInfo) info = { 0 };
  g_autoptr (GError) local = NULL;
  const char *owner;

  if (!banger_validate_ifname (name, error))
    return FALSE;
  if (!banger_netlink_get_link (name, &info, &local))
    {
      if (!g_error_matches (local, BANGER_ERROR, BANGER_ERROR_NOT_FOUND))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      banger_priv_result_bool (result, "deleted", FALSE);
      return TRUE;
    }
  owner = info.alias != NULL && g_str_has_prefix (info.alias, prefix)
              ? info.alias + strlen (prefix)
              : "";
  if (!banger_priv_check_own_tap (state, owner, name, &info, error))
    return FALSE;
  if (!g_str_has_prefix (owner, BANGER_POOL_TAP_OWNER_PREFIX)
      && !check_vm_quiet (state, owner, error))
    return FALSE;
  if (!banger_netlink_delete_link (name, error))
    return FALSE;
  banger_priv_result_bool (result, "deleted", TRUE);
  return TRUE;
}
