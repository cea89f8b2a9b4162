/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * bench-dns: queries per second against the DNS responder.
 *
 * The responder runs in its own thread and GMainContext on 127.0.0.1 (a
 * free port) with NAMES VMs in its table.  The query mix, over UDP: A of
 * a known VM, PTR of a known address, A of an unknown name (NXDOMAIN),
 * a name outside the domain (REFUSED), 1:1:1:1.  Two load generators:
 *   dnsperf (Debian's dnsperf): -l SECONDS per run, one client thread,
 *            up to 100 queries outstanding (its default) — throughput;
 *   loop:    our own bounded loop, N queries one at a time from one UDP
 *            socket (send, wait for the answer) — round-trip bound.
 * Each is run RUNS times; the median and spread of the runs are printed.
 *
 *   bench-dns [-r RUNS (5)] [-l SECONDS (5)] [-n LOOP_QUERIES (20000)]
 *             [-N NAMES (1000)]   (results: doc/benchmarks.md)
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger-dns-message.h"
#include "banger-dns-responder.h"
#include "../tests/dns/dns-test-query.h"

static BangerDnsTable *table;
static GMainLoop *loop;
static GInetSocketAddress *address;
static GMutex lock;
static GCond cond;
static gboolean started;

static double
now_s (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static gpointer
responder_thread (gpointer data)
{
  g_autoptr (GMainContext) context = g_main_context_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) sa = g_inet_socket_address_new (lo, 0);
  BangerDnsResponder *r;

  (void)data;
  g_main_context_push_thread_default (context);
  r = banger_dns_responder_new (table, G_INET_SOCKET_ADDRESS (sa), &error);
  if (r == NULL)
    {
      g_printerr ("bench-dns: %s\n", error->message);
      exit (EXIT_FAILURE);
    }
  loop = g_main_loop_new (context, FALSE);
  g_mutex_lock (&lock);
  address = g_object_ref (banger_dns_responder_get_address (r));
  started = TRUE;
  g_cond_signal (&cond);
  g_mutex_unlock (&lock);
  g_main_loop_run (loop);
  banger_dns_responder_free (r);
  while (g_main_context_iteration (context, FALSE))
    ;
  g_main_context_pop_thread_default (context);
  return NULL;
}

/* One dnsperf run; its "Queries per second", or -1. */
static double
dnsperf_run (const char *datafile, guint port, guint seconds, guint64 *lost)
{
  g_autofree char *port_s = g_strdup_printf ("%u", port);
  g_autofree char *secs = g_strdup_printf ("%u", seconds);
  const char *argv[] = { "dnsperf", "-s", "127.0.0.1", "-p", port_s, "-d", datafile,
                         "-l",      secs, "-c",        "1",  "-T",   "1",  NULL };
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  const char *p;
  int status;

  if (!g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
                     &status, &error)
      || !g_spawn_check_wait_status (status, &error))
    {
      g_printerr ("bench-dns: dnsperf: %s %s\n", error->message, err ? err : "");
      return -1;
    }
  p = strstr (out, "Queries lost:");
  if (p != NULL)
    *lost += g_ascii_strtoull (p + strlen ("Queries lost:"), NULL, 10);
  p = strstr (out, "Queries per second:");
  if (p == NULL)
    {
      g_printerr ("bench-dns: no 'Queries per second' in dnsperf's output:\n%s\n", out);
      return -1;
    }
  return g_ascii_strtod (p + strlen ("Queries per second:"), NULL);
}

/* One run of our own loop: @n queries, one at a time; queries/s, or -1. */
static double
loop_run (guint n, guint n_names)
{
  g_autoptr (GSocket) c
      = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, NULL);
  g_autoptr (GPtrArray) queries
      = g_ptr_array_new_with_free_func ((GDestroyNotify)g_byte_array_unref);
  guint8 buf[1024];
  double t0;

  if (c == NULL || !g_socket_connect (c, G_SOCKET_ADDRESS (address), NULL, NULL))
    return -1;
  g_socket_set_timeout (c, 2);
  for (guint i = 0; i < 400; i++)
    {
      g_autofree char *name = NULL;

      switch (i % 4)
        {
        case 0:
          name = g_strdup_printf ("vm%u.banger.internal", i % n_names);
          g_ptr_array_add (queries, dq_query ((guint16)i, name, 1, FALSE));
          break;
        case 1:
          name = g_strdup_printf ("%u.%u.100.10.in-addr.arpa", (i % n_names) & 0xFF,
                                  (i % n_names) >> 8);
          g_ptr_array_add (queries, dq_query ((guint16)i, name, 12, FALSE));
          break;
        case 2:
          g_ptr_array_add (queries, dq_query ((guint16)i, "nope.banger.internal", 1, FALSE));
          break;
        default:
          g_ptr_array_add (queries, dq_query ((guint16)i, "example.com", 1, FALSE));
        }
    }
  t0 = now_s ();
  for (guint i = 0; i < n; i++)
    {
      GByteArray *q = queries->pdata[i % queries->len];

      if (g_socket_send (c, (const char *)q->data, q->len, NULL, NULL) != (gssize)q->len
          || g_socket_receive (c, (char *)buf, sizeof buf, NULL, NULL) < 12)
        return -1;
    }
  return n / (now_s () - t0);
}

static void
report (const char *what, GArray *v)
{
  g_array_sort (v, cmp_double);
  printf ("%-8s median %10.0f q/s   min %10.0f   max %10.0f   (%u runs:", what,
          g_array_index (v, double, v->len / 2), g_array_index (v, double, 0),
          g_array_index (v, double, v->len - 1), v->len);
  for (guint i = 0; i < v->len; i++)
    printf (" %.0f", g_array_index (v, double, i));
  printf (")\n");
}

int
main (int argc, char **argv)
{
  guint runs = 5, seconds = 5, n_loop = 20000, n_names = 1000;
  g_autoptr (GArray) perf = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) own = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GString) data = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *datafile = NULL;
  g_autofree char *dnsperf = g_find_program_in_path ("dnsperf");
  g_autoptr (GInetAddress) net = g_inet_address_new_from_string ("10.100.0.0");
  guint64 lost = 0;
  GThread *thread;
  int opt, fd;

  while ((opt = getopt (argc, argv, "r:l:n:N:")) != -1)
    switch (opt)
      {
      case 'r':
        runs = (guint)atoi (optarg);
        break;
      case 'l':
        seconds = (guint)atoi (optarg);
        break;
      case 'n':
        n_loop = (guint)atoi (optarg);
        break;
      case 'N':
        n_names = (guint)atoi (optarg);
        break;
      default:
        fprintf (stderr, "usage: bench-dns [-r RUNS] [-l SECONDS] [-n LOOP_QUERIES] [-N NAMES]\n");
        return 2;
      }
  if (runs == 0 || seconds == 0 || n_names == 0 || n_names > 65000)
    {
      fprintf (stderr, "bench-dns: RUNS, SECONDS and NAMES (<= 65000) must be positive\n");
      return 2;
    }

  table = banger_dns_table_new (NULL, &error);
  g_assert (table != NULL);
  g_assert (banger_dns_table_set_reverse_network (table, net, 16, NULL));
  for (guint i = 0; i < n_names; i++)
    {
      g_autofree char *name = g_strdup_printf ("vm%u", i);
      g_autoptr (GInetAddress) a = g_inet_address_new_from_bytes (
          (const guint8[]){ 10, 100, (guint8)(i >> 8), (guint8)i }, G_SOCKET_FAMILY_IPV4);

      g_assert (banger_dns_table_set (table, name, a, NULL));
    }
  thread = g_thread_new ("responder", responder_thread, NULL);
  g_mutex_lock (&lock);
  while (!started)
    g_cond_wait (&cond, &lock);
  g_mutex_unlock (&lock);

  printf ("bench-dns: responder on 127.0.0.1:%u, %u names; query mix A/PTR/NXDOMAIN/REFUSED "
          "1:1:1:1\n",
          g_inet_socket_address_get_port (address), n_names);
  if (dnsperf != NULL)
    {
      for (guint i = 0; i < 400; i++)
        switch (i % 4)
          {
          case 0:
            g_string_append_printf (data, "vm%u.banger.internal A\n", i % n_names);
            break;
          case 1:
            g_string_append_printf (data, "%u.%u.100.10.in-addr.arpa PTR\n", (i % n_names) & 0xFF,
                                    (i % n_names) >> 8);
            break;
          case 2:
            g_string_append (data, "nope.banger.internal A\n");
            break;
          default:
            g_string_append (data, "example.com A\n");
          }
      fd = g_file_open_tmp ("bench-dns-XXXXXX", &datafile, &error);
      g_assert (fd >= 0);
      close (fd);
      g_assert (g_file_set_contents (datafile, data->str, (gssize)data->len, NULL));
      for (guint i = 0; i < runs; i++)
        {
          double q
              = dnsperf_run (datafile, g_inet_socket_address_get_port (address), seconds, &lost);

          if (q < 0)
            return EXIT_FAILURE;
          g_array_append_val (perf, q);
        }
      g_unlink (datafile);
      report ("dnsperf", perf);
      printf ("         (%us per run, 1 client thread, <= 100 outstanding; %" G_GUINT64_FORMAT
              " queries lost in all runs)\n",
              seconds, lost);
    }
  else
    printf ("dnsperf   not installed (scripts/install-deps.sh): skipped\n");
  for (guint i = 0; i < runs; i++)
    {
      double q = loop_run (n_loop, n_names);

      if (q < 0)
        {
          fprintf (stderr, "bench-dns: the loop lost an answer\n");
          return EXIT_FAILURE;
        }
      g_array_append_val (own, q);
    }
  report ("loop", own);
  printf ("         (%u queries per run, one at a time)\n", n_loop);

  g_main_loop_quit (loop);
  g_thread_join (thread);
  g_main_loop_unref (loop);
  g_object_unref (address);
  banger_dns_table_unref (table);
  return EXIT_SUCCESS;
}
