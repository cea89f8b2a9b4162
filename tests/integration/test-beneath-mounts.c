/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * banger_open_beneath() refuses to cross into another mount: a tmpfs and a
 * bind mount of the same file system, made in a private mount namespace
 * (each check test runs in its own forked child). */
#include "config.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include "banger.h"
#include "banger-path-private.h"
#include "banger-test.h"

static int
setup_mounts (char **out_dir)
{
  g_autoptr (GError) error = NULL;
  char *dir;
  int root_fd;

  ck_assert_int_eq (unshare (CLONE_NEWNS), 0);
  ck_assert_int_eq (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
  dir = g_dir_make_tmp ("banger-mnt-XXXXXX", &error);
  ck_assert_ptr_nonnull (dir);
  g_assert (g_mkdir_with_parents (g_build_filename (dir, "root/tmpfs", NULL), 0700) == 0);
  g_assert (g_mkdir_with_parents (g_build_filename (dir, "root/bind", NULL), 0700) == 0);
  g_assert (g_mkdir_with_parents (g_build_filename (dir, "src", NULL), 0700) == 0);
  g_assert (g_file_set_contents (g_build_filename (dir, "src/f", NULL), "x", -1, NULL));
  g_assert (g_file_set_contents (g_build_filename (dir, "root/plain", NULL), "x", -1, NULL));
  ck_assert_int_eq (mount ("tmpfs", g_build_filename (dir, "root/tmpfs", NULL), "tmpfs", 0,
                           "size=1m"),
                    0);
  g_assert (g_file_set_contents (g_build_filename (dir, "root/tmpfs/f", NULL), "x", -1, NULL));
  ck_assert_int_eq (mount (g_build_filename (dir, "src", NULL),
                           g_build_filename (dir, "root/bind", NULL), NULL, MS_BIND, NULL),
                    0);
  root_fd = open (g_build_filename (dir, "root", NULL), O_PATH | O_DIRECTORY | O_CLOEXEC);
  ck_assert_int_ge (root_fd, 0);
  *out_dir = dir;
  return root_fd;
}

/* The mounts die with the test's namespace, the directory would not: undo
 * both, so a run leaves nothing in the temp dir. */
static void
remove_mounts (const char *dir)
{
  const char *mounts[] = { "root/tmpfs", "root/bind" };
  const char *files[] = { "root/plain", "src/f" };
  const char *dirs[] = { "root/tmpfs", "root/bind", "root", "src", "" };

  for (gsize i = 0; i < G_N_ELEMENTS (mounts); i++)
    {
      g_autofree char *p = g_build_filename (dir, mounts[i], NULL);
      ck_assert_int_eq (umount2 (p, MNT_DETACH), 0);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *p = g_build_filename (dir, files[i], NULL);
      ck_assert_int_eq (unlink (p), 0);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (dirs); i++)
    {
      g_autofree char *p = g_build_filename (dir, dirs[i], NULL);
      ck_assert_int_eq (rmdir (p), 0);
    }
}

static void
check_with (int (*fn) (int, const char *, int, GError **))
{
  g_autofree char *dir = NULL;
  int root_fd = setup_mounts (&dir);
  const char *refused[] = { "tmpfs/f", "bind/f", "tmpfs", "bind" };

  {
    g_autoptr (GError) error = NULL;
    int fd = fn (root_fd, "plain", O_RDONLY, &error);
    ck_assert_int_ge (fd, 0);
    close (fd);
  }
  for (gsize i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autoptr (GError) error = NULL;
      int fd = fn (root_fd, refused[i], O_RDONLY, &error);
      ck_assert_msg (fd == -1, "'%s' crosses a mount and must be refused", refused[i]);
      banger_assert_error (error, BANGER_ERROR_PERMISSION_DENIED);
    }
  close (root_fd);
  remove_mounts (dir);
}

START_TEST (test_openat2_no_xdev)
{
  check_with (banger_open_beneath);
}
END_TEST

START_TEST (test_walk_no_xdev)
{
  check_with (banger_open_beneath_walk);
}
END_TEST

Suite *mounts_suite (void);

Suite *
mounts_suite (void)
{
  Suite *s = suite_create ("beneath-mounts");
  TCase *tc = tcase_create ("mounts");
  tcase_add_test (tc, test_openat2_no_xdev);
  tcase_add_test (tc, test_walk_no_xdev);
  suite_add_tcase (s, tc);
  return s;
}

BANGER_TEST_MAIN_ROOT (mounts_suite, "mount namespaces")
