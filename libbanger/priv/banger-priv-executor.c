/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "banger-error.h"
#include "banger-priv-executor.h"
#include "banger-priv-json.h"
#include "banger-priv-message.h"
#include "banger-quote.h"

BangerPrivState *
banger_priv_state_new (const BangerInstallConfig *config)
{
  BangerPrivState *state = g_new0 (BangerPrivState, 1);

  state->owner_uid = config->owner_uid;
  state->owner_gid = config->owner_gid;
  state->runtime_dir = g_strdup (config->runtime_dir);
  state->state_dir = g_strdup (config->state_dir);
  state->firecracker_path = g_strdup (config->firecracker_path);
  state->jailer_path = g_strdup (config->jailer_path);
  state->qemu_path = g_strdup (config->qemu_path);
  state->cgroup_root = g_strdup (config->cgroup_root);
  state->nft_table = g_strdup (config->nft_table);
  state->install_id = g_strdup (config->install_id);
  if (!banger_install_parse_cidr (config->vm_network, &state->vm_net, &state->vm_prefix))
    banger_install_parse_cidr (BANGER_INSTALL_DEFAULT_VM_NETWORK, &state->vm_net,
                               &state->vm_prefix);
  state->max_vmms = config->max_vmms;
  state->max_taps = config->max_taps;
  state->max_bridges = config->max_bridges;
  state->max_nat_elements = config->max_nat_elements;
  g_mutex_init (&state->lock);
  g_mutex_init (&state->exec_lock);
  return state;
}

void
banger_priv_state_free (BangerPrivState *state)
{
  if (state == NULL)
    return;
  g_free (state->runtime_dir);
  g_free (state->state_dir);
  g_free (state->firecracker_path);
  g_free (state->jailer_path);
  g_free (state->qemu_path);
  g_free (state->cgroup_root);
  g_free (state->nft_table);
  g_free (state->install_id);
  g_clear_pointer (&state->vmms, g_hash_table_unref);
  g_clear_pointer (&state->launching, g_hash_table_unref);
  g_mutex_clear (&state->exec_lock);
  g_mutex_clear (&state->lock);
  g_free (state);
}

gboolean
banger_priv_authorize (const BangerPrivState *state, const BangerPeerCred *caller,
                       GError **error)
{
  if (caller != NULL && (caller->uid == 0 || caller->uid == state->owner_uid))
    return TRUE;
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED,
               "uid %ld may not use the banger root helper (only root and the owner, uid %u)",
               caller ? (long) caller->uid : -1L, (guint) state->owner_uid);
  return FALSE;
}

gboolean
banger_priv_executor_release (BangerPrivState *state)
{
  if (g_atomic_pointer_get (&state->exec_owner) != g_thread_self ())
    return FALSE;
  g_atomic_pointer_set (&state->exec_owner, NULL);
  g_mutex_unlock (&state->exec_lock);
  return TRUE;
}

void
banger_priv_executor_reacquire (BangerPrivState *state, gboolean released)
{
  if (!released)
    return;
  g_mutex_lock (&state->exec_lock);
  g_atomic_pointer_set (&state->exec_owner, g_thread_self ());
}

static gboolean
run_handler (const BangerPrivOp *op, BangerPrivState *state, const BangerPeerCred *caller,
             JsonObject *params, JsonBuilder *result, GCancellable *cancellable, GError **error)
{
  gboolean exclusive = (op->flags & BANGER_PRIV_OP_CONCURRENT) == 0;
  gboolean ok;

  if (exclusive)
    {
      g_mutex_lock (&state->exec_lock);
      g_atomic_pointer_set (&state->exec_owner, g_thread_self ());
    }
  ok = op->handler (state, caller, params, result, cancellable, error);
  if (exclusive && !banger_priv_executor_release (state))
    g_warn_if_reached (); /* a handler released the lock and did not take it back */
  return ok;
}

const BangerPrivOp *
banger_priv_op_find (const BangerPrivOp *table, const char *method)
{
  if (table == NULL || method == NULL)
    return NULL;
  for (const BangerPrivOp *op = table; op->method != NULL; op++)
    if (g_str_equal (op->method, method))
      return op;
  return NULL;
}

static const BangerParamSpec *
spec_find (const BangerPrivOp *op, const char *name)
{
  for (const BangerParamSpec *s = op->params; s && s->name; s++)
    if (g_str_equal (s->name, name))
      return s;
  return NULL;
}

static gboolean
param_error (GError **error, const BangerPrivOp *op, const char *name, const char *format, ...)
    G_GNUC_PRINTF (4, 5);

static gboolean
param_error (GError **error, const BangerPrivOp *op, const char *name, const char *format, ...)
{
  va_list args;
  g_autofree char *what = NULL;
  g_autofree char *q = banger_quote (name);

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
               "%s: parameter '%s' %s", op->method, q, what);
  return FALSE;
}

static gboolean
check_string (const BangerPrivOp *op, const BangerParamSpec *s, const char *v, GError **error)
{
  gsize len = strlen (v);
  gint64 max = s->max > 0 ? s->max : BANGER_PARAM_STRING_MAX_DEFAULT;

  if (!g_utf8_validate (v, -1, NULL))
    return param_error (error, op, s->name, "is not valid UTF-8");
  for (const char *p = v; *p; p++)
    if ((unsigned char) *p < 0x20 || *p == 0x7f)
      return param_error (error, op, s->name, "contains a control character");
  if ((gint64) len < s->min || (gint64) len > max)
    return param_error (error, op, s->name,
                        "must be %" G_GINT64_FORMAT "-%" G_GINT64_FORMAT " bytes long (is %"
                        G_GSIZE_FORMAT ")",
                        s->min, max, len);
  if (s->validate != NULL)
    {
      GError *local = NULL;
      if (!s->validate (v, &local))
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                       "%s: parameter '%s': %s", op->method, s->name, local->message);
          g_error_free (local);
          return FALSE;
        }
    }
  return TRUE;
}

gboolean
banger_priv_params_check (const BangerPrivOp *op, JsonObject *params, GError **error)
{
  g_autoptr (GList) members = NULL;

  g_return_val_if_fail (op != NULL, FALSE);

  if (params != NULL)
    members = json_object_get_members (params);
  for (GList *l = members; l; l = l->next)
    {
      const char *name = l->data;
      const BangerParamSpec *s = spec_find (op, name);
      JsonNode *node = json_object_get_member (params, name);

      if (s == NULL)
        return param_error (error, op, name, "is unknown");
      switch (s->type)
        {
        case BANGER_PARAM_STRING:
          if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
            return param_error (error, op, name, "must be a string, not %s",
                                banger_priv_json_type_name (node));
          if (!check_string (op, s, json_node_get_string (node), error))
            return FALSE;
          break;
        case BANGER_PARAM_INT:
          {
            gint64 v;
            if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
              return param_error (error, op, name, "must be an integer, not %s",
                                  banger_priv_json_type_name (node));
            v = json_node_get_int (node);
            if (v < s->min || v > s->max)
              return param_error (error, op, name,
                                  "must be in %" G_GINT64_FORMAT "-%" G_GINT64_FORMAT
                                  " (is %" G_GINT64_FORMAT ")",
                                  s->min, s->max, v);
            break;
          }
        case BANGER_PARAM_BOOL:
          if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
            return param_error (error, op, name, "must be a boolean, not %s",
                                banger_priv_json_type_name (node));
          break;
        default:
          return param_error (error, op, name, "has a spec of unknown type");
        }
    }
  for (const BangerParamSpec *s = op->params; s && s->name; s++)
    if (s->required && (params == NULL || !json_object_has_member (params, s->name)))
      return param_error (error, op, s->name, "is required");
  return TRUE;
}

JsonNode *
banger_priv_execute (const BangerPrivOp *table, BangerPrivState *state,
                     const BangerPeerCred *caller, const char *method, JsonObject *params,
                     GCancellable *cancellable, GError **error)
{
  const BangerPrivOp *op;
  g_autoptr (JsonBuilder) result = NULL;
  g_autoptr (JsonObject) empty = NULL;

  g_return_val_if_fail (state != NULL, NULL);
  g_return_val_if_fail (method != NULL, NULL);

  if (!banger_priv_authorize (state, caller, error))
    return NULL;
  op = banger_priv_op_find (table, method);
  if (op == NULL)
    {
      g_autofree char *q = banger_quote (method);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_UNSUPPORTED,
                   "Method '%s' is not known to this helper", q);
      return NULL;
    }
  if (params == NULL)
    params = empty = json_object_new ();
  if (!banger_priv_params_check (op, params, error))
    return NULL;
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  result = json_builder_new ();
  json_builder_begin_object (result);
  if (!run_handler (op, state, caller, params, result, cancellable, error))
    return NULL;
  json_builder_end_object (result);
  {
    JsonNode *root = json_builder_get_root (result);
    if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
      {
        g_clear_pointer (&root, json_node_unref);
        g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED,
                     "%s built an incomplete result", op->method);
      }
    return root;
  }
}

GBytes *
banger_priv_execute_message (const BangerPrivOp *table, BangerPrivState *state,
                             const BangerPeerCred *caller, const char *data, gsize len,
                             GCancellable *cancellable, gboolean *out_fatal)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerPrivRequest) req = banger_priv_request_parse (data, len, &error);
  g_autoptr (JsonNode) result = NULL;

  *out_fatal = FALSE;
  if (req == NULL)
    {
      *out_fatal = TRUE;
      return banger_priv_reply_error (-1, error);
    }
  result = banger_priv_execute (table, state, caller, req->method, req->params, cancellable,
                                &error);
  if (result == NULL)
    return banger_priv_reply_error (req->id, error);
  return banger_priv_reply_result (req->id, result);
}

static __thread char *current_op_id;

const char *
banger_priv_current_op_id (void)
{
  return current_op_id;
}

void
banger_priv_set_current_op_id (const char *op_id)
{
  g_free (current_op_id);
  current_op_id = g_strdup (op_id);
}
