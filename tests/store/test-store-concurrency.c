/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Concurrent writers: two creates of one VM name (threads sharing a store,
 * threads with their own connections, processes) — exactly one wins; 20
 * parallel lease allocations — 20 distinct addresses, the lowest 20;
 * parallel tap claims — no tap given twice. */
#include "config.h"

#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store-test.h"

static char *dir;
static char *path;
static BangerStore *store;
static char *image_id, *kernel_id;

static void
setup (void)
{
  dir = store_test_dir_new ();
  path = store_test_path (dir);
  store = store_test_open (path);
  store_test_add_image_kernel (store, &image_id, &kernel_id);
}

static void
teardown (void)
{
  g_clear_pointer (&store, banger_store_unref);
  g_clear_pointer (&image_id, g_free);
  g_clear_pointer (&kernel_id, g_free);
  g_clear_pointer (&path, g_free);
  store_test_dir_free (g_steal_pointer (&dir));
}

typedef struct
{
  BangerStore *store; /* the shared one, or this thread's own connection */
  pthread_barrier_t *barrier;
  const char *name;   /* VM to create */
  const char *vm_id;  /* VM to lease for / claim a tap for */
  /* results */
  gboolean ok;
  int code;           /* BANGER_ERROR code when !ok */
  char *value;        /* address or tap name */
} Job;

static void
job_clear (Job *job)
{
  g_clear_pointer (&job->value, g_free);
  if (job->store != store)
    g_clear_pointer (&job->store, banger_store_unref);
}

static void
job_result (Job *job, gboolean ok, GError *error)
{
  job->ok = ok;
  job->code = ok ? -1 : (error != NULL && error->domain == BANGER_ERROR ? error->code : -2);
}

static gpointer
create_vm_thread (gpointer data)
{
  Job *job = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerStoreVm) spec = banger_store_vm_new (job->name, image_id, kernel_id,
                                                        BANGER_STORE_VMM_QEMU);
  g_autoptr (BangerStoreVm) vm = NULL;

  pthread_barrier_wait (job->barrier);
  vm = banger_store_vm_create (job->store, spec, &error);
  job_result (job, vm != NULL, error);
  return NULL;
}

static gpointer
lease_thread (gpointer data)
{
  Job *job = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerStoreLease) lease = NULL;

  pthread_barrier_wait (job->barrier);
  lease = banger_store_lease_allocate (job->store, "172.30.0.0/24", job->vm_id, &error);
  job_result (job, lease != NULL, error);
  if (lease != NULL)
    job->value = g_strdup (lease->address);
  return NULL;
}

static gpointer
tap_thread (gpointer data)
{
  Job *job = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerStoreTap) tap = NULL;

  pthread_barrier_wait (job->barrier);
  tap = banger_store_tap_claim (job->store, job->vm_id, &error);
  job_result (job, tap != NULL, error);
  if (tap != NULL)
    job->value = g_strdup (tap->name);
  return NULL;
}

/* Runs @n jobs of @func at once (released together by a barrier). */
static void
run_jobs (Job *jobs, guint n, GThreadFunc func)
{
  g_autofree GThread **threads = g_new0 (GThread *, n);
  pthread_barrier_t barrier;

  pthread_barrier_init (&barrier, NULL, n);
  for (guint i = 0; i < n; i++)
    {
      jobs[i].barrier = &barrier;
      threads[i] = g_thread_new ("job", func, &jobs[i]);
    }
  for (guint i = 0; i < n; i++)
    g_thread_join (threads[i]);
  pthread_barrier_destroy (&barrier);
}

static BangerStore *
connection (gboolean own)
{
  return own ? store_test_open (path) : store;
}

/* _i: 0 = threads share one store, 1 = each thread its own connection. */
START_TEST (test_same_name_exactly_one_wins)
{
  gboolean own = _i == 1;

  for (int round = 0; round < 25; round++)
    {
      g_autofree char *name = g_strdup_printf ("race-%d", round);
      Job jobs[2] = { { 0 } };
      g_autoptr (GError) error = NULL;
      g_autoptr (GPtrArray) list = NULL;
      guint same = 0;

      for (guint i = 0; i < 2; i++)
        {
          jobs[i].store = connection (own);
          jobs[i].name = name;
        }
      run_jobs (jobs, 2, create_vm_thread);
      ck_assert_msg (jobs[0].ok != jobs[1].ok, "round %d: %s and %s", round,
                     jobs[0].ok ? "won" : "lost", jobs[1].ok ? "won" : "lost");
      ck_assert_int_eq (jobs[jobs[0].ok ? 1 : 0].code, BANGER_ERROR_ALREADY_EXISTS);
      list = banger_store_vm_list (store, &error);
      ck_assert (list != NULL);
      for (guint i = 0; i < list->len; i++)
        same += g_strcmp0 (((BangerStoreVm *) list->pdata[i])->name, name) == 0;
      ck_assert_uint_eq (same, 1);
      job_clear (&jobs[0]);
      job_clear (&jobs[1]);
    }
}
END_TEST

/* The same across processes. */
START_TEST (test_same_name_processes)
{
  enum { N = 4 };
  pid_t pids[N];
  int wins = 0, exists = 0;

  for (int i = 0; i < N; i++)
    {
      pids[i] = fork ();
      ck_assert_int_ge (pids[i], 0);
      if (pids[i] == 0)
        {
          g_autoptr (GError) error = NULL;
          BangerStore *mine = banger_store_open (path, 0, NULL);
          BangerStoreVm *spec = banger_store_vm_new ("proc", image_id, kernel_id,
                                                     BANGER_STORE_VMM_FIRECRACKER);
          BangerStoreVm *vm = mine != NULL ? banger_store_vm_create (mine, spec, &error) : NULL;

          if (vm != NULL)
            _exit (0);
          _exit (g_error_matches (error, BANGER_ERROR, BANGER_ERROR_ALREADY_EXISTS) ? 2 : 1);
        }
    }
  for (int i = 0; i < N; i++)
    {
      int status = 0;

      ck_assert_int_eq (waitpid (pids[i], &status, 0), pids[i]);
      ck_assert (WIFEXITED (status));
      wins += WEXITSTATUS (status) == 0;
      exists += WEXITSTATUS (status) == 2;
    }
  ck_assert_int_eq (wins, 1);
  ck_assert_int_eq (exists, N - 1);
}
END_TEST

static int
cmp_address (gconstpointer a, gconstpointer b)
{
  guint32 x = 0, y = 0;
  char *s;

  s = g_strrstr (*(const char *const *) a, ".");
  x = (guint32) g_ascii_strtoull (s + 1, NULL, 10);
  s = g_strrstr (*(const char *const *) b, ".");
  y = (guint32) g_ascii_strtoull (s + 1, NULL, 10);
  return x < y ? -1 : x > y;
}

START_TEST (test_parallel_leases_distinct)
{
  enum { N = 20 };
  gboolean own = _i == 1;
  Job jobs[N] = { { 0 } };
  char *ids[N];
  g_autoptr (GPtrArray) addresses = g_ptr_array_new ();
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

  for (int i = 0; i < N; i++)
    {
      g_autofree char *name = g_strdup_printf ("lease-%d", i);

      ids[i] = store_test_add_vm (store, name, image_id, kernel_id);
      jobs[i].store = connection (own);
      jobs[i].vm_id = ids[i];
    }
  run_jobs (jobs, N, lease_thread);
  for (int i = 0; i < N; i++)
    {
      ck_assert_msg (jobs[i].ok, "job %d failed with code %d", i, jobs[i].code);
      ck_assert_msg (g_hash_table_add (seen, jobs[i].value), "%s given twice", jobs[i].value);
      g_ptr_array_add (addresses, jobs[i].value);
    }
  /* distinct, and the lowest 20: .2 to .21 */
  g_ptr_array_sort (addresses, cmp_address);
  for (int i = 0; i < N; i++)
    {
      g_autofree char *want = g_strdup_printf ("172.30.0.%d", i + 2);

      ck_assert_str_eq (addresses->pdata[i], want);
    }
  for (int i = 0; i < N; i++)
    {
      job_clear (&jobs[i]);
      g_free (ids[i]);
    }
}
END_TEST

START_TEST (test_parallel_tap_claims)
{
  enum { N = 12, TAPS = 9 };
  gboolean own = _i == 1;
  Job jobs[N] = { { 0 } };
  char *ids[N];
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  int claimed = 0, busy = 0;

  for (int i = 0; i < TAPS; i++)
    {
      g_autofree char *tap = g_strdup_printf ("bngt%d", i);

      ck_assert (banger_store_tap_add (store, tap, NULL));
    }
  for (int i = 0; i < N; i++)
    {
      g_autofree char *name = g_strdup_printf ("tap-%d", i);

      ids[i] = store_test_add_vm (store, name, image_id, kernel_id);
      jobs[i].store = connection (own);
      jobs[i].vm_id = ids[i];
    }
  run_jobs (jobs, N, tap_thread);
  for (int i = 0; i < N; i++)
    {
      if (jobs[i].ok)
        {
          claimed++;
          ck_assert_msg (g_hash_table_add (seen, jobs[i].value), "%s given twice",
                         jobs[i].value);
        }
      else
        {
          ck_assert_int_eq (jobs[i].code, BANGER_ERROR_BUSY);
          busy++;
        }
    }
  ck_assert_int_eq (claimed, TAPS);
  ck_assert_int_eq (busy, N - TAPS);
  for (int i = 0; i < N; i++)
    {
      job_clear (&jobs[i]);
      g_free (ids[i]);
    }
}
END_TEST

static Suite *
store_concurrency_suite (void)
{
  Suite *s = suite_create ("store-concurrency");
  TCase *tc = tcase_create ("concurrency");

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 120);
  tcase_add_loop_test (tc, test_same_name_exactly_one_wins, 0, 2);
  tcase_add_test (tc, test_same_name_processes);
  tcase_add_loop_test (tc, test_parallel_leases_distinct, 0, 2);
  tcase_add_loop_test (tc, test_parallel_tap_claims, 0, 2);
  suite_add_tcase (s, tc);
  return s;
}

BANGER_TEST_MAIN (store_concurrency_suite)
