/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "banger-dm.h"
#include "banger-error.h"
#include "banger-host-names.h"

BangerHostBackend *
banger_host_backend_get (BangerPrivState *state)
{
  if (state != NULL && state->backend != NULL)
    return state->backend;
  return banger_host_backend_real ();
}

gboolean
banger_dm_available (BangerPrivState *state, GError **error)
{
  BangerHostBackend *b = banger_host_backend_get (state);
  return b->dm_available (b, error);
}

static void
detach_quietly (BangerHostBackend *b, const char *dev, const char *tag)
{
  if (dev != NULL)
    b->loop_detach (b, dev, tag, NULL);
}

gboolean
banger_dm_snapshot_create (BangerPrivState *state, const char *vm_id, int base_fd,
                           guint64 base_size, int cow_fd, char **out_device, GError **error)
{
  BangerHostBackend *b = banger_host_backend_get (state);
  g_autofree char *name = banger_host_dm_name_for (state->install_id, vm_id, "rootfs", error);
  g_autofree char *uuid = NULL;
  g_autofree char *base_tag = NULL;
  g_autofree char *cow_tag = NULL;
  g_autofree char *base_dev = NULL;
  g_autofree char *cow_dev = NULL;
  g_autofree char *table = NULL;
  g_autofree char *existing = NULL;
  g_autoptr (GError) local_error = NULL;

  if (name == NULL)
    return FALSE;
  uuid = banger_host_dm_uuid_for (state->install_id, vm_id, "rootfs", NULL);
  base_tag = banger_host_loop_tag_for (state->install_id, vm_id, "base", NULL);
  cow_tag = banger_host_loop_tag_for (state->install_id, vm_id, "cow", NULL);

  if (!b->dm_available (b, error))
    return FALSE;
  if (base_size == 0 || base_size % 512 != 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "The base image is %" G_GUINT64_FORMAT " bytes; it must be a non-empty "
                   "multiple of 512", base_size);
      return FALSE;
    }
  existing = b->dm_get_uuid (b, name, &local_error);
  if (existing != NULL)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_ALREADY_EXISTS,
                   "The device-mapper device '%s' already exists", name);
      return FALSE;
    }
  if (!g_error_matches (local_error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  base_dev = b->loop_attach (b, base_fd, base_tag, TRUE, error);
  if (base_dev == NULL)
    return FALSE;
  cow_dev = b->loop_attach (b, cow_fd, cow_tag, FALSE, error);
  if (cow_dev == NULL)
    {
      detach_quietly (b, base_dev, base_tag);
      return FALSE;
    }
  /* persistent exception store, 8-sector (4 KiB) chunks */
  table = g_strdup_printf ("0 %" G_GUINT64_FORMAT " snapshot %s %s P 8", base_size / 512,
                           base_dev, cow_dev);
  if (!b->dm_create (b, name, uuid, table, error))
    {
      detach_quietly (b, cow_dev, cow_tag);
      detach_quietly (b, base_dev, base_tag);
      return FALSE;
    }
  /* The owner's QEMU and debugfs open the node (bangerd-root); on a refusal
   * the device goes again rather than stay root's. */
  if (!banger_dm_node_give (b, name, uuid, state->owner_uid, state->owner_gid, error))
    {
      b->dm_remove (b, name, NULL);
      detach_quietly (b, cow_dev, cow_tag);
      detach_quietly (b, base_dev, base_tag);
      return FALSE;
    }
  if (out_device != NULL)
    *out_device = b->dm_device_path != NULL ? b->dm_device_path (b, name)
                                            : g_strconcat ("/dev/mapper/", name, NULL);
  return TRUE;
}

char *
banger_dm_own_device (BangerPrivState *state, const char *vm_id)
{
  BangerHostBackend *b = banger_host_backend_get (state);
  g_autofree char *name = banger_host_dm_name_for (state->install_id, vm_id, "rootfs", NULL);
  g_autofree char *uuid = banger_host_dm_uuid_for (state->install_id, vm_id, "rootfs", NULL);
  g_autofree char *existing = NULL;

  if (name == NULL || uuid == NULL || !b->dm_available (b, NULL))
    return NULL;
  existing = b->dm_get_uuid (b, name, NULL);
  if (g_strcmp0 (existing, uuid) != 0)
    return NULL;
  return b->dm_device_path != NULL ? b->dm_device_path (b, name)
                                   : g_strconcat ("/dev/mapper/", name, NULL);
}

static gboolean
detach_tagged (BangerHostBackend *b, const char *tag, guint *removed, GError **error)
{
  g_auto (GStrv) devs = b->loop_find (b, tag, error);

  if (devs == NULL)
    return FALSE;
  for (char **d = devs; *d; d++)
    {
      if (!b->loop_detach (b, *d, tag, error))
        return FALSE;
      (*removed)++;
    }
  return TRUE;
}

gboolean
banger_dm_snapshot_remove (BangerPrivState *state, const char *vm_id, guint *out_removed,
                           GError **error)
{
  BangerHostBackend *b = banger_host_backend_get (state);
  g_autofree char *name = banger_host_dm_name_for (state->install_id, vm_id, "rootfs", error);
  g_autofree char *uuid = NULL;
  g_autofree char *base_tag = NULL;
  g_autofree char *cow_tag = NULL;
  g_autofree char *existing = NULL;
  g_autoptr (GError) local_error = NULL;
  guint removed = 0;

  if (name == NULL)
    return FALSE;
  if (!b->dm_available (b, error))
    return FALSE;
  uuid = banger_host_dm_uuid_for (state->install_id, vm_id, "rootfs", NULL);
  base_tag = banger_host_loop_tag_for (state->install_id, vm_id, "base", NULL);
  cow_tag = banger_host_loop_tag_for (state->install_id, vm_id, "cow", NULL);

  existing = b->dm_get_uuid (b, name, &local_error);
  if (existing == NULL && !g_error_matches (local_error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  if (existing != NULL)
    {
      if (!g_str_equal (existing, uuid))
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
                       "The device-mapper device '%s' was not created by banger (its UUID "
                       "is not banger's); leaving it alone", name);
          return FALSE;
        }
      if (!b->dm_remove (b, name, error))
        return FALSE;
      removed++;
    }
  /* Loop devices go after the dm device that holds them open. */
  if (!detach_tagged (b, cow_tag, &removed, error) || !detach_tagged (b, base_tag, &removed, error))
    return FALSE;
  if (out_removed != NULL)
    *out_removed = removed;
  return TRUE;
}
