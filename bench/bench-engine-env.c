/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The engine benchmarks' environment (see bench-engine-env.h). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "bench-engine-env.h"

#ifndef FAKE_FIRECRACKER
#error "FAKE_FIRECRACKER must name tests/fakes/firecracker/fake-firecracker.py"
#endif

#define ROOT_SUBNET "10.77.0.0/24"

/* the environment a fatal error tears down */
static BenchEngine *live;
#define HELPER_SUBNET "172.30.5.0/24" /* inside the kit helper's vm-network */
/* bangerd's bangerd-root in the helper deployment: an install of its own,
 * so its reconcile never removes the kit's tap (the bare side's) */
#define BENCH_INSTALL_ID "bench"

/* ------------------------------------------------------------- blocking */

#define got_result banger_e2e_async_done
#define wait_result banger_e2e_async_wait

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

BenchEngine *
bench_engine_new (const char *prefix, BenchDeploy deploy, gboolean fake_guests, GError **error)
{
  return bench_engine_new_with_conf (prefix, deploy, fake_guests, NULL, error);
}

BenchEngine *
bench_engine_new_with_conf (const char *prefix, BenchDeploy deploy, gboolean fake_guests,
                            const char *extra_conf, GError **error)
{
  BenchEngine *e = g_new0 (BenchEngine, 1);
  g_autofree char *extra = NULL;
  g_autofree char *kernel = NULL, *initrd = NULL, *rootfs = NULL;
  BangerE2eOptions options = {
    .prefix = prefix,
    .deploy = deploy == BENCH_DEPLOY_HELPER ? BANGER_E2E_DEPLOY_HELPER : BANGER_E2E_DEPLOY_ROOT,
    .subnet = deploy == BENCH_DEPLOY_HELPER ? HELPER_SUBNET : ROOT_SUBNET,
    .find_guest = TRUE,
    .listen_timeout_ms = 10000,
    .helper_install = deploy == BENCH_DEPLOY_HELPER ? BENCH_INSTALL_ID : NULL,
  };

  e->deploy = deploy;
  e->fake_guests = fake_guests;
  e->fake_fc = g_canonicalize_filename (FAKE_FIRECRACKER, NULL);
  e->subnet = g_strdup (options.subnet);
  if (fake_guests)
    {
      extra = g_strdup_printf ("[vmm]\nfirecracker=%s\n%s", e->fake_fc,
                               extra_conf ? extra_conf : "");
      options.extra_conf = extra;
      /* the kit's helper, with the fake as its firecracker= */
      if (deploy == BENCH_DEPLOY_HELPER)
        g_setenv ("BANGER_KIT_FIRECRACKER", e->fake_fc, TRUE);
    }
  else
    options.extra_conf = extra_conf;
  e->env = banger_e2e_env_new (&options, error);
  g_unsetenv ("BANGER_KIT_FIRECRACKER");
  if (e->env == NULL)
    goto fail;
  e->ns = e->env->ns;
  e->dir = e->env->dir;
  e->state_dir = e->env->state_dir;
  e->run_dir = e->env->run_dir;
  e->socket = e->env->socket;
  e->conf = e->env->conf;
  e->log = e->env->log;
  e->cgroup_root = e->env->cgroup_root;
  e->guest_dir = e->env->guest;
  e->kit = e->env->kit;
  if (fake_guests)
    {
      /* every VM address is this namespace's own: the stand-in answers
       * for all of them (the local table is looked up before the
       * bridge's route in main) */
      g_autofree char *ns_path = g_build_filename ("/run/netns", e->ns, NULL);
      g_autofree char *pub = g_build_filename (e->state_dir, "ssh", "id_ed25519.pub", NULL);
      const char *route[] = { "ip", "-n", e->ns, "route", "add", "local", e->subnet, "dev", "lo",
                              NULL };
      if (!banger_kit_run (route, NULL, error))
        goto fail;
      e->ssh = bench_ssh_standin_new (ns_path, pub, error);
      if (e->ssh == NULL)
        goto fail;
    }
  if (!banger_e2e_env_start_daemon (e->env, error))
    goto fail;
  e->client = banger_client_new_for_socket (e->socket);
  live = e;
  if (!banger_e2e_env_stage_guest (e->env, e->guest_dir, &kernel, &initrd, &rootfs, error)
      || !banger_e2e_client_add_guest (e->client, kernel, initrd, rootfs, error))
    goto fail;
  return e;

fail:
  bench_engine_free (e);
  return NULL;
}

void
bench_engine_free (BenchEngine *e)
{
  if (e == NULL)
    return;
  if (live == e)
    live = NULL;
  g_clear_object (&e->client);
  if (e->env != NULL)
    banger_e2e_env_stop_daemon (e->env);
  g_clear_pointer (&e->ssh, bench_ssh_standin_free);
  /* the kit's namespace, whatever VMs are left, the cgroups, the dirs */
  banger_e2e_env_free (e->env);
  g_free (e->subnet);
  g_free (e->fake_fc);
  g_free (e);
}

void
bench_engine_die (const char *prog, const char *what, const GError *error)
{
  g_printerr ("%s: %s: %s\n", prog, what, error ? error->message : "failed");
  if (live != NULL && live->env->daemon != NULL
      && g_subprocess_get_identifier (live->env->daemon) == NULL)
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
  return banger_e2e_env_daemon_pid (e->env);
}

GPid
bench_engine_helper_pid (BenchEngine *e)
{
  const char *id = e->env && e->env->helper ? g_subprocess_get_identifier (e->env->helper->process)
                  : e->kit && e->kit->helper ? g_subprocess_get_identifier (e->kit->helper)
                                             : NULL;
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
