/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Reading parameters the executor has already type-checked, the extra
 * BangerParamSpec validators, and result helpers. */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include "banger-error.h"
#include "banger-names.h"
#include "banger-priv-ops-private.h"
#include "banger-quote.h"
#include "banger-signal.h"

/* The member @name of @params if it holds a value of @type, else NULL. */
static JsonNode *
param_node (JsonObject *params, const char *name, GType type)
{
  JsonNode *node;

  if (params == NULL || !json_object_has_member (params, name))
    return NULL;
  node = json_object_get_member (params, name);
  if (node == NULL || json_node_get_value_type (node) != type)
    return NULL;
  return node;
}

const char *
banger_priv_param_string (JsonObject *params, const char *name)
{
  JsonNode *node = param_node (params, name, G_TYPE_STRING);
  return node ? json_node_get_string (node) : NULL;
}

gint64
banger_priv_param_int (JsonObject *params, const char *name, gint64 default_value)
{
  JsonNode *node = param_node (params, name, G_TYPE_INT64);
  return node ? json_node_get_int (node) : default_value;
}

gboolean
banger_priv_param_bool (JsonObject *params, const char *name, gboolean default_value)
{
  JsonNode *node = param_node (params, name, G_TYPE_BOOLEAN);
  return node ? json_node_get_boolean (node) : default_value;
}

const char *
banger_priv_param_vm_id (JsonObject *params, GError **error)
{
  const char *vm_id = banger_priv_param_string (params, "vm_id");

  if (vm_id == NULL)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "The parameter 'vm_id' is required");
      return NULL;
    }
  if (!banger_validate_vm_name (vm_id, error))
    return NULL;
  return vm_id;
}

gboolean
banger_priv_validate_signal (const char *value, GError **error)
{
  return banger_validate_signal_name (value, NULL, error);
}

gboolean
banger_priv_validate_ipv4 (const char *value, GError **error)
{
  struct in_addr addr;

  if (value != NULL && strlen (value) <= 15 && inet_pton (AF_INET, value, &addr) == 1)
    return TRUE;
  {
    g_autofree char *q = banger_quote (value);
    g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                 "'%s' is not an IPv4 address (a.b.c.d)", q);
  }
  return FALSE;
}

gboolean
banger_priv_validate_ipv4_cidr (const char *value, GError **error)
{
  const char *slash = value ? strchr (value, '/') : NULL;
  g_autofree char *addr = NULL;
  guint64 plen = 0;
  char *end = NULL;

  if (slash != NULL && slash[1] != '\0' && strlen (slash + 1) <= 2
      && g_ascii_isdigit (slash[1]))
    {
      plen = g_ascii_strtoull (slash + 1, &end, 10);
      addr = g_strndup (value, slash - value);
      if (*end == '\0' && plen >= 1 && plen <= 32 && banger_priv_validate_ipv4 (addr, NULL))
        return TRUE;
    }
  {
    g_autofree char *q = banger_quote (value);
    g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                 "'%s' is not an IPv4 address with a prefix length (a.b.c.d/1-32)", q);
  }
  return FALSE;
}

gboolean
banger_priv_validate_abs_path (const char *value, GError **error)
{
  if (value != NULL && value[0] == '/' && value[1] != '\0' && strlen (value) < 4096)
    {
      g_auto (GStrv) parts = g_strsplit (value + 1, "/", -1);
      gboolean ok = TRUE;

      for (char **p = parts; *p; p++)
        if ((*p)[0] == '\0' || g_str_equal (*p, ".") || g_str_equal (*p, ".."))
          ok = FALSE;
      if (ok)
        return TRUE;
    }
  {
    g_autofree char *q = banger_quote (value);
    g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                 "'%s' is not a plain absolute path (no empty, '.' or '..' components)", q);
  }
  return FALSE;
}

void
banger_priv_result_string (JsonBuilder *result, const char *name, const char *value)
{
  if (result == NULL)
    return;
  json_builder_set_member_name (result, name);
  if (value != NULL)
    json_builder_add_string_value (result, value);
  else
    json_builder_add_null_value (result);
}

void
banger_priv_result_int (JsonBuilder *result, const char *name, gint64 value)
{
  if (result == NULL)
    return;
  json_builder_set_member_name (result, name);
  json_builder_add_int_value (result, value);
}

void
banger_priv_result_bool (JsonBuilder *result, const char *name, gboolean value)
{
  if (result == NULL)
    return;
  json_builder_set_member_name (result, name);
  json_builder_add_boolean_value (result, value);
}
