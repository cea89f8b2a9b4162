/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A strict recursive-descent JSON parser (see banger-priv-json.h).  The
 * recursion is bounded by max_depth, so a hostile message cannot exhaust the
 * stack; every fault is reported with its byte offset. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "banger-error.h"
#include "banger-priv-json.h"
#include "banger-quote.h"

typedef struct
{
  const char *start;
  const char *p;
  const char *end;
  guint max_depth;
  GError **error;
} Parser;

static JsonNode *parse_value (Parser *ps, guint depth);

static gboolean
fail (Parser *ps, BangerError code, const char *what)
{
  g_set_error (ps->error, BANGER_ERROR, code, "Malformed message at byte %" G_GSIZE_FORMAT ": %s",
               (gsize) (ps->p - ps->start), what);
  return FALSE;
}

static void
skip_ws (Parser *ps)
{
  while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
    ps->p++;
}

static gboolean
expect_literal (Parser *ps, const char *lit)
{
  gsize n = strlen (lit);

  if ((gsize) (ps->end - ps->p) < n || memcmp (ps->p, lit, n) != 0)
    return fail (ps, BANGER_ERROR_PROTOCOL, "unexpected token");
  ps->p += n;
  return TRUE;
}

static int
hex_value (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static gboolean
read_hex4 (Parser *ps, gunichar *out)
{
  gunichar v = 0;

  if (ps->end - ps->p < 4)
    return fail (ps, BANGER_ERROR_PROTOCOL, "truncated \\u escape");
  for (int i = 0; i < 4; i++)
    {
      int h = hex_value (ps->p[i]);
      if (h < 0)
        return fail (ps, BANGER_ERROR_PROTOCOL, "bad \\u escape");
      v = (v << 4) | (gunichar) h;
    }
  ps->p += 4;
  *out = v;
  return TRUE;
}

/* At a '"'; returns the unescaped string (valid UTF-8, no NUL). */
static char *
parse_string (Parser *ps)
{
  g_autoptr (GString) s = g_string_new (NULL);

  ps->p++; /* '"' */
  while (ps->p < ps->end)
    {
      unsigned char c = (unsigned char) *ps->p;

      if (c == '"')
        {
          ps->p++;
          return g_string_free (g_steal_pointer (&s), FALSE);
        }
      if (c < 0x20)
        {
          fail (ps, BANGER_ERROR_PROTOCOL, "control character in a string");
          return NULL;
        }
      if (c != '\\')
        {
          /* The whole message was UTF-8-validated: copy the run up to the
           * next quote, backslash or control character in one go. */
          const char *run = ps->p;
          while (ps->p < ps->end && *ps->p != '"' && *ps->p != '\\'
                 && (unsigned char) *ps->p >= 0x20)
            ps->p++;
          g_string_append_len (s, run, ps->p - run);
          continue;
        }
      ps->p++;
      if (ps->p >= ps->end)
        break;
      switch (*ps->p++)
        {
        case '"': g_string_append_c (s, '"'); break;
        case '\\': g_string_append_c (s, '\\'); break;
        case '/': g_string_append_c (s, '/'); break;
        case 'b': g_string_append_c (s, '\b'); break;
        case 'f': g_string_append_c (s, '\f'); break;
        case 'n': g_string_append_c (s, '\n'); break;
        case 'r': g_string_append_c (s, '\r'); break;
        case 't': g_string_append_c (s, '\t'); break;
        case 'u':
          {
            gunichar u, lo;

            if (!read_hex4 (ps, &u))
              return NULL;
            if (u == 0)
              {
                fail (ps, BANGER_ERROR_PROTOCOL, "\\u0000 is not allowed in a string");
                return NULL;
              }
            if (u >= 0xDC00 && u <= 0xDFFF)
              {
                fail (ps, BANGER_ERROR_PROTOCOL, "unpaired low surrogate escape");
                return NULL;
              }
            if (u >= 0xD800 && u <= 0xDBFF)
              {
                if (ps->end - ps->p < 2 || ps->p[0] != '\\' || ps->p[1] != 'u')
                  {
                    fail (ps, BANGER_ERROR_PROTOCOL, "unpaired high surrogate escape");
                    return NULL;
                  }
                ps->p += 2;
                if (!read_hex4 (ps, &lo))
                  return NULL;
                if (lo < 0xDC00 || lo > 0xDFFF)
                  {
                    fail (ps, BANGER_ERROR_PROTOCOL, "unpaired high surrogate escape");
                    return NULL;
                  }
                u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
              }
            g_string_append_unichar (s, u);
            break;
          }
        default:
          ps->p--;
          fail (ps, BANGER_ERROR_PROTOCOL, "unknown escape in a string");
          return NULL;
        }
    }
  fail (ps, BANGER_ERROR_PROTOCOL, "unterminated string");
  return NULL;
}

static gboolean
is_digit (Parser *ps)
{
  return ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9';
}

static JsonNode *
parse_number (Parser *ps)
{
  const char *begin = ps->p;
  gboolean integral = TRUE;
  g_autofree char *text = NULL;

  if (*ps->p == '-')
    ps->p++;
  if (!is_digit (ps))
    {
      fail (ps, BANGER_ERROR_PROTOCOL, "bad number");
      return NULL;
    }
  if (*ps->p == '0')
    {
      ps->p++;
      if (is_digit (ps))
        {
          fail (ps, BANGER_ERROR_PROTOCOL, "leading zero in a number");
          return NULL;
        }
    }
  else
    while (is_digit (ps))
      ps->p++;
  if (ps->p < ps->end && *ps->p == '.')
    {
      integral = FALSE;
      ps->p++;
      if (!is_digit (ps))
        {
          fail (ps, BANGER_ERROR_PROTOCOL, "bad fraction in a number");
          return NULL;
        }
      while (is_digit (ps))
        ps->p++;
    }
  if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E'))
    {
      integral = FALSE;
      ps->p++;
      if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
        ps->p++;
      if (!is_digit (ps))
        {
          fail (ps, BANGER_ERROR_PROTOCOL, "bad exponent in a number");
          return NULL;
        }
      while (is_digit (ps))
        ps->p++;
    }

  text = g_strndup (begin, ps->p - begin);
  if (integral)
    {
      gint64 v;
      if (!g_ascii_string_to_signed (text, 10, G_MININT64, G_MAXINT64, &v, NULL))
        {
          fail (ps, BANGER_ERROR_PROTOCOL, "integer out of range");
          return NULL;
        }
      return json_node_init_int (json_node_alloc (), v);
    }
  else
    {
      double d = g_ascii_strtod (text, NULL);
      if (!isfinite (d))
        {
          fail (ps, BANGER_ERROR_PROTOCOL, "number out of range");
          return NULL;
        }
      return json_node_init_double (json_node_alloc (), d);
    }
}

static JsonNode *
parse_object (Parser *ps, guint depth)
{
  g_autoptr (JsonObject) obj = json_object_new ();

  ps->p++; /* '{' */
  skip_ws (ps);
  if (ps->p < ps->end && *ps->p == '}')
    {
      ps->p++;
      return json_node_init_object (json_node_alloc (), obj);
    }
  for (;;)
    {
      g_autofree char *key = NULL;
      JsonNode *value;

      skip_ws (ps);
      if (ps->p >= ps->end || *ps->p != '"')
        {
          fail (ps, BANGER_ERROR_PROTOCOL, "expected a key");
          return NULL;
        }
      key = parse_string (ps);
      if (key == NULL)
        return NULL;
      if (json_object_has_member (obj, key))
        {
          g_autofree char *q = banger_quote (key);
          g_autofree char *what = g_strdup_printf ("duplicate key '%s'", q);
          fail (ps, BANGER_ERROR_PROTOCOL, what);
          return NULL;
        }
      skip_ws (ps);
      if (ps->p >= ps->end || *ps->p != ':')
        {
          fail (ps, BANGER_ERROR_PROTOCOL, "expected ':'");
          return NULL;
        }
      ps->p++;
      value = parse_value (ps, depth);
      if (value == NULL)
        return NULL;
      json_object_set_member (obj, key, value);
      skip_ws (ps);
      if (ps->p < ps->end && *ps->p == ',')
        {
          ps->p++;
          continue;
        }
      if (ps->p < ps->end && *ps->p == '}')
        {
          ps->p++;
          return json_node_init_object (json_node_alloc (), obj);
        }
      fail (ps, BANGER_ERROR_PROTOCOL, "expected ',' or '}'");
      return NULL;
    }
}

static JsonNode *
parse_array (Parser *ps, guint depth)
{
  g_autoptr (JsonArray) arr = json_array_new ();

  ps->p++; /* '[' */
  skip_ws (ps);
  if (ps->p < ps->end && *ps->p == ']')
    {
      ps->p++;
      return json_node_init_array (json_node_alloc (), arr);
    }
  for (;;)
    {
      JsonNode *value = parse_value (ps, depth);

      if (value == NULL)
        return NULL;
      json_array_add_element (arr, value);
      skip_ws (ps);
      if (ps->p < ps->end && *ps->p == ',')
        {
          ps->p++;
          continue;
        }
      if (ps->p < ps->end && *ps->p == ']')
        {
          ps->p++;
          return json_node_init_array (json_node_alloc (), arr);
        }
      fail (ps, BANGER_ERROR_PROTOCOL, "expected ',' or ']'");
      return NULL;
    }
}

/* @depth: how many containers enclose this value. */
static JsonNode *
parse_value (Parser *ps, guint depth)
{
  skip_ws (ps);
  if (ps->p >= ps->end)
    {
      fail (ps, BANGER_ERROR_PROTOCOL, "unexpected end of message");
      return NULL;
    }
  switch (*ps->p)
    {
    case '{':
    case '[':
      if (depth + 1 > ps->max_depth)
        {
          g_autofree char *what
              = g_strdup_printf ("nesting deeper than %u levels", ps->max_depth);
          fail (ps, BANGER_ERROR_LIMIT_EXCEEDED, what);
          return NULL;
        }
      return *ps->p == '{' ? parse_object (ps, depth + 1) : parse_array (ps, depth + 1);
    case '"':
      {
        char *s = parse_string (ps);
        JsonNode *node;
        if (s == NULL)
          return NULL;
        node = json_node_init_string (json_node_alloc (), s);
        g_free (s);
        return node;
      }
    case 't':
      return expect_literal (ps, "true") ? json_node_init_boolean (json_node_alloc (), TRUE) : NULL;
    case 'f':
      return expect_literal (ps, "false") ? json_node_init_boolean (json_node_alloc (), FALSE)
                                          : NULL;
    case 'n':
      return expect_literal (ps, "null") ? json_node_init_null (json_node_alloc ()) : NULL;
    default:
      if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))
        return parse_number (ps);
      fail (ps, BANGER_ERROR_PROTOCOL, "unexpected character");
      return NULL;
    }
}

JsonNode *
banger_priv_json_parse (const char *data, gsize len, guint max_depth, GError **error)
{
  Parser ps = { data, data, data + len, max_depth, error };
  const char *bad = NULL;
  JsonNode *root;

  g_return_val_if_fail (data != NULL || len == 0, NULL);

  /* g_utf8_validate_len() refuses NUL bytes, overlong forms, surrogates and
   * code points above U+10FFFF. */
  if (!g_utf8_validate_len (data, len, &bad))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
                   "Malformed message at byte %" G_GSIZE_FORMAT ": not valid UTF-8",
                   (gsize) (bad - data));
      return NULL;
    }
  root = parse_value (&ps, 0);
  if (root == NULL)
    return NULL;
  skip_ws (&ps);
  if (ps.p != ps.end)
    {
      fail (&ps, BANGER_ERROR_PROTOCOL, "trailing data after the JSON value");
      json_node_unref (root);
      return NULL;
    }
  return root;
}

const char *
banger_priv_json_type_name (JsonNode *node)
{
  if (node == NULL)
    return "nothing";
  switch (json_node_get_node_type (node))
    {
    case JSON_NODE_OBJECT:
      return "object";
    case JSON_NODE_ARRAY:
      return "array";
    case JSON_NODE_NULL:
      return "null";
    case JSON_NODE_VALUE:
      switch (json_node_get_value_type (node))
        {
        case G_TYPE_STRING:
          return "string";
        case G_TYPE_INT64:
          return "integer";
        case G_TYPE_DOUBLE:
          return "number";
        case G_TYPE_BOOLEAN:
          return "boolean";
        default:
          return "value";
        }
    default:
      return "value";
    }
}
