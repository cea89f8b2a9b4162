/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * banger_open_beneath(): both the openat2() path and the O_NOFOLLOW walk,
 * against a real directory tree made by the test. */
#include "config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger.h"
#include "banger-path-private.h"
#include "banger-test.h"

typedef int (*OpenFn) (int, const char *, int, GError **);

static char *tmpdir;
static int root_fd = -1;
static GPtrArray *paths;

/* A path below the test's directory, freed with the tree. */
static const char *
p (const char *rel)
{
  char *path = g_build_filename (tmpdir, rel, NULL);
  g_ptr_array_add (paths, path);
  return path;
}

static void
make_tree (void)
{
  const char *outside;
  GError *error = NULL;

  tmpdir = g_dir_make_tmp ("banger-beneath-XXXXXX", &error);
  g_assert_no_error (error);
  paths = g_ptr_array_new_with_free_func (g_free);
  /* root/a/b/file, root/other/secret, root/link-dir -> a, root/a/link-file -> b/file,
   * root/escape -> /etc, and a file outside root. */
  g_assert (g_mkdir_with_parents (p ("root/a/b"), 0700) == 0);
  g_assert (g_mkdir_with_parents (p ("root/other"), 0700) == 0);
  g_assert (g_file_set_contents (p ("root/a/b/file"), "in", -1, NULL));
  g_assert (g_file_set_contents (p ("root/other/secret"), "s", -1, NULL));
  outside = p ("outside");
  g_assert (g_file_set_contents (outside, "out", -1, NULL));
  g_assert (symlink ("a", p ("root/link-dir")) == 0);
  g_assert (symlink ("b/file", p ("root/a/link-file")) == 0);
  g_assert (symlink ("/etc", p ("root/escape")) == 0);
  g_assert (symlink (outside, p ("root/a/b/to-outside")) == 0);
  root_fd = open (p ("root"), O_PATH | O_DIRECTORY | O_CLOEXEC);
  g_assert (root_fd >= 0);
}

static void
remove_tree (void)
{
  const char *argv[] = { "rm", "-rf", tmpdir, NULL };
  close (root_fd);
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL,
                NULL);
  g_clear_pointer (&tmpdir, g_free);
  g_clear_pointer (&paths, g_ptr_array_unref);
}

static void
expect_ok (OpenFn fn, const char *rel, int flags, const char *contents)
{
  g_autoptr (GError) error = NULL;
  int fd = fn (root_fd, rel, flags, &error);
  char buf[16] = { 0 };

  ck_assert_msg (fd >= 0, "open '%s' failed: %s", rel, error ? error->message : "");
  ck_assert_int_ne (fcntl (fd, F_GETFD) & FD_CLOEXEC, 0);
  if (contents)
    {
      ck_assert_int_eq (read (fd, buf, sizeof buf - 1), (ssize_t) strlen (contents));
      ck_assert_str_eq (buf, contents);
    }
  close (fd);
}

static void
expect_refused (OpenFn fn, const char *rel, int flags, BangerError code)
{
  g_autoptr (GError) error = NULL;
  int fd = fn (root_fd, rel, flags, &error);
  ck_assert_msg (fd == -1, "open '%s' should be refused", rel);
  banger_assert_error (error, code);
}

static void
run_cases (OpenFn fn)
{
  expect_ok (fn, "a/b/file", O_RDONLY, "in");
  expect_ok (fn, "./a//b/./file", O_RDONLY, "in");
  expect_ok (fn, "other/secret", O_RDONLY, "s");
  expect_ok (fn, "a", O_RDONLY | O_DIRECTORY, NULL);

  expect_refused (fn, "../outside", O_RDONLY, BANGER_ERROR_PERMISSION_DENIED);
  expect_refused (fn, "a/../../outside", O_RDONLY, BANGER_ERROR_PERMISSION_DENIED);
  expect_refused (fn, "/etc/passwd", O_RDONLY, BANGER_ERROR_PERMISSION_DENIED);
  /* symlinks: last component, middle component, pointing out, pointing in */
  expect_refused (fn, "a/link-file", O_RDONLY, BANGER_ERROR_PERMISSION_DENIED);
  expect_refused (fn, "link-dir/b/file", O_RDONLY, BANGER_ERROR_PERMISSION_DENIED);
  expect_refused (fn, "escape/passwd", O_RDONLY, BANGER_ERROR_PERMISSION_DENIED);
  expect_refused (fn, "a/b/to-outside", O_RDONLY, BANGER_ERROR_PERMISSION_DENIED);
  expect_refused (fn, "a/link-file", O_PATH, BANGER_ERROR_PERMISSION_DENIED);
  expect_refused (fn, "a/b/missing", O_RDONLY, BANGER_ERROR_NOT_FOUND);
  expect_refused (fn, "a/b/file/x", O_RDONLY, BANGER_ERROR_FAILED);
}

START_TEST (test_openat2_path)
{
  make_tree ();
  run_cases (banger_open_beneath);
  remove_tree ();
}
END_TEST

START_TEST (test_walk_path)
{
  make_tree ();
  run_cases (banger_open_beneath_walk);
  remove_tree ();
}
END_TEST

START_TEST (test_create_mode)
{
  g_autoptr (GError) error = NULL;
  struct stat st;
  int fd;

  make_tree ();
  fd = banger_open_beneath (root_fd, "a/new", O_WRONLY | O_CREAT | O_EXCL, &error);
  ck_assert_int_ge (fd, 0);
  ck_assert_int_eq (fstat (fd, &st), 0);
  ck_assert_int_eq (st.st_mode & 07777, 0600 & ~0);
  close (fd);
  remove_tree ();
}
END_TEST

START_TEST (test_magic_links)
{
  int proc_fd = open ("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC);
  int saved = root_fd;
  ck_assert_int_ge (proc_fd, 0);
  root_fd = proc_fd;
  /* /proc/self/cwd and /proc/self/fd/N are magic links */
  expect_refused (banger_open_beneath, "cwd", O_PATH, BANGER_ERROR_PERMISSION_DENIED);
  expect_refused (banger_open_beneath, "fd/0", O_RDONLY, BANGER_ERROR_PERMISSION_DENIED);
  expect_refused (banger_open_beneath_walk, "cwd", O_PATH, BANGER_ERROR_PERMISSION_DENIED);
  expect_refused (banger_open_beneath_walk, "root/etc/passwd", O_RDONLY,
                  BANGER_ERROR_PERMISSION_DENIED);
  root_fd = saved;
  close (proc_fd);
}
END_TEST

START_TEST (test_bad_arguments)
{
  g_autoptr (GError) error = NULL;
  ck_assert_int_eq (banger_open_beneath (-1, "x", O_RDONLY, &error), -1);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ck_assert_int_eq (banger_open_beneath (0, "", O_RDONLY, &error), -1);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ck_assert_int_eq (banger_open_beneath (0, NULL, O_RDONLY, &error), -1);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
}
END_TEST

Suite *open_beneath_suite (void);

Suite *
open_beneath_suite (void)
{
  Suite *s = suite_create ("open-beneath");
  TCase *tc = tcase_create ("open");

  tcase_add_test (tc, test_openat2_path);
  tcase_add_test (tc, test_walk_path);
  tcase_add_test (tc, test_create_mode);
  tcase_add_test (tc, test_magic_links);
  tcase_add_test (tc, test_bad_arguments);
  suite_add_tcase (s, tc);
  return s;
}

BANGER_TEST_MAIN (open_beneath_suite)
