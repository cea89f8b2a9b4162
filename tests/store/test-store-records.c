/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Images, kernels, VMs (spec, state, runtime handles) and operations in the
 * store: every function, and each error it promises. */
#include "config.h"

#include "store-test.h"

static char *dir;
static BangerStore *store;
static char *image_id, *kernel_id;

static void
setup (void)
{
  g_autofree char *path = NULL;

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
  store_test_dir_free (g_steal_pointer (&dir));
}

#define assert_ok(expr, error)                                                                 \
  ck_assert_msg ((expr), "%s: %s", #expr, (error) ? (error)->message : "(no error)")

/* ------------------------------------------------------------ images */

START_TEST (test_image_add_get_list_delete)
{
  g_autoptr (GError) error = NULL;
  const char *digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  g_autoptr (BangerStoreImage) in = banger_store_image_new ("alpine", "/i/alpine.ext4", 42,
                                                            digest);
  g_autoptr (BangerStoreImage) added = banger_store_image_add (store, in, &error);
  g_autoptr (BangerStoreImage) by_name = NULL, by_id = NULL, copy = NULL;
  g_autoptr (GPtrArray) list = NULL;

  assert_ok (added != NULL, error);
  ck_assert_uint_eq (strlen (added->id), 16);
  ck_assert_int_gt (added->created_at, 0);
  by_name = banger_store_image_get_by_name (store, "alpine", &error);
  assert_ok (by_name != NULL, error);
  ck_assert_str_eq (by_name->id, added->id);
  ck_assert_str_eq (by_name->rootfs_path, "/i/alpine.ext4");
  ck_assert_uint_eq (by_name->size_bytes, 42);
  ck_assert_str_eq (by_name->digest, digest);
  ck_assert_int_eq (by_name->created_at, added->created_at);
  by_id = banger_store_image_get_by_id (store, added->id, &error);
  assert_ok (by_id != NULL, error);
  ck_assert_str_eq (by_id->name, "alpine");
  copy = banger_store_image_copy (by_id);
  ck_assert_str_eq (copy->id, by_id->id);
  ck_assert_str_eq (copy->digest, digest);

  list = banger_store_image_list (store, &error);
  assert_ok (list != NULL, error);
  ck_assert_uint_eq (list->len, 2);
  ck_assert_str_eq (((BangerStoreImage *) list->pdata[0])->name, "alpine");
  ck_assert_str_eq (((BangerStoreImage *) list->pdata[1])->name, "img");

  assert_ok (banger_store_image_delete (store, "alpine", &error), error);
  ck_assert (banger_store_image_get_by_name (store, "alpine", &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
}
END_TEST

START_TEST (test_image_errors)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerStoreImage) dup = banger_store_image_new ("img", "/other.ext4", 1, NULL);
  g_autoptr (BangerStoreImage) bad_name = banger_store_image_new ("bad name", "/x", 1, NULL);
  g_autoptr (BangerStoreImage) bad_path = banger_store_image_new ("ok", "relative.ext4", 1, NULL);
  g_autoptr (BangerStoreImage) bad_digest = banger_store_image_new ("ok", "/x", 1, "md5:00");
  g_autoptr (BangerStoreImage) big = banger_store_image_new ("ok", "/x", G_MAXUINT64, NULL);
  g_autofree char *vm_id = store_test_add_vm (store, "user", image_id, kernel_id);

  ck_assert (banger_store_image_add (store, dup, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_ALREADY_EXISTS);
  g_clear_error (&error);
  ck_assert (banger_store_image_add (store, bad_name, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ck_assert (banger_store_image_add (store, bad_path, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ck_assert (banger_store_image_add (store, bad_digest, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ck_assert (banger_store_image_add (store, big, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ck_assert (banger_store_image_get_by_id (store, "0000", &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
  g_clear_error (&error);
  ck_assert (!banger_store_image_delete (store, "nope", &error));
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
  g_clear_error (&error);
  /* in use by VM "user" */
  ck_assert (!banger_store_image_delete (store, "img", &error));
  banger_assert_error (error, BANGER_ERROR_BUSY);
  g_clear_error (&error);
  assert_ok (banger_store_vm_delete (store, vm_id, &error), error);
  assert_ok (banger_store_image_delete (store, "img", &error), error);
}
END_TEST

/* ----------------------------------------------------------- kernels */

START_TEST (test_kernel_add_get_list_delete)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerStoreKernel) in = banger_store_kernel_new ("debian", "/k/vmlinuz", "/k/initrd",
                                                              "console=ttyS0 quiet");
  g_autoptr (BangerStoreKernel) added = banger_store_kernel_add (store, in, &error);
  g_autoptr (BangerStoreKernel) by_name = NULL, by_id = NULL, copy = NULL;
  g_autoptr (GPtrArray) list = NULL;

  assert_ok (added != NULL, error);
  by_name = banger_store_kernel_get_by_name (store, "debian", &error);
  assert_ok (by_name != NULL, error);
  ck_assert_str_eq (by_name->id, added->id);
  ck_assert_str_eq (by_name->kernel_path, "/k/vmlinuz");
  ck_assert_str_eq (by_name->initrd_path, "/k/initrd");
  ck_assert_str_eq (by_name->cmdline, "console=ttyS0 quiet");
  by_id = banger_store_kernel_get_by_id (store, added->id, &error);
  assert_ok (by_id != NULL, error);
  copy = banger_store_kernel_copy (by_id);
  ck_assert_str_eq (copy->initrd_path, "/k/initrd");
  list = banger_store_kernel_list (store, &error);
  assert_ok (list != NULL && list->len == 2, error);
  ck_assert_str_eq (((BangerStoreKernel *) list->pdata[0])->name, "debian");
  ck_assert (((BangerStoreKernel *) list->pdata[1])->initrd_path == NULL);
  ck_assert (((BangerStoreKernel *) list->pdata[1])->cmdline == NULL);
  assert_ok (banger_store_kernel_delete (store, "debian", &error), error);
  ck_assert (banger_store_kernel_get_by_id (store, added->id, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
}
END_TEST

START_TEST (test_kernel_errors)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerStoreKernel) dup = banger_store_kernel_new ("k", "/x", NULL, NULL);
  g_autoptr (BangerStoreKernel) bad_initrd = banger_store_kernel_new ("k2", "/x", "initrd", NULL);
  g_autoptr (BangerStoreKernel) bad_cmdline = banger_store_kernel_new ("k2", "/x", NULL,
                                                                       "a\nb");
  g_autofree char *long_cmdline = g_strnfill (2049, 'a');
  g_autoptr (BangerStoreKernel) long_kernel = banger_store_kernel_new ("k2", "/x", NULL,
                                                                       long_cmdline);

  g_free (store_test_add_vm (store, "user", image_id, kernel_id));

  ck_assert (banger_store_kernel_add (store, dup, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_ALREADY_EXISTS);
  g_clear_error (&error);
  ck_assert (banger_store_kernel_add (store, bad_initrd, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ck_assert (banger_store_kernel_add (store, bad_cmdline, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ck_assert (banger_store_kernel_add (store, long_kernel, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ck_assert (banger_store_kernel_get_by_name (store, "nope", &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
  g_clear_error (&error);
  ck_assert (!banger_store_kernel_delete (store, "nope", &error));
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
  g_clear_error (&error);
  ck_assert (!banger_store_kernel_delete (store, "k", &error));
  banger_assert_error (error, BANGER_ERROR_BUSY);
}
END_TEST

/* --------------------------------------------------------------- VMs */

START_TEST (test_vm_create_get_list)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerStoreVm) spec = banger_store_vm_new ("web-1", image_id, kernel_id,
                                                        BANGER_STORE_VMM_FIRECRACKER);
  g_autoptr (BangerStoreVm) vm = NULL, by_name = NULL, by_id = NULL, copy = NULL;
  g_autoptr (GPtrArray) list = NULL;

  spec->vcpus = 4;
  spec->memory_mib = 2048;
  spec->work_disk_bytes = G_GUINT64_CONSTANT (8) << 30;
  vm = banger_store_vm_create (store, spec, &error);
  assert_ok (vm != NULL, error);
  ck_assert_uint_eq (strlen (vm->id), 16);
  ck_assert (banger_validate_vm_name (vm->id, NULL));
  ck_assert_int_eq (vm->state, BANGER_STORE_VM_STATE_CREATING);
  ck_assert_int_eq (vm->updated_at, vm->created_at);

  by_name = banger_store_vm_get_by_name (store, "web-1", &error);
  assert_ok (by_name != NULL, error);
  ck_assert_str_eq (by_name->id, vm->id);
  ck_assert_str_eq (by_name->image_id, image_id);
  ck_assert_str_eq (by_name->kernel_id, kernel_id);
  ck_assert_uint_eq (by_name->vcpus, 4);
  ck_assert_uint_eq (by_name->memory_mib, 2048);
  ck_assert_uint_eq (by_name->work_disk_bytes, G_GUINT64_CONSTANT (8) << 30);
  ck_assert_int_eq (by_name->vmm, BANGER_STORE_VMM_FIRECRACKER);
  ck_assert_int_eq (by_name->rootfs_cow, BANGER_STORE_ROOTFS_COW_AUTO);
  ck_assert_int_eq (by_name->created_at, vm->created_at);
  ck_assert (by_name->failed_step == NULL && by_name->error == NULL);
  by_id = banger_store_vm_get_by_id (store, vm->id, &error);
  assert_ok (by_id != NULL, error);
  ck_assert_str_eq (by_id->name, "web-1");
  copy = banger_store_vm_copy (by_id);
  ck_assert_str_eq (copy->name, "web-1");
  ck_assert_uint_eq (copy->vcpus, 4);

  g_free (store_test_add_vm (store, "a-first", image_id, kernel_id));
  list = banger_store_vm_list (store, &error);
  assert_ok (list != NULL, error);
  ck_assert_uint_eq (list->len, 2);
  ck_assert_str_eq (((BangerStoreVm *) list->pdata[0])->name, "a-first");
  ck_assert_str_eq (((BangerStoreVm *) list->pdata[1])->name, "web-1");
}
END_TEST

START_TEST (test_vm_create_errors)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerStoreVm) spec = banger_store_vm_new ("dup", image_id, kernel_id,
                                                        BANGER_STORE_VMM_QEMU);
  g_autoptr (BangerStoreVm) vm = banger_store_vm_create (store, spec, &error);

  assert_ok (vm != NULL, error);
  /* the same name again */
  ck_assert (banger_store_vm_create (store, spec, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_ALREADY_EXISTS);
  ck_assert (strstr (error->message, "named 'dup'") != NULL);
  g_clear_error (&error);
  /* the same id, another name */
  g_free (spec->name);
  spec->name = g_strdup ("other");
  spec->id = g_strdup (vm->id);
  ck_assert (banger_store_vm_create (store, spec, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_ALREADY_EXISTS);
  ck_assert (strstr (error->message, "with id") != NULL);
  g_clear_error (&error);
  /* a given id must be a DNS label */
  g_free (spec->id);
  spec->id = g_strdup ("Bad_Id");
  ck_assert (banger_store_vm_create (store, spec, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_clear_pointer (&spec->id, g_free);
  /* bad names */
  g_free (spec->name);
  spec->name = g_strdup ("Not_A_Label");
  ck_assert (banger_store_vm_create (store, spec, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_free (spec->name);
  spec->name = g_strdup ("fine");
  /* zero vCPUs, zero memory */
  spec->vcpus = 0;
  ck_assert (banger_store_vm_create (store, spec, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  spec->vcpus = 1;
  spec->memory_mib = 0;
  ck_assert (banger_store_vm_create (store, spec, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  spec->memory_mib = 64;
  /* out-of-range enums */
  spec->vmm = (BangerStoreVmm) 7;
  ck_assert (banger_store_vm_create (store, spec, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  spec->vmm = BANGER_STORE_VMM_QEMU;
  spec->state = (BangerStoreVmState) 99;
  ck_assert (banger_store_vm_create (store, spec, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  spec->state = BANGER_STORE_VM_STATE_CREATING;
  /* missing image, missing kernel */
  g_free (spec->image_id);
  spec->image_id = g_strdup ("no-such-image");
  ck_assert (banger_store_vm_create (store, spec, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
  ck_assert (strstr (error->message, "image") != NULL);
  g_clear_error (&error);
  g_free (spec->image_id);
  spec->image_id = g_strdup (image_id);
  g_free (spec->kernel_id);
  spec->kernel_id = g_strdup ("no-such-kernel");
  ck_assert (banger_store_vm_create (store, spec, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
  ck_assert (strstr (error->message, "kernel") != NULL);
  g_clear_error (&error);
  g_clear_pointer (&spec->kernel_id, g_free);
  ck_assert (banger_store_vm_create (store, spec, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* nothing of that was recorded */
  {
    g_autoptr (GPtrArray) list = banger_store_vm_list (store, &error);

    assert_ok (list != NULL, error);
    ck_assert_uint_eq (list->len, 1);
  }
  ck_assert (banger_store_vm_get_by_name (store, "fine", &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
  g_clear_error (&error);
  ck_assert (banger_store_vm_get_by_id (store, "fine", &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
}
END_TEST

START_TEST (test_vm_given_id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerStoreVm) spec = banger_store_vm_new ("named", image_id, kernel_id,
                                                        BANGER_STORE_VMM_QEMU);
  g_autoptr (BangerStoreVm) vm = NULL;

  spec->id = g_strdup ("abc123");
  spec->state = BANGER_STORE_VM_STATE_STOPPED;
  vm = banger_store_vm_create (store, spec, &error);
  assert_ok (vm != NULL, error);
  ck_assert_str_eq (vm->id, "abc123");
  ck_assert_int_eq (vm->state, BANGER_STORE_VM_STATE_STOPPED);
}
END_TEST

START_TEST (test_vm_set_state)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *id = store_test_add_vm (store, "st", image_id, kernel_id);
  g_autoptr (BangerStoreVm) vm = NULL;
  g_autofree char *huge = g_strnfill (10000, 'x');

  /* unconditional */
  assert_ok (banger_store_vm_set_state (store, id, -1, BANGER_STORE_VM_STATE_FAILED, "launch",
                                        "the VMM exited", &error),
             error);
  vm = banger_store_vm_get_by_id (store, id, &error);
  ck_assert_int_eq (vm->state, BANGER_STORE_VM_STATE_FAILED);
  ck_assert_str_eq (vm->failed_step, "launch");
  ck_assert_str_eq (vm->error, "the VMM exited");
  ck_assert_int_ge (vm->updated_at, vm->created_at);
  g_clear_pointer (&vm, banger_store_vm_free);

  /* compare-and-set: from the wrong state → BUSY, nothing changes */
  ck_assert (!banger_store_vm_set_state (store, id, BANGER_STORE_VM_STATE_RUNNING,
                                         BANGER_STORE_VM_STATE_STOPPING, NULL, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_BUSY);
  ck_assert (strstr (error->message, "failed") != NULL);
  g_clear_error (&error);
  vm = banger_store_vm_get_by_id (store, id, &error);
  ck_assert_int_eq (vm->state, BANGER_STORE_VM_STATE_FAILED);
  g_clear_pointer (&vm, banger_store_vm_free);

  /* from the right state; NULL clears the failure */
  assert_ok (banger_store_vm_set_state (store, id, BANGER_STORE_VM_STATE_FAILED,
                                        BANGER_STORE_VM_STATE_STOPPED, NULL, NULL, &error),
             error);
  vm = banger_store_vm_get_by_id (store, id, &error);
  ck_assert_int_eq (vm->state, BANGER_STORE_VM_STATE_STOPPED);
  ck_assert (vm->failed_step == NULL && vm->error == NULL);
  g_clear_pointer (&vm, banger_store_vm_free);

  /* long messages are cut, not refused */
  assert_ok (banger_store_vm_set_state (store, id, -1, BANGER_STORE_VM_STATE_FAILED, "x", huge,
                                        &error),
             error);
  vm = banger_store_vm_get_by_id (store, id, &error);
  ck_assert_uint_eq (strlen (vm->error), STORE_TEXT_MAX);

  ck_assert (!banger_store_vm_set_state (store, "nope", -1, BANGER_STORE_VM_STATE_STOPPED, NULL,
                                         NULL, &error));
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
  g_clear_error (&error);
  ck_assert (!banger_store_vm_set_state (store, id, 42, BANGER_STORE_VM_STATE_STOPPED, NULL,
                                         NULL, &error));
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ck_assert (!banger_store_vm_set_state (store, id, -1, (BangerStoreVmState) 42, NULL, NULL,
                                         &error));
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
}
END_TEST

START_TEST (test_vm_update_spec)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *id = store_test_add_vm (store, "upd", image_id, kernel_id);
  g_autoptr (BangerStoreVm) vm = banger_store_vm_get_by_id (store, id, &error);
  g_autoptr (BangerStoreVm) after = NULL;
  g_autoptr (BangerStoreImage) in_image = banger_store_image_new ("img2", "/i2", 1, NULL);
  g_autoptr (BangerStoreImage) image2 = banger_store_image_add (store, in_image, &error);

  assert_ok (image2 != NULL, error);
  vm->vcpus = 8;
  vm->memory_mib = 4096;
  vm->work_disk_bytes = 1 << 30;
  vm->rootfs_cow = BANGER_STORE_ROOTFS_COW_SPARSE_COPY;
  vm->vmm = BANGER_STORE_VMM_FIRECRACKER;
  g_free (vm->image_id);
  vm->image_id = g_strdup (image2->id);
  /* only while stopped: it is creating → BUSY, unchanged */
  ck_assert (!banger_store_vm_update_spec (store, vm, BANGER_STORE_VM_STATE_STOPPED, &error));
  banger_assert_error (error, BANGER_ERROR_BUSY);
  g_clear_error (&error);
  after = banger_store_vm_get_by_id (store, id, &error);
  ck_assert_uint_eq (after->vcpus, 1);
  g_clear_pointer (&after, banger_store_vm_free);

  assert_ok (banger_store_vm_update_spec (store, vm, BANGER_STORE_VM_STATE_CREATING, &error),
             error);
  after = banger_store_vm_get_by_id (store, id, &error);
  ck_assert_uint_eq (after->vcpus, 8);
  ck_assert_uint_eq (after->memory_mib, 4096);
  ck_assert_uint_eq (after->work_disk_bytes, 1 << 30);
  ck_assert_int_eq (after->rootfs_cow, BANGER_STORE_ROOTFS_COW_SPARSE_COPY);
  ck_assert_int_eq (after->vmm, BANGER_STORE_VMM_FIRECRACKER);
  ck_assert_str_eq (after->image_id, image2->id);
  ck_assert_str_eq (after->name, "upd");
  ck_assert_int_eq (after->state, BANGER_STORE_VM_STATE_CREATING);
  g_clear_pointer (&after, banger_store_vm_free);

  /* unconditional */
  vm->vcpus = 2;
  assert_ok (banger_store_vm_update_spec (store, vm, -1, &error), error);

  /* errors */
  g_free (vm->kernel_id);
  vm->kernel_id = g_strdup ("nope");
  ck_assert (!banger_store_vm_update_spec (store, vm, -1, &error));
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_free (vm->kernel_id);
  vm->kernel_id = g_strdup (kernel_id);
  vm->vcpus = 0;
  ck_assert (!banger_store_vm_update_spec (store, vm, -1, &error));
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  vm->vcpus = 1;
  ck_assert (!banger_store_vm_update_spec (store, vm, 77, &error));
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_free (vm->id);
  vm->id = g_strdup ("gone");
  ck_assert (!banger_store_vm_update_spec (store, vm, -1, &error));
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
}
END_TEST

START_TEST (test_vm_delete)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *id = store_test_add_vm (store, "del", image_id, kernel_id);
  g_autoptr (BangerStoreVmRuntime) rt = banger_store_vm_runtime_new (id, 77, 5);
  g_autoptr (BangerStoreLease) lease = NULL;

  assert_ok (banger_store_vm_runtime_set (store, rt, &error), error);
  lease = banger_store_lease_allocate (store, "10.0.0.0/24", id, &error);
  assert_ok (lease != NULL, error);
  assert_ok (banger_store_tap_add (store, "bngt1", &error), error);
  {
    g_autoptr (BangerStoreTap) tap = banger_store_tap_claim (store, id, &error);

    assert_ok (tap != NULL, error);
  }
  /* a lease and a tap stand for host objects: release them first */
  ck_assert (!banger_store_vm_delete (store, id, &error));
  banger_assert_error (error, BANGER_ERROR_BUSY);
  g_clear_error (&error);
  assert_ok (banger_store_lease_release_for_vm (store, id, NULL, &error), error);
  ck_assert (!banger_store_vm_delete (store, id, &error));
  banger_assert_error (error, BANGER_ERROR_BUSY);
  g_clear_error (&error);
  assert_ok (banger_store_tap_release_for_vm (store, id, &error), error);
  assert_ok (banger_store_vm_delete (store, id, &error), error);
  /* the runtime handles went with it */
  ck_assert (banger_store_vm_runtime_get (store, id, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
  g_clear_error (&error);
  ck_assert (!banger_store_vm_delete (store, id, &error));
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
}
END_TEST

START_TEST (test_vm_enum_strings)
{
  BangerStoreVmState state;
  BangerStoreVmm vmm;
  BangerStoreRootfsCow cow;

  for (int i = 0; i <= BANGER_STORE_VM_STATE_LAST; i++)
    {
      ck_assert (banger_store_vm_state_from_string (banger_store_vm_state_to_string (i), &state));
      ck_assert_int_eq (state, i);
    }
  for (int i = 0; i <= BANGER_STORE_VMM_LAST; i++)
    {
      ck_assert (banger_store_vmm_from_string (banger_store_vmm_to_string (i), &vmm));
      ck_assert_int_eq (vmm, i);
    }
  for (int i = 0; i <= BANGER_STORE_ROOTFS_COW_LAST; i++)
    {
      ck_assert (banger_store_rootfs_cow_from_string (banger_store_rootfs_cow_to_string (i),
                                                      &cow));
      ck_assert_int_eq (cow, i);
    }
  /* the strings are what the file holds: fixed */
  ck_assert_str_eq (banger_store_vm_state_to_string (BANGER_STORE_VM_STATE_RUNNING), "running");
  ck_assert_str_eq (banger_store_vmm_to_string (BANGER_STORE_VMM_FIRECRACKER), "firecracker");
  ck_assert_str_eq (banger_store_rootfs_cow_to_string (BANGER_STORE_ROOTFS_COW_DM_SNAPSHOT),
                    "dm-snapshot");
  ck_assert (banger_store_vm_state_to_string ((BangerStoreVmState) 99) == NULL);
  ck_assert (banger_store_vmm_to_string ((BangerStoreVmm) 99) == NULL);
  ck_assert (banger_store_rootfs_cow_to_string ((BangerStoreRootfsCow) 99) == NULL);
  ck_assert (!banger_store_vm_state_from_string ("Running", NULL));
  ck_assert (!banger_store_vmm_from_string (NULL, NULL));
  ck_assert (!banger_store_rootfs_cow_from_string ("cow", NULL));
}
END_TEST

/* ----------------------------------------------------------- runtime */

START_TEST (test_runtime)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *id = store_test_add_vm (store, "run", image_id, kernel_id);
  g_autofree char *id2 = store_test_add_vm (store, "run2", image_id, kernel_id);
  g_autoptr (BangerStoreVmRuntime) rt = banger_store_vm_runtime_new (id, 1234, 987654);
  g_autoptr (BangerStoreVmRuntime) got = NULL, copy = NULL;
  g_autoptr (BangerStoreLease) lease = NULL;
  g_autoptr (BangerStoreTap) tap = NULL;
  g_autoptr (GPtrArray) list = NULL;

  ck_assert (banger_store_vm_runtime_get (store, id, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
  g_clear_error (&error);

  rt->cgroup = g_strdup ("/banger.slice/banger-run.scope");
  rt->api_socket = g_strdup ("/run/banger/run/api.sock");
  rt->log_path = g_strdup ("/var/log/banger/run.log");
  rt->tap = g_strdup ("ignored");
  assert_ok (banger_store_vm_runtime_set (store, rt, &error), error);
  got = banger_store_vm_runtime_get (store, id, &error);
  assert_ok (got != NULL, error);
  ck_assert_int_eq (got->pid, 1234);
  ck_assert_uint_eq (got->start_time, 987654);
  ck_assert_str_eq (got->cgroup, "/banger.slice/banger-run.scope");
  ck_assert_str_eq (got->api_socket, "/run/banger/run/api.sock");
  ck_assert_str_eq (got->log_path, "/var/log/banger/run.log");
  /* tap and ip come from the tap and lease rows, not from the caller */
  ck_assert (got->tap == NULL && got->ip == NULL);
  g_clear_pointer (&got, banger_store_vm_runtime_free);

  lease = banger_store_lease_allocate (store, "192.168.100.0/24", id, &error);
  assert_ok (lease != NULL, error);
  assert_ok (banger_store_tap_add (store, "bngt7", &error), error);
  tap = banger_store_tap_claim (store, id, &error);
  assert_ok (tap != NULL, error);
  got = banger_store_vm_runtime_get (store, id, &error);
  ck_assert_str_eq (got->tap, "bngt7");
  ck_assert_str_eq (got->ip, "192.168.100.2");
  copy = banger_store_vm_runtime_copy (got);
  ck_assert_str_eq (copy->ip, "192.168.100.2");
  ck_assert_str_eq (copy->cgroup, got->cgroup);
  g_clear_pointer (&got, banger_store_vm_runtime_free);

  /* replacing */
  rt->pid = 99;
  g_clear_pointer (&rt->cgroup, g_free);
  assert_ok (banger_store_vm_runtime_set (store, rt, &error), error);
  got = banger_store_vm_runtime_get (store, id, &error);
  ck_assert_int_eq (got->pid, 99);
  ck_assert (got->cgroup == NULL);
  g_clear_pointer (&got, banger_store_vm_runtime_free);

  g_free (rt->vm_id);
  rt->vm_id = g_strdup (id2);
  assert_ok (banger_store_vm_runtime_set (store, rt, &error), error);
  list = banger_store_vm_runtime_list (store, &error);
  assert_ok (list != NULL && list->len == 2, error);

  assert_ok (banger_store_vm_runtime_clear (store, id, &error), error);
  ck_assert (banger_store_vm_runtime_get (store, id, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
  g_clear_error (&error);
  /* clearing twice is fine; a missing VM is not */
  assert_ok (banger_store_vm_runtime_clear (store, id, &error), error);
  ck_assert (!banger_store_vm_runtime_clear (store, "gone", &error));
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* errors of set */
  g_free (rt->vm_id);
  rt->vm_id = g_strdup ("gone");
  ck_assert (!banger_store_vm_runtime_set (store, rt, &error));
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_free (rt->vm_id);
  rt->vm_id = g_strdup (id);
  rt->pid = 0;
  ck_assert (!banger_store_vm_runtime_set (store, rt, &error));
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  rt->pid = 5;
  rt->api_socket[0] = 'x'; /* no longer absolute */
  ck_assert (!banger_store_vm_runtime_set (store, rt, &error));
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
}
END_TEST

/* -------------------------------------------------------- operations */

START_TEST (test_operations)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) failure = g_error_new_literal (BANGER_ERROR, BANGER_ERROR_TIMED_OUT,
                                                    "SSH did not answer");
  g_autoptr (GError) io_failure = g_error_new_literal (G_FILE_ERROR, G_FILE_ERROR_IO, "disk");
  g_autoptr (BangerStoreOp) a = banger_store_op_begin (store, "op-1", "vm.create", "web",
                                                       &error);
  g_autoptr (BangerStoreOp) b = NULL, c = NULL, got = NULL, copy = NULL;
  g_autoptr (GPtrArray) list = NULL;
  guint n = 99;

  assert_ok (a != NULL, error);
  ck_assert_str_eq (a->id, "op-1");
  ck_assert_int_eq (a->state, BANGER_STORE_OP_RUNNING);
  b = banger_store_op_begin (store, NULL, "image.import", NULL, &error);
  assert_ok (b != NULL, error);
  ck_assert_uint_eq (strlen (b->id), 16);
  c = banger_store_op_begin (store, "op-3", "vm.stop", "db", &error);
  assert_ok (c != NULL, error);

  assert_ok (banger_store_op_finish (store, "op-1", BANGER_STORE_OP_FAILED, failure, &error),
             error);
  got = banger_store_op_get (store, "op-1", &error);
  assert_ok (got != NULL, error);
  ck_assert_int_eq (got->state, BANGER_STORE_OP_FAILED);
  ck_assert_str_eq (got->kind, "vm.create");
  ck_assert_str_eq (got->target, "web");
  ck_assert_str_eq (got->error_code, "timed-out");
  ck_assert_str_eq (got->error, "SSH did not answer");
  ck_assert_int_ge (got->ended_at, got->started_at);
  copy = banger_store_op_copy (got);
  ck_assert_str_eq (copy->error_code, "timed-out");
  g_clear_pointer (&got, banger_store_op_free);

  assert_ok (banger_store_op_finish (store, b->id, BANGER_STORE_OP_CANCELLED, io_failure, &error),
             error);
  got = banger_store_op_get (store, b->id, &error);
  ck_assert_str_eq (got->error_code, "failed"); /* not a BANGER_ERROR */
  g_clear_pointer (&got, banger_store_op_free);

  /* finishing twice, or into RUNNING, or a missing op */
  ck_assert (!banger_store_op_finish (store, "op-1", BANGER_STORE_OP_SUCCEEDED, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  ck_assert (strstr (error->message, "already ended") != NULL);
  g_clear_error (&error);
  ck_assert (!banger_store_op_finish (store, "op-3", BANGER_STORE_OP_RUNNING, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ck_assert (!banger_store_op_finish (store, "nope", BANGER_STORE_OP_SUCCEEDED, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
  g_clear_error (&error);
  ck_assert (banger_store_op_get (store, "nope", &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
  g_clear_error (&error);
  ck_assert (banger_store_op_begin (store, "op-1", "vm.create", NULL, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_ALREADY_EXISTS);
  g_clear_error (&error);
  ck_assert (banger_store_op_begin (store, "bad id", "vm.create", NULL, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ck_assert (banger_store_op_begin (store, NULL, "VM Create!", NULL, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ck_assert (banger_store_op_begin (store, NULL, NULL, NULL, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* listing: newest first, running only, limit */
  list = banger_store_op_list (store, FALSE, 0, &error);
  assert_ok (list != NULL && list->len == 3, error);
  ck_assert_str_eq (((BangerStoreOp *) list->pdata[0])->id, "op-3");
  ck_assert_str_eq (((BangerStoreOp *) list->pdata[2])->id, "op-1");
  g_clear_pointer (&list, g_ptr_array_unref);
  list = banger_store_op_list (store, TRUE, 0, &error);
  assert_ok (list != NULL && list->len == 1, error);
  ck_assert_str_eq (((BangerStoreOp *) list->pdata[0])->id, "op-3");
  g_clear_pointer (&list, g_ptr_array_unref);
  list = banger_store_op_list (store, FALSE, 2, &error);
  assert_ok (list != NULL && list->len == 2, error);
  g_clear_pointer (&list, g_ptr_array_unref);

  /* after a crash: running ones become failed */
  assert_ok (banger_store_op_fail_running (store, "bangerd restarted", &n, &error), error);
  ck_assert_uint_eq (n, 1);
  got = banger_store_op_get (store, "op-3", &error);
  ck_assert_int_eq (got->state, BANGER_STORE_OP_FAILED);
  ck_assert_str_eq (got->error, "bangerd restarted");
  ck_assert_int_gt (got->ended_at, 0);
  g_clear_pointer (&got, banger_store_op_free);
  assert_ok (banger_store_op_fail_running (store, "again", &n, &error), error);
  ck_assert_uint_eq (n, 0);

  /* pruning: ended before a time; running ones stay */
  {
    g_autoptr (BangerStoreOp) d = banger_store_op_begin (store, "op-4", "vm.start", NULL, &error);

    assert_ok (d != NULL, error);
  }
  assert_ok (banger_store_op_prune (store, 0, &n, &error), error);
  ck_assert_uint_eq (n, 0);
  assert_ok (banger_store_op_prune (store, G_MAXINT64, &n, &error), error);
  ck_assert_uint_eq (n, 3);
  list = banger_store_op_list (store, FALSE, 0, &error);
  assert_ok (list != NULL && list->len == 1, error);
  ck_assert_str_eq (((BangerStoreOp *) list->pdata[0])->id, "op-4");
}
END_TEST

START_TEST (test_op_state_strings)
{
  BangerStoreOpState state;

  for (int i = 0; i <= BANGER_STORE_OP_STATE_LAST; i++)
    {
      ck_assert (banger_store_op_state_from_string (banger_store_op_state_to_string (i), &state));
      ck_assert_int_eq (state, i);
    }
  ck_assert_str_eq (banger_store_op_state_to_string (BANGER_STORE_OP_SUCCEEDED), "succeeded");
  ck_assert (banger_store_op_state_to_string ((BangerStoreOpState) 9) == NULL);
  ck_assert (!banger_store_op_state_from_string ("done", NULL));
}
END_TEST

static Suite *
store_records_suite (void)
{
  Suite *s = suite_create ("store-records");
  TCase *tc = tcase_create ("records");

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_image_add_get_list_delete);
  tcase_add_test (tc, test_image_errors);
  tcase_add_test (tc, test_kernel_add_get_list_delete);
  tcase_add_test (tc, test_kernel_errors);
  tcase_add_test (tc, test_vm_create_get_list);
  tcase_add_test (tc, test_vm_create_errors);
  tcase_add_test (tc, test_vm_given_id);
  tcase_add_test (tc, test_vm_set_state);
  tcase_add_test (tc, test_vm_update_spec);
  tcase_add_test (tc, test_vm_delete);
  tcase_add_test (tc, test_vm_enum_strings);
  tcase_add_test (tc, test_runtime);
  tcase_add_test (tc, test_operations);
  tcase_add_test (tc, test_op_state_strings);
  suite_add_tcase (s, tc);
  return s;
}

BANGER_TEST_MAIN (store_records_suite)
