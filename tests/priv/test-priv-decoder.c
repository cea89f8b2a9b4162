/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The privileged protocol's decoder, framing and executor, as tables of
 * messages: what is refused, with which error, whether the connection must
 * close, and that the handler never ran for a refused request. */
#include "config.h"

#include <string.h>

#include "banger-test.h"
#include "banger-error.h"
#include "banger-priv-executor.h"
#include "banger-priv-framer.h"
#include "banger-priv-json.h"
#include "banger-priv-message.h"
#include "priv-test-ops.h"

#define OK -1

typedef struct
{
  const char *name;
  const char *message; /* without the NUL */
  int code;            /* BangerError, or OK */
  gboolean fatal;      /* the connection must close */
} Case;

static const Case cases[] = {
  /* well-formed */
  { "minimal", "{\"id\":1,\"method\":\"priv.echo\",\"params\":{\"name\":\"a\"}}", OK, FALSE },
  { "all params", "{\"id\":7,\"method\":\"priv.echo\",\"params\":{\"name\":\"vm-1\",\"count\":100,\"flag\":true},\"op_id\":\"op-1.a:b_c\"}", OK, FALSE },
  { "whitespace", " \n{ \"id\" : 0 ,\t\"method\":\"priv.echo\" , \"params\" : { \"name\" : \"a\" } }\r\n ", OK, FALSE },
  { "escaped key same as name", "{\"id\":1,\"method\":\"priv.echo\",\"params\":{\"n\\u0061me\":\"a\"}}", OK, FALSE },
  { "count 0 lower bound", "{\"id\":1,\"method\":\"priv.echo\",\"params\":{\"name\":\"a\",\"count\":0}}", OK, FALSE },

  /* envelope faults: connection closes, id unknown */
  { "empty message", "", BANGER_ERROR_PROTOCOL, TRUE },
  { "not an object", "[1,2]", BANGER_ERROR_PROTOCOL, TRUE },
  { "string root", "\"x\"", BANGER_ERROR_PROTOCOL, TRUE },
  { "id missing", "{\"method\":\"priv.echo\",\"params\":{\"name\":\"a\"}}", BANGER_ERROR_PROTOCOL, TRUE },
  { "id string", "{\"id\":\"1\",\"method\":\"priv.echo\",\"params\":{\"name\":\"a\"}}", BANGER_ERROR_PROTOCOL, TRUE },
  { "id float", "{\"id\":1.0,\"method\":\"priv.echo\",\"params\":{\"name\":\"a\"}}", BANGER_ERROR_PROTOCOL, TRUE },
  { "id bool", "{\"id\":true,\"method\":\"priv.echo\",\"params\":{\"name\":\"a\"}}", BANGER_ERROR_PROTOCOL, TRUE },
  { "id null", "{\"id\":null,\"method\":\"priv.echo\",\"params\":{\"name\":\"a\"}}", BANGER_ERROR_PROTOCOL, TRUE },
  { "id negative", "{\"id\":-1,\"method\":\"priv.echo\",\"params\":{\"name\":\"a\"}}", BANGER_ERROR_PROTOCOL, TRUE },
  { "id overflow", "{\"id\":9223372036854775808,\"method\":\"priv.echo\",\"params\":{\"name\":\"a\"}}", BANGER_ERROR_PROTOCOL, TRUE },
  { "method missing", "{\"id\":1,\"params\":{}}", BANGER_ERROR_PROTOCOL, TRUE },
  { "method not string", "{\"id\":1,\"method\":5}", BANGER_ERROR_PROTOCOL, TRUE },
  { "method without prefix", "{\"id\":1,\"method\":\"echo\"}", BANGER_ERROR_PROTOCOL, TRUE },
  { "method uppercase", "{\"id\":1,\"method\":\"priv.Echo\"}", BANGER_ERROR_PROTOCOL, TRUE },
  { "method with dot", "{\"id\":1,\"method\":\"priv.echo.x\"}", BANGER_ERROR_PROTOCOL, TRUE },
  { "params array", "{\"id\":1,\"method\":\"priv.echo\",\"params\":[]}", BANGER_ERROR_PROTOCOL, TRUE },
  { "params null", "{\"id\":1,\"method\":\"priv.echo\",\"params\":null}", BANGER_ERROR_PROTOCOL, TRUE },
  { "op_id empty", "{\"id\":1,\"method\":\"priv.echo\",\"params\":{\"name\":\"a\"},\"op_id\":\"\"}", BANGER_ERROR_PROTOCOL, TRUE },
  { "op_id space", "{\"id\":1,\"method\":\"priv.echo\",\"params\":{\"name\":\"a\"},\"op_id\":\"a b\"}", BANGER_ERROR_PROTOCOL, TRUE },
  { "unknown top-level key", "{\"id\":1,\"method\":\"priv.echo\",\"params\":{\"name\":\"a\"},\"uid\":0}", BANGER_ERROR_PROTOCOL, TRUE },
  { "duplicate id", "{\"id\":1,\"id\":2,\"method\":\"priv.echo\",\"params\":{\"name\":\"a\"}}", BANGER_ERROR_PROTOCOL, TRUE },
  { "duplicate method", "{\"id\":1,\"method\":\"priv.fail\",\"method\":\"priv.echo\",\"params\":{\"name\":\"a\"}}", BANGER_ERROR_PROTOCOL, TRUE },
  { "duplicate param", "{\"id\":1,\"method\":\"priv.echo\",\"params\":{\"name\":\"a\",\"name\":\"b\"}}", BANGER_ERROR_PROTOCOL, TRUE },
  { "duplicate param by escape", "{\"id\":1,\"method\":\"priv.echo\",\"params\":{\"name\":\"a\",\"n\\u0061me\":\"b\"}}", BANGER_ERROR_PROTOCOL, TRUE },
  { "duplicate key deep", "{\"id\":1,\"method\":\"priv.echo\",\"params\":{\"name\":\"a\",\"x\":{\"y\":[{\"k\":1,\"k\":2}]}}}", BANGER_ERROR_PROTOCOL, TRUE },
  { "trailing garbage", "{\"id\":1,\"method\":\"priv.echo\",\"params\":{\"name\":\"a\"}} x", BANGER_ERROR_PROTOCOL, TRUE },
  { "two values in one frame", "{\"id\":1,\"method\":\"priv.echo\",\"params\":{\"name\":\"a\"}}{\"id\":2}", BANGER_ERROR_PROTOCOL, TRUE },
  { "trailing comma", "{\"id\":1,\"method\":\"priv.echo\",\"params\":{\"name\":\"a\",}}", BANGER_ERROR_PROTOCOL, TRUE },
  { "single quotes", "{'id':1}", BANGER_ERROR_PROTOCOL, TRUE },
  { "comment", "{\"id\":1 /* x */,\"method\":\"priv.echo\"}", BANGER_ERROR_PROTOCOL, TRUE },
  { "unterminated", "{\"id\":1,\"method\":\"priv.echo\"", BANGER_ERROR_PROTOCOL, TRUE },
  { "bad UTF-8 byte", "{\"id\":1,\"method\":\"priv.echo\",\"params\":{\"name\":\"\xff\"}}", BANGER_ERROR_PROTOCOL, TRUE },
  { "overlong UTF-8", "{\"id\":1,\"method\":\"priv.echo\",\"params\":{\"name\":\"\xc0\xaf\"}}", BANGER_ERROR_PROTOCOL, TRUE },
  { "UTF-8 surrogate", "{\"id\":1,\"method\":\"priv.echo\",\"params\":{\"name\":\"\xed\xa0\x80\"}}", BANGER_ERROR_PROTOCOL, TRUE },
  { "bad UTF-8 in key", "{\"id\":1,\"method\":\"priv.echo\",\"params\":{\"na\xfe\":\"a\"}}", BANGER_ERROR_PROTOCOL, TRUE },
  { "truncated UTF-8", "{\"id\":1,\"method\":\"priv.echo\",\"params\":{\"name\":\"\xe2\x82\"}}", BANGER_ERROR_PROTOCOL, TRUE },
  { "escaped NUL", "{\"id\":1,\"method\":\"priv.echo\",\"params\":{\"name\":\"a\\u0000b\"}}", BANGER_ERROR_PROTOCOL, TRUE },
  { "lone surrogate escape", "{\"id\":1,\"method\":\"priv.echo\",\"params\":{\"name\":\"\\ud800\"}}", BANGER_ERROR_PROTOCOL, TRUE },
  { "raw newline in string", "{\"id\":1,\"method\":\"priv.echo\",\"params\":{\"name\":\"a\nb\"}}", BANGER_ERROR_PROTOCOL, TRUE },
  { "leading zero", "{\"id\":01,\"method\":\"priv.echo\",\"params\":{\"name\":\"a\"}}", BANGER_ERROR_PROTOCOL, TRUE },
  { "plus sign", "{\"id\":+1,\"method\":\"priv.echo\",\"params\":{\"name\":\"a\"}}", BANGER_ERROR_PROTOCOL, TRUE },
  { "NaN", "{\"id\":NaN,\"method\":\"priv.echo\",\"params\":{\"name\":\"a\"}}", BANGER_ERROR_PROTOCOL, TRUE },
  { "huge exponent", "{\"id\":1,\"method\":\"priv.echo\",\"params\":{\"name\":\"a\",\"count\":1e999}}", BANGER_ERROR_PROTOCOL, TRUE },
  { "nesting 9", "{\"id\":1,\"method\":\"priv.echo\",\"params\":{\"name\":\"a\",\"x\":[[[[[[[1]]]]]]]}}", BANGER_ERROR_LIMIT_EXCEEDED, TRUE },

  /* per-method faults: answered with the id, connection stays open */
  { "nesting 8 reaches the params check", "{\"id\":1,\"method\":\"priv.echo\",\"params\":{\"name\":\"a\",\"x\":[[[[[[1]]]]]]}}", BANGER_ERROR_INVALID_ARGUMENT, FALSE },
  { "unknown method", "{\"id\":1,\"method\":\"priv.nope\",\"params\":{}}", BANGER_ERROR_UNSUPPORTED, FALSE },
  { "unknown param", "{\"id\":1,\"method\":\"priv.echo\",\"params\":{\"name\":\"a\",\"uid\":0}}", BANGER_ERROR_INVALID_ARGUMENT, FALSE },
  { "missing required", "{\"id\":1,\"method\":\"priv.echo\",\"params\":{\"count\":1}}", BANGER_ERROR_INVALID_ARGUMENT, FALSE },
  { "params absent = {} (name missing)", "{\"id\":1,\"method\":\"priv.echo\"}", BANGER_ERROR_INVALID_ARGUMENT, FALSE },
  { "int as string", "{\"id\":1,\"method\":\"priv.echo\",\"params\":{\"name\":\"a\",\"count\":\"5\"}}", BANGER_ERROR_INVALID_ARGUMENT, FALSE },
  { "int as float", "{\"id\":1,\"method\":\"priv.echo\",\"params\":{\"name\":\"a\",\"count\":5.0}}", BANGER_ERROR_INVALID_ARGUMENT, FALSE },
  { "int as exponent", "{\"id\":1,\"method\":\"priv.echo\",\"params\":{\"name\":\"a\",\"count\":5e0}}", BANGER_ERROR_INVALID_ARGUMENT, FALSE },
  { "int as bool", "{\"id\":1,\"method\":\"priv.echo\",\"params\":{\"name\":\"a\",\"count\":true}}", BANGER_ERROR_INVALID_ARGUMENT, FALSE },
  { "int as null", "{\"id\":1,\"method\":\"priv.echo\",\"params\":{\"name\":\"a\",\"count\":null}}", BANGER_ERROR_INVALID_ARGUMENT, FALSE },
  { "int above range", "{\"id\":1,\"method\":\"priv.echo\",\"params\":{\"name\":\"a\",\"count\":101}}", BANGER_ERROR_INVALID_ARGUMENT, FALSE },
  { "int below range", "{\"id\":1,\"method\":\"priv.echo\",\"params\":{\"name\":\"a\",\"count\":-1}}", BANGER_ERROR_INVALID_ARGUMENT, FALSE },
  { "int64 max", "{\"id\":1,\"method\":\"priv.echo\",\"params\":{\"name\":\"a\",\"count\":9223372036854775807}}", BANGER_ERROR_INVALID_ARGUMENT, FALSE },
  { "string as int", "{\"id\":1,\"method\":\"priv.echo\",\"params\":{\"name\":5}}", BANGER_ERROR_INVALID_ARGUMENT, FALSE },
  { "string as array", "{\"id\":1,\"method\":\"priv.echo\",\"params\":{\"name\":[\"a\"]}}", BANGER_ERROR_INVALID_ARGUMENT, FALSE },
  { "string as object", "{\"id\":1,\"method\":\"priv.echo\",\"params\":{\"name\":{}}}", BANGER_ERROR_INVALID_ARGUMENT, FALSE },
  { "bool as int", "{\"id\":1,\"method\":\"priv.echo\",\"params\":{\"name\":\"a\",\"flag\":1}}", BANGER_ERROR_INVALID_ARGUMENT, FALSE },
  { "bool as string", "{\"id\":1,\"method\":\"priv.echo\",\"params\":{\"name\":\"a\",\"flag\":\"true\"}}", BANGER_ERROR_INVALID_ARGUMENT, FALSE },
  { "string too long", "{\"id\":1,\"method\":\"priv.echo\",\"params\":{\"name\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}}", BANGER_ERROR_INVALID_ARGUMENT, FALSE },
  { "string empty", "{\"id\":1,\"method\":\"priv.echo\",\"params\":{\"name\":\"\"}}", BANGER_ERROR_INVALID_ARGUMENT, FALSE },
  { "string control char (escaped)", "{\"id\":1,\"method\":\"priv.echo\",\"params\":{\"name\":\"a\\nb\"}}", BANGER_ERROR_INVALID_ARGUMENT, FALSE },
  { "string validator refuses", "{\"id\":1,\"method\":\"priv.echo\",\"params\":{\"name\":\"Foo_1\"}}", BANGER_ERROR_INVALID_ARGUMENT, FALSE },
  { "handler error crosses typed", "{\"id\":1,\"method\":\"priv.fail\",\"params\":{\"code\":2}}", BANGER_ERROR_NOT_FOUND, FALSE },
};

static BangerPrivState *
test_state (void)
{
  g_autoptr (BangerInstallConfig) config = banger_install_config_new ();

  config->owner_uid = 4242;
  config->owner_gid = 4242;
  return banger_priv_state_new (config);
}

/* Run @message through the executor as @caller_uid; check the reply. */
static void
check_message (const char *name, const char *message, gsize len, uid_t caller_uid, int code,
               gboolean fatal, gint64 expect_id)
{
  g_autoptr (BangerPrivState) state = test_state ();
  BangerPeerCred caller = { caller_uid, 0, 1 };
  g_autoptr (GBytes) reply = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) result = NULL;
  gboolean got_fatal = FALSE;
  gint before = g_atomic_int_get (&priv_test_calls);
  gint64 id = G_MININT64;
  gsize rlen;
  const char *rdata;
  gboolean ok;

  reply = banger_priv_execute_message (priv_test_ops (), state, &caller, message, len, NULL,
                                       &got_fatal);
  rdata = g_bytes_get_data (reply, &rlen);
  ck_assert_msg (rlen > 0 && rdata[rlen - 1] == '\0', "%s: reply is not NUL-terminated", name);
  ok = banger_priv_reply_parse (rdata, rlen - 1, &id, &result, &error);
  if (code == OK)
    {
      ck_assert_msg (ok, "%s: expected success, got %s", name, error ? error->message : "?");
      ck_assert_int_eq (g_atomic_int_get (&priv_test_calls), before + 1);
    }
  else
    {
      ck_assert_msg (!ok, "%s: expected an error, got a result", name);
      ck_assert_msg (error->domain == BANGER_ERROR && error->code == code,
                     "%s: expected error %s, got %s: %s", name, banger_error_to_name (code),
                     banger_error_to_name (error->code), error->message);
      /* The handler never ran for a refused request (priv.fail's own error
       * is the only one produced by a handler). */
      if (g_strstr_len (message, len, "priv.fail") == NULL)
        ck_assert_msg (g_atomic_int_get (&priv_test_calls) == before,
                       "%s: the handler ran for a refused request", name);
    }
  ck_assert_msg (got_fatal == fatal, "%s: fatal=%d, expected %d", name, got_fatal, fatal);
  if (fatal)
    ck_assert_msg (id == -1, "%s: a fatal reply must carry id null", name);
  else if (expect_id >= 0)
    ck_assert_int_eq (id, expect_id);
}

START_TEST (test_cases)
{
  const Case *c = &cases[_i];
  check_message (c->name, c->message, strlen (c->message), 0, c->code, c->fatal, -1);
}
END_TEST

static char *
nested (guint depth, const char *open, const char *close)
{
  GString *s = g_string_new (NULL);
  for (guint i = 0; i < depth; i++)
    g_string_append (s, open);
  g_string_append (s, "1");
  for (guint i = 0; i < depth; i++)
    g_string_append (s, close);
  return g_string_free (s, FALSE);
}

START_TEST (test_nesting)
{
  struct
  {
    guint depth;
    gboolean ok;
  } t[] = { { 1, TRUE }, { 8, TRUE }, { 9, FALSE }, { 1000, FALSE }, { 100000, FALSE } };

  for (gsize i = 0; i < G_N_ELEMENTS (t); i++)
    {
      g_autofree char *arr = nested (t[i].depth, "[", "]");
      g_autoptr (GError) error = NULL;
      g_autoptr (JsonNode) node = banger_priv_json_parse (arr, strlen (arr), 8, &error);
      GString *obj = g_string_new (NULL);
      g_autoptr (JsonNode) node2 = NULL;
      g_autoptr (GError) error2 = NULL;

      ck_assert_msg ((node != NULL) == t[i].ok, "arrays depth %u", t[i].depth);
      if (!t[i].ok)
        banger_assert_error (error, BANGER_ERROR_LIMIT_EXCEEDED);
      for (guint d = 0; d < t[i].depth; d++)
        g_string_append (obj, "{\"a\":");
      g_string_append (obj, "1");
      for (guint d = 0; d < t[i].depth; d++)
        g_string_append_c (obj, '}');
      node2 = banger_priv_json_parse (obj->str, obj->len, 8, &error2);
      ck_assert_msg ((node2 != NULL) == t[i].ok, "objects depth %u", t[i].depth);
      if (!t[i].ok)
        banger_assert_error (error2, BANGER_ERROR_LIMIT_EXCEEDED);
      g_string_free (obj, TRUE);
    }
}
END_TEST

START_TEST (test_nesting_1000_request)
{
  g_autofree char *deep = nested (1000, "[", "]");
  g_autofree char *msg = g_strdup_printf (
      "{\"id\":3,\"method\":\"priv.echo\",\"params\":{\"name\":\"a\",\"x\":%s}}", deep);
  check_message ("nesting 1000", msg, strlen (msg), 0, BANGER_ERROR_LIMIT_EXCEEDED, TRUE, -1);
}
END_TEST

START_TEST (test_numbers)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) i = banger_priv_json_parse ("-0", 2, 8, NULL);
  g_autoptr (JsonNode) f = banger_priv_json_parse ("1.5e3", 5, 8, NULL);
  g_autoptr (JsonNode) min = banger_priv_json_parse ("-9223372036854775808", 20, 8, NULL);
  g_autoptr (JsonNode) under = banger_priv_json_parse ("-9223372036854775809", 20, 8, &error);
  g_autoptr (JsonNode) s = banger_priv_json_parse ("\"\\ud83d\\ude00\\n\"", 16, 8, NULL);

  ck_assert (i != NULL && json_node_get_value_type (i) == G_TYPE_INT64);
  ck_assert (f != NULL && json_node_get_value_type (f) == G_TYPE_DOUBLE);
  ck_assert (json_node_get_double (f) == 1500.0);
  ck_assert (min != NULL && json_node_get_int (min) == G_MININT64);
  ck_assert (under == NULL);
  banger_assert_error (error, BANGER_ERROR_PROTOCOL);
  ck_assert (s != NULL);
  ck_assert_str_eq (json_node_get_string (s), "\xf0\x9f\x98\x80\n");
}
END_TEST

START_TEST (test_reply_id_and_errors)
{
  const char *msg = "{\"id\":123456789012,\"method\":\"priv.fail\",\"params\":{\"code\":9}}";
  check_message ("id echoed", msg, strlen (msg), 0, BANGER_ERROR_PROTOCOL, FALSE, 123456789012);
  msg = "{\"id\":77,\"method\":\"priv.echo\",\"params\":{\"name\":\"a\"}}";
  check_message ("id echoed on success", msg, strlen (msg), 0, OK, FALSE, 77);
}
END_TEST

START_TEST (test_authorisation)
{
  const char *msg = "{\"id\":5,\"method\":\"priv.echo\",\"params\":{\"name\":\"a\"}}";

  /* owner (4242) and root may call; anybody else is refused before the
   * method is even looked up. */
  check_message ("owner", msg, strlen (msg), 4242, OK, FALSE, 5);
  check_message ("root", msg, strlen (msg), 0, OK, FALSE, 5);
  check_message ("stranger", msg, strlen (msg), 4243, BANGER_ERROR_PERMISSION_DENIED, FALSE, 5);
  msg = "{\"id\":5,\"method\":\"priv.nope\"}";
  check_message ("stranger, unknown method", msg, strlen (msg), 1000,
                 BANGER_ERROR_PERMISSION_DENIED, FALSE, 5);
}
END_TEST

/* ---------------------------------------------------------------- framing */

static char *
padded_request (gsize total)
{
  const char *head = "{\"id\":1,\"method\":\"priv.echo\",\"params\":{\"name\":\"a\"}}";
  char *s = g_malloc (total + 1);

  g_assert (total >= strlen (head));
  memcpy (s, head, strlen (head));
  memset (s + strlen (head), ' ', total - strlen (head));
  s[total] = '\0';
  return s;
}

START_TEST (test_frame_exact_limit)
{
  BangerPrivFramer f;
  g_autoptr (GPtrArray) msgs = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr (GError) error = NULL;
  g_autofree char *req = padded_request (BANGER_PRIV_MESSAGE_MAX);
  gsize len;
  const char *data;

  banger_priv_framer_init (&f, BANGER_PRIV_MESSAGE_MAX);
  /* exactly 64 KiB of JSON plus its NUL */
  ck_assert (banger_priv_framer_feed (&f, req, BANGER_PRIV_MESSAGE_MAX + 1, msgs, &error));
  ck_assert_int_eq (msgs->len, 1);
  data = g_bytes_get_data (msgs->pdata[0], &len);
  ck_assert_uint_eq (len, BANGER_PRIV_MESSAGE_MAX);
  check_message ("64 KiB exactly", data, len, 0, OK, FALSE, 1);
  ck_assert_uint_le (f.alloc, BANGER_PRIV_MESSAGE_MAX + 1);
  banger_priv_framer_clear (&f);
}
END_TEST

START_TEST (test_frame_over_limit)
{
  BangerPrivFramer f;
  g_autoptr (GPtrArray) msgs = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr (GError) error = NULL;
  g_autofree char *req = padded_request (BANGER_PRIV_MESSAGE_MAX + 1);

  banger_priv_framer_init (&f, BANGER_PRIV_MESSAGE_MAX);
  /* 64 KiB + 1 without a NUL yet: refused as soon as the byte past the
   * bound arrives, before the NUL and without a bigger buffer. */
  ck_assert (!banger_priv_framer_feed (&f, req, BANGER_PRIV_MESSAGE_MAX + 1, msgs, &error));
  banger_assert_error (error, BANGER_ERROR_LIMIT_EXCEEDED);
  ck_assert_int_eq (msgs->len, 0);
  ck_assert_uint_le (f.alloc, BANGER_PRIV_MESSAGE_MAX + 1);
  banger_priv_framer_clear (&f);
}
END_TEST

START_TEST (test_frame_endless)
{
  BangerPrivFramer f;
  g_autoptr (GPtrArray) msgs = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr (GError) error = NULL;
  char chunk[4096];
  gboolean ok = TRUE;
  gsize fed = 0;

  memset (chunk, 'x', sizeof chunk);
  banger_priv_framer_init (&f, BANGER_PRIV_MESSAGE_MAX);
  while (ok && fed < 10 * 1024 * 1024)
    {
      ok = banger_priv_framer_feed (&f, chunk, sizeof chunk, msgs, &error);
      fed += sizeof chunk;
    }
  ck_assert (!ok);
  banger_assert_error (error, BANGER_ERROR_LIMIT_EXCEEDED);
  ck_assert_uint_le (fed, BANGER_PRIV_MESSAGE_MAX + sizeof chunk);
  ck_assert_uint_le (f.alloc, BANGER_PRIV_MESSAGE_MAX + 1);
  banger_priv_framer_clear (&f);
}
END_TEST

START_TEST (test_frame_two_in_one_read)
{
  BangerPrivFramer f;
  g_autoptr (GPtrArray) msgs = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  const char two[] = "{\"a\":1}\0{\"b\":2}\0{\"c\"";
  gsize len;

  banger_priv_framer_init (&f, BANGER_PRIV_MESSAGE_MAX);
  ck_assert (banger_priv_framer_feed (&f, two, sizeof two - 1, msgs, NULL));
  ck_assert_int_eq (msgs->len, 2);
  ck_assert (memcmp (g_bytes_get_data (msgs->pdata[0], &len), "{\"a\":1}", 7) == 0 && len == 7);
  ck_assert (memcmp (g_bytes_get_data (msgs->pdata[1], &len), "{\"b\":2}", 7) == 0 && len == 7);
  ck_assert (banger_priv_framer_has_partial (&f));
  ck_assert (banger_priv_framer_feed (&f, ":3}", 4, msgs, NULL)); /* with its NUL */
  ck_assert_int_eq (msgs->len, 3);
  ck_assert (memcmp (g_bytes_get_data (msgs->pdata[2], &len), "{\"c\":3}", 7) == 0 && len == 7);
  ck_assert (!banger_priv_framer_has_partial (&f));
  banger_priv_framer_clear (&f);
}
END_TEST

START_TEST (test_frame_split_reads)
{
  BangerPrivFramer f;
  g_autoptr (GPtrArray) msgs = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  const char *req = "{\"id\":9,\"method\":\"priv.echo\",\"params\":{\"name\":\"é-ß\"}}";
  gsize n = strlen (req) + 1;
  gsize len;
  const char *data;

  banger_priv_framer_init (&f, BANGER_PRIV_MESSAGE_MAX);
  /* one byte per read, splitting the multi-byte characters too */
  for (gsize i = 0; i < n; i++)
    {
      ck_assert (banger_priv_framer_feed (&f, req + i, 1, msgs, NULL));
      ck_assert_int_eq (msgs->len, i + 1 == n ? 1 : 0);
    }
  data = g_bytes_get_data (msgs->pdata[0], &len);
  ck_assert_uint_eq (len, n - 1);
  /* 'é-ß' is not a VM name: decoded intact, refused by the validator */
  check_message ("split", data, len, 0, BANGER_ERROR_INVALID_ARGUMENT, FALSE, 9);
  banger_priv_framer_clear (&f);
}
END_TEST

START_TEST (test_in_process_execute)
{
  /* The daemon-as-root path: no bytes, no socket, the same checks. */
  g_autoptr (BangerPrivState) state = test_state ();
  BangerPeerCred root = { 0, 0, 1 };
  g_autoptr (JsonObject) params = json_object_new ();
  g_autoptr (JsonNode) result = NULL;
  g_autoptr (GError) error = NULL;

  json_object_set_string_member (params, "name", "vm1");
  json_object_set_double_member (params, "count", 3.0);
  result = banger_priv_execute (priv_test_ops (), state, &root, "priv.echo", params, NULL, &error);
  ck_assert (result == NULL);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  json_object_set_int_member (params, "count", 3);
  result = banger_priv_execute (priv_test_ops (), state, &root, "priv.echo", params, NULL, &error);
  ck_assert_msg (result != NULL, "%s", error ? error->message : "");
  ck_assert_int_eq (json_object_get_int_member (json_node_get_object (result), "count"), 3);
}
END_TEST

START_TEST (test_install_config)
{
  const char *good = "[install]\nowner-user=alice\nowner-uid=1000\nowner-gid=1000\n"
                     "qemu=/usr/bin/qemu-system-x86_64\n[helper]\nmessage-timeout-ms=250\n";
  struct
  {
    const char *name;
    const char *text;
  } bad[] = {
    { "root owner", "[install]\nowner-uid=0\nowner-gid=0\n" },
    { "no owner", "[install]\nruntime-dir=/run/banger\n" },
    { "unknown key", "[install]\nowner-uid=1\nowner-gid=1\nfirecraker=/x\n" },
    { "unknown group", "[install]\nowner-uid=1\nowner-gid=1\n[extra]\n" },
    { "relative path", "[install]\nowner-uid=1\nowner-gid=1\nstate-dir=var/lib\n" },
    { "dotdot path", "[install]\nowner-uid=1\nowner-gid=1\nqemu=/usr/../tmp/q\n" },
    { "bad table", "[install]\nowner-uid=1\nowner-gid=1\nnft-table=inet filter\n" },
    { "negative uid", "[install]\nowner-uid=-5\nowner-gid=1\n" },
    { "zero cap", "[install]\nowner-uid=1\nowner-gid=1\n[helper]\nmax-connections-per-uid=0\n" },
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerInstallConfig) c = banger_install_config_load_from_data (good, -1, &error);
  g_autoptr (BangerInstallConfig) again = NULL;
  g_autofree char *text = NULL;

  ck_assert_msg (c != NULL, "%s", error ? error->message : "");
  ck_assert_uint_eq (c->owner_uid, 1000);
  ck_assert_str_eq (c->owner_user, "alice");
  ck_assert_str_eq (c->socket_path, "/run/banger/bangerd-root.sock");
  ck_assert_uint_eq (c->message_timeout_ms, 250);
  ck_assert_ptr_null (c->firecracker_path);
  text = banger_install_config_to_data (c);
  again = banger_install_config_load_from_data (text, -1, &error);
  ck_assert_msg (again != NULL, "round trip: %s", error ? error->message : "");
  ck_assert_str_eq (again->qemu_path, "/usr/bin/qemu-system-x86_64");
  ck_assert_uint_eq (again->owner_gid, 1000);
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) e = NULL;
      g_autoptr (BangerInstallConfig) b = banger_install_config_load_from_data (bad[i].text, -1, &e);
      ck_assert_msg (b == NULL, "accepted: %s", bad[i].name);
      banger_assert_error (e, BANGER_ERROR_INVALID_ARGUMENT);
    }
}
END_TEST

/* issue 8: the install id, the VM network and the per-owner caps */
START_TEST (test_install_config_owner_limits)
{
  const char *good = "[install]\nowner-uid=1000\nowner-gid=1000\ninstall-id=a1b2c3\n"
                     "vm-network=10.200.0.0/16\n[helper]\nmax-vmms=8\nmax-taps=9\n"
                     "max-bridges=2\nmax-nat-elements=10\n";
  const char *bad[] = {
    "vm-network=127.0.0.0/8",   /* loopback */
    "vm-network=169.254.0.0/16", /* link-local */
    "vm-network=224.0.0.0/8",   /* multicast */
    "vm-network=240.0.0.0/8",   /* reserved */
    "vm-network=0.0.0.0/8",     /* this network */
    "vm-network=0.0.0.0/0",     /* everything */
    "vm-network=96.0.0.0/3",    /* wider than /8 */
    "vm-network=10.0.0.1/16",   /* host bits */
    "vm-network=10.0.0.0/31",   /* no room */
    "vm-network=10.0.0.0",      /* no prefix */
    "vm-network=10.0.0.0/016",  /* not canonical */
    "vm-network=10.0.00.0/16",
    "vm-network=",
    "install-id=ABC",
    "install-id=123456789",
    "install-id=a-b",
  };
  const char *bad_helper[] = {
    "max-vmms=0", "max-vmms=4097", "max-taps=0", "max-bridges=0", "max-bridges=1025",
    "max-nat-elements=0", "max-nat-elements=65537",
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerInstallConfig) c = banger_install_config_load_from_data (good, -1, &error);
  g_autoptr (BangerInstallConfig) d = NULL;
  g_autoptr (BangerInstallConfig) again = NULL;
  g_autofree char *text = NULL;

  ck_assert_msg (c != NULL, "%s", error ? error->message : "");
  ck_assert_str_eq (c->install_id, "a1b2c3");
  ck_assert_str_eq (c->vm_network, "10.200.0.0/16");
  ck_assert_uint_eq (c->max_vmms, 8);
  ck_assert_uint_eq (c->max_taps, 9);
  ck_assert_uint_eq (c->max_bridges, 2);
  ck_assert_uint_eq (c->max_nat_elements, 10);
  text = banger_install_config_to_data (c);
  again = banger_install_config_load_from_data (text, -1, &error);
  ck_assert_msg (again != NULL, "round trip: %s", error ? error->message : "");
  ck_assert_str_eq (again->install_id, "a1b2c3");
  ck_assert_str_eq (again->vm_network, "10.200.0.0/16");
  ck_assert_uint_eq (again->max_nat_elements, 10);
  /* the defaults */
  d = banger_install_config_load_from_data ("[install]\nowner-uid=1\nowner-gid=1\n", -1, &error);
  ck_assert_ptr_nonnull (d);
  ck_assert_ptr_null (d->install_id);
  ck_assert_str_eq (d->vm_network, BANGER_INSTALL_DEFAULT_VM_NETWORK);
  ck_assert_uint_eq (d->max_vmms, BANGER_INSTALL_DEFAULT_MAX_VMMS);
  ck_assert_uint_eq (d->max_taps, BANGER_INSTALL_DEFAULT_MAX_TAPS);
  ck_assert_uint_eq (d->max_bridges, BANGER_INSTALL_DEFAULT_MAX_BRIDGES);
  ck_assert_uint_eq (d->max_nat_elements, BANGER_INSTALL_DEFAULT_MAX_NAT_ELEMENTS);
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *t = g_strdup_printf ("[install]\nowner-uid=1\nowner-gid=1\n%s\n", bad[i]);
      g_autoptr (GError) e = NULL;
      g_autoptr (BangerInstallConfig) b = banger_install_config_load_from_data (t, -1, &e);
      ck_assert_msg (b == NULL, "accepted: %s", bad[i]);
      banger_assert_error (e, BANGER_ERROR_INVALID_ARGUMENT);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (bad_helper); i++)
    {
      g_autofree char *t = g_strdup_printf ("[install]\nowner-uid=1\nowner-gid=1\n[helper]\n%s\n",
                                            bad_helper[i]);
      g_autoptr (GError) e = NULL;
      g_autoptr (BangerInstallConfig) b = banger_install_config_load_from_data (t, -1, &e);
      ck_assert_msg (b == NULL, "accepted: %s", bad_helper[i]);
      banger_assert_error (e, BANGER_ERROR_INVALID_ARGUMENT);
    }
}
END_TEST

static Suite *
decoder_suite (void)
{
  Suite *s = suite_create ("priv-decoder");
  TCase *tc = tcase_create ("decoder");

  tcase_add_loop_test (tc, test_cases, 0, G_N_ELEMENTS (cases));
  tcase_add_test (tc, test_nesting);
  tcase_add_test (tc, test_nesting_1000_request);
  tcase_add_test (tc, test_numbers);
  tcase_add_test (tc, test_reply_id_and_errors);
  tcase_add_test (tc, test_authorisation);
  tcase_add_test (tc, test_frame_exact_limit);
  tcase_add_test (tc, test_frame_over_limit);
  tcase_add_test (tc, test_frame_endless);
  tcase_add_test (tc, test_frame_two_in_one_read);
  tcase_add_test (tc, test_frame_split_reads);
  tcase_add_test (tc, test_in_process_execute);
  tcase_add_test (tc, test_install_config);
  tcase_add_test (tc, test_install_config_owner_limits);
  suite_add_tcase (s, tc);
  return s;
}

BANGER_TEST_MAIN (decoder_suite)
