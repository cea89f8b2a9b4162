/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * bench-create-parallel: P creates at once against P sequential ones,
 * through bangerd on the fake Firecracker, in one run.
 *
 *   parallel    P vm.create calls issued at once from C BangerClients
 *               (each client is one connection to bangerd, which carries
 *               its calls one at a time; default C = P), each timed from
 *               the common start to its answer; the total is the last
 *               answer.  bangerd admits 16 connections per uid: with
 *               C > 16 the creates of the clients beyond are refused
 *               (limit-exceeded), which the bench reports (exit 1)
 *   sequential  the same P creates one after the other from one client
 *
 * Then checks the parallel batch: every create answered running, and no
 * two VMs share an IP, a tap or a name (vm.list); the same name created
 * twice at once: exactly one wins (already-exists for the other).  VMs are
 * deleted between the phases (not timed).  The fake boots no guest: the
 * engine's ssh step is answered by an SSH stand-in (bench-ssh-standin.h).
 *
 *   sudo build/bench/bench-create-parallel [-p CREATES (20)] [-c CLIENTS (=P)] [--helper]
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "banger-error.h"
#include "bench-engine-env.h"

typedef struct
{
  char *name;
  BangerClient *client;
  gint64 t0;
  double secs;
  BangerVmInfo *info;
  GError *error;
  gboolean done;
} Job;

G_NORETURN static void
die (const char *what, GError *error)
{
  bench_engine_die ("bench-create-parallel", what, error);
}

static void
created (GObject *source, GAsyncResult *res, gpointer data)
{
  Job *j = data;

  j->info = banger_client_vm_create_finish (BANGER_CLIENT (source), res, &j->error);
  j->secs = (g_get_monotonic_time () - j->t0) / 1e6;
  j->done = TRUE;
}

static void
delete_all (BenchEngine *e, Job *jobs, int n)
{
  for (int i = 0; i < n; i++)
    {
      g_autoptr (GError) error = NULL;
      if (jobs[i].info != NULL && !bench_engine_delete (e, jobs[i].name, &error))
        die ("delete", error);
      g_clear_pointer (&jobs[i].info, banger_vm_info_unref);
      g_clear_error (&jobs[i].error);
      jobs[i].done = FALSE;
    }
}

int
main (int argc, char **argv)
{
  static const struct option opts[] = {
    { "creates", required_argument, NULL, 'p' },
    { "clients", required_argument, NULL, 'c' },
    { "helper", no_argument, NULL, 'H' },
    { NULL, 0, NULL, 0 },
  };
  BenchDeploy deploy = BENCH_DEPLOY_ROOT;
  int p = 20, nc = 0, opt;
  g_autoptr (GError) error = NULL;
  g_autofree char *load0 = NULL, *load1 = NULL;
  g_autoptr (GArray) par = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) seq = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GPtrArray) clients = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GHashTable) ips = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GHashTable) taps = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GHashTable) refusals = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  BenchEngine *e;
  Job *jobs;
  gint64 t0;
  double par_total = 0, seq_total = 0;
  guint collisions = 0, failed = 0;

  while ((opt = getopt_long (argc, argv, "p:c:H", opts, NULL)) != -1)
    {
      if (opt == 'p')
        p = atoi (optarg);
      else if (opt == 'c')
        nc = atoi (optarg);
      else if (opt == 'H')
        deploy = BENCH_DEPLOY_HELPER;
      else
        {
          g_printerr ("usage: bench-create-parallel [-p CREATES] [-c CLIENTS] [--helper]\n");
          return 2;
        }
    }
  if (nc == 0)
    nc = p;
  if (p < 2 || p > 200 || nc < 1 || nc > p || geteuid () != 0)
    {
      g_printerr ("bench-create-parallel: CREATES 2..200, CLIENTS 1..CREATES; needs root\n");
      return 2;
    }
  load0 = bench_loadavg ();
  e = bench_engine_new ("bench-par", deploy, TRUE, &error);
  if (e == NULL)
    die ("setup", error);
  {
    g_autoptr (BangerVmInfo) w = bench_engine_create (e, NULL, "warm-1", TRUE, &error);
    if (w == NULL || !bench_engine_delete (e, "warm-1", &error))
      die ("warm-up", error);
  }
  jobs = g_new0 (Job, p);
  /* bangerd admits 16 connections per uid (bangerd-main.c); the setup
   * client's would be one of them: it goes for the parallel phase */
  g_clear_object (&e->client);
  g_usleep (500 * 1000);
  for (int i = 0; i < nc; i++)
    g_ptr_array_add (clients, banger_client_new_for_socket (e->socket));
  for (int i = 0; i < p; i++)
    {
      jobs[i].name = g_strdup_printf ("par-%d", i + 1);
    }

  /* parallel */
  t0 = g_get_monotonic_time ();
  for (int i = 0; i < p; i++)
    {
      g_autoptr (BangerVmSpec) spec = banger_vm_spec_new (jobs[i].name, "guest", "k");
      banger_vm_spec_set_vmm (spec, BANGER_VMM_KIND_FIRECRACKER);
      jobs[i].t0 = t0;
      jobs[i].client = clients->pdata[i % nc];
      banger_client_vm_create_async (jobs[i].client, spec, NULL, created, &jobs[i]);
    }
  for (int i = 0; i < p; i++)
    while (!jobs[i].done)
      g_main_context_iteration (NULL, TRUE);
  /* the parallel clients' connections go; the setup client is back */
  g_ptr_array_set_size (clients, 0);
  g_usleep (500 * 1000);
  e->client = banger_client_new_for_socket (e->socket);
  for (int i = 0; i < p; i++)
    {
      Job *j = &jobs[i];
      const char *ip, *tap;

      if (j->info == NULL)
        {
          g_autofree char *key = g_strdup_printf (
              "%s: %s",
              j->error->domain == BANGER_ERROR ? banger_error_to_name (j->error->code) : "?",
              j->error->message);
          guint count = GPOINTER_TO_UINT (g_hash_table_lookup (refusals, key));

          g_hash_table_replace (refusals, g_steal_pointer (&key), GUINT_TO_POINTER (count + 1));
          failed++;
          continue;
        }
      par_total = MAX (par_total, j->secs);
      g_array_append_val (par, j->secs);
      ip = banger_vm_info_get_ip (j->info);
      tap = banger_vm_info_get_tap (j->info);
      if (banger_vm_info_get_state (j->info) != BANGER_VM_STATE_RUNNING || ip == NULL
          || tap == NULL)
        {
          g_print ("! %s: state %s, ip %s, tap %s\n", j->name,
                   banger_vm_state_to_string (banger_vm_info_get_state (j->info)),
                   ip ? ip : "none", tap ? tap : "none");
          collisions++;
          continue;
        }
      if (!g_hash_table_add (ips, (gpointer)ip))
        {
          g_print ("! IP collision: %s (%s)\n", ip, j->name);
          collisions++;
        }
      if (!g_hash_table_add (taps, (gpointer)tap))
        {
          g_print ("! tap collision: %s (%s)\n", tap, j->name);
          collisions++;
        }
    }
  {
    /* what the engine lists: one VM per name, distinct IPs and taps */
    g_autoptr (GPtrArray) vms = bench_engine_list (e, &error);
    g_autoptr (GHashTable) names = g_hash_table_new (g_str_hash, g_str_equal);
    g_autoptr (GHashTable) lips = g_hash_table_new (g_str_hash, g_str_equal);
    g_autoptr (GHashTable) ltaps = g_hash_table_new (g_str_hash, g_str_equal);

    if (vms == NULL)
      die ("list", error);
    for (guint i = 0; i < vms->len; i++)
      {
        BangerVmInfo *v = vms->pdata[i];
        const char *ip = banger_vm_info_get_ip (v), *tap = banger_vm_info_get_tap (v);
        if (!g_hash_table_add (names, (gpointer)banger_vm_info_get_name (v))
            || (ip && !g_hash_table_add (lips, (gpointer)ip))
            || (tap && !g_hash_table_add (ltaps, (gpointer)tap)))
          {
            g_print ("! vm.list: %s shares a name, IP or tap\n", banger_vm_info_get_name (v));
            collisions++;
          }
      }
    g_print ("# vm.list after the parallel batch: %u VMs, %u names, %u IPs, %u taps\n", vms->len,
             g_hash_table_size (names), g_hash_table_size (lips), g_hash_table_size (ltaps));
    if (vms->len != par->len)
      collisions++;
  }
  delete_all (e, jobs, p);

  /* sequential, one client */
  for (int i = 0; i < p; i++)
    {
      gint64 s0 = g_get_monotonic_time ();
      double s;

      jobs[i].info = bench_engine_create (e, NULL, jobs[i].name, TRUE, &error);
      if (jobs[i].info == NULL)
        die (jobs[i].name, error);
      s = (g_get_monotonic_time () - s0) / 1e6;
      seq_total += s;
      g_array_append_val (seq, s);
    }
  delete_all (e, jobs, p);

  /* the same name twice at once */
  {
    g_autoptr (BangerClient) other = banger_client_new_for_socket (e->socket);
    g_autoptr (BangerVmSpec) spec = banger_vm_spec_new ("dup", "guest", "k");
    Job a = { .name = (char *)"dup", .client = e->client, .t0 = g_get_monotonic_time () };
    Job b = { .name = (char *)"dup", .client = other, .t0 = a.t0 };
    gboolean one_wins;

    banger_vm_spec_set_vmm (spec, BANGER_VMM_KIND_FIRECRACKER);
    banger_client_vm_create_async (a.client, spec, NULL, created, &a);
    banger_client_vm_create_async (b.client, spec, NULL, created, &b);
    while (!a.done || !b.done)
      g_main_context_iteration (NULL, TRUE);
    one_wins = (a.info != NULL) != (b.info != NULL)
               && g_error_matches (a.info ? b.error : a.error, BANGER_ERROR,
                                   BANGER_ERROR_ALREADY_EXISTS);
    g_print ("# the same name twice at once: %s (%s; %s)\n",
             one_wins ? "exactly one won, the other got already-exists" : "NOT exactly one winner",
             a.info ? "won" : a.error->message, b.info ? "won" : b.error->message);
    if (!one_wins)
      collisions++;
    if ((a.info || b.info) && !bench_engine_delete (e, "dup", &error))
      die ("delete dup", error);
    g_clear_pointer (&a.info, banger_vm_info_unref);
    g_clear_pointer (&b.info, banger_vm_info_unref);
    g_clear_error (&a.error);
    g_clear_error (&b.error);
  }
  load1 = bench_loadavg ();

  g_print ("# %d creates, fake Firecracker, bangerd %s, BangerClient; load average before: %s, "
           "after: %s\n",
           p, deploy == BENCH_DEPLOY_ROOT ? "root in-process" : "unprivileged + bangerd-root",
           load0, load1);
  g_print ("# parallel: %d clients (connections) carrying %d creates issued at once\n", nc, p);
  if (failed > 0)
    {
      GHashTableIter it;
      gpointer k, v;
      g_print ("# parallel: %u of %d creates failed:\n", failed, p);
      g_hash_table_iter_init (&it, refusals);
      while (g_hash_table_iter_next (&it, &k, &v))
        g_print ("#   %u x %s\n", GPOINTER_TO_UINT (v), (const char *)k);
    }
  g_print ("# parallel batch: %u distinct IPs, %u distinct taps over %u running VMs; %u "
           "problems\n\n",
           g_hash_table_size (ips), g_hash_table_size (taps), par->len, collisions);
  g_print ("| | total wall (s) | per-VM median (s) | per-VM p95 (s) |\n| --- | ---: | ---: | ---: |\n");
  g_print ("| %d parallel | %.3f | %.3f | %.3f |\n", p, par_total, bench_median (par),
           bench_p95 (par));
  g_print ("| %d sequential | %.3f | %.3f | %.3f |\n", p, seq_total, bench_median (seq),
           bench_p95 (seq));
  g_print ("\nratio total parallel/sequential: %.2f; per-VM median parallel/sequential: %.2f\n",
           par_total / seq_total, bench_median (par) / bench_median (seq));
  for (int i = 0; i < p; i++)
    g_free (jobs[i].name);
  g_free (jobs);
  bench_engine_free (e);
  return failed > 0 || collisions > 0 ? 1 : 0;
}
