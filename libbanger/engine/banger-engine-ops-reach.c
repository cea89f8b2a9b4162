/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * vm.ssh_info, ssh.config and the vm.workspace_* methods (see
 * banger-engine-ops-reach.h, doc/daemon.md). */
#include "config.h"

#include "banger-engine-ops-reach.h"
#include "banger-engine-private.h"
#include "banger-engine-ssh.h"
#include "banger-engine-workspace.h"
#include "banger-error.h"
#include "banger-names.h"
#include "banger-priv-executor.h"
#include "banger-engine-ops-private.h"

static BangerEngine *
engine_of (BangerPrivState *state)
{
  return BANGER_ENGINE (state->table_data);
}

static void
set_list (JsonBuilder *b, const char *name, GPtrArray *list)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  for (guint i = 0; list != NULL && i < list->len; i++)
    json_builder_add_string_value (b, list->pdata[i]);
  json_builder_end_array (b);
}

const BangerParamSpec banger_engine_vm_ssh_info_params[] = {
  { "name", BANGER_PARAM_STRING, TRUE, 1, 128, banger_validate_vm_name },
  { NULL },
};

const BangerParamSpec banger_engine_ssh_config_params[] = { { NULL } };

const BangerParamSpec banger_engine_vm_workspace_params[] = {
  { "name", BANGER_PARAM_STRING, TRUE, 1, 128, banger_validate_vm_name },
  { "force", BANGER_PARAM_BOOL, FALSE, 0, 0, NULL },
  { "if_dirty", BANGER_PARAM_BOOL, FALSE, 0, 0, NULL },
  { NULL },
};

BANGER_ENGINE_REACH_HANDLER (banger_engine_op_vm_ssh_info)
{
  g_autoptr (BangerEngineSshInfo) info = banger_engine_vm_ssh_info (
      engine_of (state), json_object_get_string_member (params, "name"), error);

  if (info == NULL)
    return FALSE;
  json_builder_set_member_name (result, "ssh");
  json_builder_begin_object (result);
  banger_engine_json_add_str (result, "name", info->name);
  banger_engine_json_add_str (result, "address", info->address);
  banger_engine_json_add_int (result, "port", info->port);
  banger_engine_json_add_str (result, "user", info->user);
  banger_engine_json_add_str (result, "identity_file", info->identity_file);
  banger_engine_json_add_str (result, "known_hosts", info->known_hosts);
  banger_engine_json_add_str (result, "host_alias", info->host_alias);
  banger_engine_json_add_str (result, "config_file", info->config_file);
  json_builder_end_object (result);
  return TRUE;
}

BANGER_ENGINE_REACH_HANDLER (banger_engine_op_ssh_config)
{
  BangerEngine *e = engine_of (state);
  g_autofree char *path = banger_engine_ssh_config_path (e);

  /* the caller is about to include it: make sure it exists and is current */
  if (!banger_engine_ssh_config_refresh (e, error))
    return FALSE;
  banger_engine_json_add_str (result, "config_file", path);
  banger_engine_json_add_str (result, "domain", e->config->domain);
  return TRUE;
}

static gboolean
workspace (BangerPrivState *state, JsonObject *params, JsonBuilder *result,
           BangerEngineWsMode mode, GCancellable *cancellable, GError **error)
{
  BangerEngineWsFlags flags = BANGER_ENGINE_WS_FLAGS_NONE;
  g_autoptr (BangerEngineWsReport) r = NULL;

  if (json_object_get_boolean_member_with_default (params, "force", FALSE))
    flags |= BANGER_ENGINE_WS_FORCE;
  if (json_object_get_boolean_member_with_default (params, "if_dirty", FALSE))
    flags |= BANGER_ENGINE_WS_IF_DIRTY;
  if ((flags & BANGER_ENGINE_WS_FORCE) && mode == BANGER_ENGINE_WS_STATUS)
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                           "vm.workspace_status takes no 'force'");
      return FALSE;
    }
  if ((flags & BANGER_ENGINE_WS_IF_DIRTY) && mode != BANGER_ENGINE_WS_PUSH)
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                           "'if_dirty' is for vm.workspace_push only");
      return FALSE;
    }
  r = banger_engine_vm_workspace_sync (engine_of (state),
                                       json_object_get_string_member (params, "name"), mode, flags,
                                       banger_priv_current_op_id (), cancellable, error);
  if (r == NULL)
    return FALSE;
  json_builder_set_member_name (result, "workspace");
  json_builder_begin_object (result);
  json_builder_set_member_name (result, "bound");
  json_builder_add_boolean_value (result, r->bound);
  json_builder_set_member_name (result, "skipped");
  json_builder_add_boolean_value (result, r->skipped);
  banger_engine_json_add_str (result, "host_dir", r->host_dir);
  banger_engine_json_add_str (result, "guest_dir", r->guest_dir);
  banger_engine_json_add_int (result, "copied", r->n_copied);
  banger_engine_json_add_int (result, "deleted", r->n_deleted);
  banger_engine_json_add_int (result, "bytes", (gint64)r->bytes);
  set_list (result, "conflicts", r->conflicts);
  set_list (result, "host_changes", r->host_changes);
  set_list (result, "guest_changes", r->guest_changes);
  json_builder_end_object (result);
  return TRUE;
}

BANGER_ENGINE_REACH_HANDLER (banger_engine_op_vm_workspace_push)
{
  return workspace (state, params, result, BANGER_ENGINE_WS_PUSH, cancellable, error);
}

BANGER_ENGINE_REACH_HANDLER (banger_engine_op_vm_workspace_pull)
{
  return workspace (state, params, result, BANGER_ENGINE_WS_PULL, cancellable, error);
}

BANGER_ENGINE_REACH_HANDLER (banger_engine_op_vm_workspace_status)
{
  return workspace (state, params, result, BANGER_ENGINE_WS_STATUS, cancellable, error);
}
