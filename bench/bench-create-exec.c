/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * bench-create-exec: `banger vm create` → `banger vm exec NAME -- true` on
 * the real test guest (QEMU, TCG) against a bare QEMU of the same guest
 * and an SSH poll, in one run.
 *
 *   banger  the CLI (a process per command, as a user runs it) against a
 *           bangerd running as an unprivileged owner (uid 65534) with the
 *           guest kit's bangerd-root: `vm create` (rootfs copy, key
 *           injection, tap, NAT, launch, boot, the engine's wait for SSH),
 *           then `vm exec -- true`; timed from the spawn of the create to
 *           the exit of the exec; `vm rm` after (not timed)
 *   bare    bench-qemu-bare.h: the guest's rootfs copied and a key injected
 *           (timed apart: "prep"), then a hand-written qemu-system-x86_64
 *           on the kit's tap, timed from the spawn to the first successful
 *           `ssh … true` (banner probed every 20 ms first)
 *
 * alternating which goes first, in one network namespace the bench makes
 * and removes (the kit's).  Prints each pair, the medians and the ratios,
 * and the engine's step medians for its creates.
 *
 *   sudo build/bench/bench-create-exec [-n PAIRS (3)] [--arp-retrans-ms MS]
 *
 * --arp-retrans-ms sets the namespace's ARP retransmit time before the
 * first create (a diagnostic: how much of the engine's wait for SSH is
 * address resolution of a guest whose network is not up yet).
 * --resend-ms N writes [guest] ssh-resend-ms=N into bangerd's config (0:
 * the wait's single connect per attempt, as before the resends).
 * --blackout-s S drops every IPv4 packet to and from the guest on the
 * bridge (nftables, bridge family, in the namespace) for the first S s of
 * each create, as if its network were down, so that its sshd is already up
 * when its network "comes up": what a guest whose sshd starts with its
 * network (a fast KVM/Firecracker boot) looks like to the wait; "lift ->
 * log" is the end of the blackout to bangerd's "answers on SSH" line.
 * The banger side only.
 *
 * While each `vm create` runs, a thread in the namespace probes the
 * guest's SSH banner every 20 ms (at the first address of the VM subnet,
 * the one a lone VM gets): "banner -> ready" is the time from the banner
 * to the create's exit, i.e. how late the engine's wait noticed an sshd
 * that was up (plus the create's last steps and the CLI's exit); "banner -> log" is the same to bangerd's
 * "answers on SSH" log line (its millisecond timestamp): the wait plus its
 * login.  Where
 * the bridge has no neighbour entry for the guest (a bangerd without
 * priv.neigh_set), the probe waits for ARP as the engine does, so the
 * figure understates that bangerd's loss.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench-engine-env.h"
#include "bench-qemu-bare.h"

#ifndef BANGER_CLI_PATH
#error "BANGER_CLI_PATH must name the banger this build makes"
#endif

G_NORETURN static void
die (const char *what, GError *error)
{
  bench_engine_die ("bench-create-exec", what, error);
}

/* `banger --socket S ARGS…`; dies unless it exits 0.  Seconds taken. */
static double
cli (BenchEngine *e, const char *const *args)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  g_autofree char *err = NULL;
  gint64 t0;
  int status = 0;

  g_ptr_array_add (argv, g_strdup (BANGER_CLI_PATH));
  g_ptr_array_add (argv, g_strdup_printf ("--socket=%s", e->socket));
  for (guint i = 0; args[i]; i++)
    g_ptr_array_add (argv, g_strdup (args[i]));
  g_ptr_array_add (argv, NULL);
  t0 = g_get_monotonic_time ();
  if (!g_spawn_sync (NULL, (char **)argv->pdata, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                     NULL, &err, &status, &error))
    die ("spawn banger", error);
  if (!g_spawn_check_wait_status (status, &error))
    {
      g_printerr ("bench-create-exec: banger %s %s: %s\n", args[0], args[1], err);
      die ("banger", error);
    }
  return (g_get_monotonic_time () - t0) / 1e6;
}

typedef struct
{
  const char *ns;
  char *ip;
  gint stop;
  gint done;
  gint64 banner_us;
} Probe;

static gpointer
probe_thread (gpointer data)
{
  Probe *p = data;

  p->banner_us
      = banger_kit_probe_banner (p->ns, p->ip, g_get_monotonic_time () + 600 * G_USEC_PER_SEC,
                                 &p->stop);
  g_atomic_int_set (&p->done, 1);
  return NULL;
}

/* The first address of @subnet ("a.b.c.0/24" -> "a.b.c.2"; .1 is the
 * bridge's). */
static char *
first_guest_ip (const char *subnet)
{
  g_auto (GStrv) f = g_strsplit_set (subnet, "./", -1);

  g_assert (g_strv_length (f) == 5);
  return g_strdup_printf ("%s.%s.%s.%d", f[0], f[1], f[2], atoi (f[3]) + 2);
}

/* --blackout-s: every packet from the guest's address dropped on arrival
 * in the namespace (its answers lost, as if its network were down) for
 * this long after the create starts */
static int blackout_s;

typedef struct
{
  const char *ns;
  const char *dir;
  const char *ip;
  gint64 lift_us; /* when the rules were gone */
} Blackout;

static void
nft_in_ns (const char *ns, const char *const *args)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;

  g_ptr_array_add (argv, (gpointer) "ip");
  g_ptr_array_add (argv, (gpointer) "netns");
  g_ptr_array_add (argv, (gpointer) "exec");
  g_ptr_array_add (argv, (gpointer) ns);
  g_ptr_array_add (argv, (gpointer) "nft");
  for (guint i = 0; args[i]; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  if (!banger_kit_run ((const char *const *) argv->pdata, NULL, &error))
    die ("nft", error);
}

static void
blackout_start (const Blackout *b)
{
  g_autofree char *path = g_build_filename (b->dir, "blackout.nft", NULL);
  /* on the bridge, both ways: the guest gets nothing (no half-open
   * connections pile up in it) and the host's sockets see a silent loss,
   * as with a guest whose network is down */
  g_autofree char *rules = g_strdup_printf ("table bridge bench_blackout {\n"
                                            "  chain out {\n"
                                            "    type filter hook output priority 0;\n"
                                            "    ip daddr %s drop\n"
                                            "  }\n"
                                            "  chain in {\n"
                                            "    type filter hook input priority 0;\n"
                                            "    ip saddr %s drop\n"
                                            "  }\n"
                                            "}\n",
                                            b->ip, b->ip);
  const char *args[] = { "-f", path, NULL };

  if (!g_file_set_contents (path, rules, -1, NULL))
    die ("blackout rules", NULL);
  nft_in_ns (b->ns, args);
}

static gpointer
blackout_thread (gpointer data)
{
  Blackout *b = data;
  const char *args[] = { "delete", "table", "bridge", "bench_blackout", NULL };

  g_usleep ((gulong) blackout_s * G_USEC_PER_SEC);
  nft_in_ns (b->ns, args);
  b->lift_us = g_get_monotonic_time ();
  return NULL;
}

/* Seconds of the local day of the bangerd log line saying @name answers
 * on SSH ("** Message: HH:MM:SS.mmm: op …: NAME answers on SSH at …"), the
 * last one; NAN if none. */
static double
log_ready_sod (BenchEngine *e, const char *name)
{
  g_autofree char *text = NULL;
  g_autofree char *needle = g_strdup_printf (": %s answers on SSH at ", name);
  g_auto (GStrv) lines = NULL;
  double found = NAN;

  if (!g_file_get_contents (e->log, &text, NULL, NULL))
    return NAN;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    {
      const char *p = strstr (lines[i], "Message: ");
      int h, m, sec, ms;
      if (p != NULL && strstr (lines[i], needle) != NULL
          && sscanf (p + strlen ("Message: "), "%d:%d:%d.%d", &h, &m, &sec, &ms) == 4)
        found = h * 3600.0 + m * 60.0 + sec + ms / 1000.0;
    }
  return found;
}

/* The seconds of the local day at monotonic time @us. */
static double
sod_at (gint64 us)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  double sod = g_date_time_get_hour (now) * 3600.0 + g_date_time_get_minute (now) * 60.0
               + g_date_time_get_seconds (now);

  return sod - (g_get_monotonic_time () - us) / 1e6;
}

/* *lag_s: the banner seen -> the create's exit; *log_lag_s: the banner
 * seen -> bangerd's "answers on SSH" line (NAN: no banner); *lift_lag_s:
 * the end of the blackout -> that line (NAN: none). */
static void
banger_run (BenchEngine *e, const char *name, double *create_s, double *exec_s, double *lag_s,
            double *log_lag_s, double *lift_lag_s)
{
  const char *create[] = { "vm", "create", name, "--image", "guest", "--kernel", "k", NULL };
  const char *exec[] = { "vm", "exec", name, "--", "true", NULL };
  const char *rm[] = { "vm", "rm", name, NULL };
  Probe probe = { e->ns, first_guest_ip (e->subnet), 0, 0, 0 };
  Blackout blackout = { e->ns, e->dir, probe.ip, 0 };
  GThread *t, *bt = NULL;
  gint64 ready_us;

  if (blackout_s > 0)
    {
      blackout_start (&blackout);
      bt = g_thread_new ("blackout", blackout_thread, &blackout);
    }
  t = g_thread_new ("banner-probe", probe_thread, &probe);
  *create_s = cli (e, create);
  ready_us = g_get_monotonic_time ();
  if (bt != NULL)
    g_thread_join (bt);
  /* a banner the probe has not seen yet (its tries are 20 ms apart): up to
   * 2 s more */
  for (int i = 0; i < 200 && !g_atomic_int_get (&probe.done); i++)
    g_usleep (10 * 1000);
  g_atomic_int_set (&probe.stop, 1);
  g_thread_join (t);
  *lag_s = probe.banner_us > 0 ? (ready_us - probe.banner_us) / 1e6 : NAN;
  *log_lag_s = probe.banner_us > 0 ? log_ready_sod (e, name) - sod_at (probe.banner_us) : NAN;
  *lift_lag_s = blackout.lift_us > 0 ? log_ready_sod (e, name) - sod_at (blackout.lift_us) : NAN;
  g_free (probe.ip);
  *exec_s = cli (e, exec);
  cli (e, rm);
}

static GArray *
darray (void)
{
  return g_array_new (FALSE, FALSE, sizeof (double));
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) b_total = darray (), b_create = darray (), b_exec = darray ();
  g_autoptr (GArray) r_ssh = darray (), r_prep = darray (), r_all = darray (), b_lag = darray ();
  g_autoptr (GArray) b_log_lag = darray (), b_lift_lag = darray ();
  g_autofree char *extra = NULL;
  g_autoptr (GHashTable) steps = NULL;
  g_autoptr (GPtrArray) order = NULL;
  g_autofree char *load0 = NULL, *load1 = NULL;
  BenchEngine *e;
  int n = 3;
  double bt, rs, ra;
  guint fds0, fds1, cw0, cw1;
  int arp_ms = 0;
  int resend_ms = -1;

  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "-n") == 0 && i + 1 < argc)
        n = atoi (argv[++i]);
      else if (strcmp (argv[i], "--arp-retrans-ms") == 0 && i + 1 < argc)
        arp_ms = atoi (argv[++i]);
      else if (strcmp (argv[i], "--resend-ms") == 0 && i + 1 < argc)
        resend_ms = atoi (argv[++i]);
      else if (strcmp (argv[i], "--blackout-s") == 0 && i + 1 < argc)
        blackout_s = atoi (argv[++i]);
      else
        {
          g_printerr ("usage: bench-create-exec [-n PAIRS] [--arp-retrans-ms MS] [--resend-ms MS] "
                      "[--blackout-s S]\n");
          return 2;
        }
    }
  if (n < 1 || n > 50 || geteuid () != 0)
    {
      g_printerr ("bench-create-exec: PAIRS must be 1..50, and it needs root\n");
      return 2;
    }
  load0 = bench_loadavg ();
  if (resend_ms >= 0)
    extra = g_strdup_printf ("[guest]\nssh-resend-ms=%d\n", resend_ms);
  e = bench_engine_new_with_conf ("bench-exec", BENCH_DEPLOY_HELPER, FALSE, extra, &error);
  if (e == NULL)
    die ("setup", error);
  if (arp_ms > 0)
    {
      /* diagnostic: the ARP retransmit time (default 1000 ms, 3 probes)
       * of the bridge bangerd makes at its first create (a warm-up create,
       * not timed; a new namespace has no neigh/default to set before) */
      g_autofree char *set = g_strdup_printf ("net.ipv4.neigh.bngbr0.retrans_time_ms=%d", arp_ms);
      const char *argv_sysctl[] = { "ip", "netns", "exec", e->ns, "sysctl", "-q", "-w", set, NULL };
      double c, x, l, ll;

      double lf;

      banger_run (e, "warm-1", &c, &x, &l, &ll, &lf);
      if (!banger_kit_run (argv_sysctl, NULL, &error))
        die ("sysctl", error);
      g_print ("# ARP retransmit time in the namespace: %d ms (diagnostic)\n", arp_ms);
    }
  fds0 = bench_proc_count_fds (bench_engine_daemon_pid (e), &cw0);
  g_print ("# vm create -> vm exec true (banger CLI, bangerd uid 65534 + bangerd-root) vs bare "
           "QEMU + SSH poll, test guest, TCG; %d pairs; seconds; bangerd %s, ssh-resend-ms %s",
           n, g_getenv ("BENCH_BANGERD") ? g_getenv ("BENCH_BANGERD") : "(this build)",
           extra != NULL ? extra + strlen ("[guest]\nssh-resend-ms=") : "(default)\n");
  if (blackout_s > 0)
    g_print ("# blackout: the guest's packets dropped for the first %d s of each create\n",
             blackout_s);
  g_print ("| pair | banger create | banger exec | **banger total** | lift -> log | banner -> log "
           "| banner -> ready | bare prep | **bare spawn -> ssh** | bare prep + boot |\n"
           "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
  for (int i = 0; i < n; i++)
    {
      double c = 0, x = 0, lag = NAN, log_lag = NAN, lift_lag = NAN, prep = 0, s = 0, banner = 0;
      double t, a;
      g_autofree char *name = g_strdup_printf ("vm-%d", i + 1);

      if (i % 2 == 0)
        {
          banger_run (e, name, &c, &x, &lag, &log_lag, &lift_lag);
          if (blackout_s == 0
              && !bench_qemu_bare_run (e->guest_dir, e->kit, FALSE, &prep, &s, &banner, &error))
            die ("bare", error);
        }
      else
        {
          if (blackout_s == 0
              && !bench_qemu_bare_run (e->guest_dir, e->kit, FALSE, &prep, &s, &banner, &error))
            die ("bare", error);
          banger_run (e, name, &c, &x, &lag, &log_lag, &lift_lag);
        }
      t = c + x;
      a = prep + s;
      g_array_append_val (b_create, c);
      g_array_append_val (b_exec, x);
      g_array_append_val (b_total, t);
      g_array_append_val (r_prep, prep);
      g_array_append_val (r_ssh, s);
      g_array_append_val (r_all, a);
      if (!isnan (lag))
        g_array_append_val (b_lag, lag);
      if (!isnan (log_lag))
        g_array_append_val (b_log_lag, log_lag);
      if (!isnan (lift_lag))
        g_array_append_val (b_lift_lag, lift_lag);
      g_print ("| %d | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f |\n", i + 1, c, x,
               t, lift_lag, log_lag, lag, prep, s, a);
    }
  bt = bench_median (b_total);
  rs = bench_median (r_ssh);
  ra = bench_median (r_all);
  g_print ("| median | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f |\n",
           bench_median (b_create), bench_median (b_exec), bt, bench_median (b_lift_lag),
           bench_median (b_log_lag), bench_median (b_lag), bench_median (r_prep), rs, ra);
  g_print ("\nratio of medians: banger total / bare spawn->ssh %.2f (%+.2f s); banger total / "
           "bare prep+boot %.2f\n",
           bt / rs, bt - rs, bt / ra);
  steps = bench_engine_read_steps (e, "vm-", &order, &error);
  if (steps == NULL)
    die ("log", error);
  g_print ("engine steps (median s):");
  for (guint i = 0; i < order->len; i++)
    g_print (" %s %.3f", (const char *)order->pdata[i],
             bench_median (g_hash_table_lookup (steps, order->pdata[i])));
  {
    /* the engine's own account of its wait for SSH, per VM */
    g_autofree char *log = NULL;
    g_auto (GStrv) lines = NULL;
    if (g_file_get_contents (e->log, &log, NULL, NULL))
      {
        lines = g_strsplit (log, "\n", -1);
        for (guint i = 0; lines[i]; i++)
          {
            const char *m = strstr (lines[i], " answers on SSH at ");
            const char *vm = strstr (lines[i], ": vm-");
            if (m != NULL && vm != NULL)
              g_print ("\n  bangerd: %s", vm + 2);
          }
      }
  }
  load1 = bench_loadavg ();
  g_print ("\nload average before: %s, after: %s\n", load0, load1);
  fds1 = bench_proc_count_fds (bench_engine_daemon_pid (e), &cw1);
  g_print ("bangerd's open descriptors: %u before the pairs, %u after %d creates, execs and "
           "removes (TCP in CLOSE_WAIT: %u, then %u)\n",
           fds0, fds1, n, cw0, cw1);
  bench_engine_free (e);
  return 0;
}
