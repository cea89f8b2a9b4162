/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "priv-test-ops.h"

#include "banger-error.h"

gint priv_test_calls;

static const BangerParamSpec echo_params[] = {
  { "name", BANGER_PARAM_STRING, TRUE, 1, 63, banger_validate_vm_name },
  { "count", BANGER_PARAM_INT, FALSE, 0, 100, NULL },
  { "flag", BANGER_PARAM_BOOL, FALSE, 0, 0, NULL },
  { NULL },
};

static gboolean
echo (BangerPrivState *state, const BangerPeerCred *caller, JsonObject *params,
      JsonBuilder *result, GCancellable *cancellable, GError **error)
{
  g_atomic_int_inc (&priv_test_calls);
  json_builder_set_member_name (result, "name");
  json_builder_add_string_value (result, json_object_get_string_member (params, "name"));
  json_builder_set_member_name (result, "count");
  json_builder_add_int_value (result, json_object_get_int_member_with_default (params, "count", 0));
  json_builder_set_member_name (result, "flag");
  json_builder_add_boolean_value (result,
                                  json_object_get_boolean_member_with_default (params, "flag", FALSE));
  json_builder_set_member_name (result, "uid");
  json_builder_add_int_value (result, caller->uid);
  return TRUE;
}

static const BangerParamSpec sleep_params[] = {
  { "ms", BANGER_PARAM_INT, TRUE, 0, 5000, NULL },
  { "seq", BANGER_PARAM_INT, FALSE, 0, G_MAXINT32, NULL },
  { NULL },
};

static gboolean
sleep_op (BangerPrivState *state, const BangerPeerCred *caller, JsonObject *params,
          JsonBuilder *result, GCancellable *cancellable, GError **error)
{
  g_atomic_int_inc (&priv_test_calls);
  g_usleep (json_object_get_int_member (params, "ms") * 1000);
  json_builder_set_member_name (result, "seq");
  json_builder_add_int_value (result, json_object_get_int_member_with_default (params, "seq", 0));
  return TRUE;
}

static const BangerParamSpec fail_params[] = {
  { "code", BANGER_PARAM_INT, TRUE, 0, BANGER_ERROR_VMM, NULL },
  { NULL },
};

static gboolean
fail_op (BangerPrivState *state, const BangerPeerCred *caller, JsonObject *params,
         JsonBuilder *result, GCancellable *cancellable, GError **error)
{
  g_atomic_int_inc (&priv_test_calls);
  g_set_error (error, BANGER_ERROR, (int) json_object_get_int_member (params, "code"),
               "failing on purpose");
  return FALSE;
}

static const BangerPrivOp ops[] = {
  { "priv.echo", echo_params, echo },
  { "priv.sleep", sleep_params, sleep_op },
  { "priv.fail", fail_params, fail_op },
  { NULL },
};

const BangerPrivOp *
priv_test_ops (void)
{
  return ops;
}
