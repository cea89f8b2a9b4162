/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The responder as clients see it: in a network namespace this test makes
 * (root), bound to the host side of a made-up VM network (10.77.0.1 on one
 * end of a veth pair), queried with dig (bind9-dnsutils) over UDP and TCP: A, PTR,
 * NXDOMAIN, REFUSED, a name added at run time. */
#include "config.h"

#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "banger-dns-responder.h"
#include "banger-test.h"

#define HOST_ADDR "10.77.0.1"

static BangerDnsTable *table;
static GMainLoop *loop;
static GMutex ready_lock;
static GCond ready_cond;
static gboolean ready;
static char *start_error;

G_GNUC_PRINTF (1, 2) G_GNUC_NORETURN static void bail (const char *format, ...)
{
  va_list ap;
  g_autofree char *msg = NULL;

  va_start (ap, format);
  msg = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_print ("1..1\nnot ok 1 - setup: %s\n", msg);
  exit (EXIT_FAILURE);
}

static void
run_or_bail (const char *const *argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *err = NULL;
  int status = 0;

  if (!g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                     NULL, NULL, NULL, &err, &status, &error)
      || !g_spawn_check_wait_status (status, &error))
    bail ("%s failed: %s %s", argv[0], error ? error->message : "", err ? err : "");
}

/* A fresh network namespace with lo up and a veth link holding HOST_ADDR. */
static void
enter_netns (void)
{
  /* (no dummy module in this kernel: a veth pair, the far end standing in
   * for a guest's link) */
  const char *add[]
      = { "ip", "link", "add", "vmnet0", "type", "veth", "peer", "name", "vmnet1", NULL };
  const char *addr[] = { "ip", "addr", "add", HOST_ADDR "/24", "dev", "vmnet0", NULL };
  const char *up[] = { "ip", "link", "set", "vmnet0", "up", NULL };
  const char *up1[] = { "ip", "link", "set", "vmnet1", "up", NULL };
  const char *lo[] = { "ip", "link", "set", "lo", "up", NULL };

  if (unshare (CLONE_NEWNET) < 0)
    bail ("cannot make a network namespace: %s", g_strerror (errno));
  run_or_bail (lo);
  run_or_bail (add);
  run_or_bail (addr);
  run_or_bail (up);
  run_or_bail (up1);
}

static gpointer
responder_thread (gpointer data)
{
  g_autoptr (GMainContext) context = g_main_context_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GInetAddress) a = g_inet_address_new_from_string (HOST_ADDR);
  g_autoptr (GSocketAddress) sa = g_inet_socket_address_new (a, 53);
  g_autoptr (BangerDnsResponder) r = NULL;

  (void)data;
  g_main_context_push_thread_default (context);
  r = banger_dns_responder_new (table, G_INET_SOCKET_ADDRESS (sa), &error);
  g_mutex_lock (&ready_lock);
  ready = TRUE;
  if (r == NULL)
    start_error = g_strdup (error->message);
  g_cond_signal (&ready_cond);
  g_mutex_unlock (&ready_lock);
  if (r != NULL)
    {
      loop = g_main_loop_new (context, FALSE);
      g_main_loop_run (loop);
    }
  g_clear_pointer (&r, banger_dns_responder_free);
  while (g_main_context_iteration (context, FALSE))
    ;
  g_main_context_pop_thread_default (context);
  return NULL;
}

/* dig's stdout for @args (after "dig +time=2 +tries=1 @HOST_ADDR"). */
static char *
dig (const char *const *args)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *err = NULL;
  char *out = NULL;
  int status = 0;

  g_ptr_array_add (argv, (gpointer) "dig");
  g_ptr_array_add (argv, (gpointer) "+time=2");
  g_ptr_array_add (argv, (gpointer) "+tries=1");
  g_ptr_array_add (argv, (gpointer) "@" HOST_ADDR);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer)args[i]);
  g_ptr_array_add (argv, NULL);
  ck_assert_msg (g_spawn_sync (NULL, (char **)argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                               &out, &err, &status, &error),
                 "dig: %s", error ? error->message : "");
  ck_assert_msg (g_spawn_check_wait_status (status, NULL), "dig failed: %s %s", out, err);
  return out;
}

#define DIG(...) dig ((const char *const[]){ __VA_ARGS__, NULL })

static void
assert_short (const char *out, const char *expected)
{
  g_autofree char *s = g_strstrip (g_strdup (out));

  ck_assert_msg (g_strcmp0 (s, expected) == 0, "dig answered '%s', expected '%s'", s, expected);
}

static void
assert_status (const char *out, const char *status)
{
  g_autofree char *want = g_strdup_printf ("status: %s,", status);

  ck_assert_msg (strstr (out, want) != NULL, "expected %s in:\n%s", want, out);
}

START_TEST (test_dig_a)
{
  g_autofree char *out = DIG ("+short", "web.banger.internal", "A");

  assert_short (out, "10.77.0.2");
}
END_TEST

START_TEST (test_dig_a_case_and_flags)
{
  g_autofree char *out = DIG ("WeB.BANGER.internal", "A");

  assert_status (out, "NOERROR");
  ck_assert_msg (strstr (out, " aa ") != NULL || strstr (out, " aa;") != NULL, "no AA flag:\n%s",
                 out);
  ck_assert_msg (strstr (out, "WeB.BANGER.internal.\t") != NULL, "case not kept:\n%s", out);
  ck_assert_msg (strstr (out, "10.77.0.2") != NULL, "no address:\n%s", out);
  /* dig sends EDNS0 with a cookie: our OPT comes back */
  ck_assert_msg (strstr (out, "; EDNS: version: 0") != NULL, "no OPT:\n%s", out);
}
END_TEST

START_TEST (test_dig_ptr)
{
  g_autofree char *out = DIG ("+short", "-x", "10.77.0.2");

  assert_short (out, "web.banger.internal.");
}
END_TEST

START_TEST (test_dig_nxdomain)
{
  g_autofree char *out = DIG ("nope.banger.internal", "A");
  g_autofree char *out2 = DIG ("-x", "10.77.0.200");

  assert_status (out, "NXDOMAIN");
  assert_status (out2, "NXDOMAIN");
}
END_TEST

START_TEST (test_dig_refused)
{
  g_autofree char *out = DIG ("example.com", "A");
  g_autofree char *out2 = DIG ("-x", "192.0.2.1");

  assert_status (out, "REFUSED");
  assert_status (out2, "REFUSED");
}
END_TEST

START_TEST (test_dig_tcp_and_noedns)
{
  g_autofree char *out = DIG ("+tcp", "+short", "web.banger.internal", "A");
  g_autofree char *out2 = DIG ("+noedns", "+short", "web.banger.internal", "A");
  g_autofree char *out3 = DIG ("+tcp", "+short", "-x", "10.77.0.2");

  assert_short (out, "10.77.0.2");
  assert_short (out2, "10.77.0.2");
  assert_short (out3, "web.banger.internal.");
}
END_TEST

START_TEST (test_dig_runtime_update)
{
  g_autoptr (GInetAddress) a = g_inet_address_new_from_string ("10.77.0.3");
  g_autofree char *before = DIG ("new-vm.banger.internal", "A");
  g_autofree char *after = NULL;
  g_autofree char *gone = NULL;

  assert_status (before, "NXDOMAIN");
  ck_assert (banger_dns_table_set (table, "new-vm", a, NULL));
  after = DIG ("+short", "new-vm.banger.internal", "A");
  assert_short (after, "10.77.0.3");
  ck_assert (banger_dns_table_remove (table, "new-vm"));
  gone = DIG ("new-vm.banger.internal", "A");
  assert_status (gone, "NXDOMAIN");
}
END_TEST

static Suite *
dns_dig_suite (void)
{
  Suite *s = suite_create ("dns-dig");
  TCase *tc = tcase_create ("netns");

  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_dig_a);
  tcase_add_test (tc, test_dig_a_case_and_flags);
  tcase_add_test (tc, test_dig_ptr);
  tcase_add_test (tc, test_dig_nxdomain);
  tcase_add_test (tc, test_dig_refused);
  tcase_add_test (tc, test_dig_tcp_and_noedns);
  tcase_add_test (tc, test_dig_runtime_update);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GInetAddress) web = g_inet_address_new_from_string ("10.77.0.2");
  g_autoptr (GInetAddress) net = g_inet_address_new_from_string ("10.77.0.0");
  g_autofree char *prog = NULL;
  GThread *thread;
  int status;

  if (geteuid () != 0)
    return banger_test_skip_suite ("needs root (it makes a network namespace)");
  prog = g_find_program_in_path ("dig");
  if (prog == NULL)
    return banger_test_skip_suite (
        "dig is not installed (bind9-dnsutils; scripts/install-deps.sh)");
  enter_netns ();

  table = banger_dns_table_new (NULL, &error);
  if (table == NULL || !banger_dns_table_set (table, "web", web, &error)
      || !banger_dns_table_set_reverse_network (table, net, 24, &error))
    bail ("%s", error->message);
  thread = g_thread_new ("responder", responder_thread, NULL);
  g_mutex_lock (&ready_lock);
  while (!ready)
    g_cond_wait (&ready_cond, &ready_lock);
  g_mutex_unlock (&ready_lock);
  if (start_error != NULL)
    bail ("the responder did not start: %s", start_error);

  /* one process: the responder thread is this process's */
  g_setenv ("CK_FORK", "no", TRUE);
  status = banger_test_run (dns_dig_suite ());

  g_main_loop_quit (loop);
  g_thread_join (thread);
  g_main_loop_unref (loop);
  banger_dns_table_unref (table);
  return status;
}
