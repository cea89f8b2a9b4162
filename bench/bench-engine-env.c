/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The engine benchmarks' environment (see bench-engine-env.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger-cgroup.h"
#include "bench-engine-env.h"

#ifndef FAKE_FIRECRACKER
#error "FAKE_FIRECRACKER must name tests/fakes/firecracker/fake-firecracker.py"
#endif
#ifndef BANGERD_PATH
#error "BANGERD_PATH must name the bangerd this build makes"
#endif

#define ROOT_SUBNET "10.77.0.0/24"

/* the environment a fatal error tears down */
static BenchEngine *live;
#define HELPER_SUBNET "172.30.5.0/24" /* inside the helpers' vm-network */
/* the install id of bangerd's helper (not the kit's BANGER_KIT_INSTALL_ID) */
#define BENCH_INSTALL_ID "bench"

/* ------------------------------------------------------------- blocking */

static void
got_result (GObject *source, GAsyncResult *result, gpointer data)
{
  *(GAsyncResult **)data = g_object_ref (result);
}

static GAsyncResult *
wait_result (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *slot;
}

BangerVmInfo *
bench_engine_create (BenchEngine *e, BangerClient *client, const char *name, gboolean firecracker,
                     GError **error)
{
  g_autoptr (BangerVmSpec) spec = banger_vm_spec_new (name, "guest", "k");
  g_autoptr (GAsyncResult) res = NULL;

  if (firecracker)
    banger_vm_spec_set_vmm (spec, BANGER_VMM_KIND_FIRECRACKER);
  banger_client_vm_create_async (client ? client : e->client, spec, NULL, got_result, &res);
  return banger_client_vm_create_finish (client ? client : e->client, wait_result (&res), error);
}

gboolean
bench_engine_delete (BenchEngine *e, const char *name, GError **error)
{
  g_autoptr (GAsyncResult) res = NULL;

  banger_client_vm_delete_async (e->client, name, NULL, got_result, &res);
  return banger_client_vm_delete_finish (e->client, wait_result (&res), error);
}

GPtrArray *
bench_engine_list (BenchEngine *e, GError **error)
{
  g_autoptr (GAsyncResult) res = NULL;

  banger_client_vm_list_async (e->client, NULL, got_result, &res);
  return banger_client_vm_list_finish (e->client, wait_result (&res), error);
}

/* ---------------------------------------------------------------- setup */

static gboolean
run (const char *const *argv, GError **error)
{
  return banger_kit_run (argv, NULL, error);
}

static void
daemon_child_setup (gpointer data)
{
  int fd = GPOINTER_TO_INT (data);

  /* only the network namespace: `ip netns exec` would remount /sys and
   * hide the cgroup2 mount */
  if (setns (fd, CLONE_NEWNET) < 0)
    _exit (126);
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

static void
daemon_owner_child_setup (gpointer data)
{
  int fd = GPOINTER_TO_INT (data);

  if (setns (fd, CLONE_NEWNET) < 0 || setgroups (0, NULL) < 0
      || setresgid (BANGER_KIT_OWNER_GID, BANGER_KIT_OWNER_GID, BANGER_KIT_OWNER_GID) < 0
      || setresuid (BANGER_KIT_OWNER_UID, BANGER_KIT_OWNER_UID, BANGER_KIT_OWNER_UID) < 0)
    _exit (126);
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

static gboolean
mkdir_mode (const char *path, int mode, gboolean owner, GError **error)
{
  if (g_mkdir (path, mode) < 0
      || (owner && chown (path, BANGER_KIT_OWNER_UID, BANGER_KIT_OWNER_GID) < 0))
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "%s: %s", path,
                   g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

static gboolean
start_daemon (BenchEngine *e, GError **error)
{
  g_autofree char *ns_path = g_build_filename ("/run/netns", e->ns, NULL);
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_autofree char *state_opt = g_strdup_printf ("--state-dir=%s", e->state_dir);
  g_autofree char *run_opt = g_strdup_printf ("--runtime-dir=%s", e->run_dir);
  g_autofree char *conf_opt = g_strdup_printf ("--config=%s", e->conf);
  const char *bangerd = g_getenv ("BENCH_BANGERD") ? g_getenv ("BENCH_BANGERD") : BANGERD_PATH;
  int fd = open (ns_path, O_RDONLY | O_CLOEXEC);

  if (fd < 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "%s: %s", ns_path,
                   g_strerror (errno));
      return FALSE;
    }
  g_subprocess_launcher_set_child_setup (
      launcher, e->deploy == BENCH_DEPLOY_HELPER ? daemon_owner_child_setup : daemon_child_setup,
      GINT_TO_POINTER (fd), NULL);
  g_subprocess_launcher_set_stderr_file_path (launcher, e->log);
  if (e->deploy == BENCH_DEPLOY_HELPER)
    g_subprocess_launcher_setenv (launcher, "HOME", e->state_dir, TRUE);
  e->daemon = g_subprocess_launcher_spawn (launcher, error, bangerd, conf_opt, state_opt, run_opt,
                                           NULL);
  close (fd);
  if (e->daemon == NULL)
    return FALSE;
  for (int i = 0; i < 1000 && !g_file_test (e->socket, G_FILE_TEST_EXISTS); i++)
    {
      if (g_subprocess_get_identifier (e->daemon) == NULL)
        break;
      g_usleep (10 * 1000);
    }
  if (!g_file_test (e->socket, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "bangerd did not listen on %s (log: %s)",
                   e->socket, e->log);
      return FALSE;
    }
  return TRUE;
}

/* The guest's kernel, initrd and rootfs where bangerd can read them (an
 * unprivileged owner must: copies in the scratch dir, 0644). */
static gboolean
stage_guest (BenchEngine *e, char **kernel, char **initrd, char **rootfs, GError **error)
{
  const char *names[] = { "vmlinuz", "initrd.img", "rootfs.ext4" };
  char **out[] = { kernel, initrd, rootfs };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *src = g_build_filename (e->guest_dir, names[i], NULL);
      *out[i] = g_build_filename (e->dir, names[i], NULL);
      if (e->deploy == BENCH_DEPLOY_ROOT)
        {
          g_free (*out[i]);
          *out[i] = g_steal_pointer (&src);
          continue;
        }
      {
        const char *cp[] = { "cp", "--sparse=always", src, *out[i], NULL };
        if (!run (cp, error))
          return FALSE;
      }
      if (chmod (*out[i], 0644) < 0)
        {
          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "%s: %s", *out[i],
                       g_strerror (errno));
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
add_kernel_and_image (BenchEngine *e, GError **error)
{
  g_autofree char *kernel = NULL, *initrd = NULL, *rootfs = NULL;
  g_autoptr (GAsyncResult) r1 = NULL;
  g_autoptr (GAsyncResult) r2 = NULL;
  g_autoptr (BangerKernelInfo) k = NULL;
  g_autoptr (BangerImageInfo) i = NULL;

  if (!stage_guest (e, &kernel, &initrd, &rootfs, error))
    return FALSE;
  banger_client_kernel_add_async (e->client, "k", kernel, initrd, NULL, NULL, got_result, &r1);
  k = banger_client_kernel_add_finish (e->client, wait_result (&r1), error);
  if (k == NULL)
    return FALSE;
  banger_client_image_import_async (e->client, "guest", rootfs, NULL, got_result, &r2);
  i = banger_client_image_import_finish (e->client, wait_result (&r2), error);
  return i != NULL;
}

BenchEngine *
bench_engine_new (const char *prefix, BenchDeploy deploy, gboolean fake_guests, GError **error)
{
  return bench_engine_new_with_conf (prefix, deploy, fake_guests, NULL, error);
}

BenchEngine *
bench_engine_new_with_conf (const char *prefix, BenchDeploy deploy, gboolean fake_guests,
                            const char *extra_conf, GError **error)
{
  g_autoptr (GString) conf = g_string_new (NULL);
  BenchEngine *e = g_new0 (BenchEngine, 1);
  const BangerKitHelper *helper = NULL;

  e->deploy = deploy;
  e->fake_guests = fake_guests;
  e->fake_fc = g_canonicalize_filename (FAKE_FIRECRACKER, NULL);
  e->guest_dir = banger_kit_build_guest (error);
  if (e->guest_dir == NULL)
    goto fail;
  if (deploy == BENCH_DEPLOY_HELPER)
    {
      /* the kit's helper, with the fake as its firecracker= */
      if (fake_guests)
        g_setenv ("BANGER_KIT_FIRECRACKER", e->fake_fc, TRUE);
      e->kit = banger_kit_netns_new (prefix, error);
      if (e->kit == NULL)
        {
          g_unsetenv ("BANGER_KIT_FIRECRACKER");
          goto fail;
        }
      e->ns = g_strdup (e->kit->name);
      /* bangerd gets a helper of its own install: the kit's (install id
       * "kit") made the bare side's tap, which bangerd's reconcile would
       * otherwise remove as an orphan of its install (a tap with no VM
       * record) */
      helper = banger_kit_netns_add_helper (e->kit, BENCH_INSTALL_ID, error);
      g_unsetenv ("BANGER_KIT_FIRECRACKER");
      if (helper == NULL)
        goto fail;
      e->helper = helper;
      e->cgroup_root = g_strdup (helper->cgroup_root);
      e->dir = g_build_filename (helper->dir, "daemon", NULL);
      e->state_dir = g_build_filename (helper->state_dir, "daemon", NULL);
      e->subnet = g_strdup (HELPER_SUBNET);
      if (!mkdir_mode (e->dir, 0755, FALSE, error)
          || !mkdir_mode (e->state_dir, 0700, TRUE, error))
        goto fail;
      e->run_dir = g_build_filename (e->dir, "run", NULL);
      if (!mkdir_mode (e->run_dir, 0700, TRUE, error))
        goto fail;
      g_string_append_printf (conf, "[helper]\nsocket=%s\n", helper->socket_path);
    }
  else
    {
      g_autofree char *mount = banger_cgroup2_find_mount (NULL, error);
      g_autofree char *ns = g_strdup_printf ("%s-%d", prefix, (int)getpid ());
      const char *add[] = { "ip", "netns", "add", ns, NULL };
      const char *lo[] = { "ip", "-n", ns, "link", "set", "lo", "up", NULL };

      if (mount == NULL)
        goto fail;
      e->dir = g_dir_make_tmp ("bench-engine-XXXXXX", error);
      if (e->dir == NULL || !run (add, error))
        goto fail;
      e->ns = g_steal_pointer (&ns);
      if (!run (lo, error))
        goto fail;
      e->cgroup_root = g_strdup_printf ("%s/%s.slice", mount, e->ns);
      e->state_dir = g_build_filename (e->dir, "state", NULL);
      e->run_dir = g_build_filename (e->dir, "run", NULL);
      e->subnet = g_strdup (ROOT_SUBNET);
      g_string_append_printf (conf, "[host]\ncgroup=%s\n", e->cgroup_root);
    }
  g_string_append_printf (conf, "[network]\nsubnet=%s\n", e->subnet);
  if (fake_guests)
    g_string_append_printf (conf, "[vmm]\nfirecracker=%s\n", e->fake_fc);
  if (extra_conf != NULL)
    g_string_append (conf, extra_conf);
  e->socket = g_build_filename (e->run_dir, "bangerd.sock", NULL);
  e->conf = g_build_filename (e->dir, "bangerd.conf", NULL);
  e->log = g_build_filename (e->dir, "bangerd.log", NULL);
  if (!g_file_set_contents (e->conf, conf->str, -1, error) || chmod (e->conf, 0644) < 0)
    goto fail;
  if (fake_guests)
    {
      /* every VM address is this namespace's own: the stand-in answers
       * for all of them (the local table is looked up before the
       * bridge's route in main) */
      g_autofree char *ns_path = g_build_filename ("/run/netns", e->ns, NULL);
      g_autofree char *pub = g_build_filename (e->state_dir, "ssh", "id_ed25519.pub", NULL);
      const char *route[] = { "ip", "-n", e->ns, "route", "add", "local", e->subnet, "dev", "lo",
                              NULL };
      if (!run (route, error))
        goto fail;
      e->ssh = bench_ssh_standin_new (ns_path, pub, error);
      if (e->ssh == NULL)
        goto fail;
    }
  if (!start_daemon (e, error))
    goto fail;
  e->client = banger_client_new_for_socket (e->socket);
  live = e;
  if (!add_kernel_and_image (e, error))
    goto fail;
  return e;

fail:
  bench_engine_free (e);
  return NULL;
}

/* After a failure VMs may still run (a VMM outlives its daemon): kill
 * every process of every cgroup under @root and remove them. */
static void
kill_vm_cgroups (const char *root)
{
  g_autoptr (GDir) d = root ? g_dir_open (root, 0, NULL) : NULL;
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *sub = g_build_filename (root, name, NULL);
      g_autofree char *kill_file = g_build_filename (sub, "cgroup.kill", NULL);

      int fd;

      if (!g_file_test (sub, G_FILE_TEST_IS_DIR))
        continue;
      /* written in place: g_file_set_contents writes a temporary file and
       * renames it, which cgroupfs refuses (so VMs outlived a failed run) */
      fd = open (kill_file, O_WRONLY | O_CLOEXEC);
      if (fd >= 0)
        {
          if (write (fd, "1", 1) != 1)
            g_printerr ("%s: %s\n", kill_file, g_strerror (errno));
          close (fd);
        }
      for (int i = 0; i < 200 && g_rmdir (sub) < 0 && errno == EBUSY; i++)
        g_usleep (10 * 1000);
    }
}

void
bench_engine_free (BenchEngine *e)
{
  if (e == NULL)
    return;
  if (live == e)
    live = NULL;
  g_clear_object (&e->client);
  if (e->daemon != NULL)
    {
      g_subprocess_send_signal (e->daemon, SIGTERM);
      g_subprocess_wait (e->daemon, NULL, NULL);
      g_clear_object (&e->daemon);
    }
  kill_vm_cgroups (e->cgroup_root);
  g_clear_pointer (&e->ssh, bench_ssh_standin_free);
  if (e->kit != NULL)
    banger_kit_netns_destroy (e->kit, NULL); /* namespace, cgroup root, scratch */
  else
    {
      if (e->ns != NULL)
        {
          const char *del[] = { "ip", "netns", "del", e->ns, NULL };
          run (del, NULL);
        }
      if (e->cgroup_root != NULL)
        g_rmdir (e->cgroup_root);
      if (e->dir != NULL)
        {
          const char *rm[] = { "rm", "-rf", "--one-file-system", e->dir, NULL };
          run (rm, NULL);
        }
    }
  g_free (e->ns);
  g_free (e->dir);
  g_free (e->state_dir);
  g_free (e->run_dir);
  g_free (e->socket);
  g_free (e->conf);
  g_free (e->log);
  g_free (e->cgroup_root);
  g_free (e->subnet);
  g_free (e->fake_fc);
  g_free (e->guest_dir);
  g_free (e);
}

void
bench_engine_die (const char *prog, const char *what, const GError *error)
{
  g_printerr ("%s: %s: %s\n", prog, what, error ? error->message : "failed");
  if (live != NULL && live->daemon != NULL
      && g_subprocess_get_identifier (live->daemon) == NULL)
    {
      /* bangerd is gone: how it ended */
      g_autofree char *text = NULL;
      if (g_file_get_contents (live->log, &text, NULL, NULL))
        {
          g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
          guint n = g_strv_length (lines);
          g_printerr ("%s: bangerd exited; the end of its log:\n", prog);
          for (guint i = n > 25 ? n - 25 : 0; i < n; i++)
            g_printerr ("  %s\n", lines[i]);
        }
    }
  bench_engine_free (live);
  exit (1);
}

GPid
bench_engine_daemon_pid (BenchEngine *e)
{
  const char *id = e->daemon ? g_subprocess_get_identifier (e->daemon) : NULL;
  return id ? (GPid)atoi (id) : 0;
}

GPid
bench_engine_helper_pid (BenchEngine *e)
{
  const char *id
      = e->helper && e->helper->process ? g_subprocess_get_identifier (e->helper->process) : NULL;
  return id ? (GPid)atoi (id) : 0;
}

/* ------------------------------------------------------------------ log */

static void
array_free (gpointer p)
{
  g_array_unref (p);
}

GHashTable *
bench_engine_read_steps (BenchEngine *e, const char *prefix, GPtrArray **out_order,
                         GError **error)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  g_autoptr (GRegex) re = g_regex_new (": ([a-z0-9-]+): step ([a-z0-9-]+) done in ([0-9.]+) s",
                                       G_REGEX_OPTIMIZE, 0, error);
  GHashTable *steps;
  GPtrArray *order;

  if (re == NULL || !g_file_get_contents (e->log, &text, NULL, error))
    return NULL;
  steps = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, array_free);
  order = g_ptr_array_new_with_free_func (g_free);
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    {
      g_autoptr (GMatchInfo) m = NULL;
      g_autofree char *vm = NULL, *step = NULL, *secs = NULL;
      GArray *a;
      double v;

      if (!g_regex_match (re, lines[i], 0, &m))
        continue;
      vm = g_match_info_fetch (m, 1);
      step = g_match_info_fetch (m, 2);
      secs = g_match_info_fetch (m, 3);
      if (!g_str_has_prefix (vm, prefix))
        continue;
      v = g_ascii_strtod (secs, NULL);
      a = g_hash_table_lookup (steps, step);
      if (a == NULL)
        {
          a = g_array_new (FALSE, FALSE, sizeof (double));
          g_hash_table_insert (steps, g_strdup (step), a);
          g_ptr_array_add (order, g_strdup (step));
        }
      g_array_append_val (a, v);
    }
  *out_order = order;
  return steps;
}

/* ---------------------------------------------------------------- stats */

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

double
bench_median (GArray *values)
{
  double *v = (double *)values->data;
  guint n = values->len;

  if (n == 0)
    return 0;
  qsort (v, n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double
bench_p95 (GArray *values)
{
  double *v = (double *)values->data;
  guint n = values->len;
  guint rank;

  if (n == 0)
    return 0;
  qsort (v, n, sizeof *v, cmp_double);
  rank = (guint)((95 * n + 99) / 100); /* ceil(0.95 n), 1-based */
  return v[MAX (rank, 1) - 1];
}

/* ----------------------------------------------------------------- proc */

gboolean
bench_proc_cpu (GPid pid, double *out_own_s, double *out_children_s, GError **error)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int)pid);
  g_autofree char *text = NULL;
  g_auto (GStrv) f = NULL;
  const char *after;
  double tick = (double)sysconf (_SC_CLK_TCK);

  if (!g_file_get_contents (path, &text, NULL, error))
    return FALSE;
  /* fields after "(comm)": state is field 3, utime 14, stime 15, cutime
   * 16, cstime 17 */
  after = strrchr (text, ')');
  if (after == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: no ')'", path);
      return FALSE;
    }
  f = g_strsplit (after + 2, " ", -1);
  if (g_strv_length (f) < 15)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: too few fields", path);
      return FALSE;
    }
  *out_own_s = (g_ascii_strtod (f[11], NULL) + g_ascii_strtod (f[12], NULL)) / tick;
  *out_children_s = (g_ascii_strtod (f[13], NULL) + g_ascii_strtod (f[14], NULL)) / tick;
  return TRUE;
}

gboolean
bench_proc_status_kib (GPid pid, const char *field, guint64 *out_kib, GError **error)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/status", (int)pid);
  g_autofree char *text = NULL;
  g_autofree char *key = g_strdup_printf ("\n%s:", field);
  const char *p;

  if (!g_file_get_contents (path, &text, NULL, error))
    return FALSE;
  p = strstr (text, key);
  if (p == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s: no %s", path, field);
      return FALSE;
    }
  *out_kib = g_ascii_strtoull (p + strlen (key), NULL, 10);
  return TRUE;
}

guint
bench_proc_count_fds (GPid pid, guint *out_tcp_close_wait)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/fd", (int)pid);
  g_autoptr (GDir) d = g_dir_open (path, 0, NULL);
  g_autoptr (GHashTable) close_wait = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  const char *tables[] = { "tcp", "tcp6" };
  const char *name;
  guint n = 0;

  /* the inodes of CLOSE_WAIT (08) sockets in @pid's network namespace */
  for (guint t = 0; t < G_N_ELEMENTS (tables); t++)
    {
      g_autofree char *p = g_strdup_printf ("/proc/%d/net/%s", (int)pid, tables[t]);
      g_autofree char *text = NULL;
      g_auto (GStrv) lines = NULL;

      if (!g_file_get_contents (p, &text, NULL, NULL))
        continue;
      lines = g_strsplit (text, "\n", -1);
      for (guint i = 1; lines[i]; i++)
        {
          g_auto (GStrv) f = g_strsplit_set (g_strstrip (lines[i]), " ", -1);
          g_autoptr (GPtrArray) cols = g_ptr_array_new ();
          for (guint j = 0; f[j]; j++)
            if (f[j][0] != '\0')
              g_ptr_array_add (cols, f[j]);
          if (cols->len > 9 && g_str_equal (cols->pdata[3], "08"))
            g_hash_table_add (close_wait, g_strdup_printf ("socket:[%s]", (char *)cols->pdata[9]));
        }
    }
  if (out_tcp_close_wait != NULL)
    *out_tcp_close_wait = 0;
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *fd = g_build_filename (path, name, NULL);
      g_autofree char *target = g_file_read_link (fd, NULL);

      n++;
      if (out_tcp_close_wait != NULL && target != NULL
          && g_hash_table_contains (close_wait, target))
        (*out_tcp_close_wait)++;
    }
  return n;
}

char *
bench_loadavg (void)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) f = NULL;

  if (!g_file_get_contents ("/proc/loadavg", &text, NULL, NULL))
    return g_strdup ("?");
  f = g_strsplit (text, " ", 4);
  if (g_strv_length (f) < 3)
    return g_strdup ("?");
  return g_strdup_printf ("%s %s %s", f[0], f[1], f[2]);
}
