/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The ext4 builder with the real mkfs.ext4, checked with debugfs and e2fsck:
 * content, recorded ownership and modes (setuid included), sizing, the
 * atomic rename. */
#include "config.h"

#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger-digest.h"
#include "banger-error.h"
#include "banger-layer-unpack.h"
#include "banger-ownership.h"
#include "banger-rootfs-ext4.h"
#include "banger-test.h"
#include "image-test-tar.h"

static char *tmpdir;
static BangerRootfsStaging *staging;
static char *image;

static char *
tool (const char *name)
{
  static const char *const dirs[] = { "/usr/sbin", "/sbin" };
  char *p = g_find_program_in_path (name);

  for (gsize i = 0; p == NULL && i < G_N_ELEMENTS (dirs); i++)
    {
      p = g_build_filename (dirs[i], name, NULL);
      if (!g_file_test (p, G_FILE_TEST_IS_EXECUTABLE))
        g_clear_pointer (&p, g_free);
    }
  ck_assert_msg (p != NULL, "%s is not installed (e2fsprogs)", name);
  return p;
}

static void
setup (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autoptr (GBytes) layer = NULL;
  g_autoptr (GInputStream) in = NULL;
  g_autofree char *big = g_strnfill (300000, 'b');
  TestTar *t;

  tmpdir = g_dir_make_tmp ("banger-ext4-XXXXXX", &error);
  g_assert_no_error (error);
  dir = g_build_filename (tmpdir, "staging", NULL);
  staging = banger_rootfs_staging_new (dir, &error);
  g_assert_no_error (error);
  image = g_build_filename (tmpdir, "rootfs.ext4", NULL);

  t = test_tar_new ('g');
  tt_dir (t, "./", 0755);
  tt_dir (t, "etc/", 0755);
  tt_file (t, "etc/hostname", 0644, "guest\n");
  tt_file (t, "etc/shadow", 0640, "root:*:1\n");
  tt_dir (t, "bin/", 0755);
  tt_file (t, "bin/su", 04755, "su");
  tt_hardlink (t, "bin/su-again", "bin/su");
  tt_symlink (t, "bin/sh", "busybox");
  tt_file (t, "bin/big", 0755, big);
  tt_dir (t, "tmp/", 01777);
  tt_dir_owned (t, "home/user/", 0750, 1000, 1000);
  tt_file_owned (t, "home/user/notes", 0600, 1000, 100000, "hi");
  tt_file_owned (t, "home/user/name with space\nand newline", 0644, 1000, 1000, "odd");
  test_tar_add (t, "run/initctl", AE_IFIFO, 0600, 0, 0, NULL, NULL, FALSE);
  layer = test_tar_finish (t);
  in = g_memory_input_stream_new_from_bytes (layer);
  g_assert (banger_rootfs_staging_apply_layer (staging, in, BANGER_LAYER_TAR_GZIP, NULL, -1, NULL,
                                               NULL, &error));
  g_assert (banger_rootfs_staging_finish (staging, &error));
}

static void
teardown (void)
{
  const char *argv[] = { "rm", "-rf", tmpdir, NULL };

  g_clear_pointer (&staging, banger_rootfs_staging_free);
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL,
                NULL);
  g_clear_pointer (&tmpdir, g_free);
  g_clear_pointer (&image, g_free);
}

/* debugfs -R CMD IMAGE; its stdout */
static char *
debugfs (const char *cmd)
{
  g_autofree char *prog = tool ("debugfs");
  const char *argv[] = { prog, "-R", cmd, image, NULL };
  char *out = NULL;
  int status = 0;

  ck_assert (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
                           &out, NULL, &status, NULL));
  ck_assert_int_eq (status, 0);
  return out;
}

typedef struct
{
  char type[16];
  guint mode, uid, gid;
  guint64 size;
} Stat;

static Stat
stat_in_image (const char *path)
{
  g_autofree char *cmd = g_strdup_printf ("stat \"%s\"", path);
  g_autofree char *out = debugfs (cmd);
  Stat s = { 0 };
  const char *p;

  p = strstr (out, "Type: ");
  ck_assert_msg (p != NULL, "no inode for '%s': %s", path, out);
  ck_assert_int_eq (sscanf (p, "Type: %15s Mode: %o", s.type, &s.mode), 2);
  p = strstr (out, "User: ");
  ck_assert_int_eq (sscanf (p, "User: %u Group: %u", &s.uid, &s.gid), 2);
  p = strstr (out, "Size: ");
  ck_assert_int_eq (sscanf (p, "Size: %" G_GUINT64_FORMAT, &s.size), 1);
  return s;
}

static void
assert_fsck_clean (void)
{
  g_autofree char *prog = tool ("e2fsck");
  const char *argv[] = { prog, "-fn", image, NULL };
  g_autofree char *out = NULL;
  int status = -1;

  ck_assert (g_spawn_sync (NULL, (char **) argv, NULL, 0, NULL, NULL, &out, NULL, &status, NULL));
  ck_assert_msg (g_spawn_check_wait_status (status, NULL), "e2fsck: %s", out);
}

static void
build (guint64 size, GError **error)
{
  (void) banger_rootfs_build_ext4 (banger_rootfs_staging_get_tree_path (staging),
                                   banger_rootfs_staging_get_ownership_path (staging), image,
                                   size, NULL, error);
}

START_TEST (test_build_ownership_and_content)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *hostname = NULL;
  g_autoptr (BangerOwnershipList) list = NULL;
  Stat s;
  struct stat st;

  build (0, &error);
  g_assert_no_error (error);
  assert_fsck_clean ();

  s = stat_in_image ("/bin/su");
  ck_assert_str_eq (s.type, "regular");
  ck_assert_uint_eq (s.mode, 04755);
  ck_assert_uint_eq (s.uid, 0);
  s = stat_in_image ("/bin/su-again");
  ck_assert_uint_eq (s.mode, 04755);
  s = stat_in_image ("/tmp");
  ck_assert_str_eq (s.type, "directory");
  ck_assert_uint_eq (s.mode, 01777);
  s = stat_in_image ("/etc/shadow");
  ck_assert_uint_eq (s.mode, 0640);
  s = stat_in_image ("/home/user");
  ck_assert_uint_eq (s.uid, 1000);
  ck_assert_uint_eq (s.gid, 1000);
  ck_assert_uint_eq (s.mode, 0750);
  s = stat_in_image ("/home/user/notes");
  ck_assert_uint_eq (s.uid, 1000);
  ck_assert_uint_eq (s.gid, 100000); /* needs the high 16 bits */
  s = stat_in_image ("/bin/sh");
  ck_assert_str_eq (s.type, "symlink");
  s = stat_in_image ("/run/initctl");
  ck_assert_str_eq (s.type, "FIFO");
  s = stat_in_image ("/bin/big");
  ck_assert_uint_eq (s.size, 300000);
  s = stat_in_image ("/");
  ck_assert_uint_eq (s.mode, 0755);
  ck_assert_uint_eq (s.uid, 0);

  hostname = debugfs ("cat /etc/hostname");
  ck_assert_str_eq (hostname, "guest\n");

  /* the odd name was applied too (debugfs cannot quote a newline; the
   * builder would have failed on a name it could not find) */
  list = banger_ownership_list_load (banger_rootfs_staging_get_ownership_path (staging), &error);
  ck_assert_ptr_nonnull (list);

  /* sized to content plus headroom */
  ck_assert_int_eq (stat (image, &st), 0);
  ck_assert_uint_eq ((guint64) st.st_size,
                     banger_rootfs_ext4_size_for (list->content_bytes, list->inodes));
  ck_assert_uint_ge ((guint64) st.st_size, BANGER_ROOTFS_MIN_FREE_BYTES);
}
END_TEST

START_TEST (test_build_explicit_size_and_replace)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDir) dir = NULL;
  const char *name;
  struct stat st;

  ck_assert (g_file_set_contents (image, "old image", -1, NULL));
  build (96 * 1024 * 1024, &error);
  g_assert_no_error (error);
  ck_assert_int_eq (stat (image, &st), 0);
  ck_assert_uint_eq ((guint64) st.st_size, 96 * 1024 * 1024);
  assert_fsck_clean ();
  /* no temporary file left next to it */
  dir = g_dir_open (tmpdir, 0, NULL);
  while ((name = g_dir_read_name (dir)) != NULL)
    ck_assert_msg (strstr (name, ".tmp-") == NULL, "left behind: %s", name);
}
END_TEST

START_TEST (test_build_too_small)
{
  g_autoptr (GError) error = NULL;

  build (1024 * 1024, &error);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  ck_assert (!g_file_test (image, G_FILE_TEST_EXISTS));
  g_clear_error (&error);
  build (BANGER_ROOTFS_MAX_BYTES + 1, &error);
  banger_assert_error (error, BANGER_ERROR_LIMIT_EXCEEDED);
}
END_TEST

START_TEST (test_build_record_mismatch)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *bad = g_build_filename (tmpdir, "bad-ownership", NULL);
  g_autoptr (BangerOwnershipList) list = banger_ownership_list_load (
      banger_rootfs_staging_get_ownership_path (staging), &error);

  /* a record that says /tmp is a regular file */
  for (guint i = 0; i < list->entries->len; i++)
    {
      BangerOwnershipEntry *e = list->entries->pdata[i];
      if (g_str_equal (e->path, "tmp"))
        e->own.mode = S_IFREG | 0644;
    }
  ck_assert (banger_ownership_list_save (list, bad, &error));
  (void) banger_rootfs_build_ext4 (banger_rootfs_staging_get_tree_path (staging), bad, image, 0,
                                   NULL, &error);
  banger_assert_error (error, BANGER_ERROR_PROTOCOL);
  ck_assert (!g_file_test (image, G_FILE_TEST_EXISTS));
}
END_TEST

START_TEST (test_ownership_file_corrupt)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *bad = g_build_filename (tmpdir, "corrupt", NULL);
  g_autoptr (BangerOwnershipList) list = NULL;

  ck_assert (g_file_set_contents (bad, "banger-ownership 1 10 2\0zz 0 644 x", 35, NULL));
  list = banger_ownership_list_load (bad, &error);
  ck_assert_ptr_null (list);
  banger_assert_error (error, BANGER_ERROR_PROTOCOL);
}
END_TEST

static Suite *
ext4_suite (void)
{
  Suite *s = suite_create ("rootfs-ext4");
  TCase *tc = tcase_create ("build");

  tcase_set_timeout (tc, 60);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_build_ownership_and_content);
  tcase_add_test (tc, test_build_explicit_size_and_replace);
  tcase_add_test (tc, test_build_too_small);
  tcase_add_test (tc, test_build_record_mismatch);
  tcase_add_test (tc, test_ownership_file_corrupt);
  suite_add_tcase (s, tc);
  return s;
}

BANGER_TEST_MAIN (ext4_suite)
