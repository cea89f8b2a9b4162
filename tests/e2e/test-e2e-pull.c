/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Pulled image + pulled kernel boot, end to end through the CLI and a
 * bangerd (root, in-process executor), all inside a network namespace this
 * process makes and lives in: a real docker-registry on loopback holds
 *   guest/kernel:v1  a banger kernel artifact (the test guest's vmlinuz and
 *                    initrd.img, tests/guest)
 *   guest/rootfs:v1  the test guest's root file system as a layer, plus a
 *                    layer adding /opt/data/{a,b} and /etc/old and a layer
 *                    with a whiteout of /etc/old and an opaque /opt/data
 *                    holding only c
 *   guest/rootfs:v2  the same image under another tag
 * then: kernel pull → image pull v1 → image ls (ref, digest) → vm create
 * --image …:v2 (not local: pulled by vm create) → vm exec sees the kernel
 * release and the layers' result (only /opt/data/c, no /etc/old) → vm rm →
 * image rm → image prune removes the blobs.  Root only. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "banger-cgroup.h"
#include "banger-engine-pull.h"
#include "banger-guest-kit.h"
#include "banger-test.h"
#include "image-test-tar.h"
#include "registry-fixture.h"

#ifndef BANGER_CLI_PATH
#error "BANGER_CLI_PATH must name the banger this build makes"
#endif
#ifndef BANGERD_PATH
#error "BANGERD_PATH must name the bangerd this build makes"
#endif

#define REGISTRY "127.0.0.1:5000"
#define LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"

static char *dir;
static char *socket_path;
static char *cgroup_root;
static GSubprocess *daemon_proc;
static RegFixture *registry;
static char *rootfs_manifest;
static char *kernel_manifest;
static char *release;

static void
kill_vm_cgroups (const char *root)
{
  g_autoptr (GDir) d = root ? g_dir_open (root, 0, NULL) : NULL;
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *sub = g_build_filename (root, name, NULL);
      g_autofree char *kill_file = g_build_filename (sub, "cgroup.kill", NULL);

      if (!g_file_test (sub, G_FILE_TEST_IS_DIR))
        continue;
      g_file_set_contents (kill_file, "1", 1, NULL);
      for (int i = 0; i < 200 && g_rmdir (sub) < 0 && errno == EBUSY; i++)
        g_usleep (10 * 1000);
    }
}

static void
daemon_child_setup (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

/* Runs the CLI with --socket; its exit status; stdout/stderr in @out/@err. */
static int
cli (char **out, char **err, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *sock = g_strdup_printf ("--socket=%s", socket_path);
  int status = -1;
  va_list ap;
  const char *a;

  g_ptr_array_add (argv, (char *)BANGER_CLI_PATH);
  va_start (ap, err);
  a = va_arg (ap, const char *);
  while (a != NULL && g_str_equal (a, "--json"))
    {
      g_ptr_array_add (argv, (char *)a);
      a = va_arg (ap, const char *);
    }
  g_ptr_array_add (argv, sock);
  for (; a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (argv, (char *)a);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  ck_assert_msg (g_spawn_sync (NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, out,
                               err, &status, &error),
                 "spawn: %s", error ? error->message : "?");
  return WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
}

static JsonNode *
parse_json (const char *text)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  g_autoptr (GError) error = NULL;

  ck_assert_msg (json_parser_load_from_data (p, text, -1, &error), "JSON '%s': %s", text,
                 error ? error->message : "?");
  return json_node_copy (json_parser_get_root (p));
}

START_TEST (test_pull_and_boot)
{
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (JsonNode) list = NULL;
  JsonObject *im;
  int rc;

  rc = cli (&out, &err, "kernel", "pull", REGISTRY "/guest/kernel:v1", "--name", "k", NULL);
  ck_assert_msg (rc == 0, "kernel pull: %d: %s", rc, err);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  rc = cli (&out, &err, "image", "pull", REGISTRY "/guest/rootfs:v1", NULL);
  ck_assert_msg (rc == 0, "image pull: %d: %s", rc, err);
  g_strstrip (out);
  ck_assert_str_eq (out, "rootfs-v1");
  /* not a terminal: plain lines on stderr, the last one the result */
  ck_assert_msg (strstr (err, "Pulling " REGISTRY "/guest/rootfs:v1") != NULL, "%s", err);
  ck_assert_msg (strstr (err, rootfs_manifest) != NULL, "%s", err);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  rc = cli (&out, &err, "--json", "image", "ls", NULL);
  ck_assert_msg (rc == 0, "image ls: %s", err);
  list = parse_json (out);
  ck_assert_uint_eq (json_array_get_length (json_node_get_array (list)), 1);
  im = json_array_get_object_element (json_node_get_array (list), 0);
  ck_assert_str_eq (json_object_get_string_member (im, "name"), "rootfs-v1");
  ck_assert_str_eq (json_object_get_string_member (im, "ref"), REGISTRY "/guest/rootfs:v1");
  ck_assert_str_eq (json_object_get_string_member (im, "digest"), rootfs_manifest);
  ck_assert_int_gt (json_object_get_int_member (im, "size_bytes"), 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* v2 is not here: vm create pulls it, as a container runtime does */
  rc = cli (&out, &err, "vm", "create", "pulled", "--image", REGISTRY "/guest/rootfs:v2",
            "--kernel", "k", NULL);
  ck_assert_msg (rc == 0, "vm create: %d: %s", rc, err);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  rc = cli (&out, &err, "image", "ls", NULL);
  ck_assert_msg (strstr (out, "rootfs-v2") != NULL, "%s", out);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  rc = cli (&out, &err, "vm", "exec", "pulled", "--", "sh", "-c",
            "uname -r; ls /opt/data; test -e /etc/old || echo old-gone", NULL);
  ck_assert_msg (rc == 0, "exec: %d: %s", rc, err);
  {
    g_autofree char *want = g_strdup_printf ("%s\nc\nold-gone\n", release);
    ck_assert_str_eq (out, want);
  }
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  rc = cli (NULL, &err, "vm", "rm", "pulled", NULL);
  ck_assert_msg (rc == 0, "vm rm: %s", err);
  g_clear_pointer (&err, g_free);
  rc = cli (NULL, &err, "image", "rm", "rootfs-v1", NULL);
  ck_assert_msg (rc == 0, "image rm: %s", err);
  g_clear_pointer (&err, g_free);
  rc = cli (NULL, &err, "image", "rm", "rootfs-v2", NULL);
  ck_assert_msg (rc == 0, "image rm: %s", err);
  g_clear_pointer (&err, g_free);
  rc = cli (&out, &err, "--json", "image", "prune", NULL);
  ck_assert_msg (rc == 0, "prune: %s", err);
  {
    g_autoptr (JsonNode) n = parse_json (out);
    /* manifest, config and three layers; the kernel's blobs stay */
    ck_assert_int_eq (json_object_get_int_member (json_node_get_object (n), "removed_blobs"), 5);
  }
}
END_TEST

static void
push_images (const char *guest)
{
  g_autoptr (SoupSession) s = regfix_session (NULL);
  g_autofree char *tree = g_build_filename (dir, "tree", NULL);
  g_autofree char *rootfs = g_build_filename (guest, "rootfs.ext4", NULL);
  const char *mount[] = { "mount", "-o", "loop,ro", rootfs, tree, NULL };
  const char *umount[] = { "umount", tree, NULL };
  g_autoptr (GBytes) base = NULL;
  g_autoptr (GBytes) l2 = NULL;
  g_autoptr (GBytes) l3 = NULL;
  g_autoptr (GBytes) kernel_layer = NULL;
  g_autofree char *kernel_dir = g_build_filename (dir, "kernel", NULL);
  g_autofree char *vmlinuz = g_build_filename (guest, "vmlinuz", NULL);
  g_autofree char *initrd = g_build_filename (guest, "initrd.img", NULL);
  g_autofree char *kv = g_build_filename (kernel_dir, "vmlinuz", NULL);
  g_autofree char *ki = g_build_filename (kernel_dir, "initrd.img", NULL);
  const char *cp1[] = { "cp", vmlinuz, kv, NULL };
  const char *cp2[] = { "cp", initrd, ki, NULL };
  TestTar *t;

  /* the guest's tree: its ext4 mounted read-only on a loop device */
  if (g_mkdir (tree, 0755) < 0)
    regfix_bail ("mkdir %s: %s", tree, g_strerror (errno));
  regfix_run_or_bail (mount);
  base = regfix_tar_gz_dir (tree);
  regfix_run_or_bail (umount);
  t = test_tar_new ('g');
  tt_dir (t, "opt/data/", 0755);
  tt_file (t, "opt/data/a", 0644, "a\n");
  tt_file (t, "opt/data/b", 0644, "b\n");
  tt_file (t, "etc/old", 0644, "old\n");
  l2 = test_tar_finish (t);
  t = test_tar_new ('g');
  tt_file (t, "etc/.wh.old", 0644, "");
  tt_dir (t, "opt/data/", 0755);
  tt_file (t, "opt/data/.wh..wh..opq", 0644, "");
  tt_file (t, "opt/data/c", 0644, "c\n");
  l3 = test_tar_finish (t);
  {
    RegLayer l[] = { { LAYER_GZIP, base }, { LAYER_GZIP, l2 }, { LAYER_GZIP, l3 } };
    rootfs_manifest = regfix_push_image (s, registry->base_url, "guest/rootfs", "v1", NULL, NULL,
                                         l, 3);
    g_free (regfix_push_image (s, registry->base_url, "guest/rootfs", "v2", NULL, NULL, l, 3));
  }

  if (g_mkdir (kernel_dir, 0755) < 0)
    regfix_bail ("mkdir %s", kernel_dir);
  regfix_run_or_bail (cp1);
  regfix_run_or_bail (cp2);
  kernel_layer = regfix_tar_gz_dir (kernel_dir);
  {
    RegLayer l[] = { { LAYER_GZIP, kernel_layer } };
    kernel_manifest = regfix_push_image (s, registry->base_url, "guest/kernel", "v1",
                                         BANGER_KERNEL_ARTIFACT_CONFIG, "{}", l, 1);
  }
}

static void
start_daemon (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_autofree char *conf = g_build_filename (dir, "bangerd.conf", NULL);
  g_autofree char *text = g_strdup_printf ("[host]\ncgroup=%s\n[network]\nsubnet=10.78.0.0/24\n"
                                           "[registries]\ninsecure=" REGISTRY "\n",
                                           cgroup_root);
  g_autofree char *log = g_build_filename (dir, "bangerd.log", NULL);
  g_autofree char *state = g_strdup_printf ("--state-dir=%s/state", dir);
  g_autofree char *run = g_strdup_printf ("--runtime-dir=%s/run", dir);
  g_autofree char *conf_opt = g_strdup_printf ("--config=%s", conf);

  if (!g_file_set_contents (conf, text, -1, NULL))
    regfix_bail ("cannot write %s", conf);
  socket_path = g_strdup_printf ("%s/run/bangerd.sock", dir);
  g_subprocess_launcher_set_child_setup (launcher, daemon_child_setup, NULL, NULL);
  g_subprocess_launcher_set_stderr_file_path (launcher, log);
  /* no credentials file of the machine's user */
  g_subprocess_launcher_setenv (launcher, "HOME", dir, TRUE);
  daemon_proc = g_subprocess_launcher_spawn (launcher, &error, BANGERD_PATH, conf_opt, state, run,
                                             NULL);
  if (daemon_proc == NULL)
    regfix_bail ("bangerd: %s", error->message);
  for (int i = 0; i < 500 && !g_file_test (socket_path, G_FILE_TEST_EXISTS); i++)
    g_usleep (10 * 1000);
  if (!g_file_test (socket_path, G_FILE_TEST_EXISTS))
    regfix_bail ("bangerd did not listen on %s (see %s)", socket_path, log);
}

static Suite *
pull_suite (void)
{
  Suite *s = suite_create ("e2e-pull");
  TCase *tc = tcase_create ("pull");

  tcase_set_timeout (tc, 600);
  tcase_add_test (tc, test_pull_and_boot);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *guest = NULL;
  g_autofree char *mount = NULL;
  g_autofree char *release_file = NULL;
  int rc;

  if (geteuid () != 0)
    return banger_test_skip_suite ("needs root (network namespace, taps, QEMU, the registry)");
  if (g_find_program_in_path ("docker-registry") == NULL)
    regfix_bail ("docker-registry is not installed (scripts/install-deps.sh)");
  guest = banger_kit_build_guest (&error);
  if (guest == NULL)
    regfix_bail ("guest: %s", error->message);
  release_file = g_build_filename (guest, "kernel-release", NULL);
  if (!g_file_get_contents (release_file, &release, NULL, NULL))
    regfix_bail ("no %s", release_file);
  g_strstrip (release);
  mount = banger_cgroup2_find_mount (NULL, &error);
  if (mount == NULL)
    regfix_bail ("cgroup2: %s", error->message);
  cgroup_root = g_strdup_printf ("%s/banger-pull-%d.slice", mount, (int)getpid ());
  /* this process, the registry, bangerd and its VMs: one namespace, gone
   * when they are */
  regfix_enter_netns ();
  dir = g_dir_make_tmp ("banger-e2e-pull-XXXXXX", &error);
  if (dir == NULL)
    regfix_bail ("%s", error->message);
  registry = regfix_start (dir, "registry", REGISTRY, NULL, NULL, NULL, NULL);
  push_images (guest);
  start_daemon ();
  {
    SRunner *sr = srunner_create (pull_suite ());
    g_setenv ("G_DEBUG", "fatal-warnings,fatal-criticals", TRUE);
    srunner_set_fork_status (sr, CK_NOFORK);
    srunner_set_tap (sr, "-");
    srunner_run_all (sr, CK_SILENT);
    rc = srunner_ntests_failed (sr) == 0 ? 0 : 1;
    srunner_free (sr);
  }
  g_subprocess_send_signal (daemon_proc, SIGTERM);
  g_subprocess_wait (daemon_proc, NULL, NULL);
  kill_vm_cgroups (cgroup_root);
  g_rmdir (cgroup_root);
  regfix_stop (registry);
  {
    const char *argv[] = { "rm", "-rf", "--one-file-system", dir, NULL };
    g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL,
                  NULL);
  }
  return rc;
}
