/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The libcheck side of the e2e kit (see banger-e2e-test.h). */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "banger-e2e-test.h"

BangerE2eEnv *
banger_e2e_test_env_new (const BangerE2eOptions *options, gboolean no_daemon)
{
  g_autoptr (GError) error = NULL;
  BangerE2eEnv *env = banger_e2e_env_new (options, &error);

  ck_assert_msg (env != NULL, "e2e env %s: %s", options->prefix, error ? error->message : "?");
  if (!no_daemon)
    ck_assert_msg (banger_e2e_env_start_daemon (env, &error), "bangerd: %s",
                   error ? error->message : "?");
  return env;
}

BangerE2eEnv *
banger_e2e_test_env_root (const char *prefix, const char *subnet)
{
  const BangerE2eOptions options = {
    .prefix = prefix,
    .deploy = BANGER_E2E_DEPLOY_ROOT,
    .subnet = subnet,
  };

  return banger_e2e_test_env_new (&options, FALSE);
}

void
banger_e2e_test_start_daemon (BangerE2eEnv *env)
{
  g_autoptr (GError) error = NULL;

  ck_assert_msg (banger_e2e_env_start_daemon (env, &error), "bangerd: %s",
                 error ? error->message : "?");
}

void
banger_e2e_test_crash_and_restart (BangerE2eEnv *env)
{
  banger_e2e_env_kill_daemon (env);
  banger_e2e_test_start_daemon (env);
}

void
banger_e2e_run_ok (const char *const *argv)
{
  g_autoptr (GError) error = NULL;

  ck_assert_msg (banger_kit_run (argv, NULL, &error), "%s: %s", argv[0],
                 error ? error->message : "?");
}

/* ----------------------------------------------------------------- CLI */

static int
cli_run (BangerE2eEnv *env, char **out, char **err, GPtrArray *argv)
{
  g_autoptr (GError) error = NULL;
  int rc = banger_e2e_env_run (env, env->cli_in_ns, (const char *const *)argv->pdata, out, err,
                               &error);

  ck_assert_msg (rc >= 0, "spawn %s: %s", (char *)argv->pdata[0], error ? error->message : "?");
  return rc;
}

int
banger_e2e_cli_va (BangerE2eEnv *env, char **out, char **err, va_list ap)
{
  g_autoptr (GPtrArray) argv = banger_e2e_cli_argv_va (env, ap);

  return cli_run (env, out, err, argv);
}

int
banger_e2e_cli (BangerE2eEnv *env, char **out, char **err, ...)
{
  va_list ap;
  int rc;

  va_start (ap, err);
  rc = banger_e2e_cli_va (env, out, err, ap);
  va_end (ap);
  return rc;
}

int
banger_e2e_cli_v (BangerE2eEnv *env, char **out, char **err, const char *const *args)
{
  g_autoptr (GPtrArray) argv = banger_e2e_cli_argv (env, args);

  return cli_run (env, out, err, argv);
}

void
banger_e2e_test_import_guest (BangerE2eEnv *env, const char *kernel, const char *initrd,
                              const char *rootfs)
{
  g_autofree char *err = NULL;
  int rc;

  rc = banger_e2e_cli (env, NULL, &err, "kernel", "add", "k", "--kernel", kernel, "--initrd",
                       initrd, NULL);
  ck_assert_msg (rc == 0, "kernel add: %s", err);
  g_clear_pointer (&err, g_free);
  rc = banger_e2e_cli (env, NULL, &err, "image", "import", "guest", "--rootfs", rootfs, NULL);
  ck_assert_msg (rc == 0, "image import: %s", err);
}

/* ---------------------------------------------------------------- JSON */

JsonNode *
banger_e2e_parse_json (const char *text)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  g_autoptr (GError) error = NULL;

  ck_assert_msg (json_parser_load_from_data (p, text, -1, &error), "JSON '%s': %s", text,
                 error ? error->message : "?");
  return json_node_copy (json_parser_get_root (p));
}

char *
banger_e2e_error_code_of (const char *json_out)
{
  g_autoptr (JsonNode) n = banger_e2e_parse_json (json_out);
  JsonObject *e = json_object_get_object_member (json_node_get_object (n), "error");

  ck_assert_msg (e != NULL, "no error object in '%s'", json_out);
  return g_strdup (json_object_get_string_member (e, "code"));
}

/* ---------------------------------------------------------- the host */

guint
banger_e2e_count_links (BangerE2eEnv *env, const char *prefix)
{
  g_autofree char *out = NULL;
  g_autofree char *needle = g_strdup_printf (": %s", prefix);
  const char *argv[] = { "ip", "-n", env->ns, "-o", "link", "show", NULL };
  g_auto (GStrv) lines = NULL;
  guint n = 0;

  ck_assert (banger_kit_run (argv, &out, NULL));
  lines = g_strsplit (out, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    if (strstr (lines[i], needle) != NULL)
      n++;
  return n;
}

guint
banger_e2e_count_taps (BangerE2eEnv *env)
{
  return banger_e2e_count_links (env, "bngt");
}

guint
banger_e2e_count_subdirs (const char *path)
{
  g_autoptr (GDir) d = g_dir_open (path, 0, NULL);
  const char *name;
  guint n = 0;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (path, name, NULL);
      if (g_file_test (p, G_FILE_TEST_IS_DIR))
        n++;
    }
  return n;
}

/* ---------------------------------------------------------------- main */

void
banger_e2e_tcase_add_cleanup (TCase *tc)
{
  tcase_add_checked_fixture (tc, NULL, banger_e2e_kit_sweep);
  tcase_add_unchecked_fixture (tc, NULL, banger_e2e_kit_sweep);
}

int
banger_e2e_test_run (Suite *suite, enum fork_status fork_status)
{
  SRunner *sr;
  int failed;

  /* before Check forks: the children's ledger is the runner's */
  banger_e2e_kit_init ();
  sr = srunner_create (suite);
  g_setenv ("G_DEBUG", "fatal-warnings,fatal-criticals", TRUE);
  srunner_set_fork_status (sr, fork_status);
  srunner_set_tap (sr, "-");
  srunner_run_all (sr, CK_SILENT);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  banger_e2e_kit_sweep ();
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
