/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The e2e kit (see banger-e2e-kit.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger-cgroup.h"
#include "banger-e2e-cleanup.h"
#include "banger-e2e-kit.h"
#include "banger-pidfd.h"

#ifndef BANGERD_PATH
#error "BANGERD_PATH must name the bangerd this build makes"
#endif
#ifndef BANGER_CLI_PATH
#error "BANGER_CLI_PATH must name the banger this build makes"
#endif

#define DEFAULT_LISTEN_TIMEOUT_MS 5000
#define STOP_TIMEOUT_MS 10000

/* the env a sweep frees first (this process's) */
static BangerE2eEnv *live;

void
banger_e2e_kit_init (void)
{
  banger_e2e_cleanup_init ();
}

void
banger_e2e_kit_sweep (void)
{
  if (live != NULL && live->owner == getpid ())
    banger_e2e_env_free (live); /* sweeps */
  else
    banger_e2e_cleanup_sweep ();
}

/* ------------------------------------------------------------ children */

/* Only the network namespace: `ip netns exec` would also remount /sys and
 * hide the cgroup2 mount.  And die with us. */
static void
netns_child_setup (gpointer data)
{
  if (setns (GPOINTER_TO_INT (data), CLONE_NEWNET) < 0)
    _exit (126);
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

/* The same, as the kit helper's owner (uid 65534). */
static void
netns_owner_child_setup (gpointer data)
{
  if (setns (GPOINTER_TO_INT (data), CLONE_NEWNET) < 0 || setgroups (0, NULL) < 0
      || setresgid (BANGER_KIT_OWNER_GID, BANGER_KIT_OWNER_GID, BANGER_KIT_OWNER_GID) < 0
      || setresuid (BANGER_KIT_OWNER_UID, BANGER_KIT_OWNER_UID, BANGER_KIT_OWNER_UID) < 0)
    _exit (126);
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

static void
die_with_parent_child_setup (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

/* --------------------------------------------------------------- setup */

static gboolean
set_errno_error (GError **error, const char *what, const char *path)
{
  int errsv = errno;
  g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errsv), "%s '%s': %s", what, path,
               g_strerror (errsv));
  return FALSE;
}

static gboolean
mkdir_for (const char *path, int mode, gboolean owner, GError **error)
{
  if (g_mkdir (path, mode) < 0
      || (owner && chown (path, BANGER_KIT_OWNER_UID, BANGER_KIT_OWNER_GID) < 0))
    return set_errno_error (error, "cannot make", path);
  return TRUE;
}

/* The guest kit's namespace with its bangerd-root; bangerd's dirs (its
 * state dir must be under the helper's, the owner's). */
static gboolean
setup_helper (BangerE2eEnv *env, const char *prefix, const char *install, GString *conf,
              GError **error)
{
  const char *socket_path;

  env->kit = banger_kit_netns_new (prefix, error);
  if (env->kit == NULL)
    return FALSE;
  if (!banger_e2e_cleanup_note_netns (env->kit->name, error)
      || !banger_e2e_cleanup_note_cgroup (env->kit->cgroup_root, error)
      || !banger_e2e_cleanup_note_dir (env->kit->dir, error)
      || !banger_e2e_cleanup_note_process (
          (GPid)g_ascii_strtoll (g_subprocess_get_identifier (env->kit->helper), NULL, 10), error))
    return FALSE;
  env->ns = g_strdup (env->kit->name);
  if (install != NULL)
    {
      /* a helper of its own install: its cgroup root, dirs, socket */
      env->helper = banger_kit_netns_add_helper (env->kit, install, error);
      if (env->helper == NULL
          || !banger_e2e_cleanup_note_cgroup (env->helper->cgroup_root, error)
          || !banger_e2e_cleanup_note_process (
              (GPid)g_ascii_strtoll (g_subprocess_get_identifier (env->helper->process), NULL,
                                     10),
              error))
        return FALSE;
      env->cgroup_root = g_strdup (env->helper->cgroup_root);
      env->dir = g_build_filename (env->helper->dir, "daemon", NULL);
      env->state_dir = g_build_filename (env->helper->state_dir, "daemon", NULL);
      socket_path = env->helper->socket_path;
    }
  else
    {
      env->cgroup_root = g_strdup (env->kit->cgroup_root);
      env->dir = g_build_filename (env->kit->dir, "daemon", NULL);
      env->state_dir = g_build_filename (env->kit->state_dir, "daemon", NULL);
      socket_path = env->kit->socket_path;
    }
  env->run_dir = g_build_filename (env->dir, "run", NULL);
  if (!mkdir_for (env->dir, 0755, FALSE, error) || !mkdir_for (env->state_dir, 0700, TRUE, error)
      || !mkdir_for (env->run_dir, 0700, TRUE, error))
    return FALSE;
  g_string_append_printf (conf, "[helper]\nsocket=%s\n", socket_path);
  return TRUE;
}

/* A namespace (ROOT) and a cgroup root of the env's own, a scratch dir. */
static gboolean
setup_own (BangerE2eEnv *env, const char *prefix, GString *conf, GError **error)
{
  g_autofree char *mount = banger_cgroup2_find_mount (NULL, error);
  g_autofree char *tmpl = g_strdup_printf ("%s-XXXXXX", prefix);

  if (mount == NULL)
    return FALSE;
  env->cgroup_root = g_strdup_printf ("%s/%s-%d.slice", mount, prefix, (int)getpid ());
  if (!banger_e2e_cleanup_note_cgroup (env->cgroup_root, error))
    return FALSE;
  env->dir = g_dir_make_tmp (tmpl, error);
  if (env->dir == NULL || !banger_e2e_cleanup_note_dir (env->dir, error))
    return FALSE;
  if (env->deploy == BANGER_E2E_DEPLOY_ROOT)
    {
      g_autofree char *ns = g_strdup_printf ("%s-%d", prefix, (int)getpid ());
      const char *add[] = { "ip", "netns", "add", ns, NULL };
      const char *lo[] = { "ip", "-n", ns, "link", "set", "lo", "up", NULL };

      if (!banger_e2e_cleanup_note_netns (ns, error) || !banger_kit_run (add, NULL, error))
        return FALSE;
      env->ns = g_steal_pointer (&ns);
      if (!banger_kit_run (lo, NULL, error))
        return FALSE;
    }
  env->state_dir = g_build_filename (env->dir, "state", NULL);
  env->run_dir = g_build_filename (env->dir, "run", NULL);
  g_string_append_printf (conf, "[host]\ncgroup=%s\n", env->cgroup_root);
  return TRUE;
}

BangerE2eEnv *
banger_e2e_env_new (const BangerE2eOptions *options, GError **error)
{
  g_autoptr (GString) conf = g_string_new (NULL);
  const char *bangerd = g_getenv ("BENCH_BANGERD");
  BangerE2eEnv *env;

  g_return_val_if_fail (options->prefix != NULL && options->subnet != NULL, NULL);
  banger_e2e_kit_init ();
  /* what a failed test before left */
  banger_e2e_kit_sweep ();
  env = g_new0 (BangerE2eEnv, 1);
  env->deploy = options->deploy;
  env->ns_fd = -1;
  env->owner = getpid ();
  env->bangerd = bangerd != NULL && bangerd[0] ? bangerd : BANGERD_PATH;
  env->listen_timeout_ms
      = options->listen_timeout_ms ? options->listen_timeout_ms : DEFAULT_LISTEN_TIMEOUT_MS;
  env->private_home = options->private_home;
  live = env;
  if (options->find_guest && (env->guest = banger_kit_build_guest (error)) == NULL)
    goto fail;
  if (!(env->deploy == BANGER_E2E_DEPLOY_HELPER ? setup_helper (env, options->prefix, options->helper_install, conf, error)
                                                : setup_own (env, options->prefix, conf, error)))
    goto fail;
  g_string_append_printf (conf, "[network]\nsubnet=%s\n%s", options->subnet,
                          options->extra_conf ? options->extra_conf : "");
  env->socket = g_build_filename (env->run_dir, "bangerd.sock", NULL);
  env->conf = g_build_filename (env->dir, "bangerd.conf", NULL);
  env->log = g_build_filename (env->dir, "bangerd.log", NULL);
  /* (the owner reads it in the helper deployment) */
  if (!g_file_set_contents (env->conf, conf->str, -1, error))
    goto fail;
  if (chmod (env->conf, 0644) < 0)
    {
      set_errno_error (error, "cannot chmod", env->conf);
      goto fail;
    }
  if (env->ns != NULL)
    {
      g_autofree char *ns_path = g_build_filename ("/run/netns", env->ns, NULL);
      env->ns_fd = open (ns_path, O_RDONLY | O_CLOEXEC);
      if (env->ns_fd < 0)
        {
          set_errno_error (error, "cannot open", ns_path);
          goto fail;
        }
    }
  return env;

fail:
  banger_e2e_env_free (env);
  return NULL;
}

/* -------------------------------------------------------------- daemon */

gboolean
banger_e2e_env_start_daemon (BangerE2eEnv *env, GError **error)
{
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_autofree char *state_opt = g_strdup_printf ("--state-dir=%s", env->state_dir);
  g_autofree char *run_opt = g_strdup_printf ("--runtime-dir=%s", env->run_dir);
  g_autofree char *conf_opt = g_strdup_printf ("--config=%s", env->conf);
  GSpawnChildSetupFunc setup = die_with_parent_child_setup;

  g_return_val_if_fail (env->daemon == NULL, FALSE);
  if (env->deploy == BANGER_E2E_DEPLOY_HELPER)
    setup = netns_owner_child_setup;
  else if (env->deploy == BANGER_E2E_DEPLOY_ROOT)
    setup = netns_child_setup;
  g_subprocess_launcher_set_child_setup (launcher, setup, GINT_TO_POINTER (env->ns_fd), NULL);
  g_subprocess_launcher_set_stderr_file_path (launcher, env->log);
  if (env->deploy == BANGER_E2E_DEPLOY_HELPER)
    g_subprocess_launcher_setenv (launcher, "HOME", env->state_dir, TRUE);
  else if (env->private_home)
    g_subprocess_launcher_setenv (launcher, "HOME", env->dir, TRUE);
  env->daemon = g_subprocess_launcher_spawn (launcher, error, env->bangerd, conf_opt, state_opt,
                                             run_opt, NULL);
  if (env->daemon == NULL
      || !banger_e2e_cleanup_note_process (banger_e2e_env_daemon_pid (env), error))
    return FALSE;
  for (guint i = 0;
       i < env->listen_timeout_ms / 10 && !g_file_test (env->socket, G_FILE_TEST_EXISTS); i++)
    {
      if (g_subprocess_get_identifier (env->daemon) == NULL) /* it exited */
        break;
      g_usleep (10 * 1000);
    }
  if (!g_file_test (env->socket, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                   "bangerd did not listen on '%s' within %u ms (its log: %s)", env->socket,
                   env->listen_timeout_ms, env->log);
      return FALSE;
    }
  return TRUE;
}

GPid
banger_e2e_env_daemon_pid (BangerE2eEnv *env)
{
  const char *id = env->daemon ? g_subprocess_get_identifier (env->daemon) : NULL;
  return id ? (GPid)g_ascii_strtoll (id, NULL, 10) : 0;
}

void
banger_e2e_env_kill_daemon (BangerE2eEnv *env)
{
  if (env->daemon == NULL)
    return;
  g_subprocess_force_exit (env->daemon);
  g_subprocess_wait (env->daemon, NULL, NULL);
  g_clear_object (&env->daemon);
  g_unlink (env->socket);
}

void
banger_e2e_env_stop_daemon (BangerE2eEnv *env)
{
  GPid pid = env->daemon ? banger_e2e_env_daemon_pid (env) : 0;

  if (pid > 0)
    {
      /* our unreaped child: its pid cannot move */
      int pidfd = banger_pidfd_open (pid);
      g_subprocess_send_signal (env->daemon, SIGTERM);
      if (pidfd >= 0 && !banger_pidfd_wait_exit (pidfd, STOP_TIMEOUT_MS))
        {
          g_printerr ("# bangerd did not stop within %d ms of SIGTERM: SIGKILL\n", STOP_TIMEOUT_MS);
          g_subprocess_force_exit (env->daemon);
        }
      if (pidfd >= 0)
        close (pidfd);
    }
  if (env->daemon != NULL)
    g_subprocess_wait (env->daemon, NULL, NULL);
  g_clear_object (&env->daemon);
}

void
banger_e2e_env_free (BangerE2eEnv *env)
{
  if (env == NULL)
    return;
  if (live == env)
    live = NULL;
  banger_e2e_env_stop_daemon (env);
  if (env->kit != NULL)
    banger_kit_netns_destroy (env->kit, NULL);
  if (env->ns_fd >= 0)
    close (env->ns_fd);
  /* the VMs, the namespace, the cgroups, the dirs */
  banger_e2e_cleanup_sweep ();
  g_free (env->ns);
  g_free (env->dir);
  g_free (env->state_dir);
  g_free (env->run_dir);
  g_free (env->socket);
  g_free (env->conf);
  g_free (env->log);
  g_free (env->cgroup_root);
  g_free (env->guest);
  g_free (env);
}

/* ----------------------------------------------------------------- CLI */

static GPtrArray *
cli_argv_start (BangerE2eEnv *env)
{
  GPtrArray *argv = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_add (argv, g_strdup (BANGER_CLI_PATH));
  return argv;
}

GPtrArray *
banger_e2e_cli_argv_va (BangerE2eEnv *env, va_list ap)
{
  GPtrArray *argv = cli_argv_start (env);
  const char *a = va_arg (ap, const char *);

  /* global options first */
  while (a != NULL && g_str_equal (a, "--json"))
    {
      g_ptr_array_add (argv, g_strdup (a));
      a = va_arg (ap, const char *);
    }
  g_ptr_array_add (argv, g_strdup_printf ("--socket=%s", env->socket));
  for (; a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (argv, g_strdup (a));
  g_ptr_array_add (argv, NULL);
  return argv;
}

GPtrArray *
banger_e2e_cli_argv (BangerE2eEnv *env, const char *const *args)
{
  GPtrArray *argv = cli_argv_start (env);
  guint i = 0;

  for (; args[i] != NULL && g_str_equal (args[i], "--json"); i++)
    g_ptr_array_add (argv, g_strdup (args[i]));
  g_ptr_array_add (argv, g_strdup_printf ("--socket=%s", env->socket));
  for (; args[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (args[i]));
  g_ptr_array_add (argv, NULL);
  return argv;
}

int
banger_e2e_env_run (BangerE2eEnv *env, gboolean in_ns, const char *const *argv, char **out,
                    char **err, GError **error)
{
  int status = -1;

  g_return_val_if_fail (!in_ns || env->ns_fd >= 0, -1);
  /* (an unread stdout is dropped: this process's is the TAP stream) */
  if (!g_spawn_sync (NULL, (char **)argv, NULL,
                     G_SPAWN_SEARCH_PATH | (out == NULL ? G_SPAWN_STDOUT_TO_DEV_NULL : 0),
                     in_ns ? netns_child_setup : NULL, GINT_TO_POINTER (env->ns_fd), out, err,
                     &status, error))
    return -1;
  return WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
}

/* --------------------------------------------------------------- guest */

void
banger_e2e_guest_files (const char *guest, char **kernel, char **initrd, char **rootfs)
{
  if (kernel != NULL)
    *kernel = g_build_filename (guest, "vmlinuz", NULL);
  if (initrd != NULL)
    *initrd = g_build_filename (guest, "initrd.img", NULL);
  if (rootfs != NULL)
    *rootfs = g_build_filename (guest, "rootfs.ext4", NULL);
}

char *
banger_e2e_guest_release (const char *guest, GError **error)
{
  g_autofree char *path = g_build_filename (guest, "kernel-release", NULL);
  char *release = NULL;

  if (!g_file_get_contents (path, &release, NULL, error))
    return NULL;
  return g_strstrip (release);
}

gboolean
banger_e2e_env_stage_guest (BangerE2eEnv *env, const char *guest, char **kernel, char **initrd,
                            char **rootfs, GError **error)
{
  g_autofree char *k = NULL, *i = NULL, *r = NULL;

  banger_e2e_guest_files (guest, &k, &i, &r);
  if (env->deploy == BANGER_E2E_DEPLOY_HELPER)
    {
      const char *cp[] = { "cp", "--sparse=always", k, i, r, env->dir, NULL };
      char **out[] = { &k, &i, &r };

      if (!banger_kit_run (cp, NULL, error))
        return FALSE;
      for (guint n = 0; n < G_N_ELEMENTS (out); n++)
        {
          g_autofree char *base = g_path_get_basename (*out[n]);
          g_free (*out[n]);
          *out[n] = g_build_filename (env->dir, base, NULL);
          if (chmod (*out[n], 0644) < 0)
            return set_errno_error (error, "cannot chmod", *out[n]);
        }
    }
  *kernel = g_steal_pointer (&k);
  *initrd = g_steal_pointer (&i);
  *rootfs = g_steal_pointer (&r);
  return TRUE;
}

/* ------------------------------------------------------------- client */

void
banger_e2e_async_done (GObject *source, GAsyncResult *result, gpointer slot)
{
  *(GAsyncResult **)slot = g_object_ref (result);
}

GAsyncResult *
banger_e2e_async_wait (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *slot;
}

gboolean
banger_e2e_client_add_guest (BangerClient *client, const char *kernel, const char *initrd,
                             const char *rootfs, GError **error)
{
  g_autoptr (GAsyncResult) r1 = NULL;
  g_autoptr (GAsyncResult) r2 = NULL;
  g_autoptr (BangerKernelInfo) k = NULL;
  g_autoptr (BangerImageInfo) i = NULL;

  banger_client_kernel_add_async (client, "k", kernel, initrd, NULL, NULL, banger_e2e_async_done,
                                  &r1);
  k = banger_client_kernel_add_finish (client, banger_e2e_async_wait (&r1), error);
  if (k == NULL)
    {
      g_prefix_error (error, "kernel add: ");
      return FALSE;
    }
  banger_client_image_import_async (client, "guest", rootfs, NULL, banger_e2e_async_done, &r2);
  i = banger_client_image_import_finish (client, banger_e2e_async_wait (&r2), error);
  if (i == NULL)
    {
      g_prefix_error (error, "image import: ");
      return FALSE;
    }
  return TRUE;
}
