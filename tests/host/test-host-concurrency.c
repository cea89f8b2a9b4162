/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Many VMMs at once through the real bangerd-root (issue 8, "Also"): 20
 * owner connections, each launching its own VM (the static fake VMM as
 * "firecracker") at the same moment and then cleaning it up, for 50
 * rounds.  Every call must be answered within CALL_BOUND_MS and succeed, and
 * root's priv.status, asked every 10 ms over a separate root connection,
 * must be answered within 100 ms throughout.  The helper must still stop on
 * SIGTERM at the end. */
#include "config.h"

#include <sys/prctl.h>
#include <unistd.h>

#include "banger.h"
#include "banger-test.h"
#include "host-test-latency.h"
#include "host-test-util.h"

#define N_CONNECTIONS 20
#define N_ROUNDS 50
#define CALL_BOUND_MS 10000 /* the exec deadline (5 s) plus queueing behind 19 others */
#define ROOT_BOUND_MS 100.0

typedef struct
{
  GMutex lock;
  GCond cond;
  guint waiting;
  guint generation;
} Barrier;

static void
barrier_wait (Barrier *b)
{
  guint gen;

  g_mutex_lock (&b->lock);
  gen = b->generation;
  if (++b->waiting == N_CONNECTIONS)
    {
      b->waiting = 0;
      b->generation++;
      g_cond_broadcast (&b->cond);
    }
  else
    while (gen == b->generation)
      g_cond_wait (&b->cond, &b->lock);
  g_mutex_unlock (&b->lock);
}

typedef struct
{
  int fd;
  int index;
  Barrier *barrier;
  double max_launch_ms;
  double max_cleanup_ms;
  char *failure; /* the first one */
} Worker;

static gboolean
call_ok (Worker *w, const char *method, const char *params, int round, double *max_ms)
{
  double ms = 0;
  g_autoptr (JsonObject) r = host_test_rpc (w->fd, method, params, CALL_BOUND_MS, &ms);

  if (r == NULL || host_test_rpc_error (r) != NULL)
    {
      if (w->failure == NULL)
        w->failure = g_strdup_printf ("connection %d round %d: %s %s", w->index, round, method,
                                      r == NULL ? "not answered within the bound"
                                                : host_test_rpc_error (r));
      return FALSE;
    }
  *max_ms = MAX (*max_ms, ms);
  return TRUE;
}

static gpointer
worker_run (gpointer data)
{
  Worker *w = data;
  g_autofree char *launch = g_strdup_printf ("{\"vm_id\":\"cc-%d\",\"vmm\":\"firecracker\"}",
                                             w->index);
  g_autofree char *cleanup = g_strdup_printf ("{\"vm_id\":\"cc-%d\"}", w->index);

  for (int round = 0; round < N_ROUNDS; round++)
    {
      barrier_wait (w->barrier); /* all 20 launch at the same moment */
      if (w->failure == NULL)
        call_ok (w, "priv.launch_vmm", launch, round, &w->max_launch_ms);
      if (w->failure == NULL)
        call_ok (w, "priv.cleanup_vm", cleanup, round, &w->max_cleanup_ms);
    }
  return NULL;
}

START_TEST (test_concurrent_launches)
{
  HostTestHelper *h;
  RootProbe *probe;
  Barrier barrier = { 0 };
  Worker w[N_CONNECTIONS];
  GThread *t[N_CONNECTIONS];
  double max_launch = 0, max_cleanup = 0;
  gint64 start;
  gboolean killed = FALSE;

  host_test_netns_enter ();
  ck_assert_int_eq (prctl (PR_SET_CHILD_SUBREAPER, 1), 0);
  ck_assert_msg (g_getenv ("BANGER_TEST_FAKE_VMM_STATIC") != NULL, "run through meson");
  h = host_test_helper_start (g_getenv ("BANGER_TEST_FAKE_VMM_STATIC"), N_CONNECTIONS + 4);
  probe = root_probe_start (h);
  g_mutex_init (&barrier.lock);
  g_cond_init (&barrier.cond);
  start = g_get_monotonic_time ();
  for (int i = 0; i < N_CONNECTIONS; i++)
    {
      w[i] = (Worker){ -1, i, &barrier, 0, 0, NULL };
      w[i].fd = host_test_helper_connect (h->socket_path, HOST_TEST_OWNER_UID,
                                          HOST_TEST_OWNER_GID);
      ck_assert_int_ge (w[i].fd, 0);
    }
  for (int i = 0; i < N_CONNECTIONS; i++)
    t[i] = g_thread_new ("owner", worker_run, &w[i]);
  for (int i = 0; i < N_CONNECTIONS; i++)
    g_thread_join (t[i]);
  for (int i = 0; i < N_CONNECTIONS; i++)
    {
      ck_assert_msg (w[i].failure == NULL, "%s", w[i].failure);
      max_launch = MAX (max_launch, w[i].max_launch_ms);
      max_cleanup = MAX (max_cleanup, w[i].max_cleanup_ms);
      close (w[i].fd);
    }
  g_print ("# %d x %d launches + cleanups in %.1f s; slowest launch %.1f ms, slowest cleanup "
           "%.1f ms (bound %d ms)\n",
           N_CONNECTIONS, N_ROUNDS, (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC,
           max_launch, max_cleanup, CALL_BOUND_MS);
  root_probe_finish (probe, ROOT_BOUND_MS, "concurrent launches");
  host_test_helper_free (h, &killed);
  ck_assert_msg (!killed, "the helper did not stop on SIGTERM");
  g_mutex_clear (&barrier.lock);
  g_cond_clear (&barrier.cond);
}
END_TEST

static Suite *
concurrency_suite (void)
{
  Suite *s = suite_create ("host-concurrency");
  TCase *tc = tcase_create ("concurrency");

  tcase_add_unchecked_fixture (tc, host_test_vmm_fixture_setup, host_test_vmm_fixture_teardown);
  tcase_set_timeout (tc, 170);
  tcase_add_test (tc, test_concurrent_launches);
  suite_add_tcase (s, tc);
  return s;
}

BANGER_TEST_MAIN_ROOT (concurrency_suite, "runs bangerd-root with 20 VMMs")
