/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Writing the key into ext4 images without mounting them
 * (libbanger/guest/banger-guest-inject.c), against real images made by
 * mkfs.ext4 -d: the file and /root/.ssh are made with the right modes and
 * owner, an existing file is replaced (not appended to), the file system
 * stays clean for e2fsck, and non-ext4 images, bad layouts and bad keys are
 * refused with the image left untouched.  Checks are made with debugfs
 * run by the test, independently of the code under test. */
#include "config.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "banger-error.h"
#include "banger-guest-ext4.h"
#include "banger-guest-inject.h"
#include "guest-access-test.h"

#define KEY_LINE "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGZha2Uta2V5LWZvci10aGUtdGVzdC0wMTIzNDU2Nzg5 banger\n"

static char *tmp;
static char *tree;
static char *image;

static void
setup (void)
{
  tmp = g_dir_make_tmp ("banger-inject-XXXXXX", NULL);
  ck_assert (tmp != NULL);
  tree = g_build_filename (tmp, "tree", NULL);
  image = g_build_filename (tmp, "rootfs.ext4", NULL);
  ck_assert_int_eq (g_mkdir (tree, 0755), 0);
}

static void
teardown (void)
{
  ga_rm_rf (tmp);
  g_clear_pointer (&tmp, g_free);
  g_clear_pointer (&tree, g_free);
  g_clear_pointer (&image, g_free);
}

static gboolean
have_e2fsprogs (void)
{
  g_autofree char *mkfs = ga_find_program ("mkfs.ext4");
  g_autofree char *debugfs = ga_find_program ("debugfs");

  return mkfs != NULL && debugfs != NULL;
}

static void
tree_file (const char *rel, const char *contents, int mode)
{
  g_autofree char *path = g_build_filename (tree, rel, NULL);
  g_autofree char *parent = g_path_get_dirname (path);

  ck_assert_int_eq (g_mkdir_with_parents (parent, 0755), 0);
  ck_assert (g_file_set_contents (path, contents, -1, NULL));
  ck_assert_int_eq (chmod (path, mode), 0);
}

static void
tree_dir (const char *rel, int mode)
{
  g_autofree char *path = g_build_filename (tree, rel, NULL);

  ck_assert_int_eq (g_mkdir_with_parents (path, mode), 0);
  ck_assert_int_eq (chmod (path, mode), 0);
}

static void
make_image (const char *mkfs)
{
  g_autofree char *prog = ga_find_program (mkfs);
  const char *argv[] = { prog, "-q", "-F", "-d", tree, image, "8M", NULL };

  ck_assert_msg (prog != NULL, "%s not found", mkfs);
  ck_assert (ga_run (argv, NULL, NULL));
}

/* debugfs -R CMD on the image, run by the test itself. */
static char *
debugfs_r (const char *cmd)
{
  g_autofree char *debugfs = ga_find_program ("debugfs");
  const char *argv[] = { debugfs, "-R", cmd, image, NULL };
  char *out = NULL;

  ck_assert (ga_run (argv, &out, NULL));
  return out;
}

static void
assert_stat (const char *path, const char *type, const char *mode)
{
  g_autofree char *cmd = g_strdup_printf ("stat %s", path);
  g_autofree char *out = debugfs_r (cmd);
  g_autofree char *want_type = g_strdup_printf ("Type: %s ", type);
  g_autofree char *want_mode = g_strdup_printf ("Mode:  %s ", mode);

  ck_assert_msg (strstr (out, want_type) != NULL, "%s: not '%s':\n%s", path, want_type, out);
  ck_assert_msg (strstr (out, want_mode) != NULL, "%s: not '%s':\n%s", path, want_mode, out);
  ck_assert_msg (g_regex_match_simple ("User: +0 +Group: +0 ", out, 0, 0), "%s not 0:0:\n%s",
                 path, out);
}

static void
assert_fsck_clean (void)
{
  g_autofree char *e2fsck = ga_find_program ("e2fsck");
  const char *argv[] = { e2fsck, "-fn", image, NULL };
  int status = -1;

  ck_assert (e2fsck != NULL);
  ck_assert (ga_run (argv, NULL, &status));
  ck_assert_msg (status == 0, "e2fsck -fn found problems (exit %d)", status);
}

static char *
image_checksum (void)
{
  g_autofree char *data = NULL;
  gsize len = 0;

  ck_assert (g_file_get_contents (image, &data, &len, NULL));
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) data, len);
}

static void
assert_injected (void)
{
  g_autofree char *cat = debugfs_r ("cat " BANGER_GUEST_AUTHORIZED_KEYS);

  ck_assert_str_eq (cat, KEY_LINE);
  assert_stat ("/root/.ssh", "directory", "0700");
  assert_stat (BANGER_GUEST_AUTHORIZED_KEYS, "regular", "0600");
  assert_fsck_clean ();
}

START_TEST (test_inject_fresh)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *back = NULL;

  if (!have_e2fsprogs () && banger_test_skip_part ("e2fsprogs (mkfs.ext4, debugfs) missing"))
    return;
  tree_dir ("root", 0700);
  tree_file ("etc/hostname", "guest\n", 0644);
  make_image ("mkfs.ext4");
  ck_assert_msg (banger_guest_inject_authorized_key (image, KEY_LINE, NULL, &error), "%s",
                 error ? error->message : "?");
  assert_injected ();
  back = banger_guest_read_authorized_keys (image, NULL, &error);
  ck_assert_msg (back != NULL, "%s", error ? error->message : "?");
  ck_assert_str_eq (back, KEY_LINE);
}
END_TEST

/* No /root at all: both directories are made. */
START_TEST (test_inject_no_root_dir)
{
  g_autoptr (GError) error = NULL;

  if (!have_e2fsprogs () && banger_test_skip_part ("e2fsprogs (mkfs.ext4, debugfs) missing"))
    return;
  tree_file ("etc/hostname", "guest\n", 0644);
  make_image ("mkfs.ext4");
  ck_assert_msg (banger_guest_inject_authorized_key (image, KEY_LINE, NULL, &error), "%s",
                 error ? error->message : "?");
  assert_stat ("/root", "directory", "0700");
  assert_injected ();
}
END_TEST

/* An existing, longer file with other keys, a loose directory and a
 * foreign owner: replaced, tightened, owned by root.  The key without its
 * final newline gets one. */
START_TEST (test_inject_replaces)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *old = g_strnfill (5000, 'x');
  g_autofree char *no_newline = g_strndup (KEY_LINE, strlen (KEY_LINE) - 1);

  if (!have_e2fsprogs () && banger_test_skip_part ("e2fsprogs (mkfs.ext4, debugfs) missing"))
    return;
  tree_dir ("root/.ssh", 0777);
  tree_file ("root/.ssh/authorized_keys", old, 0644);
  make_image ("mkfs.ext4");
  if (geteuid () == 0)
    {
      /* give the file a foreign owner inside the image */
      g_autofree char *debugfs = ga_find_program ("debugfs");
      const char *argv[] = { debugfs, "-w", "-R",
                             "sif /root/.ssh/authorized_keys uid 1000", image, NULL };
      ck_assert (ga_run (argv, NULL, NULL));
    }
  ck_assert_msg (banger_guest_inject_authorized_key (image, no_newline, NULL, &error), "%s",
                 error ? error->message : "?");
  assert_injected ();
  /* and again: idempotent */
  ck_assert_msg (banger_guest_inject_authorized_key (image, KEY_LINE, NULL, &error), "%s",
                 error ? error->message : "?");
  assert_injected ();
}
END_TEST

/* A symlink where the file goes is replaced by a file (the link is the
 * image's own content, never followed to the host). */
START_TEST (test_inject_replaces_symlink)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *link_path = NULL;

  if (!have_e2fsprogs () && banger_test_skip_part ("e2fsprogs (mkfs.ext4, debugfs) missing"))
    return;
  tree_dir ("root/.ssh", 0700);
  tree_file ("etc/passwd", "root:x:0:0::/root:/bin/sh\n", 0644);
  link_path = g_build_filename (tree, "root/.ssh/authorized_keys", NULL);
  ck_assert_int_eq (symlink ("/etc/passwd", link_path), 0);
  make_image ("mkfs.ext4");
  ck_assert_msg (banger_guest_inject_authorized_key (image, KEY_LINE, NULL, &error), "%s",
                 error ? error->message : "?");
  assert_injected ();
  {
    g_autofree char *passwd = debugfs_r ("cat /etc/passwd");
    ck_assert_str_eq (passwd, "root:x:0:0::/root:/bin/sh\n");
  }
}
END_TEST

/* Refusals: the error code, and not one byte of the image changed. */
static void
expect_refused (const char *key, int code, const char *words)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *before = image_checksum ();
  g_autofree char *after = NULL;

  ck_assert (!banger_guest_inject_authorized_key (image, key, NULL, &error));
  banger_assert_error (error, code);
  ck_assert_msg (strstr (error->message, words) != NULL, "'%s' not in: %s", words,
                 error->message);
  after = image_checksum ();
  ck_assert_str_eq (after, before);
}

START_TEST (test_refuse_ext2)
{
  if (!have_e2fsprogs () && banger_test_skip_part ("e2fsprogs (mkfs.ext4, debugfs) missing"))
    return;
  tree_dir ("root", 0700);
  make_image ("mkfs.ext2");
  expect_refused (KEY_LINE, BANGER_ERROR_INVALID_ARGUMENT, "ext2/ext3 file system");
}
END_TEST

START_TEST (test_refuse_ext3)
{
  if (!have_e2fsprogs () && banger_test_skip_part ("e2fsprogs (mkfs.ext4, debugfs) missing"))
    return;
  tree_dir ("root", 0700);
  make_image ("mkfs.ext3");
  expect_refused (KEY_LINE, BANGER_ERROR_INVALID_ARGUMENT, "ext2/ext3 file system");
}
END_TEST

START_TEST (test_refuse_not_ext)
{
  g_autofree char *junk = g_strnfill (64 * 1024, 'j');

  ck_assert (g_file_set_contents (image, junk, -1, NULL));
  expect_refused (KEY_LINE, BANGER_ERROR_INVALID_ARGUMENT, "no ext2/3/4 superblock");
  ck_assert (g_file_set_contents (image, "short", -1, NULL));
  expect_refused (KEY_LINE, BANGER_ERROR_INVALID_ARGUMENT, "no ext2/3/4 superblock");
}
END_TEST

START_TEST (test_refuse_missing_image)
{
  g_autoptr (GError) error = NULL;

  ck_assert (!banger_guest_inject_authorized_key (image, KEY_LINE, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
}
END_TEST

START_TEST (test_refuse_directory_image)
{
  g_autoptr (GError) error = NULL;

  ck_assert (!banger_guest_ext4_check (tree, FALSE, &error));
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
}
END_TEST

/* An unreplayed journal: writing around it is refused (reading is not). */
START_TEST (test_refuse_needs_recovery)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *back = NULL;

  if (!have_e2fsprogs () && banger_test_skip_part ("e2fsprogs (mkfs.ext4, debugfs) missing"))
    return;
  tree_dir ("root/.ssh", 0700);
  tree_file ("root/.ssh/authorized_keys", KEY_LINE, 0600);
  make_image ("mkfs.ext4");
  {
    g_autofree char *debugfs = ga_find_program ("debugfs");
    const char *argv[] = { debugfs, "-w", "-R", "feature needs_recovery", image, NULL };
    ck_assert (ga_run (argv, NULL, NULL));
  }
  expect_refused (KEY_LINE, BANGER_ERROR_INVALID_ARGUMENT, "needs journal recovery");
  back = banger_guest_read_authorized_keys (image, NULL, &error);
  ck_assert_msg (back != NULL, "%s", error ? error->message : "?");
  ck_assert_str_eq (back, KEY_LINE);
}
END_TEST

/* A relative image path starting with '-' reaches debugfs as a path. */
START_TEST (test_dash_relative_path)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *cwd = g_get_current_dir ();
  g_autofree char *dash = g_build_filename (tmp, "-R", NULL);

  if (!have_e2fsprogs () && banger_test_skip_part ("e2fsprogs (mkfs.ext4, debugfs) missing"))
    return;
  tree_dir ("root", 0700);
  make_image ("mkfs.ext4");
  ck_assert_int_eq (rename (image, dash), 0);
  ck_assert_int_eq (chdir (tmp), 0);
  ck_assert_msg (banger_guest_inject_authorized_key ("-R", KEY_LINE, NULL, &error), "%s",
                 error ? error->message : "?");
  ck_assert_int_eq (chdir (cwd), 0);
  ck_assert_int_eq (rename (dash, image), 0);
  assert_injected ();
}
END_TEST

START_TEST (test_refuse_ssh_dir_is_file)
{
  if (!have_e2fsprogs () && banger_test_skip_part ("e2fsprogs (mkfs.ext4, debugfs) missing"))
    return;
  tree_file ("root/.ssh", "a file\n", 0644);
  make_image ("mkfs.ext4");
  expect_refused (KEY_LINE, BANGER_ERROR_INVALID_ARGUMENT, "/root/.ssh in the image");
}
END_TEST

START_TEST (test_refuse_ssh_dir_is_symlink)
{
  g_autofree char *link_path = NULL;

  if (!have_e2fsprogs () && banger_test_skip_part ("e2fsprogs (mkfs.ext4, debugfs) missing"))
    return;
  tree_dir ("root", 0700);
  tree_dir ("elsewhere", 0755);
  link_path = g_build_filename (tree, "root/.ssh", NULL);
  ck_assert_int_eq (symlink ("/elsewhere", link_path), 0);
  make_image ("mkfs.ext4");
  expect_refused (KEY_LINE, BANGER_ERROR_INVALID_ARGUMENT, "is a symlink, not a directory");
}
END_TEST

START_TEST (test_refuse_keys_is_directory)
{
  if (!have_e2fsprogs () && banger_test_skip_part ("e2fsprogs (mkfs.ext4, debugfs) missing"))
    return;
  tree_dir ("root/.ssh/authorized_keys", 0700);
  make_image ("mkfs.ext4");
  expect_refused (KEY_LINE, BANGER_ERROR_INVALID_ARGUMENT, "is a directory");
}
END_TEST

START_TEST (test_refuse_bad_keys)
{
  if (!have_e2fsprogs () && banger_test_skip_part ("e2fsprogs (mkfs.ext4, debugfs) missing"))
    return;
  tree_dir ("root", 0700);
  make_image ("mkfs.ext4");
  expect_refused ("", BANGER_ERROR_INVALID_ARGUMENT, "1 to");
  expect_refused ("ssh-ed25519 AAAA one\nssh-ed25519 AAAA two\n",
                  BANGER_ERROR_INVALID_ARGUMENT, "not one line");
  /* a forged debugfs separator cannot get in either */
  expect_refused ("ssh-ed25519 AAAA\ndebugfs: cat /etc/shadow\n", BANGER_ERROR_INVALID_ARGUMENT,
                  "not one line");
  expect_refused ("ssh-ed25519 AAAA\x01x\n", BANGER_ERROR_INVALID_ARGUMENT, "not one line");
  expect_refused ("hello world\n", BANGER_ERROR_INVALID_ARGUMENT, "does not look like");
  {
    g_autofree char *huge = g_strnfill (BANGER_GUEST_AUTHORIZED_KEY_MAX + 1, 'a');
    memcpy (huge, "ssh-", 4);
    expect_refused (huge, BANGER_ERROR_INVALID_ARGUMENT, "1 to");
  }
}
END_TEST

START_TEST (test_read_missing_file)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *back = NULL;

  if (!have_e2fsprogs () && banger_test_skip_part ("e2fsprogs (mkfs.ext4, debugfs) missing"))
    return;
  tree_dir ("root", 0700);
  make_image ("mkfs.ext4");
  back = banger_guest_read_authorized_keys (image, NULL, &error);
  ck_assert_ptr_null (back);
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
}
END_TEST

START_TEST (test_cancelled)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;

  if (!have_e2fsprogs () && banger_test_skip_part ("e2fsprogs (mkfs.ext4, debugfs) missing"))
    return;
  tree_dir ("root", 0700);
  make_image ("mkfs.ext4");
  before = image_checksum ();
  g_cancellable_cancel (cancellable);
  ck_assert (!banger_guest_inject_authorized_key (image, KEY_LINE, cancellable, &error));
  banger_assert_error (error, BANGER_ERROR_CANCELLED);
  after = image_checksum ();
  ck_assert_str_eq (after, before);
}
END_TEST

static Suite *
inject_suite (void)
{
  Suite *s = suite_create ("guest-inject");
  TCase *tc = tcase_create ("inject");

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_inject_fresh);
  tcase_add_test (tc, test_inject_no_root_dir);
  tcase_add_test (tc, test_inject_replaces);
  tcase_add_test (tc, test_inject_replaces_symlink);
  tcase_add_test (tc, test_refuse_ext2);
  tcase_add_test (tc, test_refuse_ext3);
  tcase_add_test (tc, test_refuse_not_ext);
  tcase_add_test (tc, test_refuse_missing_image);
  tcase_add_test (tc, test_refuse_directory_image);
  tcase_add_test (tc, test_refuse_needs_recovery);
  tcase_add_test (tc, test_dash_relative_path);
  tcase_add_test (tc, test_refuse_ssh_dir_is_file);
  tcase_add_test (tc, test_refuse_ssh_dir_is_symlink);
  tcase_add_test (tc, test_refuse_keys_is_directory);
  tcase_add_test (tc, test_refuse_bad_keys);
  tcase_add_test (tc, test_read_missing_file);
  tcase_add_test (tc, test_cancelled);
  suite_add_tcase (s, tc);
  return s;
}

BANGER_TEST_MAIN (inject_suite)
