/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The privileged backend (see banger-priv-backend.h). */
#include "config.h"

#include <unistd.h>

#include "banger-error.h"
#include "banger-priv-backend.h"
#include "banger-priv-client.h"
#include "banger-priv-executor.h"
#include "banger-priv-ops.h"
#include "banger-vmm-helper-launcher.h"

struct _BangerPrivBackend
{
  char *socket_path;      /* client */
  BangerPrivState *state; /* executor */
  GMutex lock;            /* executor: one call at a time */
  char *description;
  BangerVmmLauncher *launcher;
  BangerPrivBackendCallFunc func; /* a backend answered by a function */
  gpointer func_data;
  GDestroyNotify func_data_free;
};

static JsonObject *
launcher_call (gpointer data, const char *method, JsonObject *params, GError **error)
{
  return banger_priv_backend_call (data, method, params, NULL, NULL, error);
}

static BangerPrivBackend *
backend_new (void)
{
  BangerPrivBackend *self = g_new0 (BangerPrivBackend, 1);

  g_mutex_init (&self->lock);
  self->launcher = banger_vmm_helper_launcher_new_for_call (launcher_call, self);
  return self;
}

BangerPrivBackend *
banger_priv_backend_new_client (const char *socket_path)
{
  BangerPrivBackend *self;

  g_return_val_if_fail (socket_path != NULL, NULL);
  self = backend_new ();
  self->socket_path = g_strdup (socket_path);
  self->description = g_strdup_printf ("bangerd-root at %s", socket_path);
  return self;
}

BangerPrivBackend *
banger_priv_backend_new_executor (const BangerInstallConfig *config)
{
  g_autoptr (BangerInstallConfig) own = banger_install_config_new ();
  BangerPrivBackend *self;

  g_return_val_if_fail (config != NULL, NULL);
  /* the copy the state takes: paths and binaries from @config, the owner
   * is us */
  own->owner_uid = getuid ();
  own->owner_gid = getgid ();
  g_free (own->runtime_dir);
  own->runtime_dir = g_strdup (config->runtime_dir);
  g_free (own->state_dir);
  own->state_dir = g_strdup (config->state_dir);
  own->firecracker_path = g_strdup (config->firecracker_path);
  own->jailer_path = g_strdup (config->jailer_path);
  own->qemu_path = g_strdup (config->qemu_path);
  own->cgroup_root = g_strdup (config->cgroup_root);
  if (config->vm_network != NULL)
    {
      g_free (own->vm_network);
      own->vm_network = g_strdup (config->vm_network);
    }
  if (config->nft_table != NULL)
    {
      g_free (own->nft_table);
      own->nft_table = g_strdup (config->nft_table);
    }
  self = backend_new ();
  self->state = banger_priv_state_new (own);
  self->description = g_strdup ("in-process executor");
  return self;
}

BangerPrivBackend *
banger_priv_backend_new_for_call (BangerPrivBackendCallFunc func, gpointer user_data,
                                  GDestroyNotify user_data_free)
{
  BangerPrivBackend *self;

  g_return_val_if_fail (func != NULL, NULL);
  self = backend_new ();
  self->func = func;
  self->func_data = user_data;
  self->func_data_free = user_data_free;
  self->description = g_strdup ("function backend");
  return self;
}

BangerPrivState *
banger_priv_backend_get_executor_state (BangerPrivBackend *self)
{
  return self->state;
}

void
banger_priv_backend_free (BangerPrivBackend *self)
{
  if (self == NULL)
    return;
  if (self->func_data_free != NULL)
    self->func_data_free (self->func_data);
  banger_vmm_helper_launcher_free (self->launcher);
  g_clear_pointer (&self->state, banger_priv_state_free);
  g_mutex_clear (&self->lock);
  g_free (self->socket_path);
  g_free (self->description);
  g_free (self);
}

const char *
banger_priv_backend_describe (BangerPrivBackend *self)
{
  return self->description;
}

BangerVmmLauncher *
banger_priv_backend_get_launcher (BangerPrivBackend *self)
{
  return self->launcher;
}

JsonObject *
banger_priv_backend_call (BangerPrivBackend *self, const char *method, JsonObject *params,
                          const char *op_id, GCancellable *cancellable, GError **error)
{
  g_autoptr (JsonObject) empty = json_object_new ();

  if (params == NULL)
    params = empty;
  if (self->func != NULL)
    return self->func (self->func_data, method, params, op_id, error);
  if (self->state == NULL)
    {
      g_autoptr (BangerPrivClient) client = banger_priv_client_new (self->socket_path);
      return banger_priv_client_call_sync (client, method, params, op_id, cancellable, error);
    }
  {
    BangerPeerCred me = { getuid (), getgid (), getpid () };
    g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&self->lock);
    g_autoptr (JsonNode) node = NULL;

    if (op_id != NULL)
      g_debug ("op %s: %s (in-process)", op_id, method);
    node = banger_priv_execute (banger_priv_ops_table (), self->state, &me, method, params,
                                cancellable, error);
    if (node == NULL)
      return NULL;
    if (!JSON_NODE_HOLDS_OBJECT (node))
      {
        g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL, "%s returned no object", method);
        return NULL;
      }
    return json_object_ref (json_node_get_object (node));
  }
}
