/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The vm_reach table: a VM's publishes and egress policy, canonical, checked
 * by the shared parsers, removed with the VM. */
#include "config.h"

#include "banger-store-vm-reach.h"
#include "store-test.h"

START_TEST (test_reach_roundtrip)
{
  g_autofree char *dir = store_test_dir_new ();
  g_autofree char *path = store_test_path (dir);
  g_autoptr (BangerStore) store = store_test_open (path);
  g_autofree char *image = NULL, *kernel = NULL, *vm = NULL;
  g_autofree char *publish = NULL, *egress = NULL;
  g_autoptr (GError) e1 = NULL, e2 = NULL, e3 = NULL, e4 = NULL;

  store_test_add_image_kernel (store, &image, &kernel);
  vm = store_test_add_vm (store, "web", image, kernel);
  ck_assert (banger_store_vm_reach_get (store, vm, &publish, &egress, NULL));
  ck_assert_str_eq (publish, "");
  ck_assert_str_eq (egress, "nat");
  g_clear_pointer (&publish, g_free);
  g_clear_pointer (&egress, g_free);

  /* stored canonical */
  ck_assert (
      banger_store_vm_reach_set (store, vm, "8080:80,10.0.0.1:5353:53/udp", "10.1.2.3/8", NULL));
  ck_assert (banger_store_vm_reach_get (store, vm, &publish, &egress, NULL));
  ck_assert_str_eq (publish, "0.0.0.0:8080:80/tcp,10.0.0.1:5353:53/udp");
  ck_assert_str_eq (egress, "10.0.0.0/8");

  /* refused texts change nothing */
  ck_assert (!banger_store_vm_reach_set (store, vm, "70000:80", "nat", &e1));
  banger_assert_error (e1, BANGER_ERROR_INVALID_ARGUMENT);
  ck_assert (!banger_store_vm_reach_set (store, vm, "", "everything", &e2));
  banger_assert_error (e2, BANGER_ERROR_INVALID_ARGUMENT);
  ck_assert (!banger_store_vm_reach_set (store, "no-such-vm", "", "nat", &e3));
  banger_assert_error (e3, BANGER_ERROR_NOT_FOUND);
  g_clear_pointer (&publish, g_free);
  g_clear_pointer (&egress, g_free);
  ck_assert (banger_store_vm_reach_get (store, vm, &publish, &egress, NULL));
  ck_assert_str_eq (publish, "0.0.0.0:8080:80/tcp,10.0.0.1:5353:53/udp");

  /* removed with the VM */
  ck_assert (banger_store_vm_delete (store, vm, &e4));
  ck_assert_int_eq (store_test_raw_int (path, "SELECT count(*) FROM vm_reach"), 0);
  store_test_dir_free (g_steal_pointer (&dir));
}
END_TEST

static Suite *
reach_suite (void)
{
  Suite *s = suite_create ("store-reach");
  TCase *tc = tcase_create ("reach");

  tcase_add_test (tc, test_reach_roundtrip);
  suite_add_tcase (s, tc);
  return s;
}

BANGER_TEST_MAIN (reach_suite)
