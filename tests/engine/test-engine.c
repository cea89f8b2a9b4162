/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The engine without booting a VM: the config file's strictness (unit),
 * and, as root with the in-process executor, the refusals of vm.create
 * before anything is made, a --no-start create (disks, key, lease, the
 * operation recorded), set, the busy image, and delete leaving nothing. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger-engine.h"
#include "banger-error.h"
#include "banger-store.h"
#include "banger-test.h"

static char *
write_tmp (const char *dir, const char *name, const char *text)
{
  char *path = g_build_filename (dir, name, NULL);
  ck_assert (g_file_set_contents (path, text, -1, NULL));
  return path;
}

START_TEST (test_config)
{
  g_autofree char *dir = g_dir_make_tmp ("banger-engine-XXXXXX", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerEngineConfig) c = banger_engine_config_new ();
  g_autofree char *good = write_tmp (dir, "good.conf",
                                     "[vmm]\ndefault=firecracker\nqemu=/usr/bin/qemu\n"
                                     "[network]\nsubnet=10.1.2.0/24\nnat=false\n"
                                     "[helper]\nsocket=/run/banger/h.sock\n");
  g_autofree char *unknown = write_tmp (dir, "unknown.conf", "[network]\nsubnets=10.0.0.0/24\n");
  g_autofree char *relative = write_tmp (dir, "rel.conf", "[vmm]\nqemu=qemu\n");
  g_autofree char *badnet = write_tmp (dir, "net.conf", "[network]\nsubnet=10.1.2.3/24\n");
  g_autofree char *badvmm = write_tmp (dir, "vmm.conf", "[vmm]\ndefault=xen\n");
  g_autofree char *missing = g_build_filename (dir, "missing.conf", NULL);

  ck_assert_str_eq (c->subnet, BANGER_ENGINE_DEFAULT_SUBNET);
  ck_assert (c->nat);
  ck_assert_int_eq (c->default_vmm, BANGER_STORE_VMM_QEMU);
  ck_assert (banger_engine_config_load (c, good, &error));
  ck_assert_int_eq (c->default_vmm, BANGER_STORE_VMM_FIRECRACKER);
  ck_assert_str_eq (c->qemu_path, "/usr/bin/qemu");
  ck_assert_str_eq (c->subnet, "10.1.2.0/24");
  ck_assert (!c->nat);
  ck_assert_str_eq (c->helper_socket, "/run/banger/h.sock");

  ck_assert (!banger_engine_config_load (c, unknown, &error));
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  ck_assert_msg (strstr (error->message, "subnets") != NULL, "%s", error->message);
  g_clear_error (&error);
  ck_assert (!banger_engine_config_load (c, relative, &error));
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ck_assert (!banger_engine_config_load (c, badnet, &error));
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ck_assert (!banger_engine_config_load (c, badvmm, &error));
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ck_assert (!banger_engine_config_load (c, missing, &error));
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_setenv ("BANGER_STATE_DIR", "/x/state", TRUE);
  g_setenv ("BANGER_RUNTIME_DIR", "/x/run", TRUE);
  {
    g_autofree char *s = banger_engine_default_state_dir ();
    g_autofree char *r = banger_engine_default_runtime_dir ();
    g_autofree char *k = NULL;
    ck_assert_str_eq (s, "/x/state");
    ck_assert_str_eq (r, "/x/run");
    g_unsetenv ("BANGER_SOCKET");
    k = banger_engine_default_socket ();
    ck_assert_str_eq (k, "/x/run/bangerd.sock");
  }
  g_unsetenv ("BANGER_STATE_DIR");
  g_unsetenv ("BANGER_RUNTIME_DIR");
  {
    const char *rm[] = { "rm", "-rf", dir, NULL };
    g_spawn_sync (NULL, (char **)rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
  }
}
END_TEST

/* [guest] ssh-resend-ms: 0-60000, default the endpoint's 250 ms; 0 turns
 * the wait's fresh connects off */
START_TEST (test_config_ssh_resend)
{
  g_autofree char *dir = g_dir_make_tmp ("banger-engine-XXXXXX", NULL);
  g_autofree char *off = write_tmp (dir, "off.conf", "[guest]\nssh-resend-ms=0\n");
  g_autofree char *slow = write_tmp (dir, "slow.conf", "[guest]\nssh-resend-ms=60000\n");
  const char *bad[] = { "-1", "60001", "fast", "" };
  g_autoptr (BangerEngineConfig) c = banger_engine_config_new ();
  g_autoptr (GError) error = NULL;

  ck_assert_uint_eq (c->ssh_resend_ms, 250);
  ck_assert_msg (banger_engine_config_load (c, slow, &error), "%s", error ? error->message : "?");
  ck_assert_uint_eq (c->ssh_resend_ms, 60000);
  ck_assert_msg (banger_engine_config_load (c, off, &error), "%s", error ? error->message : "?");
  ck_assert_uint_eq (c->ssh_resend_ms, 0);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *text = g_strdup_printf ("[guest]\nssh-resend-ms=%s\n", bad[i]);
      g_autofree char *path = write_tmp (dir, "bad.conf", text);
      g_autoptr (GError) e = NULL;

      ck_assert_msg (!banger_engine_config_load (c, path, &e), "accepted '%s'", bad[i]);
      banger_assert_error (e, BANGER_ERROR_INVALID_ARGUMENT);
      ck_assert_msg (strstr (e->message, "ssh-resend-ms") != NULL, "%s", e->message);
      ck_assert_uint_eq (c->ssh_resend_ms, 0); /* unchanged */
    }
  {
    const char *rm[] = { "rm", "-rf", dir, NULL };
    g_spawn_sync (NULL, (char **)rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
  }
}
END_TEST

static guint
count_entries (const char *path)
{
  g_autoptr (GDir) d = g_dir_open (path, 0, NULL);
  guint n = 0;
  while (d && g_dir_read_name (d))
    n++;
  return n;
}

START_TEST (test_engine_no_boot)
{
  g_autofree char *dir = g_dir_make_tmp ("banger-engine-XXXXXX", NULL);
  g_autofree char *tree = g_build_filename (dir, "tree", "root", ".ssh", NULL);
  g_autofree char *image = g_build_filename (dir, "rootfs.ext4", NULL);
  g_autofree char *kernel = NULL;
  g_autofree char *vms_dir = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerEngine) e = NULL;
  g_autoptr (BangerEngineVmInfo) info = NULL;
  g_autoptr (BangerStoreKernel) k = NULL;
  g_autoptr (BangerStoreImage) im = NULL;
  g_autoptr (GPtrArray) ops = NULL;
  g_autoptr (GPtrArray) vms = NULL;
  BangerEngineConfig *c = banger_engine_config_new ();
  BangerEngineVmSpec spec = { 0 };

  if (geteuid () != 0 && banger_test_skip_part ("needs root (the in-process executor)"))
    return;
  ck_assert (g_mkdir_with_parents (tree, 0700) == 0);
  {
    g_autofree char *t = g_build_filename (dir, "tree", NULL);
    const char *mkfs[] = { "mkfs.ext4", "-q", "-F", "-d", t, image, "16M", NULL };
    ck_assert (g_spawn_sync (NULL, (char **)mkfs, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
                             NULL, NULL));
  }
  kernel = write_tmp (dir, "vmlinuz", "not a kernel: never booted here");
  c->state_dir = g_build_filename (dir, "state", NULL);
  c->runtime_dir = g_build_filename (dir, "run", NULL);
  c->subnet = (g_free (c->subnet), g_strdup ("10.99.0.0/24"));
  vms_dir = g_build_filename (c->state_dir, "vms", NULL);
  e = banger_engine_new (c, &error);
  ck_assert_msg (e != NULL, "%s", error ? error->message : "?");

  k = banger_engine_kernel_add (e, "k", kernel, NULL, NULL, "t-1", NULL, &error);
  ck_assert_msg (k != NULL, "%s", error ? error->message : "?");
  im = banger_engine_image_import (e, "img", image, "t-2", NULL, &error);
  ck_assert_msg (im != NULL, "%s", error ? error->message : "?");
  g_clear_pointer (&im, banger_store_image_free);
  im = banger_engine_image_import (e, "img", image, "t-3", NULL, &error);
  ck_assert (im == NULL);
  banger_assert_error (error, BANGER_ERROR_ALREADY_EXISTS);
  g_clear_error (&error);

  /* refusals before anything exists */
  spec.image = "img";
  spec.kernel = "k";
  spec.vmm = -1;
  spec.name = "Bad_Name";
  ck_assert (banger_engine_vm_create (e, &spec, NULL, NULL, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  spec.name = "vm-1";
  spec.image = "nope";
  ck_assert (banger_engine_vm_create (e, &spec, NULL, NULL, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
  g_clear_error (&error);
  spec.image = "img";
  spec.vcpus = 64;
  ck_assert (banger_engine_vm_create (e, &spec, NULL, NULL, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  spec.vcpus = 0;
  spec.work_disk_bytes = 1000;
  ck_assert (banger_engine_vm_create (e, &spec, NULL, NULL, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  vms = banger_engine_vm_list (e, &error);
  ck_assert_uint_eq (vms->len, 0);
  g_clear_pointer (&vms, g_ptr_array_unref);
  ck_assert_uint_eq (count_entries (vms_dir), 0);

  /* --no-start: the disk steps and the lease, nothing on the network */
  spec.work_disk_bytes = 16 * 1024 * 1024;
  spec.no_start = TRUE;
  info = banger_engine_vm_create (e, &spec, "t-create", NULL, &error);
  ck_assert_msg (info != NULL, "%s", error ? error->message : "?");
  ck_assert_int_eq (info->vm->state, BANGER_STORE_VM_STATE_STOPPED);
  ck_assert_int_eq (info->vm->rootfs_cow, BANGER_STORE_ROOTFS_COW_SPARSE_COPY);
  ck_assert_str_eq (info->ip, "10.99.0.2");
  ck_assert (info->tap == NULL);
  ck_assert_int_eq (info->pid, 0);
  {
    g_autofree char *rootfs = g_build_filename (vms_dir, info->vm->id, "rootfs.ext4", NULL);
    g_autofree char *work = g_build_filename (vms_dir, info->vm->id, "work.ext4", NULL);
    ck_assert (g_file_test (rootfs, G_FILE_TEST_IS_REGULAR));
    ck_assert (g_file_test (work, G_FILE_TEST_IS_REGULAR));
  }
  /* the same name again */
  ck_assert (banger_engine_vm_create (e, &spec, NULL, NULL, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_ALREADY_EXISTS);
  g_clear_error (&error);

  /* set: a stopped VM */
  ck_assert (banger_engine_vm_set (e, "vm-1", 2, 512, NULL, &error));
  g_clear_pointer (&info, banger_engine_vm_info_free);
  info = banger_engine_vm_get (e, "vm-1", &error);
  ck_assert_uint_eq (info->vm->vcpus, 2);
  ck_assert_uint_eq (info->vm->memory_mib, 512);
  ck_assert (!banger_engine_vm_set (e, "vm-1", 0, 16, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* stop of a stopped VM: busy */
  ck_assert (!banger_engine_vm_stop (e, "vm-1", NULL, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_BUSY);
  g_clear_error (&error);
  /* the image is in use */
  ck_assert (!banger_engine_image_delete (e, "img", NULL, &error));
  banger_assert_error (error, BANGER_ERROR_BUSY);
  g_clear_error (&error);

  /* delete: nothing left */
  ck_assert_msg (banger_engine_vm_delete (e, "vm-1", NULL, NULL, &error), "%s",
                 error ? error->message : "?");
  ck_assert_uint_eq (count_entries (vms_dir), 0);
  {
    g_autoptr (GPtrArray) leases
        = banger_store_lease_list (banger_engine_get_store (e), NULL, &error);
    ck_assert_uint_eq (leases->len, 0);
  }
  ck_assert (banger_engine_vm_get (e, "vm-1", &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
  g_clear_error (&error);
  ck_assert (banger_engine_image_delete (e, "img", NULL, &error));
  ck_assert (banger_engine_kernel_delete (e, "k", NULL, &error));

  g_clear_object (&e);
  {
    const char *rm[] = { "rm", "-rf", dir, NULL };
    g_spawn_sync (NULL, (char **)rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
  }
}
END_TEST

static Suite *
engine_suite (void)
{
  Suite *s = suite_create ("engine");
  TCase *tc = tcase_create ("engine");

  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_config);
  tcase_add_test (tc, test_config_ssh_resend);
  tcase_add_test (tc, test_engine_no_boot);
  suite_add_tcase (s, tc);
  return s;
}

BANGER_TEST_MAIN (engine_suite)
