/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The host side of a workspace (libbanger/guest/banger-ws-host.c): the
 * scan keeps symlinks as symlinks and refuses one leading out of the tree,
 * skips FIFOs, hashes a touched file; a pull's writes never leave the tree
 * (a symlinked directory on the way is refused), land with the mode and
 * mtime asked, and a non-empty directory is not removed. */
#include "config.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "banger-error.h"
#include "banger-ws-host.h"
#include "guest-access-test.h"

static char *tmp;
static char *ws;

static void
setup (void)
{
  tmp = g_dir_make_tmp ("banger-ws-XXXXXX", NULL);
  ck_assert (tmp != NULL);
  ws = g_build_filename (tmp, "ws", NULL);
  ck_assert_int_eq (g_mkdir (ws, 0755), 0);
}

static void
teardown (void)
{
  ga_rm_rf (tmp);
  g_clear_pointer (&tmp, g_free);
  g_clear_pointer (&ws, g_free);
}

static void
put (const char *rel, const char *content)
{
  g_autofree char *p = g_build_filename (ws, rel, NULL);
  g_autofree char *d = g_path_get_dirname (p);
  ck_assert_int_eq (g_mkdir_with_parents (d, 0755), 0);
  ck_assert (g_file_set_contents (p, content, -1, NULL));
}

START_TEST (test_scan)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerWsManifest) m = NULL;
  g_autofree char *fifo = g_build_filename (ws, "pipe", NULL);
  g_autofree char *lnk = g_build_filename (ws, "sub", "up", NULL);
  const BangerWsEntry *e;
  guint skipped = 0;
  int fd;

  put ("a.txt", "hello");
  put ("sub/b.txt", "bee");
  ck_assert_int_eq (symlink ("../a.txt", lnk), 0);
  ck_assert_int_eq (mkfifo (fifo, 0600), 0);
  fd = banger_ws_host_open_root (ws, &error);
  ck_assert_msg (fd >= 0, "%s", error ? error->message : "?");
  m = banger_ws_host_scan (fd, NULL, &skipped, NULL, &error);
  ck_assert_msg (m != NULL, "%s", error ? error->message : "?");
  ck_assert_uint_eq (banger_ws_manifest_size (m), 4); /* a.txt sub sub/b.txt sub/up */
  ck_assert_uint_eq (skipped, 1);
  e = banger_ws_manifest_lookup (m, "sub/up");
  ck_assert (e != NULL && e->type == BANGER_WS_SYMLINK);
  ck_assert_str_eq (e->target, "../a.txt");
  e = banger_ws_manifest_lookup (m, "a.txt");
  ck_assert (e->type == BANGER_WS_FILE && e->size == 5 && e->hash == NULL);

  /* a touched file of the same size is hashed, when the base knows a hash */
  {
    g_autoptr (BangerWsManifest) base = banger_ws_manifest_new ();
    g_autoptr (BangerWsManifest) m2 = NULL;
    BangerWsEntry *b = banger_ws_entry_copy (e);
    b->mtime_ns -= 5000000000;
    b->hash = g_strdup ("00");
    banger_ws_manifest_add (base, b);
    m2 = banger_ws_host_scan (fd, base, NULL, NULL, &error);
    ck_assert (m2 != NULL);
    ck_assert_str_eq (banger_ws_manifest_lookup (m2, "a.txt")->hash,
                      "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
  }
  close (fd);
}
END_TEST

START_TEST (test_scan_refuses_symlink_out)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *lnk = g_build_filename (ws, "etc", NULL);
  int fd;

  put ("a.txt", "x");
  ck_assert_int_eq (symlink ("/etc", lnk), 0);
  fd = banger_ws_host_open_root (ws, &error);
  ck_assert (fd >= 0);
  ck_assert (banger_ws_host_scan (fd, NULL, NULL, NULL, &error) == NULL);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  ck_assert_msg (strstr (error->message, "outside the workspace") != NULL, "%s", error->message);
  close (fd);
}
END_TEST

START_TEST (test_root_symlink_refused)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *lnk = g_build_filename (tmp, "link", NULL);

  ck_assert_int_eq (symlink (ws, lnk), 0);
  ck_assert_int_eq (banger_ws_host_open_root (lnk, &error), -1);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
}
END_TEST

START_TEST (test_writes_stay_inside)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *outside = g_build_filename (tmp, "outside", NULL);
  g_autofree char *lnk = g_build_filename (ws, "d", NULL);
  g_autofree char *tmp_name = NULL;
  g_autofree char *escaped = g_build_filename (outside, "f", NULL);
  g_autoptr (BangerWsEntry) e = banger_ws_entry_new ("d/f", BANGER_WS_FILE);
  int root, dir_fd = -1;

  ck_assert_int_eq (g_mkdir (outside, 0755), 0);
  ck_assert_int_eq (symlink (outside, lnk), 0); /* planted: ws/d -> ../outside */
  root = banger_ws_host_open_root (ws, &error);
  ck_assert (root >= 0);
  ck_assert_int_eq (banger_ws_host_begin_file (root, "d/f", &tmp_name, &dir_fd, &error), -1);
  banger_assert_error (error, BANGER_ERROR_PERMISSION_DENIED);
  g_clear_error (&error);
  ck_assert (!g_file_test (escaped, G_FILE_TEST_EXISTS));
  e->type = BANGER_WS_DIR;
  e->mode = 0755;
  g_free (e->path);
  e->path = g_strdup ("d/sub");
  ck_assert (!banger_ws_host_make (root, e, &error));
  banger_assert_error (error, BANGER_ERROR_PERMISSION_DENIED);
  g_clear_error (&error);
  {
    g_autofree char *sub = g_build_filename (outside, "sub", NULL);
    ck_assert (!g_file_test (sub, G_FILE_TEST_EXISTS));
  }
  /* a symlink pointing out is not made */
  {
    g_autoptr (BangerWsEntry) l = banger_ws_entry_new ("evil", BANGER_WS_SYMLINK);
    l->target = g_strdup ("/etc/passwd");
    ck_assert (!banger_ws_host_make (root, l, &error));
    banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
  }
  close (root);
}
END_TEST

START_TEST (test_pull_file_and_remove)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerWsEntry) e = banger_ws_entry_new ("new/dir/f", BANGER_WS_FILE);
  g_autofree char *tmp_name = NULL;
  g_autofree char *path = g_build_filename (ws, "new", "dir", "f", NULL);
  g_autofree char *content = NULL;
  struct stat st;
  int root, dir_fd = -1, fd;

  root = banger_ws_host_open_root (ws, &error);
  e->mode = 0640;
  e->mtime_ns = G_GINT64_CONSTANT (1600000000) * 1000000000;
  fd = banger_ws_host_begin_file (root, e->path, &tmp_name, &dir_fd, &error);
  ck_assert_msg (fd >= 0, "%s", error ? error->message : "?");
  ck_assert_int_eq (write (fd, "data", 4), 4);
  ck_assert (banger_ws_host_commit_file (dir_fd, fd, tmp_name, e, &error));
  ck_assert (g_file_get_contents (path, &content, NULL, NULL));
  ck_assert_str_eq (content, "data");
  ck_assert_int_eq (lstat (path, &st), 0);
  ck_assert_int_eq (st.st_mode & 07777, 0640);
  ck_assert_int_eq (st.st_mtim.tv_sec, 1600000000);

  ck_assert (!banger_ws_host_remove (root, "new/dir", &error));
  banger_assert_error (error, BANGER_ERROR_CONFLICT);
  g_clear_error (&error);
  ck_assert (banger_ws_host_remove (root, "new/dir/f", &error));
  ck_assert (banger_ws_host_remove (root, "new/dir", &error));
  ck_assert (banger_ws_host_remove (root, "new/gone", &error)); /* absent: fine */
  close (root);
}
END_TEST

static Suite *
ws_host_suite (void)
{
  Suite *s = suite_create ("ws-host");
  TCase *tc = tcase_create ("host");

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_scan);
  tcase_add_test (tc, test_scan_refuses_symlink_out);
  tcase_add_test (tc, test_root_symlink_refused);
  tcase_add_test (tc, test_writes_stay_inside);
  tcase_add_test (tc, test_pull_file_and_remove);
  suite_add_tcase (s, tc);
  return s;
}

BANGER_TEST_MAIN (ws_host_suite)
