/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A jailed Firecracker VM as a real install runs it: a real bangerd-root
 * (a separate process) for a non-root owner (uid 65534), its runtime dir a
 * tmpfs (as /run is) and so another filesystem than the owner's state dir,
 * the fake jailer (fake-jailer.c: a mount namespace of its own, the jail
 * root bind-mounted onto itself, chroot, the owner's uid) and the static
 * fake VMM in it.  priv.launch_vmm bind-mounts the VM's files into the
 * jail: inside, /disk-rootfs is the owner's file (the same inode; the
 * fake's write reaches it), /kernel is read-only; files outside the state
 * dir or not the owner's are refused with no jail left; the jail is listed
 * for reconcile; priv.cleanup_vm detaches the mounts and removes the jail,
 * leaving the owner's files as they were. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "banger-test.h"
#include "host-test-loopfs.h"
#include "host-test-util.h"

#define OWNER HOST_TEST_OWNER_UID
#define MARKER "written by the jailed fake-vmm"

static char *
owner_file (const char *dir, const char *name, const char *text)
{
  char *path = g_build_filename (dir, name, NULL);
  g_autofree char *parent = g_path_get_dirname (path);

  ck_assert_int_eq (g_mkdir_with_parents (parent, 0755), 0);
  ck_assert (g_file_set_contents (path, text, -1, NULL));
  ck_assert_int_eq (chown (path, OWNER, HOST_TEST_OWNER_GID), 0);
  ck_assert_int_eq (chmod (path, 0600), 0);
  return path;
}

static JsonObject *
owner_call (HostTestHelper *h, const char *method, const char *params)
{
  int fd = host_test_helper_connect (h->socket_path, OWNER, HOST_TEST_OWNER_GID);
  JsonObject *r;

  ck_assert_int_ge (fd, 0);
  r = host_test_rpc (fd, method, params, 15000, NULL);
  close (fd);
  ck_assert_msg (r != NULL, "%s: no answer", method);
  return r;
}

static gboolean
mounted_beneath (const char *dir)
{
  g_autofree char *info = NULL;

  ck_assert (g_file_get_contents ("/proc/self/mountinfo", &info, NULL, NULL));
  return strstr (info, dir) != NULL;
}

/* The VMM's log line about its disk, once it is ready. */
static char *
wait_log_line (const char *log)
{
  for (int i = 0; i < 500; i++)
    {
      g_autofree char *text = NULL;
      if (g_file_get_contents (log, &text, NULL, NULL) && strstr (text, "fake-vmm ready"))
        {
          char *line = strstr (text, "fake-vmm disk-rootfs");
          return line ? g_strndup (line, strcspn (line, "\n")) : NULL;
        }
      g_usleep (10 * 1000);
    }
  return NULL;
}

START_TEST (test_jail_bind_mounts)
{
  g_autoptr (GError) error = NULL;
  HostTestHelper *h;
  g_autofree char *disk = NULL;
  g_autofree char *seed = NULL;
  g_autofree char *kernel = NULL;
  g_autofree char *foreign = NULL;
  g_autofree char *params = NULL;
  g_autofree char *jail_root = NULL;
  g_autofree char *jail = NULL;
  g_autofree char *log = NULL;
  g_autofree char *line = NULL;
  g_autofree char *expect = NULL;
  struct stat disk_st, state_st, run_st, in_jail;
  gint64 pid;

  host_test_netns_enter ();
  ck_assert_msg (host_test_private_mount_ns (&error), "%s", error ? error->message : "");
  h = host_test_helper_start_jailed (g_getenv ("BANGER_TEST_FAKE_VMM_STATIC"),
                                     g_getenv ("BANGER_TEST_FAKE_JAILER"));
  ck_assert_int_eq (stat (h->state->state_dir, &state_st), 0);
  ck_assert_int_eq (stat (h->state->runtime_dir, &run_st), 0);
  ck_assert_msg (state_st.st_dev != run_st.st_dev, "the runtime dir must be another filesystem");

  disk = owner_file (h->state->state_dir, "vms/web-m/rootfs.ext4", "the owner's disk, as it was");
  seed = owner_file (h->state->state_dir, "vms/web-m/seed.img", "seed");
  kernel = owner_file (h->state->state_dir, "kernels/vmlinux", "kernel");
  ck_assert_int_eq (chmod (kernel, 0644), 0);
  ck_assert_int_eq (stat (disk, &disk_st), 0);
  jail = g_build_filename (h->state->runtime_dir, "jail", "fake-vmm-static", "web-m", NULL);

  /* refused: a file outside the state dir, a file not the owner's; no
   * jail and no mount is left behind */
  {
    g_autofree char *outside = g_build_filename (h->state->runtime_dir, "x", NULL);
    g_autofree char *p = NULL;
    g_autoptr (JsonObject) r = NULL;

    foreign = g_build_filename (h->state->state_dir, "vms/web-m/root-owned", NULL);
    ck_assert (g_file_set_contents (foreign, "root's", -1, NULL));
    p = g_strdup_printf ("{\"vm_id\":\"web-m\",\"vmm\":\"firecracker\",\"jail_kernel\":\"%s\","
                         "\"jail_disk_rootfs\":\"%s\",\"jail_disk_rootfs_rw\":true}",
                         kernel, foreign);
    r = owner_call (h, "priv.launch_vmm", p);
    ck_assert_str_eq (host_test_rpc_error (r) ?: "(none)", "permission-denied");
    ck_assert (!g_file_test (jail, G_FILE_TEST_EXISTS));
    ck_assert (!mounted_beneath (jail));
    g_clear_pointer (&r, json_object_unref);
    g_free (p);
    p = g_strdup_printf ("{\"vm_id\":\"web-m\",\"vmm\":\"firecracker\",\"jail_kernel\":\"%s\"}",
                         outside);
    r = owner_call (h, "priv.launch_vmm", p);
    ck_assert_str_eq (host_test_rpc_error (r) ?: "(none)", "permission-denied");
    ck_assert (!g_file_test (jail, G_FILE_TEST_EXISTS));
  }

  params = g_strdup_printf ("{\"vm_id\":\"web-m\",\"vmm\":\"firecracker\",\"jail_kernel\":\"%s\","
                            "\"jail_disk_rootfs\":\"%s\",\"jail_disk_rootfs_rw\":true,"
                            "\"jail_disk_seed\":\"%s\",\"jail_disk_seed_rw\":false}",
                            kernel, disk, seed);
  {
    g_autoptr (JsonObject) r = owner_call (h, "priv.launch_vmm", params);
    JsonObject *res;

    if (host_test_rpc_error (r) != NULL)
      {
        g_autoptr (JsonNode) n = json_node_init_object (json_node_alloc (), r);
        g_autofree char *text = json_to_string (n, FALSE);
        ck_abort_msg ("launch: %s", text);
      }
    res = json_object_get_object_member (r, "result");
    pid = json_object_get_int_member (res, "pid");
    jail_root = g_strdup (json_object_get_string_member (res, "jail_root"));
    log = g_strdup (json_object_get_string_member (res, "log"));
  }
  ck_assert (mounted_beneath (jail));

  /* inside the jail: the owner's file, written through, the kernel read-only */
  line = wait_log_line (log);
  if (line == NULL)
    {
      g_autofree char *all = NULL;
      g_file_get_contents (log, &all, NULL, NULL);
      ck_abort_msg ("the jailed VMM did not report its disk: %s", all ? all : "(no log)");
    }
  expect = g_strdup_printf ("fake-vmm disk-rootfs ino=%lu dev=%lu write=ok kernel-rw=%s",
                            (unsigned long)disk_st.st_ino, (unsigned long)disk_st.st_dev,
                            g_strerror (EROFS));
  ck_assert_str_eq (line, expect);
  {
    g_autofree char *through = g_strdup_printf ("/proc/%d/root/disk-rootfs", (int)pid);
    g_autofree char *text = NULL;
    ck_assert_int_eq (stat (through, &in_jail), 0);
    ck_assert_uint_eq (in_jail.st_ino, disk_st.st_ino);
    ck_assert_uint_eq (in_jail.st_dev, disk_st.st_dev);
    ck_assert (g_file_get_contents (disk, &text, NULL, NULL));
    ck_assert (g_str_has_prefix (text, MARKER));
  }
  {
    /* the owner cannot unlink the mount point to put something else there */
    g_autofree char *seed_in = g_build_filename (jail_root, "disk-seed", NULL);
    ck_assert_int_ne (unlink (seed_in), 0);
  }

  /* the jail is listed for reconcile (after a daemon crash) */
  {
    g_autoptr (JsonObject) r = owner_call (h, "priv.list_host_objects", "{}");
    JsonArray *vms;
    gboolean found = FALSE;

    ck_assert_msg (host_test_rpc_error (r) == NULL, "%s", host_test_rpc_error (r));
    vms = json_object_get_array_member (json_object_get_object_member (r, "result"), "vms");
    for (guint i = 0; i < json_array_get_length (vms); i++)
      {
        JsonObject *v = json_array_get_object_element (vms, i);
        if (g_str_equal (json_object_get_string_member (v, "vm_id"), "web-m"))
          found = strstr (json_object_get_string_member (v, "kinds"), "jail") != NULL;
      }
    ck_assert (found);
  }

  /* cleanup: the mounts detached, the jail gone, the owner's files kept */
  {
    g_autoptr (JsonObject) r = owner_call (h, "priv.cleanup_vm", "{\"vm_id\":\"web-m\"}");
    ck_assert_msg (host_test_rpc_error (r) == NULL, "cleanup: %s", host_test_rpc_error (r));
  }
  ck_assert (!g_file_test (jail, G_FILE_TEST_EXISTS));
  ck_assert (!mounted_beneath (jail));
  {
    struct stat after;
    g_autofree char *text = NULL;
    ck_assert_int_eq (stat (disk, &after), 0);
    ck_assert_uint_eq (after.st_ino, disk_st.st_ino);
    ck_assert (g_file_get_contents (disk, &text, NULL, NULL));
    ck_assert (g_str_has_prefix (text, MARKER));
    ck_assert (g_file_test (seed, G_FILE_TEST_IS_REGULAR));
    ck_assert (g_file_test (kernel, G_FILE_TEST_IS_REGULAR));
  }

  /* the next run of the VM (a restore launches the same way) stages afresh */
  {
    g_autoptr (JsonObject) r = owner_call (h, "priv.launch_vmm", params);
    ck_assert_msg (host_test_rpc_error (r) == NULL, "relaunch: %s", host_test_rpc_error (r));
    g_clear_pointer (&r, json_object_unref);
    ck_assert (mounted_beneath (jail));
    r = owner_call (h, "priv.cleanup_vm", "{\"vm_id\":\"web-m\"}");
    ck_assert_msg (host_test_rpc_error (r) == NULL, "cleanup: %s", host_test_rpc_error (r));
    ck_assert (!mounted_beneath (jail));
    ck_assert (g_file_test (disk, G_FILE_TEST_IS_REGULAR));
  }
  unlink (foreign);
  host_test_helper_free (h, NULL);
}
END_TEST

static Suite *
jail_suite (void)
{
  Suite *s = suite_create ("jail");
  TCase *tc = tcase_create ("bind-mounts");

  tcase_add_unchecked_fixture (tc, host_test_vmm_fixture_setup, host_test_vmm_fixture_teardown);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_jail_bind_mounts);
  suite_add_tcase (s, tc);
  return s;
}

BANGER_TEST_MAIN_ROOT (jail_suite, "mount namespaces, bind mounts, uid changes")
