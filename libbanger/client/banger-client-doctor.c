/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * BangerClient's doctor: engine.doctor's checks as BangerDoctorCheck values
 * (doc/client.md). */
#include "config.h"

#include "banger-client-private.h"
#include "banger-doctor-check.h"
#include "banger-error.h"

static gboolean
status_from_string (const char *s, BangerCheckStatus *out)
{
  for (guint i = BANGER_CHECK_STATUS_OK; i <= BANGER_CHECK_STATUS_FAIL; i++)
    if (g_strcmp0 (s, banger_check_status_to_string (i)) == 0)
      {
        *out = i;
        return TRUE;
      }
  return FALSE;
}

static gpointer
convert_checks (JsonObject *result, GError **error)
{
  static const ClientField fields[] = {
    { "name", CLIENT_FIELD_STRING },
    { "status", CLIENT_FIELD_STRING },
    { "message", CLIENT_FIELD_STRING },
    { NULL },
  };
  JsonNode *n = json_object_get_member (result, "checks");
  g_autoptr (GPtrArray) out
      = g_ptr_array_new_with_free_func ((GDestroyNotify)banger_doctor_check_unref);
  JsonArray *a;

  if (n == NULL || !JSON_NODE_HOLDS_ARRAY (n))
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                           "The engine's doctor reply has no array 'checks'");
      return NULL;
    }
  a = json_node_get_array (n);
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonNode *e = json_array_get_element (a, i);
      JsonObject *o;
      BangerCheckStatus status;

      if (!JSON_NODE_HOLDS_OBJECT (e))
        {
          g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                               "A doctor check is not an object");
          return NULL;
        }
      o = json_node_get_object (e);
      if (!banger_client_check_fields (o, fields, "doctor check", error))
        return NULL;
      if (!status_from_string (json_object_get_string_member (o, "status"), &status))
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                       "Doctor check '%s' has an unknown status",
                       json_object_get_string_member (o, "name"));
          return NULL;
        }
      g_ptr_array_add (out, banger_doctor_check_new (json_object_get_string_member (o, "name"),
                                                     status,
                                                     json_object_get_string_member (o, "message")));
    }
  return g_steal_pointer (&out);
}

/**
 * banger_client_doctor_async:
 * @client: a #BangerClient
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Asks the engine what this host and the engine can do: the host's checks
 * as the engine sees them (KVM, tun, device-mapper, cgroup2, the VMM
 * binaries of its config, mkfs.ext4, the root helper's units) and the
 * engine's own (its privileged backend answers; the root-disk strategy).
 *
 * Since: 0.2
 */
void
banger_client_doctor_async (BangerClient *client, GCancellable *cancellable,
                            GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (BANGER_IS_CLIENT (client));
  banger_client_call (client, "engine.doctor", json_object_new (), convert_checks,
                      (GDestroyNotify)g_ptr_array_unref, banger_client_doctor_async, cancellable,
                      callback, user_data);
}

/**
 * banger_client_doctor_finish:
 * @client: a #BangerClient
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Completes banger_client_doctor_async().
 *
 * Returns: (transfer container) (element-type BangerDoctorCheck): the
 *   checks, in a fixed order; VMs can run when none is
 *   %BANGER_CHECK_STATUS_FAIL.  %NULL with @error set on failure.
 *
 * Since: 0.2
 */
GPtrArray *
banger_client_doctor_finish (BangerClient *client, GAsyncResult *result, GError **error)
{
  return banger_client_call_finish (client, result, banger_client_doctor_async, error);
}
