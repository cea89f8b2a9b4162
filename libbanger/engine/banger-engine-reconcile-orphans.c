/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Reconcile, second half (doc/engine.md, "Orphans"): after the VM records
 * have been reconciled (banger_engine_reconcile), the host objects named
 * after VM ids that have no record, or whose VM is not running, are removed,
 * and the tap pool is reconciled and started.
 *
 * What the host holds comes from priv.list_host_objects (taps by marker,
 * cgroup scopes, run dirs, jails, NAT elements) and from the state dir's
 * vms/ directory (disks of VMs without a record).  Each orphan VM id gets a
 * priv.cleanup_vm, which removes all of it (VMM, scope, tap, NAT element, dm
 * snapshot, run dir, jail) and only what carries this install's marker. */
#include "config.h"

#include <arpa/inet.h>

#include "banger-engine-private.h"
#include "banger-error.h"
#include "banger-names.h"
#include "banger-store.h"
#include "banger-tap-pool.h"

static gboolean
is_live (BangerEngine *e, const char *vm_id)
{
  g_autoptr (BangerStoreVm) vm = banger_store_vm_get_by_id (e->store, vm_id, NULL);

  return vm != NULL && vm->state == BANGER_STORE_VM_STATE_RUNNING;
}

static void
cleanup_orphan (BangerEngine *e, const char *vm_id, const char *why)
{
  g_autoptr (JsonObject) p = json_object_new ();
  g_autoptr (JsonObject) r = NULL;
  g_autoptr (GError) local = NULL;

  json_object_set_string_member (p, "vm_id", vm_id);
  r = banger_priv_backend_call (e->backend, "priv.cleanup_vm", p, "reconcile", NULL, &local);
  if (r == NULL)
    {
      g_message ("reconcile: orphan %s (%s): %s", vm_id, why, local->message);
      return;
    }
  {
    JsonArray *removed = json_object_get_array_member (r, "removed");
    g_autoptr (GString) what = g_string_new (NULL);

    for (guint i = 0; removed != NULL && i < json_array_get_length (removed); i++)
      g_string_append_printf (what, "%s%s", i ? ", " : "",
                              json_array_get_string_element (removed, i));
    g_message ("reconcile: orphan host objects of %s (%s) removed: %s", vm_id, why,
               what->len ? what->str : "nothing");
  }
}

/* The VM ids with host objects, and with a directory under vms/. */
static gboolean
reconcile_orphans (BangerEngine *e, GError **error)
{
  g_autoptr (JsonObject) listed = NULL;
  g_autoptr (GHashTable) done = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  JsonArray *ids;

  listed = banger_priv_backend_call (e->backend, "priv.list_host_objects", NULL, "reconcile", NULL,
                                     error);
  if (listed == NULL)
    return FALSE;
  ids = json_object_get_array_member (listed, "vms");
  for (guint i = 0; ids != NULL && i < json_array_get_length (ids); i++)
    {
      JsonObject *o = json_array_get_object_element (ids, i);
      const char *id = o ? json_object_get_string_member_with_default (o, "vm_id", NULL) : NULL;
      const char *kinds = o ? json_object_get_string_member_with_default (o, "kinds", "") : "";
      g_autoptr (BangerStoreVm) vm = NULL;
      g_autofree char *dir = NULL;

      if (id == NULL || !banger_validate_vm_name (id, NULL) || g_hash_table_contains (done, id))
        continue;
      /* A scope alone does not make the id this install's: scope names
       * carry no install id and two installs share banger.slice by default.
       * Everything else does (marked tap, NAT element in this install's
       * table, run dir or jail under this runtime dir), and so do the VM's
       * disks under this state dir. */
      dir = g_build_filename (e->vms_dir, id, NULL);
      if (g_str_equal (kinds, "scope") && !g_file_test (dir, G_FILE_TEST_IS_DIR))
        continue;
      g_hash_table_add (done, g_strdup (id));
      if (is_live (e, id))
        continue;
      vm = banger_store_vm_get_by_id (e->store, id, NULL);
      cleanup_orphan (e, id, vm ? banger_store_vm_state_to_string (vm->state) : "no VM record");
    }
  /* disks of VMs without a record (a crash between the directory and the
   * record cannot happen: the record comes first; this is what a crash in
   * the middle of a delete, or a store restored from a backup, leaves) */
  {
    g_autoptr (GDir) d = g_dir_open (e->vms_dir, 0, NULL);
    const char *name;

    while (d != NULL && (name = g_dir_read_name (d)) != NULL)
      {
        g_autoptr (BangerStoreVm) vm = NULL;
        g_autofree char *path = g_build_filename (e->vms_dir, name, NULL);
        g_autoptr (GError) local = NULL;

        if (!banger_validate_vm_name (name, NULL))
          continue;
        vm = banger_store_vm_get_by_id (e->store, name, NULL);
        if (vm != NULL)
          {
            /* the engine's own run dir of a VM that is not running */
            g_autofree char *run = g_build_filename (path, "run", NULL);
            if (vm->state != BANGER_STORE_VM_STATE_RUNNING
                && g_file_test (run, G_FILE_TEST_IS_DIR)
                && !banger_engine_remove_tree (run, &local))
              g_message ("reconcile: %s: %s", run, local->message);
            continue;
          }
        if (!g_hash_table_contains (done, name))
          cleanup_orphan (e, name, "no VM record");
        g_message ("reconcile: removing %s (no VM record)", path);
        if (!banger_engine_remove_tree (path, &local))
          g_message ("reconcile: %s: %s", path, local->message);
      }
  }
  return TRUE;
}

static char *
bridge_address (BangerEngine *e)
{
  guint32 network;
  guint prefix;
  struct in_addr a;
  char buf[INET_ADDRSTRLEN];

  if (!banger_store_parse_subnet (e->config->subnet, &network, &prefix, NULL, NULL))
    return NULL;
  a.s_addr = htonl (network + 1);
  return g_strdup_printf ("%s/%u", inet_ntop (AF_INET, &a, buf, sizeof buf), prefix);
}

gboolean
banger_engine_reconcile_host (BangerEngine *e, GError **error)
{
  g_autoptr (GError) local = NULL;

  if (!reconcile_orphans (e, &local))
    {
      /* a helper from before priv.list_host_objects answers
       * invalid-argument ("unknown method"): serve anyway */
      g_message ("reconcile: host objects not reconciled: %s", local->message);
      g_clear_error (&local);
    }
  if (e->tap_pool == NULL)
    {
      g_autofree char *address = bridge_address (e);
      e->tap_pool = banger_tap_pool_new (e->backend, e->store, e->config->taps,
                                         BANGER_ENGINE_BRIDGE, address);
    }
  if (!banger_tap_pool_reconcile (e->tap_pool, "reconcile", &local))
    g_message ("reconcile: tap pool not reconciled: %s", local->message);
  banger_tap_pool_start (e->tap_pool);
  return TRUE;
}
