/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * BangerClient: how every caller reaches the engine — a bangerd over its
 * socket, or an engine embedded in this process.  Both go through the same
 * method table (libbanger/engine/banger-engine-ops.c) and the same
 * validating executor; only the transport differs (doc/client.md). */
#include "config.h"

#include <unistd.h>

#include "banger-client-private.h"
#include "banger-enum-types.h"
#include "banger-engine-ops.h"
#include "banger-engine.h"
#include "banger-error.h"
#include "banger-priv-client.h"
#include "banger-priv-executor.h"

/**
 * BangerClient:
 *
 * The public door to banger's engine.  Made either for a running bangerd
 * (banger_client_new_for_socket()) or with an engine of its own in this
 * process (banger_client_new_embedded(), as libvirt's `qemu:///embed`).
 * Every operation is an `_async`/`_finish` pair that completes in the
 * thread-default main context of the call; errors are #BANGER_ERROR codes,
 * the same whichever side raised them.
 *
 * Since: 0.2
 */
G_DEFINE_FINAL_TYPE (BangerClient, banger_client, G_TYPE_OBJECT)

enum
{
  SIGNAL_VM_STATE_CHANGED,
  N_SIGNALS,
};
static guint signals[N_SIGNALS];

/* The op id of the call a client last started in this thread
 * (banger_client_get_last_op_id). */
typedef struct
{
  gconstpointer client; /* compared, never dereferenced */
  char *op_id;
} LastOp;

static void
last_op_free (gpointer p)
{
  LastOp *last = p;

  if (last == NULL)
    return;
  g_free (last->op_id);
  g_free (last);
}

static GPrivate last_op = G_PRIVATE_INIT (last_op_free);

static void
banger_client_finalize (GObject *object)
{
  BangerClient *self = BANGER_CLIENT (object);
  LastOp *last = g_private_get (&last_op);

  if (last != NULL && last->client == self)
    g_private_replace (&last_op, NULL);
  banger_client_events_finalize (self);
  g_clear_object (&self->priv_client);
  g_clear_pointer (&self->state, banger_priv_state_free);
  g_clear_object (&self->engine);
  g_free (self->socket_path);
  G_OBJECT_CLASS (banger_client_parent_class)->finalize (object);
}

static void
banger_client_class_init (BangerClientClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = banger_client_finalize;
  banger_client_events_class_init (G_OBJECT_CLASS (klass));

  /**
   * BangerClient::vm-state-changed:
   * @client: the #BangerClient
   * @name: the VM's name
   * @state: its new #BangerVmState
   *
   * Emitted when a VM's state changes.  After banger_client_subscribe_async()
   * has completed, every change the engine makes is told, whichever client
   * asked for it (including the intermediate states such as
   * %BANGER_VM_STATE_CREATING, and %BANGER_VM_STATE_DELETED when a record
   * is removed), in the main context of the subscribe call.  Without a
   * subscription, only the state an operation of this client answered with
   * (create, start, stop, kill, set) is told, in the main context of that
   * call.
   *
   * Since: 0.2
   */
  signals[SIGNAL_VM_STATE_CHANGED]
      = g_signal_new ("vm-state-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                      NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, BANGER_TYPE_VM_STATE);
}

static void
banger_client_init (BangerClient *self)
{
}

/**
 * banger_client_new_for_socket:
 * @socket_path: (nullable) (type filename): bangerd's socket; %NULL: the
 *   default ($BANGER_SOCKET, else `$XDG_RUNTIME_DIR/banger/bangerd.sock`)
 *
 * A client of a bangerd.  Nothing is connected until the first call; a
 * daemon that is not running makes that call fail.
 *
 * Returns: (transfer full): a new #BangerClient
 *
 * Since: 0.2
 */
BangerClient *
banger_client_new_for_socket (const char *socket_path)
{
  BangerClient *self = g_object_new (BANGER_TYPE_CLIENT, NULL);

  self->socket_path = socket_path ? g_strdup (socket_path) : banger_engine_default_socket ();
  self->priv_client = banger_priv_client_new (self->socket_path);
  return self;
}

/**
 * banger_client_new_embedded:
 * @state_dir: (nullable) (type filename): the engine's state dir (store,
 *   images, disks); %NULL: the default (`$XDG_STATE_HOME/banger`)
 * @runtime_dir: (nullable) (type filename): its runtime dir; %NULL: the
 *   default
 * @config_path: (nullable) (type filename): a config file in bangerd's
 *   format, or %NULL for the defaults
 * @error: return location for a #GError
 *
 * A client with its own engine in this process: the same services bangerd
 * runs, with their own state.  Privileged work goes to bangerd-root when
 * the config names its socket, else (as root) to the in-process executor.
 *
 * Returns: (transfer full): a new #BangerClient, or %NULL with @error set
 *
 * Since: 0.2
 */
BangerClient *
banger_client_new_embedded (const char *state_dir, const char *runtime_dir, const char *config_path,
                            GError **error)
{
  g_autoptr (BangerEngineConfig) config = banger_engine_config_new ();
  g_autoptr (BangerClient) self = NULL;

  if (config_path != NULL && !banger_engine_config_load (config, config_path, error))
    return NULL;
  if (state_dir != NULL)
    config->state_dir = g_strdup (state_dir);
  if (runtime_dir != NULL)
    config->runtime_dir = g_strdup (runtime_dir);
  self = g_object_new (BANGER_TYPE_CLIENT, NULL);
  self->engine = banger_engine_new (g_steal_pointer (&config), error);
  if (self->engine == NULL)
    return NULL;
  self->state = banger_engine_ops_state_new (self->engine);
  return g_steal_pointer (&self);
}

/**
 * banger_client_is_embedded:
 * @client: a #BangerClient
 *
 * Returns: whether @client runs its own engine
 *
 * Since: 0.2
 */
gboolean
banger_client_is_embedded (BangerClient *client)
{
  g_return_val_if_fail (BANGER_IS_CLIENT (client), FALSE);
  return client->engine != NULL;
}

/* ------------------------------------------------------------ the calls */

typedef gpointer (*ConvertFunc) (JsonObject *result, GError **error);

typedef struct
{
  char *method;
  JsonObject *params;
  ConvertFunc convert;
  GDestroyNotify destroy;
  gboolean emits; /* the result is a BangerVmInfo: vm-state-changed */
  char *op_id;
} Call;

static void
call_free (Call *call)
{
  g_free (call->method);
  g_free (call->op_id);
  json_object_unref (call->params);
  g_free (call);
}

static void
complete (GTask *task, JsonObject *result, GError *error)
{
  Call *call = g_task_get_task_data (task);
  gpointer value;

  if (result == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  value = call->convert (result, &error);
  if (value == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  if (call->emits && !banger_client_is_subscribed (g_task_get_source_object (task)))
    g_signal_emit (g_task_get_source_object (task), signals[SIGNAL_VM_STATE_CHANGED], 0,
                   banger_vm_info_get_name (value), (int)banger_vm_info_get_state (value));
  g_task_return_pointer (task, value, call->destroy);
}

static void
socket_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;
  g_autoptr (JsonObject) result
      = banger_priv_client_call_finish (BANGER_PRIV_CLIENT (source), res, &error);

  complete (task, result, error);
}

static void
embedded_thread (GTask *inner, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  BangerClient *self = source;
  Call *call = task_data;
  BangerPeerCred me = { getuid (), getgid (), getpid () };
  GError *error = NULL;
  JsonNode *node;

  banger_priv_set_current_op_id (call->op_id);
  node = banger_priv_execute (banger_engine_ops_table (), self->state, &me, call->method,
                              call->params, cancellable, &error);
  banger_priv_set_current_op_id (NULL);

  if (node == NULL)
    g_task_return_error (inner, error);
  else
    {
      JsonObject *obj = json_object_ref (json_node_get_object (node));
      json_node_unref (node);
      g_task_return_pointer (inner, obj, (GDestroyNotify)json_object_unref);
    }
}

static void
embedded_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;
  g_autoptr (JsonObject) result = g_task_propagate_pointer (G_TASK (res), &error);

  complete (task, result, error);
}

void
banger_client_emit_vm_state_changed (BangerClient *self, const char *name, BangerVmState state)
{
  g_signal_emit (self, signals[SIGNAL_VM_STATE_CHANGED], 0, name, (int)state);
}

char *
banger_client_new_op_id (BangerClient *self)
{
  char *op_id = g_strdup_printf ("c%08x%08x", g_random_int (), g_random_int ());
  LastOp *last = g_new0 (LastOp, 1);

  last->client = self;
  last->op_id = g_strdup (op_id);
  g_private_replace (&last_op, last);
  return op_id;
}

/**
 * banger_client_get_last_op_id:
 * @client: a #BangerClient
 *
 * The op id of the call @client last started in the calling thread: every
 * `_async` call (and banger_client_subscribe_async()) makes one (`c` + 16
 * hex digits) and sends it with its request; the engine's log lines and
 * the #BangerClient::progress events of that operation carry it.  Read it
 * right after the `_async` call returns, to tell this call's progress
 * from other operations' (another call of this client, or another
 * client's, all come through the one subscription): the events are
 * emitted in later iterations of the main context, so none is missed.
 *
 * Returns: (nullable): the op id, valid until the next call is started in
 *   this thread; %NULL when this thread has started no call of @client
 *
 * Since: 0.2
 */
const char *
banger_client_get_last_op_id (BangerClient *client)
{
  LastOp *last;

  g_return_val_if_fail (BANGER_IS_CLIENT (client), NULL);
  last = g_private_get (&last_op);
  return last != NULL && last->client == client ? last->op_id : NULL;
}

/* Runs @method with @params (taken) and completes a task of @source_tag
 * with the value @convert makes of the result. */
static void
call_async (BangerClient *self, const char *method, JsonObject *params, ConvertFunc convert,
            GDestroyNotify destroy, gboolean emits, gpointer source_tag, GCancellable *cancellable,
            GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  Call *call = g_new0 (Call, 1);

  g_task_set_source_tag (task, source_tag);
  call->method = g_strdup (method);
  call->params = params;
  call->convert = convert;
  call->destroy = destroy;
  call->emits = emits;
  call->op_id = banger_client_new_op_id (self);
  g_task_set_task_data (task, call, (GDestroyNotify)call_free);
  if (self->engine != NULL)
    {
      g_autoptr (GTask) inner = g_task_new (self, cancellable, embedded_done, task);
      g_task_set_task_data (inner, call, NULL);
      g_task_run_in_thread (inner, embedded_thread);
    }
  else
    {
      banger_priv_client_call_async (self->priv_client, method, params, call->op_id, cancellable,
                                     socket_done, task);
    }
}

static gpointer
finish (BangerClient *self, GAsyncResult *result, gpointer source_tag, GError **error)
{
  g_return_val_if_fail (BANGER_IS_CLIENT (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* For the calls kept in files of their own (banger-client-private.h). */
void
banger_client_call (BangerClient *self, const char *method, JsonObject *params,
                    BangerClientConvertFunc convert, GDestroyNotify destroy, gpointer source_tag,
                    GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  call_async (self, method, params, convert, destroy, FALSE, source_tag, cancellable, callback,
              user_data);
}

gpointer
banger_client_call_finish (BangerClient *self, GAsyncResult *result, gpointer source_tag,
                           GError **error)
{
  return finish (self, result, source_tag, error);
}

static JsonObject *
member_object (JsonObject *result, const char *name, GError **error)
{
  JsonNode *n = json_object_get_member (result, name);

  if (n == NULL || !JSON_NODE_HOLDS_OBJECT (n))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                   "The engine's reply has no object '%s'", name);
      return NULL;
    }
  return json_node_get_object (n);
}

static JsonArray *
member_array (JsonObject *result, const char *name, GError **error)
{
  JsonNode *n = json_object_get_member (result, name);

  if (n == NULL || !JSON_NODE_HOLDS_ARRAY (n))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                   "The engine's reply has no array '%s'", name);
      return NULL;
    }
  return json_node_get_array (n);
}

gboolean
banger_client_check_fields (JsonObject *obj, const ClientField *fields, const char *what,
                            GError **error)
{
  for (const ClientField *f = fields; f->name != NULL; f++)
    {
      JsonNode *n = json_object_get_member (obj, f->name);
      gboolean ok;

      if (n == NULL)
        ok = FALSE;
      else if (f->type == CLIENT_FIELD_STRING_NULLABLE && JSON_NODE_HOLDS_NULL (n))
        ok = TRUE;
      else if (f->type == CLIENT_FIELD_INT)
        ok = JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_INT64;
      else
        ok = JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING;
      if (!ok)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                       "The engine's %s has no valid field '%s'", what, f->name);
          return FALSE;
        }
    }
  return TRUE;
}

static gpointer
convert_vm (JsonObject *result, GError **error)
{
  JsonObject *o = member_object (result, "vm", error);
  return o ? banger_vm_info_new_from_json (o, error) : NULL;
}

static gpointer
convert_true (JsonObject *result, GError **error)
{
  return GINT_TO_POINTER (TRUE);
}

typedef gpointer (*ItemFunc) (JsonObject *obj, GError **error);

static gpointer
convert_list (JsonObject *result, const char *member, ItemFunc item, GDestroyNotify free_item,
              GError **error)
{
  JsonArray *a = member_array (result, member, error);
  g_autoptr (GPtrArray) out = NULL;

  if (a == NULL)
    return NULL;
  out = g_ptr_array_new_with_free_func (free_item);
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonNode *n = json_array_get_element (a, i);
      gpointer v;

      if (!JSON_NODE_HOLDS_OBJECT (n))
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                       "The engine's %s list holds a non-object", member);
          return NULL;
        }
      v = item (json_node_get_object (n), error);
      if (v == NULL)
        return NULL;
      g_ptr_array_add (out, v);
    }
  return g_steal_pointer (&out);
}

static gpointer
convert_vm_list (JsonObject *result, GError **error)
{
  return convert_list (result, "vms", (ItemFunc)banger_vm_info_new_from_json,
                       (GDestroyNotify)banger_vm_info_unref, error);
}

static gpointer
convert_image_list (JsonObject *result, GError **error)
{
  return convert_list (result, "images", (ItemFunc)banger_image_info_new_from_json,
                       (GDestroyNotify)banger_image_info_unref, error);
}

static gpointer
convert_kernel_list (JsonObject *result, GError **error)
{
  return convert_list (result, "kernels", (ItemFunc)banger_kernel_info_new_from_json,
                       (GDestroyNotify)banger_kernel_info_unref, error);
}

static gpointer
convert_image (JsonObject *result, GError **error)
{
  JsonObject *o = member_object (result, "image", error);
  return o ? banger_image_info_new_from_json (o, error) : NULL;
}

static gpointer
convert_kernel (JsonObject *result, GError **error)
{
  JsonObject *o = member_object (result, "kernel", error);
  return o ? banger_kernel_info_new_from_json (o, error) : NULL;
}

gpointer
banger_client_convert_image (JsonObject *result, GError **error)
{
  return convert_image (result, error);
}

gpointer
banger_client_convert_kernel (JsonObject *result, GError **error)
{
  return convert_kernel (result, error);
}

static JsonObject *
name_params (const char *name)
{
  JsonObject *p = json_object_new ();
  json_object_set_string_member (p, "name", name);
  return p;
}

/* ------------------------------------------------------------------ VMs */

/**
 * banger_client_vm_create_async:
 * @client: a #BangerClient
 * @spec: what to create
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the VM is running (or stopped, when
 *   @spec says not to start it), or the create failed
 * @user_data: data for @callback
 *
 * Creates a VM: its copy-on-write root disk over the image, its work disk,
 * IP lease, tap and NAT rule, the install's SSH key in its root file
 * system; then boots it and waits for its SSH.  A failure at any step
 * undoes the steps before it; the VM is then left in
 * %BANGER_VM_STATE_FAILED saying which step failed and why.  A name that
 * exists is %BANGER_ERROR_ALREADY_EXISTS.
 *
 * Since: 0.2
 */
void
banger_client_vm_create_async (BangerClient *client, BangerVmSpec *spec, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data)
{
  JsonObject *p;

  g_return_if_fail (BANGER_IS_CLIENT (client));
  g_return_if_fail (spec != NULL);
  p = name_params (banger_vm_spec_get_name (spec));
  json_object_set_string_member (p, "image", banger_vm_spec_get_image (spec));
  json_object_set_string_member (p, "kernel", banger_vm_spec_get_kernel (spec));
  if (banger_vm_spec_get_vcpus (spec) != 0)
    json_object_set_int_member (p, "vcpus", banger_vm_spec_get_vcpus (spec));
  if (banger_vm_spec_get_memory_mib (spec) != 0)
    json_object_set_int_member (p, "memory_mib", (gint64)banger_vm_spec_get_memory_mib (spec));
  if (banger_vm_spec_get_work_disk_size (spec) != 0)
    json_object_set_int_member (p, "work_disk_bytes",
                                (gint64)banger_vm_spec_get_work_disk_size (spec));
  if (banger_vm_spec_get_vmm (spec) != BANGER_VMM_KIND_DEFAULT)
    json_object_set_string_member (p, "vmm",
                                   banger_vmm_kind_to_string (banger_vm_spec_get_vmm (spec)));
  if (!banger_vm_spec_get_start (spec))
    json_object_set_boolean_member (p, "no_start", TRUE);
  if (banger_vm_spec_get_workspace (spec) != NULL)
    json_object_set_string_member (p, "workspace", banger_vm_spec_get_workspace (spec));
  if (banger_vm_spec_get_publish (spec) != NULL)
    {
      g_autofree char *joined = g_strjoinv (",", (char **)banger_vm_spec_get_publish (spec));
      json_object_set_string_member (p, "publish", joined);
    }
  if (!g_str_equal (banger_vm_spec_get_egress (spec), "nat"))
    json_object_set_string_member (p, "egress", banger_vm_spec_get_egress (spec));
  call_async (client, "vm.create", p, convert_vm, (GDestroyNotify)banger_vm_info_unref, TRUE,
              banger_client_vm_create_async, cancellable, callback, user_data);
}

/**
 * banger_client_vm_create_finish:
 * @client: a #BangerClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the new VM, or %NULL with @error set
 *
 * Since: 0.2
 */
BangerVmInfo *
banger_client_vm_create_finish (BangerClient *client, GAsyncResult *result, GError **error)
{
  return finish (client, result, banger_client_vm_create_async, error);
}

/**
 * banger_client_vm_get_async:
 * @client: a #BangerClient
 * @name: the VM's name
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Looks a VM up by name (%BANGER_ERROR_NOT_FOUND when there is none).
 *
 * Since: 0.2
 */
void
banger_client_vm_get_async (BangerClient *client, const char *name, GCancellable *cancellable,
                            GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (BANGER_IS_CLIENT (client));
  g_return_if_fail (name != NULL);
  call_async (client, "vm.get", name_params (name), convert_vm,
              (GDestroyNotify)banger_vm_info_unref, FALSE, banger_client_vm_get_async, cancellable,
              callback, user_data);
}

/**
 * banger_client_vm_get_finish:
 * @client: a #BangerClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the VM, or %NULL with @error set
 *
 * Since: 0.2
 */
BangerVmInfo *
banger_client_vm_get_finish (BangerClient *client, GAsyncResult *result, GError **error)
{
  return finish (client, result, banger_client_vm_get_async, error);
}

/**
 * banger_client_vm_start_async:
 * @client: a #BangerClient
 * @name: the VM's name
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Boots a stopped VM (tap, NAT rule, VMM, SSH) with the disks it had; %BANGER_ERROR_BUSY unless it
 * is stopped.
 *
 * Since: 0.2
 */
void
banger_client_vm_start_async (BangerClient *client, const char *name, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (BANGER_IS_CLIENT (client));
  g_return_if_fail (name != NULL);
  call_async (client, "vm.start", name_params (name), convert_vm,
              (GDestroyNotify)banger_vm_info_unref, TRUE, banger_client_vm_start_async, cancellable,
              callback, user_data);
}

/**
 * banger_client_vm_start_finish:
 * @client: a #BangerClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the VM, running, or %NULL with @error set
 *
 * Since: 0.2
 */
BangerVmInfo *
banger_client_vm_start_finish (BangerClient *client, GAsyncResult *result, GError **error)
{
  return finish (client, result, banger_client_vm_start_async, error);
}

/**
 * banger_client_vm_stop_async:
 * @client: a #BangerClient
 * @name: the VM's name
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Stops a running VM gracefully (the VMM's stop ladder: power button, then TERM, then KILL) and
 * removes its tap, NAT rule, cgroup and run dir; its disks and IP address are kept.
 *
 * Since: 0.2
 */
void
banger_client_vm_stop_async (BangerClient *client, const char *name, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (BANGER_IS_CLIENT (client));
  g_return_if_fail (name != NULL);
  call_async (client, "vm.stop", name_params (name), convert_vm,
              (GDestroyNotify)banger_vm_info_unref, TRUE, banger_client_vm_stop_async, cancellable,
              callback, user_data);
}

/**
 * banger_client_vm_stop_finish:
 * @client: a #BangerClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the VM, stopped, or %NULL with @error set
 *
 * Since: 0.2
 */
BangerVmInfo *
banger_client_vm_stop_finish (BangerClient *client, GAsyncResult *result, GError **error)
{
  return finish (client, result, banger_client_vm_stop_async, error);
}

/**
 * banger_client_vm_kill_async:
 * @client: a #BangerClient
 * @name: the VM's name
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Kills a running VM's VMM at once, then cleans up as banger_client_vm_stop_async() does.
 *
 * Since: 0.2
 */
void
banger_client_vm_kill_async (BangerClient *client, const char *name, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (BANGER_IS_CLIENT (client));
  g_return_if_fail (name != NULL);
  call_async (client, "vm.kill", name_params (name), convert_vm,
              (GDestroyNotify)banger_vm_info_unref, TRUE, banger_client_vm_kill_async, cancellable,
              callback, user_data);
}

/**
 * banger_client_vm_kill_finish:
 * @client: a #BangerClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the VM, stopped, or %NULL with @error set
 *
 * Since: 0.2
 */
BangerVmInfo *
banger_client_vm_kill_finish (BangerClient *client, GAsyncResult *result, GError **error)
{
  return finish (client, result, banger_client_vm_kill_async, error);
}

/**
 * banger_client_vm_delete_async:
 * @client: a #BangerClient
 * @name: the VM's name
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Deletes a VM: kills it if it runs, removes every host object made for it (tap, NAT rule, cgroup,
 * run dir), its disks, its IP lease and its record.
 *
 * Since: 0.2
 */
void
banger_client_vm_delete_async (BangerClient *client, const char *name, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (BANGER_IS_CLIENT (client));
  g_return_if_fail (name != NULL);
  call_async (client, "vm.delete", name_params (name), convert_true, NULL, FALSE,
              banger_client_vm_delete_async, cancellable, callback, user_data);
}

/**
 * banger_client_vm_delete_finish:
 * @client: a #BangerClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 0.2
 */
gboolean
banger_client_vm_delete_finish (BangerClient *client, GAsyncResult *result, GError **error)
{
  return finish (client, result, banger_client_vm_delete_async, error) != NULL;
}

/**
 * banger_client_image_delete_async:
 * @client: a #BangerClient
 * @name: the image's name
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Deletes an image and its file; %BANGER_ERROR_BUSY while a VM is made from it.
 *
 * Since: 0.2
 */
void
banger_client_image_delete_async (BangerClient *client, const char *name, GCancellable *cancellable,
                                  GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (BANGER_IS_CLIENT (client));
  g_return_if_fail (name != NULL);
  call_async (client, "image.delete", name_params (name), convert_true, NULL, FALSE,
              banger_client_image_delete_async, cancellable, callback, user_data);
}

/**
 * banger_client_image_delete_finish:
 * @client: a #BangerClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 0.2
 */
gboolean
banger_client_image_delete_finish (BangerClient *client, GAsyncResult *result, GError **error)
{
  return finish (client, result, banger_client_image_delete_async, error) != NULL;
}

/**
 * banger_client_kernel_delete_async:
 * @client: a #BangerClient
 * @name: the kernel's name
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Deletes a kernel and its files; %BANGER_ERROR_BUSY while a VM uses it.
 *
 * Since: 0.2
 */
void
banger_client_kernel_delete_async (BangerClient *client, const char *name,
                                   GCancellable *cancellable, GAsyncReadyCallback callback,
                                   gpointer user_data)
{
  g_return_if_fail (BANGER_IS_CLIENT (client));
  g_return_if_fail (name != NULL);
  call_async (client, "kernel.delete", name_params (name), convert_true, NULL, FALSE,
              banger_client_kernel_delete_async, cancellable, callback, user_data);
}

/**
 * banger_client_kernel_delete_finish:
 * @client: a #BangerClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 0.2
 */
gboolean
banger_client_kernel_delete_finish (BangerClient *client, GAsyncResult *result, GError **error)
{
  return finish (client, result, banger_client_kernel_delete_async, error) != NULL;
}

/**
 * banger_client_vm_list_async:
 * @client: a #BangerClient
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Lists every VM.
 *
 * Since: 0.2
 */
void
banger_client_vm_list_async (BangerClient *client, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (BANGER_IS_CLIENT (client));
  call_async (client, "vm.list", json_object_new (), convert_vm_list,
              (GDestroyNotify)g_ptr_array_unref, FALSE, banger_client_vm_list_async, cancellable,
              callback, user_data);
}

/**
 * banger_client_vm_list_finish:
 * @client: a #BangerClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer container) (element-type BangerVmInfo): the list, by name, or
 *   %NULL with @error set
 *
 * Since: 0.2
 */
GPtrArray *
banger_client_vm_list_finish (BangerClient *client, GAsyncResult *result, GError **error)
{
  return finish (client, result, banger_client_vm_list_async, error);
}

/**
 * banger_client_image_list_async:
 * @client: a #BangerClient
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Lists the imported images.
 *
 * Since: 0.2
 */
void
banger_client_image_list_async (BangerClient *client, GCancellable *cancellable,
                                GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (BANGER_IS_CLIENT (client));
  call_async (client, "image.list", json_object_new (), convert_image_list,
              (GDestroyNotify)g_ptr_array_unref, FALSE, banger_client_image_list_async, cancellable,
              callback, user_data);
}

/**
 * banger_client_image_list_finish:
 * @client: a #BangerClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer container) (element-type BangerImageInfo): the list, by name, or
 *   %NULL with @error set
 *
 * Since: 0.2
 */
GPtrArray *
banger_client_image_list_finish (BangerClient *client, GAsyncResult *result, GError **error)
{
  return finish (client, result, banger_client_image_list_async, error);
}

/**
 * banger_client_kernel_list_async:
 * @client: a #BangerClient
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Lists the registered kernels.
 *
 * Since: 0.2
 */
void
banger_client_kernel_list_async (BangerClient *client, GCancellable *cancellable,
                                 GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (BANGER_IS_CLIENT (client));
  call_async (client, "kernel.list", json_object_new (), convert_kernel_list,
              (GDestroyNotify)g_ptr_array_unref, FALSE, banger_client_kernel_list_async,
              cancellable, callback, user_data);
}

/**
 * banger_client_kernel_list_finish:
 * @client: a #BangerClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer container) (element-type BangerKernelInfo): the list, by name, or
 *   %NULL with @error set
 *
 * Since: 0.2
 */
GPtrArray *
banger_client_kernel_list_finish (BangerClient *client, GAsyncResult *result, GError **error)
{
  return finish (client, result, banger_client_kernel_list_async, error);
}

/**
 * banger_client_vm_set_async:
 * @client: a #BangerClient
 * @name: the VM's name
 * @vcpus: the new vCPU count, 1–32; 0 keeps it
 * @memory_mib: the new memory in MiB, 64–262144; 0 keeps it
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Changes a stopped VM's vCPUs and memory (%BANGER_ERROR_BUSY unless it is
 * stopped); they apply at its next start.
 *
 * Since: 0.2
 */
void
banger_client_vm_set_async (BangerClient *client, const char *name, guint vcpus, guint64 memory_mib,
                            GCancellable *cancellable, GAsyncReadyCallback callback,
                            gpointer user_data)
{
  JsonObject *p;

  g_return_if_fail (BANGER_IS_CLIENT (client));
  g_return_if_fail (name != NULL);
  p = name_params (name);
  if (vcpus != 0)
    json_object_set_int_member (p, "vcpus", vcpus);
  if (memory_mib != 0)
    json_object_set_int_member (p, "memory_mib", (gint64)MIN (memory_mib, G_MAXINT64));
  call_async (client, "vm.set", p, convert_vm, (GDestroyNotify)banger_vm_info_unref, TRUE,
              banger_client_vm_set_async, cancellable, callback, user_data);
}

/**
 * banger_client_vm_set_finish:
 * @client: a #BangerClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the VM as changed, or %NULL with @error set
 *
 * Since: 0.2
 */
BangerVmInfo *
banger_client_vm_set_finish (BangerClient *client, GAsyncResult *result, GError **error)
{
  return finish (client, result, banger_client_vm_set_async, error);
}

/* --------------------------------------------------------------- images */

/**
 * banger_client_image_import_async:
 * @client: a #BangerClient
 * @name: the image's name (1–128 of letters, digits, `.`, `_`, `-`)
 * @rootfs_path: (type filename): an ext4 file system image, absolute path
 *   readable by the engine
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Copies the image under the engine's state dir (a reflink where the file
 * system can, else a sparse copy) and records it.
 *
 * Since: 0.2
 */
void
banger_client_image_import_async (BangerClient *client, const char *name, const char *rootfs_path,
                                  GCancellable *cancellable, GAsyncReadyCallback callback,
                                  gpointer user_data)
{
  JsonObject *p;

  g_return_if_fail (BANGER_IS_CLIENT (client));
  g_return_if_fail (name != NULL && rootfs_path != NULL);
  p = name_params (name);
  json_object_set_string_member (p, "rootfs", rootfs_path);
  call_async (client, "image.import", p, convert_image, (GDestroyNotify)banger_image_info_unref,
              FALSE, banger_client_image_import_async, cancellable, callback, user_data);
}

/**
 * banger_client_image_import_finish:
 * @client: a #BangerClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the image, or %NULL with @error set
 *
 * Since: 0.2
 */
BangerImageInfo *
banger_client_image_import_finish (BangerClient *client, GAsyncResult *result, GError **error)
{
  return finish (client, result, banger_client_image_import_async, error);
}

/* -------------------------------------------------------------- kernels */

/**
 * banger_client_kernel_add_async:
 * @client: a #BangerClient
 * @name: the kernel's name (1–128 of letters, digits, `.`, `_`, `-`)
 * @kernel_path: (type filename): the kernel image (absolute path)
 * @initrd_path: (nullable) (type filename): an initrd (absolute path)
 * @cmdline: (nullable): extra kernel arguments for every VM using it
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Copies a guest kernel (and initrd) under the engine's state dir and
 * records it.
 *
 * Since: 0.2
 */
void
banger_client_kernel_add_async (BangerClient *client, const char *name, const char *kernel_path,
                                const char *initrd_path, const char *cmdline,
                                GCancellable *cancellable, GAsyncReadyCallback callback,
                                gpointer user_data)
{
  JsonObject *p;

  g_return_if_fail (BANGER_IS_CLIENT (client));
  g_return_if_fail (name != NULL && kernel_path != NULL);
  p = name_params (name);
  json_object_set_string_member (p, "kernel", kernel_path);
  if (initrd_path != NULL)
    json_object_set_string_member (p, "initrd", initrd_path);
  if (cmdline != NULL)
    json_object_set_string_member (p, "cmdline", cmdline);
  call_async (client, "kernel.add", p, convert_kernel, (GDestroyNotify)banger_kernel_info_unref,
              FALSE, banger_client_kernel_add_async, cancellable, callback, user_data);
}

/**
 * banger_client_kernel_add_finish:
 * @client: a #BangerClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the kernel, or %NULL with @error set
 *
 * Since: 0.2
 */
BangerKernelInfo *
banger_client_kernel_add_finish (BangerClient *client, GAsyncResult *result, GError **error)
{
  return finish (client, result, banger_client_kernel_add_async, error);
}

/* ------------------------------------------ for the other client files */

void
banger_client_call_full (BangerClient *self, const char *method, JsonObject *params,
                          BangerClientConvertFunc convert, GDestroyNotify destroy, gboolean emits,
                          gpointer source_tag, GCancellable *cancellable,
                          GAsyncReadyCallback callback, gpointer user_data)
{
  call_async (self, method, params, convert, destroy, emits, source_tag, cancellable, callback,
              user_data);
}

gpointer
banger_client_convert_vm (JsonObject *result, GError **error)
{
  return convert_vm (result, error);
}

gpointer
banger_client_convert_true (JsonObject *result, GError **error)
{
  return convert_true (result, error);
}

gpointer
banger_client_convert_list (JsonObject *result, const char *member, BangerClientConvertFunc item,
                            GDestroyNotify free_item, GError **error)
{
  return convert_list (result, member, (ItemFunc)item, free_item, error);
}

JsonObject *
banger_client_member_object (JsonObject *result, const char *name, GError **error)
{
  return member_object (result, name, error);
}

/* ------------------------------------------------------------- vm.port */

typedef struct
{
  GStrv publish;
  char *egress;
  gboolean active;
} PortResult;

static void
port_result_free (PortResult *r)
{
  g_strfreev (r->publish);
  g_free (r->egress);
  g_free (r);
}

static gpointer
convert_port (JsonObject *result, GError **error)
{
  static const ClientField fields[] = {
    { "publish", CLIENT_FIELD_STRING },
    { "egress", CLIENT_FIELD_STRING },
    { "active", CLIENT_FIELD_STRING_NULLABLE },
    { NULL, 0 },
  };
  PortResult *r;
  const char *publish;
  const char *active;

  if (!banger_client_check_fields (result, fields, "vm.port reply", error))
    return NULL;
  r = g_new0 (PortResult, 1);
  publish = json_object_get_string_member (result, "publish");
  active = json_object_get_string_member_with_default (result, "active", NULL);
  r->publish = publish[0] != '\0' ? g_strsplit (publish, ",", -1) : g_new0 (char *, 1);
  r->egress = g_strdup (json_object_get_string_member (result, "egress"));
  /* in force: the VM runs and banger's table holds exactly its publishes */
  r->active = active != NULL && g_str_equal (active, publish);
  return r;
}

/**
 * banger_client_vm_port_async:
 * @client: a #BangerClient
 * @name: the VM's name
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Lists a VM's port publishes and its egress policy (`banger vm port`).
 *
 * Since: 0.2
 */
void
banger_client_vm_port_async (BangerClient *client, const char *name, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (BANGER_IS_CLIENT (client));
  g_return_if_fail (name != NULL);
  call_async (client, "vm.port", name_params (name), convert_port, (GDestroyNotify)port_result_free,
              FALSE, banger_client_vm_port_async, cancellable, callback, user_data);
}

/**
 * banger_client_vm_port_finish:
 * @client: a #BangerClient
 * @result: the #GAsyncResult
 * @out_egress: (out) (optional) (transfer full): the egress policy (`nat`,
 *   `none` or its networks)
 * @out_active: (out) (optional): %TRUE when the VM runs and banger's
 *   nftables table holds exactly these publishes for it
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (array zero-terminated=1): the publishes,
 *   canonical (`HOSTIP:HOSTPORT:GUESTPORT/PROTO`, HOSTIP 0.0.0.0 for every
 *   host address), or %NULL with @error set
 *
 * Since: 0.2
 */
char **
banger_client_vm_port_finish (BangerClient *client, GAsyncResult *result, char **out_egress,
                              gboolean *out_active, GError **error)
{
  PortResult *r = finish (client, result, banger_client_vm_port_async, error);
  char **publish;

  if (r == NULL)
    return NULL;
  publish = g_steal_pointer (&r->publish);
  if (out_egress != NULL)
    *out_egress = g_steal_pointer (&r->egress);
  if (out_active != NULL)
    *out_active = r->active;
  port_result_free (r);
  return publish;
}
