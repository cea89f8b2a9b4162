/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Table tests for the validators the root helper relies on.  The tables live
 * in tests/data/validator-cases.json and are shared with the Python GI test,
 * so C and Python check exactly the same cases. */
#include "config.h"

#include <json-glib/json-glib.h>

#include "banger.h"
#include "banger-test.h"

static JsonObject *cases;

static void
load_cases (void)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (TEST_DATA_DIR, "validator-cases.json", NULL);

  if (!json_parser_load_from_file (parser, path, &error))
    g_error ("cannot load %s: %s", path, error->message);
  cases = json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

static const char *
str_or_null (JsonArray *a, guint i)
{
  JsonNode *n = json_array_get_element (a, i);
  return JSON_NODE_HOLDS_NULL (n) ? NULL : json_node_get_string (n);
}

static JsonArray *
table (const char *name)
{
  if (cases == NULL)
    load_cases ();
  return json_object_get_array_member (cases, name);
}

START_TEST (test_path_is_under_table)
{
  JsonArray *t = table ("path_is_under");
  guint n = json_array_get_length (t);
  ck_assert_uint_gt (n, 20);
  for (guint i = 0; i < n; i++)
    {
      JsonArray *row = json_array_get_array_element (t, i);
      const char *path = str_or_null (row, 0);
      const char *root = str_or_null (row, 1);
      gboolean expected = json_array_get_boolean_element (row, 2);
      ck_assert_msg (banger_path_is_under (path, root) == expected,
                     "banger_path_is_under('%s', '%s') should be %d", path ? path : "(null)",
                     root ? root : "(null)", expected);
    }
}
END_TEST

START_TEST (test_api_sock_table)
{
  JsonArray *t = table ("api_sock");
  guint n = json_array_get_length (t);
  for (guint i = 0; i < n; i++)
    {
      JsonArray *row = json_array_get_array_element (t, i);
      JsonArray *args = json_array_get_array_element (row, 0);
      const char *expected = str_or_null (row, 1);
      g_autoptr (GPtrArray) argv = g_ptr_array_new ();
      g_autofree char *got = NULL;
      g_autofree char *joined = NULL;

      for (guint j = 0; j < json_array_get_length (args); j++)
        g_ptr_array_add (argv, (gpointer) json_array_get_string_element (args, j));
      g_ptr_array_add (argv, NULL);
      got = banger_extract_firecracker_api_sock ((const char *const *) argv->pdata);
      joined = g_strjoinv ("|", (char **) argv->pdata);
      ck_assert_msg (g_strcmp0 (got, expected) == 0, "row %u [%s]: got '%s', expected '%s'", i,
                     joined, got ? got : "(null)", expected ? expected : "(null)");
    }
  ck_assert_ptr_null (banger_extract_firecracker_api_sock (NULL));
}
END_TEST

START_TEST (test_signal_table)
{
  JsonArray *t = table ("signal");
  guint n = json_array_get_length (t);
  for (guint i = 0; i < n; i++)
    {
      JsonArray *row = json_array_get_array_element (t, i);
      const char *name = str_or_null (row, 0);
      JsonNode *expected = json_array_get_element (row, 1);
      g_autoptr (GError) error = NULL;
      int signo = -12345;
      gboolean ok = banger_validate_signal_name (name, &signo, &error);

      if (JSON_NODE_HOLDS_NULL (expected))
        {
          ck_assert_msg (!ok, "signal '%s' must be refused", name ? name : "(null)");
          banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
          ck_assert_int_eq (signo, -12345); /* untouched on failure */
          ck_assert_ptr_nonnull (strstr (error->message, "Signal '"));
        }
      else
        {
          ck_assert_msg (ok, "signal '%s' must be accepted: %s", name,
                         error ? error->message : "");
          ck_assert_int_eq (signo, (int) json_node_get_int (expected));
        }
    }
}
END_TEST

START_TEST (test_signal_message_quotes_input)
{
  g_autoptr (GError) error = NULL;
  ck_assert (!banger_validate_signal_name ("SIGKILL ", NULL, &error));
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  ck_assert_str_eq (error->message, "Signal 'SIGKILL ' is not allowed (allowed: TERM, KILL, INT, "
                                    "HUP, QUIT, USR1, USR2, ABRT, with or without 'SIG')");
  g_clear_error (&error);
  ck_assert (!banger_validate_signal_name ("T\xc3\xa9RM\n", NULL, &error));
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  ck_assert_ptr_nonnull (strstr (error->message, "'T\\xc3\\xa9RM\\x0a'"));
}
END_TEST

static void
run_bool_table (const char *name, gboolean (*fn) (const char *, GError **))
{
  JsonArray *t = table (name);
  guint n = json_array_get_length (t);
  for (guint i = 0; i < n; i++)
    {
      JsonArray *row = json_array_get_array_element (t, i);
      const char *value = str_or_null (row, 0);
      gboolean expected = json_array_get_boolean_element (row, 1);
      g_autoptr (GError) error = NULL;
      gboolean ok = fn (value, &error);

      ck_assert_msg (ok == expected, "%s('%s') should be %d", name, value ? value : "(null)",
                     expected);
      if (!ok)
        banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
      else
        ck_assert_ptr_null (error);
    }
}

START_TEST (test_vm_name_table)
{
  run_bool_table ("vm_name", banger_validate_vm_name);
}
END_TEST

START_TEST (test_ifname_table)
{
  run_bool_table ("ifname", banger_validate_ifname);
}
END_TEST

START_TEST (test_vm_name_message)
{
  g_autoptr (GError) error = NULL;
  ck_assert (!banger_validate_vm_name ("Foo_1", &error));
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  ck_assert_str_eq (error->message,
                    "VM name 'Foo_1' is not a DNS label (lowercase letters, digits, '-')");
}
END_TEST

Suite *validators_suite (void);

Suite *
validators_suite (void)
{
  Suite *s = suite_create ("validators");
  TCase *tc = tcase_create ("tables");

  tcase_add_test (tc, test_path_is_under_table);
  tcase_add_test (tc, test_api_sock_table);
  tcase_add_test (tc, test_signal_table);
  tcase_add_test (tc, test_signal_message_quotes_input);
  tcase_add_test (tc, test_vm_name_table);
  tcase_add_test (tc, test_ifname_table);
  tcase_add_test (tc, test_vm_name_message);
  suite_add_tcase (s, tc);
  return s;
}

BANGER_TEST_MAIN (validators_suite)
