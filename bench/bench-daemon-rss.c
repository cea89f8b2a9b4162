/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * bench-daemon-rss: bangerd's memory idle and with N VMs running, against
 * the fake Firecracker.
 *
 * VmRSS and VmHWM (peak) from /proc/<pid>/status of bangerd (and of
 * bangerd-root with --helper), with its thread and open-descriptor counts:
 *   idle      started, kernel and image added, no VM yet
 *   N VMs     after N sequential creates (BangerClient), all running, and
 *             one vm.list of them
 *   deleted   after deleting them all
 *   again     after another N creates and N deletes (growth here, with
 *             nothing running, would be a leak)
 * The fake boots no guest: the engine's ssh step is answered by an SSH
 * stand-in in this process (bench-ssh-standin.h).
 *
 *   sudo build/bench/bench-daemon-rss [-n VMS (50)] [--helper] [--show-fds]
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench-engine-env.h"

G_NORETURN static void
die (const char *what, GError *error)
{
  bench_engine_die ("bench-daemon-rss", what, error);
}

static gboolean show_fds;

/* socket inode -> "unix <path>", "tcp", "netlink", … from /proc/<pid>/net/
 * (the namespace of @pid) */
static GHashTable *
socket_kinds (GPid pid)
{
  static const struct
  {
    const char *file, *kind;
    guint inode_col;
  } tables[] = {
    { "unix", "unix", 6 },   { "tcp", "tcp", 9 },         { "tcp6", "tcp6", 9 },
    { "udp", "udp", 9 },     { "udp6", "udp6", 9 },       { "netlink", "netlink", 8 },
    { "raw", "raw", 9 },     { "packet", "packet", 8 },
  };
  GHashTable *kinds = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  for (guint t = 0; t < G_N_ELEMENTS (tables); t++)
    {
      g_autofree char *path = g_strdup_printf ("/proc/%d/net/%s", (int)pid, tables[t].file);
      g_autofree char *text = NULL;
      g_auto (GStrv) lines = NULL;

      if (!g_file_get_contents (path, &text, NULL, NULL))
        continue;
      lines = g_strsplit (text, "\n", -1);
      for (guint i = 1; lines[i]; i++)
        {
          g_auto (GStrv) f = g_strsplit_set (g_strstrip (lines[i]), " ", -1);
          g_autoptr (GPtrArray) cols = g_ptr_array_new ();
          for (guint j = 0; f[j]; j++)
            if (f[j][0] != '\0')
              g_ptr_array_add (cols, f[j]);
          if (cols->len <= tables[t].inode_col)
            continue;
          g_hash_table_replace (
              kinds, g_strdup (cols->pdata[tables[t].inode_col]),
              g_str_equal (tables[t].kind, "unix")
                  ? g_strdup_printf ("unix%s%s", cols->len > 7 ? " " : "",
                                     cols->len > 7 ? (const char *)cols->pdata[7] : "")
              : g_str_has_prefix (tables[t].kind, "tcp")
                  /* the peer and the state (01 established, 08 close-wait, …) */
                  ? g_strdup_printf ("%s to %s state %s", tables[t].kind,
                                     (const char *)cols->pdata[2], (const char *)cols->pdata[3])
                  : g_strdup (tables[t].kind));
        }
    }
  return kinds;
}

/* Open descriptors; with --show-fds, what each one is, by kind
 * ("socket", "anon_inode:[pidfd]", a path) with counts. */
static guint
count_fds (GPid pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/fd", (int)pid);
  g_autoptr (GDir) d = g_dir_open (path, 0, NULL);
  g_autoptr (GHashTable) kinds = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GHashTable) socks = show_fds ? socket_kinds (pid) : NULL;
  const char *name;
  guint n = 0;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *fd = g_build_filename (path, name, NULL);
      g_autofree char *target = g_file_read_link (fd, NULL);
      char *bracket;

      n++;
      if (target == NULL)
        continue;
      if ((bracket = strchr (target, '[')) != NULL && g_str_has_prefix (target, "socket:"))
        {
          g_autofree char *inode = g_strndup (bracket + 1, strcspn (bracket + 1, "]"));
          const char *kind = socks ? g_hash_table_lookup (socks, inode) : NULL;
          g_free (target);
          target = g_strdup_printf ("socket: %s", kind ? kind : "?");
        }
      g_hash_table_replace (kinds, g_strdup (target),
                            GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (kinds, target))
                                              + 1));
    }
  if (show_fds)
    {
      GHashTableIter it;
      gpointer k, v;
      g_hash_table_iter_init (&it, kinds);
      while (g_hash_table_iter_next (&it, &k, &v))
        g_print ("    fd: %u x %s\n", GPOINTER_TO_UINT (v), (const char *)k);
    }
  return n;
}

static void
row (const char *what, GPid pid)
{
  g_autoptr (GError) error = NULL;
  guint64 rss = 0, hwm = 0, threads = 0;

  if (!bench_proc_status_kib (pid, "VmRSS", &rss, &error)
      || !bench_proc_status_kib (pid, "VmHWM", &hwm, &error)
      || !bench_proc_status_kib (pid, "Threads", &threads, &error))
    die ("/proc", error);
  g_print ("| %s | %.1f | %.1f | %" G_GUINT64_FORMAT " | %u |\n", what, rss / 1024.0,
           hwm / 1024.0, threads, count_fds (pid));
}

static void
rows (BenchEngine *e, const char *what)
{
  g_autofree char *h = g_strdup_printf ("%s (bangerd-root)", what);

  row (what, bench_engine_daemon_pid (e));
  if (bench_engine_helper_pid (e) != 0)
    row (h, bench_engine_helper_pid (e));
}

static void
create_all (BenchEngine *e, int n)
{
  for (int i = 0; i < n; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *name = g_strdup_printf ("vm-%d", i + 1);
      g_autoptr (BangerVmInfo) info = bench_engine_create (e, NULL, name, TRUE, &error);

      if (info == NULL)
        die (name, error);
      if (banger_vm_info_get_state (info) != BANGER_VM_STATE_RUNNING)
        die (name, NULL);
    }
}

static void
delete_all (BenchEngine *e, int n)
{
  for (int i = 0; i < n; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *name = g_strdup_printf ("vm-%d", i + 1);

      if (!bench_engine_delete (e, name, &error))
        die (name, error);
    }
}

int
main (int argc, char **argv)
{
  static const struct option opts[] = {
    { "vms", required_argument, NULL, 'n' },
    { "helper", no_argument, NULL, 'H' },
    { "show-fds", no_argument, NULL, 'F' },
    { NULL, 0, NULL, 0 },
  };
  BenchDeploy deploy = BENCH_DEPLOY_ROOT;
  int n = 50, c;
  g_autoptr (GError) error = NULL;
  g_autofree char *load0 = NULL;
  g_autofree char *running = NULL;
  BenchEngine *e;

  while ((c = getopt_long (argc, argv, "n:HF", opts, NULL)) != -1)
    {
      if (c == 'n')
        n = atoi (optarg);
      else if (c == 'H')
        deploy = BENCH_DEPLOY_HELPER;
      else if (c == 'F')
        show_fds = TRUE;
      else
        {
          g_printerr ("usage: bench-daemon-rss [-n VMS] [--helper] [--show-fds]\n");
          return 2;
        }
    }
  if (n < 1 || n > 200 || geteuid () != 0)
    {
      g_printerr ("bench-daemon-rss: VMS must be 1..200, and it needs root\n");
      return 2;
    }
  load0 = bench_loadavg ();
  e = bench_engine_new ("bench-rss", deploy, TRUE, &error);
  if (e == NULL)
    die ("setup", error);
  g_print ("# bangerd memory, fake Firecracker, bangerd %s; load average %s\n\n",
           deploy == BENCH_DEPLOY_ROOT ? "as root, in-process executor"
                                       : "as uid 65534 + bangerd-root (the kit's)",
           load0);
  g_print ("| when | VmRSS (MiB) | VmHWM (MiB) | threads | fds |\n"
           "| --- | ---: | ---: | ---: | ---: |\n");
  rows (e, "idle (kernel + image added)");
  create_all (e, n);
  {
    g_autoptr (GPtrArray) vms = bench_engine_list (e, &error);
    if (vms == NULL || vms->len != (guint)n)
      die ("list", error);
  }
  running = g_strdup_printf ("%d VMs running", n);
  rows (e, running);
  delete_all (e, n);
  rows (e, "all deleted");
  create_all (e, n);
  delete_all (e, n);
  rows (e, "after another create/delete round");
  bench_engine_free (e);
  return 0;
}
