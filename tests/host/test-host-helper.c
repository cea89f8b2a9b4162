/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The host operations end to end through the real bangerd-root: the helper
 * binary is started on a socket with an install config naming temp dirs, a
 * test-private cgroup root and the fake VMM, inside a network namespace the
 * test makes; the test calls it with BangerPrivClient (typed errors over the
 * wire).  It also restarts the helper while a VMM runs: the VMM survives and
 * the new helper adopts it. */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "banger.h"
#include "banger-host-names.h"
#include "banger-install-config.h"
#include "banger-priv-client.h"
#include "banger-test.h"
#include "host-test-util.h"

typedef struct
{
  BangerPrivState *state;  /* only for its dirs and cgroup root */
  char *config_path;
  char *socket_path;
  GSubprocess *helper;
} Env;

static void
die_with_test (gpointer data)
{
  /* a failing test must not leave a helper behind */
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

static JsonObject *call (const char *socket_path, const char *method, const char *params_json,
                         GError **error);

static void
start_helper (Env *env)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  gboolean up = FALSE;

  unlink (env->socket_path);
  g_subprocess_launcher_set_child_setup (launcher, die_with_test, NULL, NULL);
  env->helper = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("BANGER_TEST_HELPER"),
                                             "-c", env->config_path, NULL);
  g_assert_no_error (error);
  /* the socket file exists from bind(); wait until a call goes through */
  for (int i = 0; i < 500 && !up; i++)
    {
      g_autoptr (JsonObject) r = NULL;
      if (g_file_test (env->socket_path, G_FILE_TEST_EXISTS))
        r = call (env->socket_path, "priv.status", "{}", NULL);
      up = r != NULL;
      if (!up)
        g_usleep (10 * 1000);
    }
  ck_assert_msg (up, "the helper did not start");
}

static void
stop_helper (Env *env)
{
  g_subprocess_send_signal (env->helper, SIGTERM);
  g_subprocess_wait (env->helper, NULL, NULL);
  g_clear_object (&env->helper);
}

static JsonObject *
call (const char *socket_path, const char *method, const char *params_json, GError **error)
{
  g_autoptr (BangerPrivClient) client = banger_priv_client_new (socket_path);
  g_autoptr (JsonParser) parser = json_parser_new ();

  g_assert (json_parser_load_from_data (parser, params_json, -1, NULL));
  return banger_priv_client_call_sync (client, method,
                                       json_node_get_object (json_parser_get_root (parser)),
                                       "test-host-helper", NULL, error);
}

static JsonObject *
ok (Env *env, const char *method, const char *params_json)
{
  g_autoptr (GError) error = NULL;
  JsonObject *r = call (env->socket_path, method, params_json, &error);
  ck_assert_msg (r != NULL, "%s %s: %s", method, params_json, error ? error->message : "");
  return r;
}

static void
refused (Env *env, const char *method, const char *params_json, int code)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) r = call (env->socket_path, method, params_json, &error);
  ck_assert_msg (r == NULL, "%s %s was accepted", method, params_json);
  banger_assert_error (error, code);
}

static gboolean
gone (pid_t pid)
{
  for (int i = 0; i < 300; i++)
    {
      waitpid (pid, NULL, WNOHANG); /* we are the subreaper of the orphaned VMM */
      if (kill (pid, 0) < 0)
        return TRUE;
      g_usleep (10 * 1000);
    }
  return FALSE;
}

START_TEST (test_through_bangerd_root)
{
  Env env = { 0 };
  g_autoptr (BangerInstallConfig) config = banger_install_config_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *tap = banger_host_tap_name ("e2e-1", NULL);
  g_autofree char *p = NULL;
  JsonObject *r;
  pid_t vmm;

  host_test_netns_enter ();
  ck_assert_int_eq (prctl (PR_SET_CHILD_SUBREAPER, 1), 0);
  env.state = host_test_state_new (TRUE);
  env.config_path = g_build_filename (env.state->state_dir, "install.conf", NULL);
  env.socket_path = g_build_filename (env.state->runtime_dir, "bangerd-root.sock", NULL);
  config->owner_uid = HOST_TEST_OWNER_UID;
  config->owner_gid = HOST_TEST_OWNER_GID;
  g_free (config->runtime_dir);
  config->runtime_dir = g_strdup (env.state->runtime_dir);
  g_free (config->state_dir);
  config->state_dir = g_strdup (env.state->state_dir);
  config->firecracker_path = g_strdup (g_getenv ("BANGER_TEST_FAKE_VMM"));
  config->cgroup_root = g_strdup (env.state->cgroup_root);
  config->socket_path = g_strdup (env.socket_path);
  g_free (config->vm_network);
  config->vm_network = g_strdup (HOST_TEST_VM_NETWORK);
  ck_assert_msg (banger_install_config_save (config, env.config_path, &error), "%s",
                 error ? error->message : "");
  start_helper (&env);

  r = ok (&env, "priv.status", "{}");
  ck_assert (json_object_get_boolean_member (r, "tun"));
  ck_assert (json_object_get_boolean_member (r, "firecracker"));
  json_object_unref (r);

  json_object_unref (ok (&env, "priv.create_bridge", "{\"name\":\"bngbr9\",\"address\":\"10.99.0.1/24\"}"));
  r = ok (&env, "priv.create_tap", "{\"vm_id\":\"e2e-1\",\"bridge\":\"bngbr9\"}");
  ck_assert_str_eq (json_object_get_string_member (r, "name"), tap);
  json_object_unref (r);
  json_object_unref (ok (&env, "priv.nat_enable", "{\"vm_id\":\"e2e-1\",\"guest_ip\":\"10.99.0.2\"}"));
  r = ok (&env, "priv.launch_vmm", "{\"vm_id\":\"e2e-1\",\"vmm\":\"firecracker\"}");
  vmm = (pid_t) json_object_get_int_member (r, "pid");
  json_object_unref (r);
  ck_assert_int_eq (kill (vmm, 0), 0);

  /* refusals over the wire, typed */
  refused (&env, "priv.create_bridge", "{\"name\":\"eth0\"}", BANGER_ERROR_INVALID_ARGUMENT);
  refused (&env, "priv.signal_process", "{\"pid\":1,\"signal\":\"KILL\"}", BANGER_ERROR_INVALID_ARGUMENT);
  p = g_strdup_printf ("{\"pid\":%d,\"signal\":\"KILL\"}", (int) getpid ());
  refused (&env, "priv.signal_process", p, BANGER_ERROR_PERMISSION_DENIED); /* the caller */
  g_free (p);
  p = g_strdup_printf ("{\"pid\":%s,\"signal\":\"KILL\"}", g_subprocess_get_identifier (env.helper));
  refused (&env, "priv.signal_process", p, BANGER_ERROR_PERMISSION_DENIED); /* the helper */
  g_free (p);
  p = g_strdup_printf ("{\"pid\":%d,\"signal\":\"STOP\"}", (int) vmm);
  refused (&env, "priv.signal_process", p, BANGER_ERROR_INVALID_ARGUMENT);
  g_free (p);
  refused (&env, "priv.dm_snapshot_remove", "{\"vm_id\":\"e2e-1\"}",
           g_file_test ("/dev/mapper/control", G_FILE_TEST_EXISTS) ? BANGER_ERROR_FAILED
                                                                   : BANGER_ERROR_UNSUPPORTED);

  /* restart the helper: the VMM keeps running, the new helper adopts it */
  stop_helper (&env);
  g_usleep (50 * 1000);
  ck_assert_int_eq (kill (vmm, 0), 0);
  start_helper (&env);
  p = g_strdup_printf ("{\"pid\":%d,\"signal\":\"TERM\"}", (int) vmm);
  r = ok (&env, "priv.signal_process", p);
  ck_assert_str_eq (json_object_get_string_member (r, "vm_id"), "e2e-1");
  json_object_unref (r);
  ck_assert (gone (vmm));

  r = ok (&env, "priv.cleanup_vm", "{\"vm_id\":\"e2e-1\"}");
  {
    JsonArray *a = json_object_get_array_member (r, "removed");
    g_autoptr (GString) s = g_string_new (NULL);
    for (guint i = 0; i < json_array_get_length (a); i++)
      g_string_append_printf (s, "%s ", json_array_get_string_element (a, i));
    ck_assert_str_eq (s->str, "cgroup tap nat run_dir ");
  }
  json_object_unref (r);
  json_object_unref (ok (&env, "priv.delete_bridge", "{\"name\":\"bngbr9\"}"));
  stop_helper (&env);
  host_test_state_free (env.state);
  g_free (env.config_path);
  g_free (env.socket_path);
}
END_TEST

static Suite *
helper_suite (void)
{
  Suite *s = suite_create ("host-helper");
  TCase *tc = tcase_create ("bangerd-root");

  tcase_add_unchecked_fixture (tc, host_test_vmm_fixture_setup, host_test_vmm_fixture_teardown);
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_through_bangerd_root);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *sr;
  int failed;

  if (!host_test_is_root ())
    return banger_test_skip_suite ("needs root (runs bangerd-root)");
  if (g_getenv ("BANGER_TEST_HELPER") == NULL || g_getenv ("BANGER_TEST_FAKE_VMM") == NULL)
    return banger_test_skip_suite ("run through meson (BANGER_TEST_HELPER, BANGER_TEST_FAKE_VMM)");
  g_setenv ("G_DEBUG", "fatal-warnings,fatal-criticals", TRUE);
  sr = srunner_create (helper_suite ());
  srunner_set_tap (sr, "-");
  srunner_run_all (sr, CK_SILENT);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? 0 : 1;
}
