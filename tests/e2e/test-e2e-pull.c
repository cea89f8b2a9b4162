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
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "banger-e2e-cleanup.h"
#include "banger-e2e-test.h"
#include "banger-engine-pull.h"
#include "image-test-tar.h"
#include "registry-fixture.h"

#define REGISTRY "127.0.0.1:5000"
#define LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"

static BangerE2eEnv *env;
static RegFixture *registry;
static char *rootfs_manifest;
static char *kernel_manifest;
static char *release;

/* the kit's helpers under the names the case uses */
#define cli(...) banger_e2e_cli (env, __VA_ARGS__)
#define parse_json banger_e2e_parse_json

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
  g_autofree char *tree = g_build_filename (env->dir, "tree", NULL);
  g_autofree char *rootfs = g_build_filename (guest, "rootfs.ext4", NULL);
  const char *mount[] = { "mount", "-o", "loop,ro", rootfs, tree, NULL };
  const char *umount[] = { "umount", tree, NULL };
  g_autoptr (GBytes) base = NULL;
  g_autoptr (GBytes) l2 = NULL;
  g_autoptr (GBytes) l3 = NULL;
  g_autoptr (GBytes) kernel_layer = NULL;
  g_autofree char *kernel_dir = g_build_filename (env->dir, "kernel", NULL);
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
  const BangerE2eOptions options = {
    .prefix = "banger-pull",
    .deploy = BANGER_E2E_DEPLOY_HERE,
    .subnet = "10.78.0.0/24",
    .extra_conf = "[registries]\ninsecure=" REGISTRY "\n",
    /* no credentials file of the machine's user */
    .private_home = TRUE,
  };
  int rc;

  if (geteuid () != 0)
    return banger_test_skip_suite ("needs root (network namespace, taps, QEMU, the registry)");
  if (g_find_program_in_path ("docker-registry") == NULL)
    regfix_bail ("docker-registry is not installed (scripts/install-deps.sh)");
  guest = banger_kit_build_guest (&error);
  if (guest == NULL)
    regfix_bail ("guest: %s", error->message);
  release = banger_e2e_guest_release (guest, &error);
  if (release == NULL)
    regfix_bail ("%s", error->message);
  /* this process, the registry, bangerd and its VMs: one namespace, gone
   * when they are */
  regfix_enter_netns ();
  /* (the kit's cleanup, at exit too, kills and removes all of it) */
  banger_e2e_kit_init ();
  env = banger_e2e_env_new (&options, &error);
  if (env == NULL)
    regfix_bail ("%s", error->message);
  registry = regfix_start (env->dir, "registry", REGISTRY, NULL, NULL, NULL, NULL);
  if (!banger_e2e_cleanup_note_process (
          (GPid)g_ascii_strtoll (g_subprocess_get_identifier (registry->proc), NULL, 10), &error))
    regfix_bail ("%s", error->message);
  push_images (guest);
  if (!banger_e2e_env_start_daemon (env, &error))
    regfix_bail ("%s", error->message);
  /* no fork: the registry, the daemon and the pushed images are this
   * process's */
  rc = banger_e2e_test_run (pull_suite (), CK_NOFORK);
  regfix_stop (registry);
  return rc;
}
