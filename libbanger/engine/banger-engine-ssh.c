/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The engine's SSH services (see banger-engine-ssh.h, doc/ssh.md). */
#include "config.h"

#include "banger-engine-private.h"
#include "banger-engine-ssh.h"
#include "banger-error.h"
#include "banger-guest-ssh.h"
#include "banger-ssh-config.h"

/* One writer of the included file at a time (the rename is atomic; this
 * keeps the last writer's view the newest). */
static GMutex ssh_config_lock;

void
banger_engine_ssh_info_free (BangerEngineSshInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->name);
  g_free (info->address);
  g_free (info->user);
  g_free (info->identity_file);
  g_free (info->known_hosts);
  g_free (info->host_alias);
  g_free (info->config_file);
  g_free (info);
}

char *
banger_engine_ssh_config_path (BangerEngine *self)
{
  return g_build_filename (banger_engine_get_config (self)->state_dir, "ssh", "config", NULL);
}

BangerEngineSshInfo *
banger_engine_vm_ssh_info (BangerEngine *self, const char *name, GError **error)
{
  g_autoptr (BangerStoreVm) vm = banger_store_vm_get_by_name (self->store, name, error);
  g_autoptr (BangerStoreLease) lease = NULL;
  g_autoptr (BangerEngineSshInfo) info = NULL;

  if (vm == NULL)
    return NULL;
  if (vm->state != BANGER_STORE_VM_STATE_RUNNING)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_BUSY,
                   "VM '%s' is %s: start it to open an SSH session", name,
                   banger_store_vm_state_to_string (vm->state));
      return NULL;
    }
  lease = banger_store_lease_get_for_vm (self->store, self->config->subnet, vm->id, error);
  if (lease == NULL)
    return NULL;
  info = g_new0 (BangerEngineSshInfo, 1);
  info->name = g_strdup (vm->name);
  info->address = g_strdup (lease->address);
  info->port = BANGER_GUEST_SSH_DEFAULT_PORT;
  info->user = g_strdup (BANGER_GUEST_SSH_DEFAULT_USER);
  info->identity_file = g_strdup (banger_guest_key_get_private_path (self->key));
  info->known_hosts = g_build_filename (self->vms_dir, vm->id, "known_hosts", NULL);
  info->host_alias = g_strdup_printf ("%s.%s", vm->name, self->config->domain);
  info->config_file = banger_engine_ssh_config_path (self);
  if (!g_file_test (info->known_hosts, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                   "VM '%s' has no recorded host key ('%s' is missing): banger records it when "
                   "the VM first boots",
                   name, info->known_hosts);
      return NULL;
    }
  return g_steal_pointer (&info);
}

gboolean
banger_engine_ssh_config_refresh (BangerEngine *self, GError **error)
{
  g_autoptr (GPtrArray) vms = banger_store_vm_list (self->store, error);
  g_autoptr (GArray) hosts = NULL;
  g_autoptr (GPtrArray) keep = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *path = banger_engine_ssh_config_path (self);
  g_autofree char *text = NULL;
  g_autoptr (GMutexLocker) locker = NULL;

  if (vms == NULL)
    return FALSE;
  hosts = g_array_new (FALSE, TRUE, sizeof (BangerSshConfigHost));
  for (guint i = 0; i < vms->len; i++)
    {
      BangerStoreVm *vm = vms->pdata[i];
      g_autoptr (BangerStoreLease) lease = NULL;
      BangerSshConfigHost h;

      if (vm->state == BANGER_STORE_VM_STATE_DELETING || vm->state == BANGER_STORE_VM_STATE_FAILED)
        continue;
      lease = banger_store_lease_get_for_vm (self->store, self->config->subnet, vm->id, NULL);
      if (lease == NULL)
        continue;
      h.name = vm->name;
      g_ptr_array_add (keep, g_strdup (lease->address));
      h.address = keep->pdata[keep->len - 1];
      g_ptr_array_add (keep, g_build_filename (self->vms_dir, vm->id, "known_hosts", NULL));
      h.known_hosts = keep->pdata[keep->len - 1];
      g_array_append_val (hosts, h);
    }
  text = banger_ssh_config_render ((const BangerSshConfigHost *)(void *)hosts->data, hosts->len,
                                   self->config->domain,
                                   banger_guest_key_get_private_path (self->key), error);
  if (text == NULL)
    return FALSE;
  locker = g_mutex_locker_new (&ssh_config_lock);
  return banger_ssh_config_write_file (path, text, error);
}

void
banger_engine_ssh_config_refresh_logged (BangerEngine *self, const char *op_id)
{
  g_autoptr (GError) local = NULL;

  if (!banger_engine_ssh_config_refresh (self, &local))
    banger_engine_log (op_id, "ssh_config: %s", local->message);
}
