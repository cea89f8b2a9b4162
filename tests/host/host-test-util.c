/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "banger-cgroup.h"
#include "banger-install-config.h"
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

/* ---------------------------------------------------- a real bangerd-root */

static void
helper_dies_with_test (gpointer data)
{
  /* a failing test must not leave a helper behind */
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static HostTestHelper *
helper_start (const char *firecracker_path, const char *jailer_path, gboolean runtime_tmpfs,
              guint max_connections_per_uid)
{
  g_autoptr (BangerInstallConfig) config = banger_install_config_new ();
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_autoptr (GError) error = NULL;
  HostTestHelper *h = g_new0 (HostTestHelper, 1);
  const char *binary = g_getenv ("BANGER_TEST_HELPER");
  gboolean up = FALSE;

  ck_assert_msg (binary != NULL, "BANGER_TEST_HELPER is not set (run through meson)");
  h->state = host_test_state_new (TRUE);
  h->config_path = g_build_filename (h->state->state_dir, "install.conf", NULL);
  h->socket_path = g_build_filename (h->state->runtime_dir, "bangerd-root.sock", NULL);
  config->owner_uid = HOST_TEST_OWNER_UID;
  config->owner_gid = HOST_TEST_OWNER_GID;
  g_free (config->runtime_dir);
  config->runtime_dir = g_strdup (h->state->runtime_dir);
  g_free (config->state_dir);
  config->state_dir = g_strdup (h->state->state_dir);
  config->firecracker_path = g_strdup (firecracker_path);
  config->jailer_path = g_strdup (jailer_path);
  if (runtime_tmpfs)
    {
      /* another filesystem than the state dir's, as /run is for a real install */
      ck_assert_msg (mount ("banger-test-run", h->state->runtime_dir, "tmpfs", MS_NOSUID | MS_NODEV,
                            "mode=0755,size=16m")
                         == 0,
                     "tmpfs: %s", g_strerror (errno));
      h->runtime_tmpfs = TRUE;
    }
  config->cgroup_root = g_strdup (h->state->cgroup_root);
  config->socket_path = g_strdup (h->socket_path);
  if (max_connections_per_uid > 0)
    config->max_connections_per_uid = max_connections_per_uid;
  ck_assert_msg (banger_install_config_save (config, h->config_path, &error), "%s",
                 error ? error->message : "");
  g_subprocess_launcher_set_child_setup (launcher, helper_dies_with_test, NULL, NULL);
  h->process = g_subprocess_launcher_spawn (launcher, &error, binary, "-c", h->config_path, NULL);
  g_assert_no_error (error);
  for (int i = 0; i < 500 && !up; i++)
    {
      int fd = host_test_helper_connect (h->socket_path, 0, 0);
      if (fd >= 0)
        {
          g_autoptr (JsonObject) r = host_test_rpc (fd, "priv.status", "{}", 2000, NULL);
          up = r != NULL && host_test_rpc_error (r) == NULL;
          close (fd);
        }
      if (!up)
        g_usleep (10 * 1000);
    }
  ck_assert_msg (up, "the helper did not start");
  return h;
}

HostTestHelper *
host_test_helper_start (const char *firecracker_path, guint max_connections_per_uid)
{
  return helper_start (firecracker_path, NULL, FALSE, max_connections_per_uid);
}

HostTestHelper *
host_test_helper_start_jailed (const char *firecracker_path, const char *jailer_path)
{
  return helper_start (firecracker_path, jailer_path, TRUE, 0);
}

void
host_test_helper_free (HostTestHelper *h, gboolean *out_killed)
{
  gboolean killed = FALSE;

  if (h == NULL)
    return;
  if (h->process != NULL)
    {
      g_subprocess_send_signal (h->process, SIGTERM);
      for (int i = 0; i < 500 && g_subprocess_get_identifier (h->process) != NULL; i++)
        g_usleep (10 * 1000);
      if (g_subprocess_get_identifier (h->process) != NULL)
        {
          killed = TRUE;
          g_subprocess_force_exit (h->process);
        }
      g_subprocess_wait (h->process, NULL, NULL);
      g_clear_object (&h->process);
    }
  if (h->runtime_tmpfs)
    umount2 (h->state->runtime_dir, MNT_DETACH);
  host_test_state_free (h->state);
  g_free (h->config_path);
  g_free (h->socket_path);
  g_free (h);
  if (out_killed != NULL)
    *out_killed = killed;
}

int
host_test_helper_connect (const char *socket_path, uid_t uid, gid_t gid)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int r, errsv;

  if (fd < 0 || strlen (socket_path) >= sizeof addr.sun_path)
    {
      if (fd >= 0)
        close (fd);
      return -1;
    }
  strcpy (addr.sun_path, socket_path);
  /* Raw syscalls change this thread's credentials only (glibc's wrappers
   * would change every thread's). */
  if (uid != 0)
    {
      ck_assert_int_eq (syscall (SYS_setresgid, -1, gid, -1), 0);
      ck_assert_int_eq (syscall (SYS_setresuid, -1, uid, -1), 0);
    }
  r = connect (fd, (struct sockaddr *) &addr, sizeof addr);
  errsv = errno;
  if (uid != 0)
    {
      ck_assert_int_eq (syscall (SYS_setresuid, -1, 0, -1), 0);
      ck_assert_int_eq (syscall (SYS_setresgid, -1, 0, -1), 0);
    }
  if (r < 0)
    {
      close (fd);
      errno = errsv;
      return -1;
    }
  return fd;
}

JsonObject *
host_test_rpc (int fd, const char *method, const char *params_json, int timeout_ms,
               double *out_ms)
{
  static gint next_id = 1;
  g_autofree char *msg = g_strdup_printf ("{\"id\":%d,\"method\":\"%s\",\"params\":%s}",
                                          g_atomic_int_add (&next_id, 1), method, params_json);
  gsize len = strlen (msg) + 1; /* with its NUL */
  g_autoptr (GByteArray) reply = g_byte_array_new ();
  g_autoptr (JsonParser) parser = json_parser_new ();
  gint64 start = g_get_monotonic_time ();
  gint64 deadline = start + (gint64) timeout_ms * 1000;
  JsonNode *root;

  for (gsize off = 0; off < len;)
    {
      ssize_t n = send (fd, msg + off, len - off, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return NULL;
      off += (gsize) n;
    }
  for (;;)
    {
      struct pollfd pfd = { fd, POLLIN, 0 };
      gint64 left = deadline - g_get_monotonic_time ();
      guint8 buf[4096];
      ssize_t n;
      guint8 *nul;

      if (left <= 0 || poll (&pfd, 1, (int) ((left + 999) / 1000)) == 0)
        return NULL; /* timed out */
      n = recv (fd, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return NULL;
      g_byte_array_append (reply, buf, (guint) n);
      nul = memchr (reply->data, 0, reply->len);
      if (nul != NULL)
        {
          if (out_ms != NULL)
            *out_ms = (double) (g_get_monotonic_time () - start) / 1000.0;
          if (!json_parser_load_from_data (parser, (const char *) reply->data,
                                           (gssize) (nul - reply->data), NULL))
            return NULL;
          break;
        }
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;
  return json_object_ref (json_node_get_object (root));
}

const char *
host_test_rpc_error (JsonObject *reply)
{
  JsonObject *e;

  if (!json_object_has_member (reply, "error"))
    return NULL;
  e = json_object_get_object_member (reply, "error");
  return e != NULL ? json_object_get_string_member (e, "code") : "?";
}
