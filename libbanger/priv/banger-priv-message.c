/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "banger-error-private.h"
#include "banger-priv-json.h"
#include "banger-priv-message.h"
#include "banger-quote.h"

void
banger_priv_request_free (BangerPrivRequest *request)
{
  if (request == NULL)
    return;
  g_free (request->method);
  g_clear_pointer (&request->params, json_object_unref);
  g_free (request->op_id);
  g_free (request);
}

static gboolean
protocol_error (GError **error, const char *format, ...) G_GNUC_PRINTF (2, 3);

static gboolean
protocol_error (GError **error, const char *format, ...)
{
  va_list args;
  g_autofree char *msg = NULL;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL, msg);
  return FALSE;
}

/* "<namespace>.<name>": [a-z]+ "." [a-z0-9_]+ ("priv.create_tap" on the
 * helper's socket, "vm.create" on the daemon's); the server's table decides
 * which exist. */
static gboolean
is_method_name (const char *s)
{
  gsize len = strlen (s);
  const char *p = s;

  if (len > BANGER_PRIV_METHOD_MAX)
    return FALSE;
  while (*p >= 'a' && *p <= 'z')
    p++;
  if (p == s || *p != '.' || p[1] == '\0')
    return FALSE;
  for (p++; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
      return FALSE;
  return TRUE;
}

static gboolean
is_op_id (const char *s)
{
  gsize len = strlen (s);

  if (len == 0 || len > BANGER_PRIV_OP_ID_MAX)
    return FALSE;
  for (const char *p = s; *p; p++)
    if (!(g_ascii_isalnum (*p) || *p == '.' || *p == '_' || *p == ':' || *p == '-'))
      return FALSE;
  return TRUE;
}

static gboolean
member_is (JsonNode *node, GType type)
{
  return node != NULL && JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == type;
}

BangerPrivRequest *
banger_priv_request_parse (const char *data, gsize len, GError **error)
{
  g_autoptr (JsonNode) root = banger_priv_json_parse (data, len, BANGER_PRIV_JSON_DEPTH_MAX, error);
  g_autoptr (BangerPrivRequest) req = NULL;
  JsonObject *obj;
  JsonNode *node;
  g_autoptr (GList) members = NULL;

  if (root == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      protocol_error (error, "A request must be a JSON object, not %s",
                      banger_priv_json_type_name (root));
      return NULL;
    }
  obj = json_node_get_object (root);
  members = json_object_get_members (obj);
  for (GList *l = members; l; l = l->next)
    {
      const char *key = l->data;
      if (!g_str_equal (key, "id") && !g_str_equal (key, "method") && !g_str_equal (key, "params")
          && !g_str_equal (key, "op_id"))
        {
          g_autofree char *q = banger_quote (key);
          protocol_error (error, "Unknown key '%s' in a request", q);
          return NULL;
        }
    }

  req = g_new0 (BangerPrivRequest, 1);
  node = json_object_get_member (obj, "id");
  if (!member_is (node, G_TYPE_INT64) || json_node_get_int (node) < 0)
    {
      protocol_error (error, "The request 'id' must be an integer >= 0 (got %s)",
                      banger_priv_json_type_name (node));
      return NULL;
    }
  req->id = json_node_get_int (node);

  node = json_object_get_member (obj, "method");
  if (!member_is (node, G_TYPE_STRING))
    {
      protocol_error (error, "The request 'method' must be a string (got %s)",
                      banger_priv_json_type_name (node));
      return NULL;
    }
  if (!is_method_name (json_node_get_string (node)))
    {
      g_autofree char *q = banger_quote (json_node_get_string (node));
      protocol_error (error, "'%s' is not a method name ([a-z]+.[a-z0-9_]+, at most %d bytes)", q,
                      BANGER_PRIV_METHOD_MAX);
      return NULL;
    }
  req->method = g_strdup (json_node_get_string (node));

  node = json_object_get_member (obj, "params");
  if (node == NULL)
    req->params = json_object_new ();
  else if (JSON_NODE_HOLDS_OBJECT (node))
    req->params = json_object_ref (json_node_get_object (node));
  else
    {
      protocol_error (error, "The request 'params' must be an object (got %s)",
                      banger_priv_json_type_name (node));
      return NULL;
    }

  node = json_object_get_member (obj, "op_id");
  if (node != NULL)
    {
      if (!member_is (node, G_TYPE_STRING) || !is_op_id (json_node_get_string (node)))
        {
          protocol_error (error, "The request 'op_id' must be 1-%d bytes of [A-Za-z0-9._:-]",
                          BANGER_PRIV_OP_ID_MAX);
          return NULL;
        }
      req->op_id = g_strdup (json_node_get_string (node));
    }
  return g_steal_pointer (&req);
}

/* Serialise @builder's root and append the NUL terminator. */
static GBytes *
finish_message (JsonBuilder *builder)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = json_builder_get_root (builder);
  gsize len = 0;
  char *text;

  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, &len);
  /* json_generator_to_data() NUL-terminates: keep the terminator. */
  return g_bytes_new_take (text, len + 1);
}

GBytes *
banger_priv_request_serialize (gint64 id, const char *method, JsonObject *params,
                               const char *op_id)
{
  g_autoptr (JsonBuilder) b = json_builder_new_immutable ();
  g_autoptr (JsonNode) pnode = json_node_alloc ();
  g_autoptr (JsonObject) empty = json_object_new ();

  json_node_init_object (pnode, params ? params : empty);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_int_value (b, id);
  json_builder_set_member_name (b, "method");
  json_builder_add_string_value (b, method);
  json_builder_set_member_name (b, "params");
  json_builder_add_value (b, json_node_copy (pnode));
  if (op_id != NULL)
    {
      json_builder_set_member_name (b, "op_id");
      json_builder_add_string_value (b, op_id);
    }
  json_builder_end_object (b);
  return finish_message (b);
}

static void
add_id (JsonBuilder *b, gint64 id)
{
  json_builder_set_member_name (b, "id");
  if (id < 0)
    json_builder_add_null_value (b);
  else
    json_builder_add_int_value (b, id);
}

GBytes *
banger_priv_reply_result (gint64 id, JsonNode *result)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  add_id (b, id);
  json_builder_set_member_name (b, "result");
  if (result != NULL)
    json_builder_add_value (b, json_node_copy (result));
  else
    {
      json_builder_begin_object (b);
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
  return finish_message (b);
}

GBytes *
banger_priv_reply_error (gint64 id, const GError *error)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  const char *message = error && error->message ? error->message : "unknown error";
  g_autofree char *valid = g_utf8_make_valid (message, -1);

  json_builder_begin_object (b);
  add_id (b, id);
  json_builder_set_member_name (b, "error");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "code");
  json_builder_add_string_value (b, banger_error_to_name (banger_error_code_from_gerror (error)));
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, valid);
  json_builder_end_object (b);
  json_builder_end_object (b);
  return finish_message (b);
}

gboolean
banger_priv_reply_parse (const char *data, gsize len, gint64 *out_id, JsonObject **out_result,
                         GError **error)
{
  g_autoptr (JsonNode) root = banger_priv_json_parse (data, len, BANGER_PRIV_JSON_DEPTH_MAX, error);
  g_autoptr (GList) members = NULL;
  JsonObject *obj;
  JsonNode *id, *result, *err;

  if (root == NULL)
    return FALSE;
  if (!JSON_NODE_HOLDS_OBJECT (root))
    return protocol_error (error, "A reply must be a JSON object");
  obj = json_node_get_object (root);
  members = json_object_get_members (obj);
  for (GList *l = members; l; l = l->next)
    if (!g_str_equal (l->data, "id") && !g_str_equal (l->data, "result")
        && !g_str_equal (l->data, "error"))
      {
        g_autofree char *q = banger_quote (l->data);
        return protocol_error (error, "Unknown key '%s' in a reply", q);
      }
  id = json_object_get_member (obj, "id");
  if (id == NULL || !(JSON_NODE_HOLDS_NULL (id) || member_is (id, G_TYPE_INT64)))
    return protocol_error (error, "The reply 'id' must be an integer or null");
  result = json_object_get_member (obj, "result");
  err = json_object_get_member (obj, "error");
  if ((result == NULL) == (err == NULL))
    return protocol_error (error, "A reply has exactly one of 'result' and 'error'");
  if (out_id)
    *out_id = JSON_NODE_HOLDS_NULL (id) ? -1 : json_node_get_int (id);

  if (result != NULL)
    {
      if (!JSON_NODE_HOLDS_OBJECT (result))
        return protocol_error (error, "The reply 'result' must be an object");
      if (out_result)
        *out_result = json_object_ref (json_node_get_object (result));
      return TRUE;
    }
  else
    {
      JsonObject *eo;
      JsonNode *code, *message;
      BangerError ecode;

      if (!JSON_NODE_HOLDS_OBJECT (err))
        return protocol_error (error, "The reply 'error' must be an object");
      eo = json_node_get_object (err);
      code = json_object_get_member (eo, "code");
      message = json_object_get_member (eo, "message");
      if (json_object_get_size (eo) != 2 || !member_is (code, G_TYPE_STRING)
          || !member_is (message, G_TYPE_STRING))
        return protocol_error (error, "The reply 'error' must be {\"code\": string, \"message\": string}");
      banger_error_from_name (json_node_get_string (code), &ecode);
      g_set_error_literal (error, BANGER_ERROR, ecode, json_node_get_string (message));
      return FALSE;
    }
}
