/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * dm-snapshot root disks for the engine (doc/engine.md, "Root disks"): is
 * device-mapper usable through the privileged backend (priv.status, asked
 * once), and the snapshot device of a VM made and removed
 * (priv.dm_snapshot_create / _remove).  The VM's COW store is the file
 * <state>/vms/<id>/rootfs.ext4 (banger_cow_disk_create with the
 * dm-snapshot strategy); the device exists while the VM runs (and during
 * its create, for the SSH key), never while it is stopped. */
#include "config.h"

#include "banger-cow-disk.h"
#include "banger-engine-private.h"
#include "banger-error.h"

gboolean
banger_engine_dm_usable (BangerEngine *e)
{
  int known;

  g_mutex_lock (&e->lock);
  known = e->dm_usable;
  g_mutex_unlock (&e->lock);
  if (known == 0)
    {
      g_autoptr (JsonObject) r = banger_priv_backend_call (e->backend, "priv.status", NULL, NULL,
                                                           NULL, NULL);
      known = r != NULL && json_object_get_boolean_member_with_default (r, "device_mapper", FALSE)
                  ? 2
                  : 1;
      g_mutex_lock (&e->lock);
      e->dm_usable = known;
      g_mutex_unlock (&e->lock);
    }
  return known == 2;
}

char *
banger_engine_rootfs_attach (BangerEngine *e, const char *vm_id, const char *image,
                             const char *cow, const char *op_id, GCancellable *cancellable,
                             GError **error)
{
  g_autoptr (JsonObject) p = json_object_new ();
  g_autoptr (JsonObject) r = NULL;
  const char *device;

  json_object_set_string_member (p, "vm_id", vm_id);
  json_object_set_string_member (p, "base", image);
  json_object_set_string_member (p, "cow", cow);
  r = banger_priv_backend_call (e->backend, "priv.dm_snapshot_create", p, op_id, cancellable,
                                error);
  if (r == NULL)
    return NULL;
  device = json_object_get_string_member_with_default (r, "device", NULL);
  if (device == NULL || !g_path_is_absolute (device))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                   "priv.dm_snapshot_create returned no device");
      return NULL;
    }
  banger_engine_log (op_id, "%s: rootfs device %s", vm_id, device);
  return g_strdup (device);
}

void
banger_engine_rootfs_detach (BangerEngine *e, const char *vm_id, const char *op_id)
{
  g_autoptr (JsonObject) p = json_object_new ();
  g_autoptr (JsonObject) r = NULL;
  g_autoptr (GError) local = NULL;

  json_object_set_string_member (p, "vm_id", vm_id);
  r = banger_priv_backend_call (e->backend, "priv.dm_snapshot_remove", p, op_id, NULL, &local);
  if (r == NULL)
    banger_engine_log (op_id, "%s: removing the rootfs device: %s", vm_id, local->message);
}

void
banger_engine_status_host (BangerEngine *e, JsonBuilder *b)
{
  g_autofree char *detail = NULL;
  BangerCowStrategy strategy;
  guint n_free = 0;

  if (banger_cow_choose (e->vms_dir, NULL,
                         banger_engine_dm_usable (e) ? BANGER_COW_CHOOSE_DM_USABLE
                                                     : BANGER_COW_CHOOSE_NONE,
                         &strategy, &detail, NULL))
    {
      json_builder_set_member_name (b, "rootfs_cow");
      json_builder_add_string_value (b, banger_cow_strategy_to_string (strategy));
      json_builder_set_member_name (b, "rootfs_cow_detail");
      json_builder_add_string_value (b, detail);
    }
  json_builder_set_member_name (b, "tap_pool_size");
  json_builder_add_int_value (b, e->config->taps);
  if (e->tap_pool != NULL && banger_tap_pool_count_free (e->tap_pool, &n_free, NULL))
    {
      json_builder_set_member_name (b, "tap_pool_free");
      json_builder_add_int_value (b, n_free);
    }
}
