/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "banger-cgroup.h"
#include "host-test-util.h"

gboolean
host_test_is_root (void)
{
  return geteuid () == 0;
}

static char cgroup_root_name[512];

static char *
make_dir (const char *tmpl)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp (tmpl, &error);

  g_assert_no_error (error);
  g_assert (chmod (dir, 0755) == 0);
  return dir;
}

BangerPrivState *
host_test_state_new (gboolean with_cgroup)
{
  g_autoptr (BangerInstallConfig) config = banger_install_config_new ();
  BangerPrivState *state;

  config->owner_uid = HOST_TEST_OWNER_UID;
  config->owner_gid = HOST_TEST_OWNER_GID;
  g_free (config->runtime_dir);
  config->runtime_dir = make_dir ("banger-run-XXXXXX");
  g_free (config->state_dir);
  config->state_dir = make_dir ("banger-state-XXXXXX");
  g_free (config->nft_table);
  config->nft_table = g_strdup ("banger");
  g_free (config->vm_network);
  config->vm_network = g_strdup (HOST_TEST_VM_NETWORK);
  if (with_cgroup)
    {
      g_autofree char *mount = banger_cgroup2_find_mount (NULL, NULL);
      g_assert (mount != NULL);
      g_free (config->cgroup_root);
      config->cgroup_root = cgroup_root_name[0]
                                ? g_strdup (cgroup_root_name)
                                : g_strdup_printf ("%s/banger-test-%d.slice", mount, (int) getpid ());
    }
  state = banger_priv_state_new (config);
  return state;
}

static void
rm_rf (const char *path)
{
  const char *argv[] = { "/bin/rm", "-rf", "--one-file-system", path, NULL };
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL, NULL,
                NULL);
}

static void
rmdir_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        rmdir_tree (child);
    }
  rmdir (path);
}

void
host_test_state_free (BangerPrivState *state)
{
  if (state == NULL)
    return;
  rm_rf (state->runtime_dir);
  rm_rf (state->state_dir);
  if (state->cgroup_root != NULL)
    rmdir_tree (state->cgroup_root);
  banger_priv_state_free (state);
}

static JsonObject *
parse_params (const char *params_json)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;

  if (!json_parser_load_from_data (parser, params_json ? params_json : "{}", -1, &error))
    g_error ("bad test params %s: %s", params_json, error->message);
  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

JsonNode *
host_test_call_as (BangerPrivState *state, pid_t caller_pid, const char *method,
                   const char *params_json, GError **error)
{
  BangerPeerCred caller = { 0, 0, caller_pid };
  g_autoptr (JsonObject) params = parse_params (params_json);

  return banger_priv_execute (banger_priv_ops_table (), state, &caller, method, params, NULL,
                              error);
}

JsonNode *
host_test_call (BangerPrivState *state, const char *method, const char *params_json,
                GError **error)
{
  return host_test_call_as (state, 0, method, params_json, error);
}

gboolean
host_test_call_handler (BangerPrivState *state, pid_t caller_pid, const char *method,
                        const char *params_json, GError **error)
{
  BangerPeerCred caller = { 0, 0, caller_pid };
  g_autoptr (JsonObject) params = parse_params (params_json);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  const BangerPrivOp *op = banger_priv_ops_lookup (method);
  gboolean ok;

  g_assert (op != NULL);
  json_builder_begin_object (b);
  ok = op->handler (state, &caller, params, b, NULL, error);
  json_builder_end_object (b);
  return ok;
}

char *
host_test_run (const char *const *argv, int *out_status)
{
  g_autofree char *out = NULL;
  g_autoptr (GError) error = NULL;
  int status = -1;

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                     NULL, NULL, &out, NULL, &status, &error))
    return NULL;
  if (out_status)
    *out_status = status;
  if (!g_spawn_check_wait_status (status, NULL))
    return NULL;
  return g_steal_pointer (&out);
}

static char *
netns_name (void)
{
  /* Unchecked fixtures run in the parent; the tests in forked children:
   * both agree on the parent's pid (getppid in the child). */
  static char name[64];
  return name;
}

void
host_test_netns_add (void)
{
  char *name = netns_name ();
  const char *argv[] = { "ip", "netns", "add", name, NULL };

  g_autofree char *out = NULL;

  g_snprintf (name, 64, "banger-test-%d", (int) getpid ());
  out = host_test_run (argv, NULL);
  g_assert (out != NULL);
}

void
host_test_netns_del (void)
{
  const char *argv[] = { "ip", "netns", "delete", netns_name (), NULL };
  g_free (host_test_run (argv, NULL));
}

void
host_test_netns_enter (void)
{
  g_autofree char *path = g_strdup_printf ("/run/netns/%s", netns_name ());
  int fd = open (path, O_RDONLY | O_CLOEXEC);

  ck_assert_msg (fd >= 0, "cannot open %s", path);
  ck_assert_int_eq (setns (fd, CLONE_NEWNET), 0);
  close (fd);
}

void
host_test_cgroup_setup (void)
{
  g_autofree char *mount = banger_cgroup2_find_mount (NULL, NULL);

  if (mount != NULL)
    g_snprintf (cgroup_root_name, sizeof cgroup_root_name, "%s/banger-test-%d.slice", mount,
                (int) getpid ());
}

void
host_test_cgroup_teardown (void)
{
  g_autofree char *kill_path = NULL;
  int fd;

  if (cgroup_root_name[0] == '\0')
    return;
  /* cgroup.kill on the root kills every process in the whole subtree */
  kill_path = g_build_filename (cgroup_root_name, "cgroup.kill", NULL);
  fd = open (kill_path, O_WRONLY | O_CLOEXEC);
  if (fd >= 0)
    {
      if (write (fd, "1", 1) != 1)
        g_printerr ("# cannot kill the leftovers in %s\n", cgroup_root_name);
      close (fd);
    }
  for (int i = 0; i < 200; i++)
    {
      g_autofree char *events = NULL;
      g_autofree char *ev_path = g_build_filename (cgroup_root_name, "cgroup.events", NULL);
      if (!g_file_get_contents (ev_path, &events, NULL, NULL) || strstr (events, "populated 0"))
        break;
      g_usleep (10 * 1000);
    }
  rmdir_tree (cgroup_root_name);
  {
    g_autofree char *evil = g_strdup_printf ("%s-evil", cgroup_root_name);
    rmdir_tree (evil);
  }
}

void
host_test_vmm_fixture_setup (void)
{
  host_test_netns_add ();
  host_test_cgroup_setup ();
}

void
host_test_vmm_fixture_teardown (void)
{
  host_test_cgroup_teardown ();
  host_test_netns_del ();
}
