/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The snapshots table (schema step 4): add, get, latest Full of a VM,
 * list, delete; refusals with their codes; a snapshot outlives its VM and
 * keeps its image and kernel; a Diff keeps its Full base. */
#include "config.h"

#include "store-test.h"

START_TEST (test_snapshot_records)
{
  g_autofree char *dir = store_test_dir_new ();
  g_autofree char *path = store_test_path (dir);
  g_autoptr (BangerStore) store = store_test_open (path);
  g_autofree char *image_id = NULL, *kernel_id = NULL, *vm_id = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerStoreVm) vm = NULL;
  g_autoptr (BangerStoreSnapshot) want = NULL, full = NULL, full2 = NULL, diff = NULL, got = NULL;
  g_autoptr (GPtrArray) list = NULL;

  store_test_add_image_kernel (store, &image_id, &kernel_id);
  vm_id = store_test_add_vm (store, "web", image_id, kernel_id);
  vm = banger_store_vm_get_by_id (store, vm_id, &error);
  ck_assert (vm != NULL);

  /* no Full snapshot of web's run yet */
  ck_assert (banger_store_snapshot_get_latest_full (store, "run-a", &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
  g_clear_error (&error);

  want = banger_store_snapshot_new ("s1", vm);
  want->run = g_strdup ("run-a");
  want->guest_ip = g_strdup ("10.0.0.2");
  want->size_bytes = 4096;
  full = banger_store_snapshot_add (store, want, &error);
  ck_assert_msg (full != NULL, "%s", error ? error->message : "?");
  ck_assert_uint_eq (strlen (full->id), 16);
  ck_assert_int_gt (full->created_at, 0);
  ck_assert_str_eq (full->vm_name, "web");
  ck_assert_int_eq (full->vmm, vm->vmm);
  /* the name again */
  ck_assert (banger_store_snapshot_add (store, want, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_ALREADY_EXISTS);
  g_clear_error (&error);
  /* a bad name, a Diff without a parent */
  g_free (want->name);
  want->name = g_strdup ("-bad");
  ck_assert (banger_store_snapshot_add (store, want, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_free (want->name);
  want->name = g_strdup ("d1");
  want->diff = TRUE;
  ck_assert (banger_store_snapshot_add (store, want, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* a second Full, then a Diff over the latest */
  want->diff = FALSE;
  g_free (want->name);
  want->name = g_strdup ("s2");
  g_usleep (2000);
  full2 = banger_store_snapshot_add (store, want, &error);
  ck_assert (full2 != NULL);
  got = banger_store_snapshot_get_latest_full (store, "run-a", &error);
  ck_assert_str_eq (got->name, "s2");
  ck_assert_str_eq (got->run, "run-a");
  g_clear_pointer (&got, banger_store_snapshot_free);
  want->diff = TRUE;
  want->parent_id = g_strdup (full2->id);
  g_free (want->name);
  want->name = g_strdup ("d1");
  diff = banger_store_snapshot_add (store, want, &error);
  ck_assert_msg (diff != NULL, "%s", error ? error->message : "?");
  got = banger_store_snapshot_get_by_name (store, "d1", &error);
  ck_assert (got->diff);
  ck_assert_str_eq (got->parent_id, full2->id);
  ck_assert_str_eq (got->guest_ip, "10.0.0.2");
  ck_assert_uint_eq (got->size_bytes, 4096);
  g_clear_pointer (&got, banger_store_snapshot_free);
  /* the latest Full is still s2 (a Diff is not one) */
  got = banger_store_snapshot_get_latest_full (store, "run-a", &error);
  ck_assert_str_eq (got->name, "s2");
  g_clear_pointer (&got, banger_store_snapshot_free);
  /* another run of the VM has none */
  ck_assert (banger_store_snapshot_get_latest_full (store, "run-b", &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
  g_clear_error (&error);

  list = banger_store_snapshot_list (store, &error);
  ck_assert_uint_eq (list->len, 3);
  ck_assert_str_eq (((BangerStoreSnapshot *)list->pdata[0])->name, "d1");

  /* the VM goes; its snapshots stay */
  ck_assert (banger_store_vm_delete (store, vm_id, &error));
  got = banger_store_snapshot_get_by_id (store, full->id, &error);
  ck_assert (got != NULL);
  g_clear_pointer (&got, banger_store_snapshot_free);
  /* their image stays too */
  ck_assert (!banger_store_image_delete (store, "img", &error));
  banger_assert_error (error, BANGER_ERROR_BUSY);
  g_clear_error (&error);

  /* the base of a Diff: busy; the Diff first, then it */
  ck_assert (!banger_store_snapshot_delete (store, "s2", &error));
  banger_assert_error (error, BANGER_ERROR_BUSY);
  g_clear_error (&error);
  ck_assert (banger_store_snapshot_delete (store, "d1", &error));
  ck_assert (banger_store_snapshot_delete (store, "s2", &error));
  ck_assert (banger_store_snapshot_delete (store, "s1", &error));
  ck_assert (!banger_store_snapshot_delete (store, "s1", &error));
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
  g_clear_error (&error);
  ck_assert (banger_store_image_delete (store, "img", &error));
  store_test_dir_free (g_steal_pointer (&dir));
}
END_TEST

static Suite *
snapshot_suite (void)
{
  Suite *s = suite_create ("store-snapshot");
  TCase *tc = tcase_create ("snapshot");

  tcase_add_test (tc, test_snapshot_records);
  suite_add_tcase (s, tc);
  return s;
}

BANGER_TEST_MAIN (snapshot_suite)
