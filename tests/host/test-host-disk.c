/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * priv.mkfs_work_disk for real on a temp state dir, as root, and the path
 * attacks: "..", a path outside, a symlink (last or middle component), a
 * middle component swapped for a symlink between check and use (once
 * deterministically, once racing a thread), a hard link to a file outside
 * (st_nlink 2), /dev/sda and a device node, a FIFO, a file owned by another
 * uid.  Each refusal also checks that the target's bytes did not change.
 *
 * And the real loop-device backend (banger-dm-real.c) against the kernel's
 * loop devices: attach a file the test makes (read-only, then read-write
 * with a write through the device), find it by its tag, refuse to detach it
 * under another tag, detach it, and leave no loop device behind. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger.h"
#include "banger-dm.h"
#include "banger-priv-ops-private.h"
#include "banger-test.h"
#include "host-test-util.h"

#define DISK_SIZE (8 * 1024 * 1024)

typedef struct
{
  BangerPrivState *state;
  char *outside_dir;   /* a directory outside the state dir */
  char *outside_file;  /* <outside_dir>/disk.ext4, owned by the owner */
  char *outside_sum;
} Fixture;

static void
make_disk (const char *path, uid_t uid)
{
  int fd = open (path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
  ck_assert_msg (fd >= 0, "create %s", path);
  ck_assert_int_eq (ftruncate (fd, DISK_SIZE), 0);
  ck_assert_int_eq (pwrite (fd, "banger-untouched", 16, 1080 - 8), 16);
  ck_assert_int_eq (fchown (fd, uid, uid), 0);
  close (fd);
}

static char *
sum_of (const char *path)
{
  g_autofree char *contents = NULL;
  gsize len = 0;
  ck_assert (g_file_get_contents (path, &contents, &len, NULL));
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) contents, len);
}

static gboolean
is_ext4 (const char *path)
{
  guint8 magic[2] = { 0 };
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  gboolean ok = fd >= 0 && pread (fd, magic, 2, 1024 + 56) == 2 && magic[0] == 0x53
                && magic[1] == 0xef;
  if (fd >= 0)
    close (fd);
  return ok;
}

static void
fixture_init (Fixture *f)
{
  g_autoptr (GError) error = NULL;

  f->state = host_test_state_new (FALSE);
  f->outside_dir = g_dir_make_tmp ("banger-outside-XXXXXX", &error);
  g_assert_no_error (error);
  f->outside_file = g_build_filename (f->outside_dir, "disk.ext4", NULL);
  make_disk (f->outside_file, HOST_TEST_OWNER_UID);
  f->outside_sum = sum_of (f->outside_file);
}

static void
fixture_clear (Fixture *f)
{
  ck_assert_msg (!is_ext4 (f->outside_file), "the outside file was formatted");
  {
    g_autofree char *now = sum_of (f->outside_file);
    ck_assert_str_eq (now, f->outside_sum);
  }
  unlink (f->outside_file);
  rmdir (f->outside_dir);
  host_test_state_free (f->state);
  g_free (f->outside_dir);
  g_free (f->outside_file);
  g_free (f->outside_sum);
}

static void
refused (Fixture *f, const char *path, int code)
{
  g_autofree char *p = g_strdup_printf ("{\"path\":\"%s\"}", path);
  g_autoptr (GError) e1 = NULL;
  g_autoptr (GError) e2 = NULL;
  g_autoptr (JsonNode) r = host_test_call (f->state, "priv.mkfs_work_disk", p, &e1);

  ck_assert_msg (r == NULL, "mkfs accepted '%s'", path);
  banger_assert_error (e1, code);
  /* the handler alone (no executor table check) refuses with the same code */
  ck_assert (!host_test_call_handler (f->state, 0, "priv.mkfs_work_disk", p, &e2));
  banger_assert_error (e2, code);
}

START_TEST (test_mkfs_ok)
{
  Fixture f;
  g_autofree char *disk = NULL;
  g_autofree char *p = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) r = NULL;

  fixture_init (&f);
  disk = g_build_filename (f.state->state_dir, "web-1.work.ext4", NULL);
  make_disk (disk, HOST_TEST_OWNER_UID);
  p = g_strdup_printf ("{\"path\":\"%s\"}", disk);
  r = host_test_call (f.state, "priv.mkfs_work_disk", p, &error);
  g_assert_no_error (error);
  ck_assert (is_ext4 (disk));
  /* the root directory of the new file system belongs to the owner */
  {
    const char *argv[] = { "debugfs", "-R", "stat /", disk, NULL };
    g_autofree char *out = host_test_run (argv, NULL);
    ck_assert_ptr_nonnull (out);
    ck_assert_msg (strstr (out, "User: 65534") != NULL, "debugfs: %s", out);
  }
  fixture_clear (&f);
}
END_TEST

START_TEST (test_mkfs_path_attacks)
{
  Fixture f;
  const char *sd;
  g_autofree char *dotdot = NULL;
  g_autofree char *link_last = NULL;
  g_autofree char *sub = NULL;
  g_autofree char *via_sub = NULL;
  g_autofree char *hard = NULL;
  g_autofree char *rootfile = NULL;
  g_autofree char *fifo = NULL;
  g_autofree char *devnode = NULL;
  g_autofree char *small = NULL;

  fixture_init (&f);
  sd = f.state->state_dir;

  /* ".." that leads outside, and any ".." at all */
  dotdot = g_strdup_printf ("%s/../%s/disk.ext4", sd, f.outside_dir + strlen ("/tmp/"));
  refused (&f, dotdot, BANGER_ERROR_INVALID_ARGUMENT);
  /* plainly outside */
  refused (&f, f.outside_file, BANGER_ERROR_PERMISSION_DENIED);
  refused (&f, "/dev/sda", BANGER_ERROR_PERMISSION_DENIED);
  refused (&f, "/etc/passwd", BANGER_ERROR_PERMISSION_DENIED);
  refused (&f, "relative/disk.ext4", BANGER_ERROR_INVALID_ARGUMENT);
  /* the state dir itself */
  refused (&f, sd, BANGER_ERROR_PERMISSION_DENIED);

  /* a symlink as the last component */
  link_last = g_build_filename (sd, "link.ext4", NULL);
  ck_assert_int_eq (symlink (f.outside_file, link_last), 0);
  refused (&f, link_last, BANGER_ERROR_PERMISSION_DENIED);

  /* a symlink as a middle component */
  sub = g_build_filename (sd, "sub", NULL);
  ck_assert_int_eq (symlink (f.outside_dir, sub), 0);
  via_sub = g_build_filename (sub, "disk.ext4", NULL);
  refused (&f, via_sub, BANGER_ERROR_PERMISSION_DENIED);

  /* a hard link to the outside file (same file system: both in /tmp) */
  hard = g_build_filename (sd, "hard.ext4", NULL);
  ck_assert_int_eq (link (f.outside_file, hard), 0);
  refused (&f, hard, BANGER_ERROR_PERMISSION_DENIED);

  /* owned by another uid (root) */
  rootfile = g_build_filename (sd, "root.ext4", NULL);
  make_disk (rootfile, 0);
  refused (&f, rootfile, BANGER_ERROR_PERMISSION_DENIED);
  ck_assert (!is_ext4 (rootfile));

  /* not regular files: a FIFO (must not hang) and a device node (/dev/sda's
   * numbers, 8:0) inside the state dir */
  fifo = g_build_filename (sd, "fifo.ext4", NULL);
  ck_assert_int_eq (mkfifo (fifo, 0600), 0);
  ck_assert_int_eq (chown (fifo, HOST_TEST_OWNER_UID, HOST_TEST_OWNER_GID), 0);
  refused (&f, fifo, BANGER_ERROR_PERMISSION_DENIED);
  devnode = g_build_filename (sd, "sda", NULL);
  ck_assert_int_eq (mknod (devnode, S_IFBLK | 0600, makedev (8, 0)), 0);
  ck_assert_int_eq (chown (devnode, HOST_TEST_OWNER_UID, HOST_TEST_OWNER_GID), 0);
  refused (&f, devnode, BANGER_ERROR_PERMISSION_DENIED);

  /* too small to be a disk */
  small = g_build_filename (sd, "small.ext4", NULL);
  {
    int fd = open (small, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    ck_assert (fd >= 0 && fchown (fd, HOST_TEST_OWNER_UID, HOST_TEST_OWNER_GID) == 0);
    close (fd);
  }
  refused (&f, small, BANGER_ERROR_INVALID_ARGUMENT);
  fixture_clear (&f);
}
END_TEST

/* The check-then-use window, made deterministic: the file is opened and
 * checked, then the middle directory is swapped for a symlink to the
 * outside directory (which holds a file of the same name), then the checked
 * fd is re-opened for use — it still reaches the inside file. */
START_TEST (test_swap_between_check_and_use)
{
  Fixture f;
  g_autofree char *sub = NULL;
  g_autofree char *sub_real = NULL;
  g_autofree char *inside = NULL;
  g_autoptr (GError) error = NULL;
  struct stat st, now;
  int path_fd, fd;

  fixture_init (&f);
  sub = g_build_filename (f.state->state_dir, "vm", NULL);
  sub_real = g_build_filename (f.state->state_dir, "vm.real", NULL);
  ck_assert_int_eq (mkdir (sub, 0755), 0);
  inside = g_build_filename (sub, "disk.ext4", NULL);
  make_disk (inside, HOST_TEST_OWNER_UID);

  path_fd = banger_priv_open_owned_file (f.state->state_dir, inside, HOST_TEST_OWNER_UID, FALSE,
                                         &st, &error);
  g_assert_no_error (error);
  ck_assert_int_ge (path_fd, 0);

  /* swap */
  ck_assert_int_eq (rename (sub, sub_real), 0);
  ck_assert_int_eq (symlink (f.outside_dir, sub), 0);

  fd = banger_priv_reopen (path_fd, &st, O_RDWR, &error);
  g_assert_no_error (error);
  ck_assert_int_eq (fstat (fd, &now), 0);
  ck_assert_uint_eq (now.st_ino, st.st_ino);
  ck_assert_int_eq (pwrite (fd, "through-the-fd", 14, 0), 14);
  close (fd);
  close (path_fd);
  {
    /* the write went to the inside file (now under vm.real) */
    g_autofree char *moved = g_build_filename (sub_real, "disk.ext4", NULL);
    g_autofree char *c = NULL;
    ck_assert (g_file_get_contents (moved, &c, NULL, NULL));
    ck_assert (memcmp (c, "through-the-fd", 14) == 0);
  }
  /* and a request made after the swap is refused outright */
  refused (&f, inside, BANGER_ERROR_PERMISSION_DENIED);
  fixture_clear (&f);
}
END_TEST

typedef struct
{
  const char *state_dir;
  const char *outside_dir;
  volatile gint stop;
  guint flips;
} Swapper;

static gpointer
swapper_thread (gpointer data)
{
  Swapper *s = data;
  g_autofree char *sub = g_build_filename (s->state_dir, "vm", NULL);
  g_autofree char *real = g_build_filename (s->state_dir, "vm.real", NULL);
  g_autofree char *tmp = g_build_filename (s->state_dir, "vm.link", NULL);

  symlink (s->outside_dir, tmp);
  while (!g_atomic_int_get (&s->stop))
    {
      /* vm <-> symlink to outside, atomically with renameat2 RENAME_EXCHANGE */
      if (renameat2 (AT_FDCWD, sub, AT_FDCWD, tmp, RENAME_EXCHANGE) == 0)
        s->flips++;
      g_thread_yield ();
    }
  /* leave the real directory at "vm" */
  {
    struct stat st;
    if (lstat (sub, &st) == 0 && S_ISLNK (st.st_mode))
      renameat2 (AT_FDCWD, sub, AT_FDCWD, tmp, RENAME_EXCHANGE);
  }
  unlink (tmp);
  (void) real;
  return NULL;
}

START_TEST (test_swap_race)
{
  Fixture f;
  Swapper s = { 0 };
  g_autofree char *sub = NULL;
  g_autofree char *inside = NULL;
  g_autofree char *p = NULL;
  GThread *t;
  guint ok = 0, denied = 0;

  fixture_init (&f);
  sub = g_build_filename (f.state->state_dir, "vm", NULL);
  ck_assert_int_eq (mkdir (sub, 0755), 0);
  inside = g_build_filename (sub, "disk.ext4", NULL);
  make_disk (inside, HOST_TEST_OWNER_UID);
  p = g_strdup_printf ("{\"path\":\"%s\"}", inside);

  s.state_dir = f.state->state_dir;
  s.outside_dir = f.outside_dir;
  t = g_thread_new ("swapper", swapper_thread, &s);
  /* at least 30 calls, and on until both outcomes were seen (bounded) */
  for (int i = 0; i < 30 || ((ok == 0 || denied == 0) && i < 5000); i++)
    {
      g_autoptr (GError) e = NULL;
      g_autoptr (JsonNode) r = host_test_call (f.state, "priv.mkfs_work_disk", p, &e);
      if (r != NULL)
        ok++;
      else
        {
          /* "vm" is swapped atomically: it is always there, either the real
           * directory or the symlink out, which is refused */
          banger_assert_error (e, BANGER_ERROR_PERMISSION_DENIED);
          denied++;
        }
    }
  g_atomic_int_set (&s.stop, 1);
  g_thread_join (t);
  g_print ("# swap race: %u formatted the inside file, %u refused, %u swaps\n", ok, denied,
           s.flips);
  ck_assert_uint_gt (s.flips, 0);
  /* the race was run both ways: some calls met the symlink and were refused,
   * some met the real directory and formatted the file inside it */
  ck_assert_uint_gt (denied, 0);
  ck_assert_uint_gt (ok, 0);
  ck_assert_msg (is_ext4 (inside), "%u calls succeeded but the inside disk is not ext4", ok);
  /* fixture_clear asserts the outside file was never formatted nor changed */
  fixture_clear (&f);
}
END_TEST

/* ------------------------------------------------------------ loop devices */

static char loop_tag[64]; /* set in the parent (unchecked fixture) */

static void
loop_setup (void)
{
  g_snprintf (loop_tag, sizeof loop_tag, "banger-test-loop-%d", (int) getpid ());
}

/* Whatever a failed test left attached under our tag goes. */
static void
loop_teardown (void)
{
  BangerHostBackend *b = banger_host_backend_real ();
  g_auto (GStrv) left = b->loop_find (b, loop_tag, NULL);

  for (guint i = 0; left != NULL && left[i] != NULL; i++)
    b->loop_detach (b, left[i], loop_tag, NULL);
}

/* /sys/block/loopN/<what>, stripped; NULL when absent. */
static char *
loop_sys (const char *dev, const char *what)
{
  g_autofree char *p = g_strdup_printf ("/sys/block/%s/%s", dev + strlen ("/dev/"), what);
  g_autofree char *c = NULL;

  if (!g_file_get_contents (p, &c, NULL, NULL))
    return NULL;
  return g_strstrip (g_strdup (c));
}

static char *
make_backing_file (const char *dir)
{
  char *path = g_build_filename (dir, "backing.img", NULL);
  int fd = open (path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);

  ck_assert_int_ge (fd, 0);
  ck_assert_int_eq (ftruncate (fd, 1024 * 1024), 0);
  close (fd);
  return path;
}

START_TEST (test_real_loop_devices)
{
  BangerHostBackend *b = banger_host_backend_real ();
  g_autofree char *dir = g_dir_make_tmp ("banger-loop-XXXXXX", NULL);
  g_autofree char *file = make_backing_file (dir);
  g_autoptr (GError) error = NULL;
  g_autofree char *dev = NULL;
  g_autofree char *backing = NULL;
  g_autofree char *ro = NULL;
  g_auto (GStrv) found = NULL;
  int fd;

  /* read-only, as the base image of a snapshot */
  fd = open (file, O_RDONLY | O_CLOEXEC);
  ck_assert_int_ge (fd, 0);
  dev = b->loop_attach (b, fd, loop_tag, TRUE, &error);
  close (fd); /* the loop device holds its own reference */
  ck_assert_msg (dev != NULL, "attach: %s", error ? error->message : "");
  ck_assert (g_str_has_prefix (dev, "/dev/loop"));
  backing = loop_sys (dev, "loop/backing_file");
  ck_assert_str_eq (backing, file);
  ro = loop_sys (dev, "ro");
  ck_assert_str_eq (ro, "1");

  found = b->loop_find (b, loop_tag, &error);
  ck_assert_ptr_nonnull (found);
  ck_assert_uint_eq (g_strv_length (found), 1);
  ck_assert_str_eq (found[0], dev);
  g_clear_pointer (&found, g_strfreev);

  /* a device is detached only under the tag it was attached with */
  ck_assert (!b->loop_detach (b, dev, "banger-someone-else", &error));
  banger_assert_error (error, BANGER_ERROR_PERMISSION_DENIED);
  g_clear_error (&error);
  g_free (backing);
  backing = loop_sys (dev, "loop/backing_file");
  ck_assert_str_eq (backing, file);

  ck_assert_msg (b->loop_detach (b, dev, loop_tag, &error), "detach: %s",
                 error ? error->message : "");
  g_free (backing);
  backing = loop_sys (dev, "loop/backing_file");
  ck_assert_msg (backing == NULL, "%s still backed by %s", dev, backing);
  found = b->loop_find (b, loop_tag, &error);
  ck_assert_uint_eq (g_strv_length (found), 0);
  g_clear_pointer (&found, g_strfreev);
  /* detaching what is gone is success (idempotent cleanup) */
  ck_assert (b->loop_detach (b, dev, loop_tag, &error));

  /* read-write, as a COW file: a write through the device lands in the file */
  g_clear_pointer (&dev, g_free);
  fd = open (file, O_RDWR | O_CLOEXEC);
  ck_assert_int_ge (fd, 0);
  dev = b->loop_attach (b, fd, loop_tag, FALSE, &error);
  close (fd);
  ck_assert_msg (dev != NULL, "attach rw: %s", error ? error->message : "");
  g_free (ro);
  ro = loop_sys (dev, "ro");
  ck_assert_str_eq (ro, "0");
  {
    int dfd = open (dev, O_WRONLY | O_CLOEXEC);
    char buf[16] = { 0 };
    int ffd;

    ck_assert_int_ge (dfd, 0);
    ck_assert_int_eq (pwrite (dfd, "through-the-loop", 16, 4096), 16);
    ck_assert_int_eq (fsync (dfd), 0);
    close (dfd);
    ck_assert (b->loop_detach (b, dev, loop_tag, &error));
    ffd = open (file, O_RDONLY | O_CLOEXEC);
    ck_assert_int_eq (pread (ffd, buf, 16, 4096), 16);
    close (ffd);
    ck_assert (memcmp (buf, "through-the-loop", 16) == 0);
  }

  /* nothing left behind */
  found = b->loop_find (b, loop_tag, &error);
  ck_assert_ptr_nonnull (found);
  ck_assert_uint_eq (g_strv_length (found), 0);
  g_unlink (file);
  g_rmdir (dir);
}
END_TEST

static Suite *
disk_suite (void)
{
  Suite *s = suite_create ("host-disk");
  TCase *tc = tcase_create ("mkfs");

  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_mkfs_ok);
  tcase_add_test (tc, test_mkfs_path_attacks);
  tcase_add_test (tc, test_swap_between_check_and_use);
  tcase_add_test (tc, test_swap_race);
  suite_add_tcase (s, tc);

  tc = tcase_create ("loop");
  tcase_add_unchecked_fixture (tc, loop_setup, loop_teardown);
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_real_loop_devices);
  suite_add_tcase (s, tc);
  return s;
}

BANGER_TEST_MAIN_ROOT (disk_suite, "files owned by another uid, mkfs as the helper")
