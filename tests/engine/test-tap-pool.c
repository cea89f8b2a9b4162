/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * BangerTapPool's logic against a fake host (a function backend that keeps
 * links in a table and answers the pool's priv.* methods as the helper
 * does) and a real store: the refill up to the size, one refill at a time;
 * take (oldest free tap, renamed to the VM's, refilled after); an empty or
 * disabled pool answers BUSY; failures retried with a doubling back-off;
 * give-back while short and not when full; a take whose tap has vanished;
 * reconcile after a crash (claimed row freed, vanished row forgotten,
 * unrecorded and half-moved taps deleted). */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "banger-error.h"
#include "banger-pool-tap-names.h"
#include "banger-store.h"
#include "banger-tap-pool.h"
#include "banger-test.h"

typedef struct
{
  GMutex lock;
  GHashTable *links;   /* name -> owner ("pool-…" or a VM id) */
  GHashTable *broken;  /* names whose owner disagrees with the name */
  guint creates;       /* pool_tap_create calls */
  guint fail_creates;  /* fail this many creates first */
  guint in_create;     /* creates under way now … */
  guint max_in_create; /* … and the most at once */
  GArray *create_times; /* gint64 µs of each create call */
  gboolean claim_not_found;
} FakeHost;

static FakeHost *
fake_new (void)
{
  FakeHost *f = g_new0 (FakeHost, 1);
  g_mutex_init (&f->lock);
  f->links = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  f->broken = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  f->create_times = g_array_new (FALSE, FALSE, sizeof (gint64));
  return f;
}

static void
fake_free (gpointer p)
{
  FakeHost *f = p;
  g_hash_table_unref (f->links);
  g_hash_table_unref (f->broken);
  g_array_unref (f->create_times);
  g_mutex_clear (&f->lock);
  g_free (f);
}

/* the fake's VM tap name: "bngt" + the VM id's first 11 characters */
static char *
vm_tap (const char *vm_id)
{
  return g_strdup_printf ("bngt%.11s", vm_id);
}

static JsonObject *
fake_call (gpointer data, const char *method, JsonObject *params, const char *op_id,
           GError **error)
{
  FakeHost *f = data;
  JsonObject *r = json_object_new ();
  const char *tap = json_object_get_string_member_with_default (params, "tap", NULL);
  const char *vm_id = json_object_get_string_member_with_default (params, "vm_id", NULL);
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&f->lock);

  if (g_str_equal (method, "priv.create_bridge"))
    return r;
  if (g_str_equal (method, "priv.pool_tap_create"))
    {
      gint64 now = g_get_monotonic_time ();
      gboolean fail;

      g_array_append_val (f->create_times, now);
      f->creates++;
      fail = f->fail_creates > 0;
      if (fail)
        f->fail_creates--;
      f->in_create++;
      f->max_in_create = MAX (f->max_in_create, f->in_create);
      g_mutex_unlock (&f->lock);
      g_usleep (2000); /* a refill takes time: overlapping ones would show */
      g_mutex_lock (&f->lock);
      f->in_create--;
      if (fail)
        {
          json_object_unref (r);
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_LIMIT_EXCEEDED, "fake: no more taps");
          return NULL;
        }
      g_hash_table_insert (f->links, g_strdup (tap), banger_pool_tap_owner (tap));
      json_object_set_string_member (r, "name", tap);
      return r;
    }
  if (g_str_equal (method, "priv.pool_tap_claim"))
    {
      g_autofree char *name = vm_tap (vm_id);
      if (f->claim_not_found || !g_hash_table_remove (f->links, tap))
        {
          json_object_unref (r);
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND, "fake: no tap '%s'", tap);
          return NULL;
        }
      g_hash_table_insert (f->links, g_strdup (name), g_strdup (vm_id));
      json_object_set_string_member (r, "name", name);
      return r;
    }
  if (g_str_equal (method, "priv.pool_tap_return"))
    {
      g_autofree char *name = vm_tap (vm_id);
      if (!g_hash_table_remove (f->links, name))
        {
          json_object_unref (r);
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND, "fake: no tap '%s'", name);
          return NULL;
        }
      g_hash_table_insert (f->links, g_strdup (tap), banger_pool_tap_owner (tap));
      json_object_set_string_member (r, "name", tap);
      return r;
    }
  if (g_str_equal (method, "priv.pool_tap_delete"))
    {
      json_object_set_boolean_member (r, "deleted", g_hash_table_remove (f->links, tap));
      g_hash_table_remove (f->broken, tap);
      return r;
    }
  if (g_str_equal (method, "priv.list_host_objects"))
    {
      JsonArray *taps = json_array_new ();
      GHashTableIter it;
      gpointer k, v;

      g_hash_table_iter_init (&it, f->links);
      while (g_hash_table_iter_next (&it, &k, &v))
        {
          JsonObject *t = json_object_new ();
          json_object_set_string_member (t, "name", k);
          json_object_set_string_member (t, "owner", v);
          json_object_set_boolean_member (t, "consistent", !g_hash_table_contains (f->broken, k));
          json_array_add_object_element (taps, t);
        }
      json_object_set_array_member (r, "taps", taps);
      json_object_set_array_member (r, "vms", json_array_new ());
      return r;
    }
  json_object_unref (r);
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT, "fake: unknown method %s",
               method);
  return NULL;
}

typedef struct
{
  char *dir;
  BangerStore *store;
  FakeHost *fake; /* owned by backend */
  BangerPrivBackend *backend;
  char *image_id;
  char *kernel_id;
} Fixture;

static Fixture *
fixture_new (void)
{
  Fixture *fx = g_new0 (Fixture, 1);
  g_autoptr (GError) error = NULL;
  g_autofree char *db = NULL;
  g_autoptr (BangerStoreImage) im = NULL;
  g_autoptr (BangerStoreImage) im_added = NULL;
  g_autoptr (BangerStoreKernel) k = NULL;
  g_autoptr (BangerStoreKernel) k_added = NULL;

  fx->dir = g_dir_make_tmp ("banger-pool-XXXXXX", &error);
  ck_assert (fx->dir != NULL);
  db = g_build_filename (fx->dir, "banger.db", NULL);
  fx->store = banger_store_open (db, BANGER_STORE_OPEN_NO_SYNC, &error);
  ck_assert_msg (fx->store != NULL, "%s", error ? error->message : "?");
  fx->fake = fake_new ();
  fx->backend = banger_priv_backend_new_for_call (fake_call, fx->fake, fake_free);
  im = banger_store_image_new ("img", "/nonexistent/img.ext4", 4096, NULL);
  im_added = banger_store_image_add (fx->store, im, &error);
  ck_assert_msg (im_added != NULL, "%s", error ? error->message : "?");
  fx->image_id = g_strdup (im_added->id);
  k = banger_store_kernel_new ("k", "/nonexistent/vmlinuz", NULL, NULL);
  k_added = banger_store_kernel_add (fx->store, k, &error);
  ck_assert_msg (k_added != NULL, "%s", error ? error->message : "?");
  fx->kernel_id = g_strdup (k_added->id);
  return fx;
}

static char *
add_vm (Fixture *fx, const char *name)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerStoreVm) want
      = banger_store_vm_new (name, fx->image_id, fx->kernel_id, BANGER_STORE_VMM_QEMU);
  g_autoptr (BangerStoreVm) vm = banger_store_vm_create (fx->store, want, &error);

  ck_assert_msg (vm != NULL, "%s", error ? error->message : "?");
  return g_strdup (vm->id);
}

static void
fixture_free (Fixture *fx)
{
  banger_priv_backend_free (fx->backend);
  banger_store_unref (fx->store);
  {
    const char *rm[] = { "rm", "-rf", fx->dir, NULL };
    g_spawn_sync (NULL, (char **)rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
  }
  g_free (fx->dir);
  g_free (fx->image_id);
  g_free (fx->kernel_id);
  g_free (fx);
}

static guint
n_free (BangerTapPool *pool)
{
  guint n = 0;
  ck_assert (banger_tap_pool_count_free (pool, &n, NULL));
  return n;
}

static guint
n_links (Fixture *fx)
{
  g_autoptr (GMutexLocker) l = g_mutex_locker_new (&fx->fake->lock);
  return g_hash_table_size (fx->fake->links);
}

START_TEST (test_refill_and_take)
{
  Fixture *fx = fixture_new ();
  g_autoptr (BangerTapPool) pool = banger_tap_pool_new (fx->backend, fx->store, 3, "bngbr0", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *vm = add_vm (fx, "vm-1");
  g_autofree char *expected = vm_tap (vm);
  g_autofree char *tap = NULL;
  g_autoptr (GPtrArray) rows = NULL;
  BangerTapPoolStats st;

  ck_assert_uint_eq (n_free (pool), 0);
  banger_tap_pool_start (pool);
  ck_assert (banger_tap_pool_wait_full (pool, 5000));
  ck_assert_uint_eq (n_free (pool), 3);
  ck_assert_uint_eq (n_links (fx), 3);
  /* the refiller stops at the size */
  g_usleep (50 * 1000);
  ck_assert_uint_eq (fx->fake->creates, 3);
  rows = banger_store_tap_list (fx->store, &error);
  ck_assert_uint_eq (rows->len, 3);
  for (guint i = 0; i < rows->len; i++)
    ck_assert (banger_pool_tap_validate_name (((BangerStoreTap *)rows->pdata[i])->name, NULL));

  /* take: the VM's own tap name, out of the pool; refilled after */
  tap = banger_tap_pool_take (pool, vm, "t", NULL, &error);
  ck_assert_msg (tap != NULL, "%s", error ? error->message : "?");
  ck_assert_str_eq (tap, expected);
  {
    g_autoptr (GMutexLocker) l = g_mutex_locker_new (&fx->fake->lock);
    ck_assert_str_eq (g_hash_table_lookup (fx->fake->links, expected), vm);
  }
  ck_assert (banger_tap_pool_wait_full (pool, 5000));
  ck_assert_uint_eq (n_free (pool), 3);
  ck_assert_uint_eq (n_links (fx), 4);
  banger_tap_pool_get_stats (pool, &st);
  ck_assert_uint_eq (st.made, 4);
  ck_assert_uint_eq (st.taken, 1);
  ck_assert_uint_eq (st.failures, 0);
  /* one refill at a time */
  ck_assert_uint_eq (fx->fake->max_in_create, 1);

  /* give-back when full: left for the clean-up */
  {
    gboolean returned = TRUE;
    ck_assert (banger_tap_pool_give_back (pool, vm, "t", &returned, &error));
    ck_assert (!returned);
    ck_assert_uint_eq (n_links (fx), 4);
  }
  banger_tap_pool_stop (pool);
  g_clear_object (&pool);
  fixture_free (fx);
}
END_TEST

START_TEST (test_give_back_when_short)
{
  Fixture *fx = fixture_new ();
  g_autoptr (BangerTapPool) pool = banger_tap_pool_new (fx->backend, fx->store, 1, NULL, NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *vm = add_vm (fx, "vm-1");
  g_autofree char *vm2 = add_vm (fx, "vm-2");
  g_autofree char *tap = NULL;
  gboolean returned = FALSE;

  /* no refiller: the pool stays short after a take */
  {
    g_autofree char *name = banger_pool_tap_name_new ();
    g_autoptr (JsonObject) p = json_object_new ();
    g_autoptr (JsonObject) r = NULL;
    json_object_set_string_member (p, "tap", name);
    r = banger_priv_backend_call (fx->backend, "priv.pool_tap_create", p, NULL, NULL, &error);
    ck_assert (r != NULL);
    ck_assert (banger_store_tap_add (fx->store, name, &error));
  }
  tap = banger_tap_pool_take (pool, vm, "t", NULL, &error);
  ck_assert_msg (tap != NULL, "%s", error ? error->message : "?");
  ck_assert_uint_eq (n_free (pool), 0);
  /* empty: BUSY (the engine makes a tap for the VM instead) */
  ck_assert (banger_tap_pool_take (pool, vm2, "t", NULL, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_BUSY);
  g_clear_error (&error);
  /* the VM stops: its tap goes back under a pool name */
  ck_assert (banger_tap_pool_give_back (pool, vm, "t", &returned, &error));
  ck_assert (returned);
  ck_assert_uint_eq (n_free (pool), 1);
  ck_assert_uint_eq (n_links (fx), 1);
  {
    g_autoptr (GMutexLocker) l = g_mutex_locker_new (&fx->fake->lock);
    ck_assert (!g_hash_table_contains (fx->fake->links, tap));
  }
  /* a VM without a tap: not an error, nothing returned */
  {
    g_autofree char *t2 = banger_tap_pool_take (pool, vm2, "t", NULL, &error);
    ck_assert (t2 != NULL);
  }
  ck_assert (banger_tap_pool_give_back (pool, vm, "t", &returned, &error));
  ck_assert (!returned);
  g_clear_object (&pool);
  fixture_free (fx);
}
END_TEST

START_TEST (test_disabled)
{
  Fixture *fx = fixture_new ();
  g_autoptr (BangerTapPool) pool = banger_tap_pool_new (fx->backend, fx->store, 0, NULL, NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *vm = add_vm (fx, "vm-1");
  gboolean returned = TRUE;

  banger_tap_pool_start (pool);
  g_usleep (50 * 1000);
  ck_assert_uint_eq (fx->fake->creates, 0);
  ck_assert (banger_tap_pool_take (pool, vm, NULL, NULL, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_BUSY);
  g_clear_error (&error);
  ck_assert (banger_tap_pool_give_back (pool, vm, NULL, &returned, &error));
  ck_assert (!returned);
  g_clear_object (&pool);
  fixture_free (fx);
}
END_TEST

START_TEST (test_backoff)
{
  Fixture *fx = fixture_new ();
  g_autoptr (BangerTapPool) pool = banger_tap_pool_new (fx->backend, fx->store, 1, NULL, NULL);
  BangerTapPoolStats st;
  gint64 *t;

  fx->fake->fail_creates = 3;
  banger_tap_pool_set_backoff (pool, 40, 1000);
  banger_tap_pool_start (pool);
  ck_assert (banger_tap_pool_wait_full (pool, 10000));
  banger_tap_pool_get_stats (pool, &st);
  ck_assert_uint_eq (st.failures, 3);
  ck_assert_uint_eq (st.made, 1);
  ck_assert_uint_eq (fx->fake->create_times->len, 4);
  t = (gint64 *)fx->fake->create_times->data;
  /* 40, 80, 160 ms between the attempts (each includes the fake's 2 ms) */
  ck_assert_int_ge (t[1] - t[0], 40 * 1000);
  ck_assert_int_ge (t[2] - t[1], 80 * 1000);
  ck_assert_int_ge (t[3] - t[2], 160 * 1000);
  ck_assert_int_lt (t[1] - t[0], 80 * 1000 + 500 * 1000);
  banger_tap_pool_stop (pool);
  g_clear_object (&pool);
  fixture_free (fx);
}
END_TEST

START_TEST (test_take_vanished)
{
  Fixture *fx = fixture_new ();
  g_autoptr (BangerTapPool) pool = banger_tap_pool_new (fx->backend, fx->store, 2, NULL, NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *vm = add_vm (fx, "vm-1");

  ck_assert (banger_store_tap_add (fx->store, "bngp0123456789a", &error));
  fx->fake->claim_not_found = TRUE;
  ck_assert (banger_tap_pool_take (pool, vm, NULL, NULL, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
  g_clear_error (&error);
  /* the row went with the tap */
  ck_assert_uint_eq (n_free (pool), 0);
  {
    g_autoptr (GPtrArray) rows = banger_store_tap_list (fx->store, &error);
    ck_assert_uint_eq (rows->len, 0);
  }
  g_clear_object (&pool);
  fixture_free (fx);
}
END_TEST

START_TEST (test_reconcile)
{
  Fixture *fx = fixture_new ();
  g_autoptr (BangerTapPool) pool = banger_tap_pool_new (fx->backend, fx->store, 4, NULL, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) rows = NULL;
  g_autofree char *vm = add_vm (fx, "vm-1");
  g_autofree char *vm2 = add_vm (fx, "vm-2");
  g_autofree char *vm2_tap = vm_tap (vm2);
  const char *a = "bngpaaaaaaaaaaa"; /* free, on the host: kept */
  const char *b = "bngpbbbbbbbbbbb"; /* free, gone: forgotten */
  const char *c = "bngpccccccccccc"; /* claimed by vm-1 (take interrupted), on the host: freed */
  const char *d = "bngpddddddddddd"; /* on the host only: deleted */
  const char *e = "bngteeeeeeeeeee"; /* half-moved (marker disagrees): deleted */

  ck_assert (banger_store_tap_add (fx->store, c, &error));
  {
    g_autoptr (BangerStoreTap) claimed = banger_store_tap_claim (fx->store, vm, &error);
    ck_assert_str_eq (claimed->name, c);
  }
  ck_assert (banger_store_tap_add (fx->store, a, &error));
  ck_assert (banger_store_tap_add (fx->store, b, &error));
  g_hash_table_insert (fx->fake->links, g_strdup (a), banger_pool_tap_owner (a));
  g_hash_table_insert (fx->fake->links, g_strdup (c), banger_pool_tap_owner (c));
  g_hash_table_insert (fx->fake->links, g_strdup (d), banger_pool_tap_owner (d));
  g_hash_table_insert (fx->fake->links, g_strdup (e), g_strdup (vm2));
  g_hash_table_add (fx->fake->broken, g_strdup (e));
  /* a VM's own tap: left to the orphan reconcile */
  g_hash_table_insert (fx->fake->links, g_strdup (vm2_tap), g_strdup (vm2));

  ck_assert_msg (banger_tap_pool_reconcile (pool, "t", &error), "%s",
                 error ? error->message : "?");
  rows = banger_store_tap_list (fx->store, &error);
  ck_assert_uint_eq (rows->len, 2);
  ck_assert_str_eq (((BangerStoreTap *)rows->pdata[0])->name, a);
  ck_assert_str_eq (((BangerStoreTap *)rows->pdata[1])->name, c);
  ck_assert (((BangerStoreTap *)rows->pdata[1])->vm_id == NULL);
  ck_assert (g_hash_table_contains (fx->fake->links, a));
  ck_assert (g_hash_table_contains (fx->fake->links, c));
  ck_assert (!g_hash_table_contains (fx->fake->links, d));
  ck_assert (!g_hash_table_contains (fx->fake->links, e));
  ck_assert (g_hash_table_contains (fx->fake->links, vm2_tap));
  g_clear_pointer (&rows, g_ptr_array_unref);

  /* a smaller pool after a config change: the excess goes */
  {
    g_autoptr (BangerTapPool) small
        = banger_tap_pool_new (fx->backend, fx->store, 1, NULL, NULL);
    ck_assert (banger_tap_pool_reconcile (small, "t", &error));
    rows = banger_store_tap_list (fx->store, &error);
    ck_assert_uint_eq (rows->len, 1);
    ck_assert_uint_eq (n_links (fx), 2); /* one pool tap, vm-2's */
  }
  g_clear_object (&pool);
  fixture_free (fx);
}
END_TEST

static Suite *
pool_suite (void)
{
  Suite *s = suite_create ("tap-pool");
  TCase *tc = tcase_create ("pool");

  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_refill_and_take);
  tcase_add_test (tc, test_give_back_when_short);
  tcase_add_test (tc, test_disabled);
  tcase_add_test (tc, test_backoff);
  tcase_add_test (tc, test_take_vanished);
  tcase_add_test (tc, test_reconcile);
  suite_add_tcase (s, tc);
  return s;
}

BANGER_TEST_MAIN (pool_suite)
