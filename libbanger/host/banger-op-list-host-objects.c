/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * priv.list_host_objects {} -> {taps: [{name, owner, consistent}],
 *                               vms: [{vm_id, kinds}], truncated}
 *
 * What of this install exists on the host, for the daemon's reconcile at
 * start (doc/engine.md, "Orphans"): every tap carrying this install's tap
 * marker (a VM's or a pool tap, with the owner its marker names and whether
 * its name is the one derived from that owner — a crash half-way through a
 * pool claim or return leaves them disagreeing), and the VM ids that have
 * any object named after them, with what they have ("kinds": a
 * comma-separated list of tap, scope, run_dir, jail, nat).  Read-only; the daemon decides what is an orphan and removes
 * it with priv.cleanup_vm / priv.pool_tap_delete.  At most
 * LIST_MAX entries of each kind (the reply must fit a message). */
#include "config.h"

#include <string.h>

#include "banger-host-names.h"
#include "banger-names.h"
#include "banger-netlink.h"
#include "banger-nft.h"
#include "banger-pool-tap-names.h"
#include "banger-priv-ops-private.h"
#include "banger-vm-paths.h"

#define LIST_MAX 256

const BangerParamSpec banger_op_list_host_objects_params[] = {
  { NULL },
};

static void
add_id (GHashTable *ids, GPtrArray *order, const char *id, const char *kind)
{
  GString *kinds;

  if (id == NULL || !banger_validate_vm_name (id, NULL)
      || g_str_has_prefix (id, BANGER_POOL_TAP_OWNER_PREFIX))
    return;
  kinds = g_hash_table_lookup (ids, id);
  if (kinds == NULL)
    {
      kinds = g_string_new (NULL);
      g_hash_table_insert (ids, g_strdup (id), kinds);
      g_ptr_array_add (order, g_strdup (id));
    }
  g_string_append_printf (kinds, "%s%s", kinds->len ? "," : "", kind);
}

static void
free_gstring (gpointer s)
{
  g_string_free (s, TRUE);
}

/* The entries of @dir that are VM names. */
static void
add_dir_entries (GHashTable *ids, GPtrArray *order, const char *dir, const char *kind)
{
  g_autoptr (GDir) d = dir ? g_dir_open (dir, 0, NULL) : NULL;
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *id
          = g_str_equal (kind, "scope") ? banger_host_scope_vm_id (name) : g_strdup (name);
      add_id (ids, order, id, kind);
    }
}

gboolean
banger_op_list_host_objects (BangerPrivState *state, const BangerPeerCred *caller,
                             JsonObject *params, JsonBuilder *result, GCancellable *cancellable,
                             GError **error)
{
  g_autofree char *prefix = banger_host_marker (state->install_id, "tap:");
  g_autoptr (GPtrArray) links = banger_netlink_list_marked (prefix, error);
  g_autoptr (GHashTable) ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, free_gstring);
  g_autoptr (GPtrArray) order = g_ptr_array_new_with_free_func (g_free);
  gboolean truncated = FALSE;
  guint n_taps = 0;

  if (links == NULL)
    return FALSE;
  json_builder_set_member_name (result, "taps");
  json_builder_begin_array (result);
  for (guint i = 0; i + 1 < links->len; i += 2)
    {
      const char *name = links->pdata[i];
      const char *owner = (const char *) links->pdata[i + 1] + strlen (prefix);
      g_autofree char *expected = NULL;

      if (!banger_validate_vm_name (owner, NULL) || !banger_validate_ifname (name, NULL))
        continue;
      if (n_taps++ >= LIST_MAX)
        {
          truncated = TRUE;
          break;
        }
      if (g_str_has_prefix (owner, BANGER_POOL_TAP_OWNER_PREFIX))
        expected = banger_pool_tap_name_of_owner (owner);
      else
        {
          expected = banger_host_tap_name_for (state->install_id, owner, NULL);
          add_id (ids, order, owner, "tap");
        }
      json_builder_begin_object (result);
      json_builder_set_member_name (result, "name");
      json_builder_add_string_value (result, name);
      json_builder_set_member_name (result, "owner");
      json_builder_add_string_value (result, owner);
      json_builder_set_member_name (result, "consistent");
      json_builder_add_boolean_value (result, g_strcmp0 (expected, name) == 0);
      json_builder_end_object (result);
    }
  json_builder_end_array (result);

  {
    g_autofree char *root = banger_priv_state_cgroup_root (state, NULL);
    add_dir_entries (ids, order, root, "scope");
  }
  if (state->runtime_dir != NULL)
    {
      g_autofree char *run_base = g_build_filename (state->runtime_dir, "vm", NULL);
      g_autofree char *jail_rel = banger_vm_helper_jail_relative (state->firecracker_path, "x");
      g_autofree char *jail_dir = g_path_get_dirname (jail_rel);
      g_autofree char *jail_base = g_build_filename (state->runtime_dir, jail_dir, NULL);

      add_dir_entries (ids, order, run_base, "run_dir");
      add_dir_entries (ids, order, jail_base, "jail");
    }
  {
    g_auto (GStrv) nat = banger_nft_list_vm_ids_for (
        state->nft_table ? state->nft_table : BANGER_NFT_DEFAULT_TABLE, state->install_id, NULL);
    for (guint i = 0; nat != NULL && nat[i] != NULL; i++)
      add_id (ids, order, nat[i], "nat");
  }

  json_builder_set_member_name (result, "vms");
  json_builder_begin_array (result);
  for (guint i = 0; i < order->len; i++)
    {
      GString *kinds = g_hash_table_lookup (ids, order->pdata[i]);

      if (i >= LIST_MAX)
        {
          truncated = TRUE;
          break;
        }
      json_builder_begin_object (result);
      json_builder_set_member_name (result, "vm_id");
      json_builder_add_string_value (result, order->pdata[i]);
      json_builder_set_member_name (result, "kinds");
      json_builder_add_string_value (result, kinds->str);
      json_builder_end_object (result);
    }
  json_builder_end_array (result);
  banger_priv_result_bool (result, "truncated", truncated);
  return TRUE;
}
