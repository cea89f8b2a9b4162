/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * IP leases and the tap pool in the store. */
#include "config.h"

#include "store-test.h"

static char *dir;
static BangerStore *store;
static char *image_id, *kernel_id;
static char *vm_a, *vm_b, *vm_c;

static void
setup (void)
{
  g_autofree char *path = NULL;

  dir = store_test_dir_new ();
  path = store_test_path (dir);
  store = store_test_open (path);
  store_test_add_image_kernel (store, &image_id, &kernel_id);
  vm_a = store_test_add_vm (store, "a", image_id, kernel_id);
  vm_b = store_test_add_vm (store, "b", image_id, kernel_id);
  vm_c = store_test_add_vm (store, "c", image_id, kernel_id);
}

static void
teardown (void)
{
  g_clear_pointer (&store, banger_store_unref);
  g_clear_pointer (&image_id, g_free);
  g_clear_pointer (&kernel_id, g_free);
  g_clear_pointer (&vm_a, g_free);
  g_clear_pointer (&vm_b, g_free);
  g_clear_pointer (&vm_c, g_free);
  store_test_dir_free (g_steal_pointer (&dir));
}

#define assert_ok(expr, error)                                                                 \
  ck_assert_msg ((expr), "%s: %s", #expr, (error) ? (error)->message : "(no error)")

static char *
allocate_ok (const char *subnet, const char *vm_id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerStoreLease) lease = banger_store_lease_allocate (store, subnet, vm_id, &error);

  assert_ok (lease != NULL, error);
  ck_assert_str_eq (lease->vm_id, vm_id);
  ck_assert_int_gt (lease->created_at, 0);
  return g_strdup (lease->address);
}

/* ------------------------------------------------------------ leases */

START_TEST (test_parse_subnet)
{
  static const struct
  {
    const char *cidr;
    const char *canonical; /* NULL: refused */
    guint32 network;
    guint prefix;
  } cases[] = {
    { "172.30.0.0/24", "172.30.0.0/24", 0xac1e0000, 24 },
    { "10.0.0.0/8", "10.0.0.0/8", 0x0a000000, 8 },
    { "192.168.1.4/30", "192.168.1.4/30", 0xc0a80104, 30 },
    { "10.0.0.1/24", NULL },  /* host bits */
    { "10.0.0.0/31", NULL },  /* no host address left */
    { "10.0.0.0/7", NULL },
    { "10.0.0.0/024", NULL },
    { "10.0.0.0/", NULL },
    { "10.0.0.0", NULL },
    { "/24", NULL },
    { "10.0.0.0/24x", NULL },
    { "010.0.0.0/8", NULL },
    { "256.0.0.0/24", NULL },
    { "fd00::/64", NULL },
    { "", NULL },
  };
  g_autoptr (GError) error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *canonical = NULL;
      guint32 network = 0;
      guint prefix = 0;
      gboolean ok = banger_store_parse_subnet (cases[i].cidr, &network, &prefix, &canonical,
                                               &error);

      ck_assert_msg (ok == (cases[i].canonical != NULL), "'%s'", cases[i].cidr);
      if (ok)
        {
          ck_assert_str_eq (canonical, cases[i].canonical);
          ck_assert_uint_eq (network, cases[i].network);
          ck_assert_uint_eq (prefix, cases[i].prefix);
        }
      else
        {
          banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
          ck_assert (canonical == NULL);
        }
      g_clear_error (&error);
    }
  ck_assert (!banger_store_parse_subnet (NULL, NULL, NULL, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
}
END_TEST

START_TEST (test_lease_lowest_free)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *a = allocate_ok ("172.30.0.0/24", vm_a);
  g_autofree char *b = allocate_ok ("172.30.0.0/24", vm_b);
  g_autofree char *c = NULL, *b2 = NULL;

  /* .0 network, .1 host side */
  ck_assert_str_eq (a, "172.30.0.2");
  ck_assert_str_eq (b, "172.30.0.3");
  assert_ok (banger_store_lease_release (store, "172.30.0.0/24", "172.30.0.2", &error), error);
  /* the hole is reused first */
  c = allocate_ok ("172.30.0.0/24", vm_c);
  ck_assert_str_eq (c, "172.30.0.2");
  /* another subnet is independent, and a VM may hold one in each */
  b2 = allocate_ok ("10.9.0.0/16", vm_b);
  ck_assert_str_eq (b2, "10.9.0.2");
}
END_TEST

START_TEST (test_lease_full_subnet)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *only = allocate_ok ("192.168.7.4/30", vm_a);

  /* a /30: network .4, host side .5, VM .6, broadcast .7 */
  ck_assert_str_eq (only, "192.168.7.6");
  ck_assert (banger_store_lease_allocate (store, "192.168.7.4/30", vm_b, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_LIMIT_EXCEEDED);
}
END_TEST

START_TEST (test_lease_never_broadcast)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) list = NULL;

  /* a /29 has .2 to .6 for VMs */
  for (int i = 0; i < 5; i++)
    {
      g_autofree char *name = g_strdup_printf ("n%d", i);
      char *id = store_test_add_vm (store, name, image_id, kernel_id);
      g_autofree char *addr = allocate_ok ("10.1.1.8/29", id);
      g_autofree char *want = g_strdup_printf ("10.1.1.%d", 10 + i);

      ck_assert_str_eq (addr, want);
      g_ptr_array_add (ids, id);
    }
  ck_assert (banger_store_lease_allocate (store, "10.1.1.8/29", vm_a, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_LIMIT_EXCEEDED);
  g_clear_error (&error);
  list = banger_store_lease_list (store, "10.1.1.8/29", &error);
  assert_ok (list != NULL && list->len == 5, error);
  ck_assert_str_eq (((BangerStoreLease *) list->pdata[4])->address, "10.1.1.14");
}
END_TEST

START_TEST (test_lease_errors)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *a = allocate_ok ("172.30.0.0/24", vm_a);
  guint n = 99;

  ck_assert_str_eq (a, "172.30.0.2");
  ck_assert (banger_store_lease_allocate (store, "172.30.0.0/24", vm_a, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_ALREADY_EXISTS);
  g_clear_error (&error);
  ck_assert (banger_store_lease_allocate (store, "172.30.0.0/24", "ghost", &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
  g_clear_error (&error);
  ck_assert (banger_store_lease_allocate (store, "172.30.0.1/24", vm_b, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ck_assert (!banger_store_lease_release (store, "172.30.0.0/24", "172.30.0.9", &error));
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
  g_clear_error (&error);
  ck_assert (!banger_store_lease_release (store, "172.30.0.0/24", "172.30.0", &error));
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ck_assert (!banger_store_lease_release (store, "bogus", "172.30.0.2", &error));
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ck_assert (banger_store_lease_get_for_vm (store, "172.30.0.0/24", vm_b, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
  g_clear_error (&error);
  ck_assert (banger_store_lease_get_for_vm (store, "bogus", vm_a, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ck_assert (banger_store_lease_list (store, "bogus", &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* releasing all of a VM's leases: none is not an error */
  assert_ok (banger_store_lease_release_for_vm (store, vm_b, &n, &error), error);
  ck_assert_uint_eq (n, 0);
}
END_TEST

START_TEST (test_lease_get_list_release_for_vm)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *a1 = allocate_ok ("172.30.0.0/24", vm_a);
  g_autofree char *a2 = allocate_ok ("10.0.0.0/8", vm_a);
  g_autofree char *b1 = allocate_ok ("172.30.0.0/24", vm_b);
  g_autoptr (BangerStoreLease) got = NULL, copy = NULL;
  g_autoptr (GPtrArray) all = NULL, one = NULL, after = NULL;
  guint n = 0;

  ck_assert_str_eq (a1, "172.30.0.2");
  ck_assert_str_eq (a2, "10.0.0.2");
  ck_assert_str_eq (b1, "172.30.0.3");
  got = banger_store_lease_get_for_vm (store, "10.0.0.0/8", vm_a, &error);
  assert_ok (got != NULL, error);
  ck_assert_str_eq (got->address, "10.0.0.2");
  ck_assert_str_eq (got->subnet, "10.0.0.0/8");
  copy = banger_store_lease_copy (got);
  ck_assert_str_eq (copy->address, "10.0.0.2");
  ck_assert_str_eq (copy->vm_id, vm_a);

  all = banger_store_lease_list (store, NULL, &error);
  assert_ok (all != NULL && all->len == 3, error);
  ck_assert_str_eq (((BangerStoreLease *) all->pdata[0])->subnet, "10.0.0.0/8");
  one = banger_store_lease_list (store, "172.30.0.0/24", &error);
  assert_ok (one != NULL && one->len == 2, error);
  ck_assert_str_eq (((BangerStoreLease *) one->pdata[0])->address, "172.30.0.2");
  ck_assert_str_eq (((BangerStoreLease *) one->pdata[1])->address, "172.30.0.3");

  assert_ok (banger_store_lease_release_for_vm (store, vm_a, &n, &error), error);
  ck_assert_uint_eq (n, 2);
  after = banger_store_lease_list (store, NULL, &error);
  assert_ok (after != NULL && after->len == 1, error);
  ck_assert_str_eq (((BangerStoreLease *) after->pdata[0])->vm_id, vm_b);
}
END_TEST

/* Address order is numeric, not textual (.10 after .9). */
START_TEST (test_lease_numeric_order)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = NULL;

  for (int i = 0; i < 10; i++)
    {
      g_autofree char *name = g_strdup_printf ("o%d", i);
      g_autofree char *id = store_test_add_vm (store, name, image_id, kernel_id);
      g_autofree char *addr = allocate_ok ("10.5.0.0/24", id);
      g_autofree char *want = g_strdup_printf ("10.5.0.%d", i + 2);

      ck_assert_str_eq (addr, want);
    }
  list = banger_store_lease_list (store, "10.5.0.0/24", &error);
  assert_ok (list != NULL && list->len == 10, error);
  ck_assert_str_eq (((BangerStoreLease *) list->pdata[7])->address, "10.5.0.9");
  ck_assert_str_eq (((BangerStoreLease *) list->pdata[8])->address, "10.5.0.10");
}
END_TEST

/* -------------------------------------------------------------- taps */

START_TEST (test_tap_pool)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerStoreTap) t1 = NULL, t2 = NULL, copy = NULL;
  g_autoptr (GPtrArray) list = NULL;
  guint n = 0;

  assert_ok (banger_store_tap_add (store, "bngt1", &error), error);
  g_usleep (2000); /* distinct created_at: the oldest is claimed first */
  assert_ok (banger_store_tap_add (store, "bngt0", &error), error);
  assert_ok (banger_store_tap_count_free (store, &n, &error), error);
  ck_assert_uint_eq (n, 2);

  t1 = banger_store_tap_claim (store, vm_a, &error);
  assert_ok (t1 != NULL, error);
  ck_assert_str_eq (t1->name, "bngt1");
  ck_assert_str_eq (t1->vm_id, vm_a);
  copy = banger_store_tap_copy (t1);
  ck_assert_str_eq (copy->vm_id, vm_a);
  t2 = banger_store_tap_claim (store, vm_b, &error);
  assert_ok (t2 != NULL, error);
  ck_assert_str_eq (t2->name, "bngt0");
  assert_ok (banger_store_tap_count_free (store, &n, &error), error);
  ck_assert_uint_eq (n, 0);

  list = banger_store_tap_list (store, &error);
  assert_ok (list != NULL && list->len == 2, error);
  ck_assert_str_eq (((BangerStoreTap *) list->pdata[0])->name, "bngt0");
  ck_assert_str_eq (((BangerStoreTap *) list->pdata[0])->vm_id, vm_b);
  g_clear_pointer (&list, g_ptr_array_unref);

  /* the pool is empty */
  ck_assert (banger_store_tap_claim (store, vm_c, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_BUSY);
  g_clear_error (&error);

  assert_ok (banger_store_tap_release (store, "bngt1", &error), error);
  assert_ok (banger_store_tap_release_for_vm (store, vm_b, &error), error);
  /* none owned: not an error */
  assert_ok (banger_store_tap_release_for_vm (store, vm_b, &error), error);
  assert_ok (banger_store_tap_count_free (store, &n, &error), error);
  ck_assert_uint_eq (n, 2);
  list = banger_store_tap_list (store, &error);
  ck_assert (((BangerStoreTap *) list->pdata[0])->vm_id == NULL);
  ck_assert (((BangerStoreTap *) list->pdata[1])->vm_id == NULL);

  assert_ok (banger_store_tap_remove (store, "bngt0", &error), error);
  assert_ok (banger_store_tap_count_free (store, &n, &error), error);
  ck_assert_uint_eq (n, 1);
}
END_TEST

START_TEST (test_tap_errors)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerStoreTap) t = NULL;

  ck_assert (!banger_store_tap_add (store, "eth0", &error));
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ck_assert (!banger_store_tap_add (store, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  assert_ok (banger_store_tap_add (store, "bngt5", &error), error);
  ck_assert (!banger_store_tap_add (store, "bngt5", &error));
  banger_assert_error (error, BANGER_ERROR_ALREADY_EXISTS);
  g_clear_error (&error);
  assert_ok (banger_store_tap_add (store, "bngt6", &error), error);

  ck_assert (banger_store_tap_claim (store, "ghost", &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
  g_clear_error (&error);
  t = banger_store_tap_claim (store, vm_a, &error);
  assert_ok (t != NULL, error);
  /* one tap per VM */
  ck_assert (banger_store_tap_claim (store, vm_a, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_ALREADY_EXISTS);
  g_clear_error (&error);
  /* (the refused claim did not take the other tap) */
  {
    guint n = 0;

    assert_ok (banger_store_tap_count_free (store, &n, &error), error);
    ck_assert_uint_eq (n, 1);
  }
  ck_assert (!banger_store_tap_remove (store, t->name, &error));
  banger_assert_error (error, BANGER_ERROR_BUSY);
  g_clear_error (&error);
  ck_assert (!banger_store_tap_remove (store, "bngt99", &error));
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
  g_clear_error (&error);
  ck_assert (!banger_store_tap_release (store, "bngt99", &error));
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
}
END_TEST

static Suite *
store_net_suite (void)
{
  Suite *s = suite_create ("store-net");
  TCase *tc = tcase_create ("net");

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_parse_subnet);
  tcase_add_test (tc, test_lease_lowest_free);
  tcase_add_test (tc, test_lease_full_subnet);
  tcase_add_test (tc, test_lease_never_broadcast);
  tcase_add_test (tc, test_lease_errors);
  tcase_add_test (tc, test_lease_get_list_release_for_vm);
  tcase_add_test (tc, test_lease_numeric_order);
  tcase_add_test (tc, test_tap_pool);
  tcase_add_test (tc, test_tap_errors);
  suite_add_tcase (s, tc);
  return s;
}

BANGER_TEST_MAIN (store_net_suite)
