/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Launching through bangerd-root (see banger-vmm-helper-launcher.h). */
#include "config.h"

#include "banger-priv-client.h"
#include "banger-proc-identity.h"
#include "banger-vmm-helper-launcher.h"

typedef struct
{
  BangerVmmLauncher parent;
  char *socket_path;             /* or: */
  BangerVmmHelperCallFunc call;  /* a privileged backend's call */
  gpointer call_data;
} HelperLauncher;

static gboolean
unsupported (GError **error, const char *vm_id, const char *what)
{
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_UNSUPPORTED,
               "VM '%s' cannot be launched through bangerd-root: %s", vm_id, what);
  return FALSE;
}

JsonObject *
banger_vmm_helper_launch_params (const BangerVmmLaunchRequest *r, GError **error)
{
  const BangerVmmConfig *c = r->config;
  g_autoptr (JsonObject) p = json_object_new ();

  json_object_set_string_member (p, "vm_id", c->vm_id);
  if (g_strcmp0 (r->driver, "firecracker") == 0)
    {
      if (r->jailer != NULL)
        {
          unsupported (error, c->vm_id, "the jailer is chosen by the install config, not the driver");
          return NULL;
        }
      if (r->api_payload_limit != 0 || r->mmds_size_limit != 0)
        {
          unsupported (error, c->vm_id, "Firecracker's payload limits are the helper's");
          return NULL;
        }
      json_object_set_string_member (p, "vmm", "firecracker");
      /* under the helper's jailer these are bind-mounted into the jail
       * (any filesystem); without one the helper ignores them */
      json_object_set_string_member (p, "jail_kernel", c->kernel_path);
      if (r->restore_state != NULL && r->restore_mem != NULL)
        {
          json_object_set_string_member (p, "jail_restore_state", r->restore_state);
          json_object_set_string_member (p, "jail_restore_mem", r->restore_mem);
        }
      if (c->initrd_path != NULL)
        json_object_set_string_member (p, "jail_initrd", c->initrd_path);
      for (guint i = 0; i < c->drives->len; i++)
        {
          const BangerVmmDrive *d = c->drives->pdata[i];
          g_autofree char *name = g_strconcat ("jail_disk_", d->id, NULL);
          g_autofree char *rw = g_strconcat (name, "_rw", NULL);

          /* the helper's fixed names; another drive is hard-linked by the
           * driver as before */
          if (g_strcmp0 (d->id, "rootfs") != 0 && g_strcmp0 (d->id, "work") != 0
              && g_strcmp0 (d->id, "seed") != 0)
            continue;
          json_object_set_string_member (p, name, d->path);
          json_object_set_boolean_member (p, rw, !d->read_only);
        }
      return g_steal_pointer (&p);
    }
  if (g_strcmp0 (r->driver, "qemu") != 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT, "No VMM driver '%s'",
                   r->driver ? r->driver : "(null)");
      return NULL;
    }
  json_object_set_string_member (p, "vmm", "qemu");
  json_object_set_string_member (p, "kernel", c->kernel_path);
  if (c->initrd_path != NULL)
    json_object_set_string_member (p, "initrd", c->initrd_path);
  {
    const BangerVmmDrive *root = NULL, *work = NULL;
    for (guint i = 0; i < c->drives->len; i++)
      {
        const BangerVmmDrive *d = c->drives->pdata[i];
        if (d->is_root)
          root = d;
        else if (work == NULL)
          work = d;
        else
          {
            unsupported (error, c->vm_id, "the helper takes a root disk and one more disk");
            return NULL;
          }
      }
    if (root == NULL)
      {
        unsupported (error, c->vm_id, "the helper needs a root disk");
        return NULL;
      }
    json_object_set_string_member (p, "rootfs", root->path);
    json_object_set_boolean_member (p, "rootfs_read_only", root->read_only);
    if (work != NULL)
      {
        json_object_set_string_member (p, "work_disk", work->path);
        json_object_set_boolean_member (p, "work_disk_read_only", work->read_only);
      }
  }
  if (c->nics->len > 1)
    {
      unsupported (error, c->vm_id, "the helper attaches one network interface");
      return NULL;
    }
  if (c->nics->len == 1)
    {
      const BangerVmmNic *nic = c->nics->pdata[0];
      json_object_set_boolean_member (p, "tap", TRUE);
      if (nic->mac != NULL)
        json_object_set_string_member (p, "mac", nic->mac);
    }
  {
    g_autofree char *boot_args = banger_vmm_build_boot_args (c, "ttyS0");
    json_object_set_string_member (p, "boot_args", boot_args);
  }
  json_object_set_string_member (p, "accel", r->accel);
  json_object_set_int_member (p, "mem_mib", c->mem_mib);
  json_object_set_int_member (p, "vcpus", c->vcpus);
  if (r->incoming)
    json_object_set_boolean_member (p, "incoming", TRUE);
  return g_steal_pointer (&p);
}

static gboolean
result_int (JsonObject *result, const char *name, gint64 min, gint64 *out, GError **error)
{
  JsonNode *n = json_object_get_member (result, name);

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64
      || json_node_get_int (n) < min)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                   "priv.launch_vmm replied without a valid '%s'", name);
      return FALSE;
    }
  *out = json_node_get_int (n);
  return TRUE;
}

static char *
result_path (JsonObject *result, const char *name)
{
  JsonNode *n = json_object_get_member (result, name);

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING
      || !g_path_is_absolute (json_node_get_string (n)))
    return NULL;
  return g_strdup (json_node_get_string (n));
}

static gboolean
helper_spawn (BangerVmmLauncher *launcher, const BangerVmmLaunchRequest *request,
              BangerVmmLaunched *out, GError **error)
{
  HelperLauncher *self = (HelperLauncher *) launcher;
  g_autoptr (JsonObject) params = banger_vmm_helper_launch_params (request, error);
  g_autoptr (BangerPrivClient) client = NULL;
  g_autoptr (JsonObject) result = NULL;
  gint64 pid, start_time;
  int pidfd;

  if (params == NULL)
    return FALSE;
  if (self->call != NULL)
    result = self->call (self->call_data, "priv.launch_vmm", params, error);
  else
    {
      client = banger_priv_client_new (self->socket_path);
      result = banger_priv_client_call_sync (client, "priv.launch_vmm", params, NULL, NULL,
                                             error);
    }
  if (result == NULL)
    return FALSE;
  if (!result_int (result, "pid", 2, &pid, error)
      || !result_int (result, "start_time", 1, &start_time, error))
    return FALSE;
  pidfd = banger_pidfd_open_verified ((pid_t) pid, (guint64) start_time, error);
  if (pidfd < 0)
    return FALSE;
  out->pid = (GPid) pid;
  out->pidfd = pidfd;
  out->api_socket = result_path (result, "api_sock");
  out->log_path = result_path (result, "log");
  out->console_log = result_path (result, "console");
  /* Firecracker under the helper's jailer: the jail its files go into */
  out->jail_root = result_path (result, "jail_root");
  if (out->api_socket == NULL)
    {
      banger_vmm_launched_clear (out);
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                           "priv.launch_vmm replied without an API socket path");
      return FALSE;
    }
  return TRUE;
}

BangerVmmLauncher *
banger_vmm_helper_launcher_new (const char *socket_path)
{
  HelperLauncher *self = g_new0 (HelperLauncher, 1);

  g_return_val_if_fail (socket_path != NULL, NULL);
  self->parent.spawn = helper_spawn;
  self->parent.user_data = self;
  self->socket_path = g_strdup (socket_path);
  return &self->parent;
}

BangerVmmLauncher *
banger_vmm_helper_launcher_new_for_call (BangerVmmHelperCallFunc call, gpointer call_data)
{
  HelperLauncher *self = g_new0 (HelperLauncher, 1);

  g_return_val_if_fail (call != NULL, NULL);
  self->parent.spawn = helper_spawn;
  self->parent.user_data = self;
  self->call = call;
  self->call_data = call_data;
  return &self->parent;
}

void
banger_vmm_helper_launcher_free (BangerVmmLauncher *launcher)
{
  HelperLauncher *self = (HelperLauncher *) launcher;

  if (self == NULL)
    return;
  g_free (self->socket_path);
  g_free (self);
}
