/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Root disks and work disks on the local file system, unprivileged, for
 * real: the sparse copy (holes kept: st_blocks of the copy = the image's;
 * content identical by sha256; copy_file_range and the pread/pwrite path),
 * the chooser (sparse-copy on ext4, dm-snapshot when the caller says
 * device-mapper is usable), the dm-snapshot COW store, every error code
 * (missing image, existing destination, missing directory, non-file image,
 * reflink refused, unknown flags, cancellation before and during the copy)
 * with nothing left behind, the async pair with progress in the caller's
 * main context; and work disks made with the real mkfs.ext4, checked with
 * dumpe2fs and e2fsck.  (Reflink on xfs and ENOSPC on a small tmpfs need
 * root: test-cow-reflink.) */
#include "config.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger.h"
#include "banger-cow-disk.h"
#include "banger-test.h"
#include "banger-work-disk.h"
#include "host-test-loopfs.h"
#include "host-test-util.h"

#define MiB (G_GUINT64_CONSTANT (1024) * 1024)
#define IMAGE_SIZE (96 * MiB)

/* Data extents of the test image: (offset, length) pairs, with a hole at
 * the start, in the middle and at the end. */
static const guint64 image_extents[] = {
  1 * MiB,   2 * MiB,   /* */
  8 * MiB,   20 * MiB,  /* longer than one copy_file_range chunk (16 MiB) */
  50 * MiB,  64 * 1024, /* */
  90 * MiB,  4 * MiB,   /* then a 2 MiB hole to the end */
};

typedef struct
{
  char *dir;
  char *image;
  guint64 data;
} Fixture;

static void
fixture_init (Fixture *f)
{
  g_autoptr (GError) error = NULL;

  f->dir = g_dir_make_tmp ("banger-cow-XXXXXX", &error);
  g_assert_no_error (error);
  f->image = g_build_filename (f->dir, "image.ext4", NULL);
  f->data = host_test_make_image (f->image, IMAGE_SIZE, image_extents,
                                  G_N_ELEMENTS (image_extents) / 2, 7, &error);
  g_assert_no_error (error);
  ck_assert_uint_eq (f->data, 26 * MiB + 64 * 1024);
}

static gint
cmp_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* The names in the fixture's directory, sorted, joined by ' '. */
static char *
listing (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  ck_assert_ptr_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, cmp_names);
  g_ptr_array_add (names, NULL);
  return g_strjoinv (" ", (char **) names->pdata);
}

static void
fixture_clear (Fixture *f)
{
  g_autoptr (GDir) d = g_dir_open (f->dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (f->dir, name, NULL);
      g_unlink (p);
    }
  g_rmdir (f->dir);
  g_free (f->dir);
  g_free (f->image);
}

static guint64
allocated (const char *path)
{
  struct stat st;
  ck_assert_int_eq (stat (path, &st), 0);
  return (guint64) st.st_blocks * 512;
}

static gboolean
on_ext4 (const char *dir)
{
  struct statfs sfs;
  return statfs (dir, &sfs) == 0 && sfs.f_type == EXT4_SUPER_MAGIC;
}

/* -------------------------------------------------------------- strategy */

START_TEST (test_strategy_names)
{
  BangerCowStrategy s = 99;

  ck_assert_str_eq (banger_cow_strategy_to_string (BANGER_COW_STRATEGY_DM_SNAPSHOT),
                    "dm-snapshot");
  ck_assert_str_eq (banger_cow_strategy_to_string (BANGER_COW_STRATEGY_REFLINK), "reflink");
  ck_assert_str_eq (banger_cow_strategy_to_string (BANGER_COW_STRATEGY_SPARSE_COPY),
                    "sparse-copy");
  ck_assert_ptr_null (banger_cow_strategy_to_string ((BangerCowStrategy) 3));
  ck_assert_ptr_null (banger_cow_strategy_to_string ((BangerCowStrategy) -1));
  ck_assert (banger_cow_strategy_from_string ("reflink", &s));
  ck_assert_int_eq (s, BANGER_COW_STRATEGY_REFLINK);
  ck_assert (banger_cow_strategy_from_string ("sparse-copy", &s));
  ck_assert_int_eq (s, BANGER_COW_STRATEGY_SPARSE_COPY);
  ck_assert (banger_cow_strategy_from_string ("dm-snapshot", &s));
  ck_assert_int_eq (s, BANGER_COW_STRATEGY_DM_SNAPSHOT);
  ck_assert (!banger_cow_strategy_from_string ("Reflink", &s));
  ck_assert (!banger_cow_strategy_from_string ("", &s));
  ck_assert_int_eq (s, BANGER_COW_STRATEGY_DM_SNAPSHOT); /* untouched */
}
END_TEST

/* --------------------------------------------------------------- chooser */

START_TEST (test_choose_sparse_on_ext4)
{
  Fixture f;
  BangerCowStrategy s = 99;
  g_autofree char *detail = NULL;
  g_autofree char *detail2 = NULL;
  g_autoptr (GError) error = NULL;
  gboolean supported = TRUE;

  fixture_init (&f);
  if (!on_ext4 (f.dir) && banger_test_skip_part ("TMPDIR is not on ext4"))
    {
      fixture_clear (&f);
      return;
    }
  ck_assert (banger_cow_choose (f.dir, NULL, BANGER_COW_CHOOSE_NONE, &s, &detail, &error));
  g_assert_no_error (error);
  ck_assert_int_eq (s, BANGER_COW_STRATEGY_SPARSE_COPY);
  ck_assert_msg (g_str_has_prefix (detail, "sparse-copy: FICLONE does not work in"), "%s",
                 detail);
  ck_assert_msg (strstr (detail, "(ext2/3/4") != NULL, "%s", detail);
  ck_assert_msg (strstr (detail, "device-mapper: not usable") != NULL, "%s", detail);
  /* probing from the image itself says the same */
  s = 99;
  ck_assert (banger_cow_choose (f.dir, f.image, BANGER_COW_CHOOSE_NONE, &s, &detail2, &error));
  ck_assert_int_eq (s, BANGER_COW_STRATEGY_SPARSE_COPY);
  ck_assert (banger_cow_probe_reflink (f.dir, f.image, &supported, NULL, &error));
  g_assert_no_error (error);
  ck_assert (!supported);
  /* the probe leaves nothing behind */
  {
    g_autofree char *l = listing (f.dir);
    ck_assert_str_eq (l, "image.ext4");
  }
  fixture_clear (&f);
}
END_TEST

START_TEST (test_choose_dm_injected)
{
  Fixture f;
  BangerCowStrategy s = 99;
  g_autofree char *detail = NULL;
  g_autoptr (GError) error = NULL;

  fixture_init (&f);
  /* The caller's answer ("a privileged backend reports device-mapper") is
   * what decides: this kernel has none, the chooser still picks dm. */
  ck_assert (banger_cow_choose (f.dir, f.image, BANGER_COW_CHOOSE_DM_USABLE, &s, &detail,
                                &error));
  g_assert_no_error (error);
  ck_assert_int_eq (s, BANGER_COW_STRATEGY_DM_SNAPSHOT);
  ck_assert_str_eq (detail, "dm-snapshot: device-mapper is usable through the privileged "
                            "backend");
  /* without it, never dm */
  ck_assert (banger_cow_choose (f.dir, NULL, BANGER_COW_CHOOSE_NONE, &s, NULL, &error));
  ck_assert_int_ne (s, BANGER_COW_STRATEGY_DM_SNAPSHOT);
  fixture_clear (&f);
}
END_TEST

START_TEST (test_choose_errors)
{
  BangerCowStrategy s = 99;
  g_autoptr (GError) e1 = NULL;
  g_autoptr (GError) e2 = NULL;
  g_autoptr (GError) e3 = NULL;
  g_autoptr (GError) e4 = NULL;
  gboolean sup = FALSE;

  ck_assert (!banger_cow_choose ("/nonexistent-banger-dir", NULL, 0, &s, NULL, &e1));
  banger_assert_error (e1, BANGER_ERROR_NOT_FOUND);
  ck_assert (!banger_cow_choose ("/nonexistent-banger-dir", NULL, BANGER_COW_CHOOSE_DM_USABLE,
                                 &s, NULL, &e2));
  banger_assert_error (e2, BANGER_ERROR_NOT_FOUND);
  ck_assert (!banger_cow_choose ("/tmp", NULL, 1 << 5, &s, NULL, &e3));
  banger_assert_error (e3, BANGER_ERROR_INVALID_ARGUMENT);
  ck_assert_int_eq (s, 99);
  ck_assert (!banger_cow_probe_reflink ("/tmp", "/nonexistent-banger-image", &sup, NULL, &e4));
  banger_assert_error (e4, BANGER_ERROR_NOT_FOUND);
}
END_TEST

/* ----------------------------------------------------------- sparse copy */

static void
check_copy (Fixture *f, const char *dest, const BangerCowResult *r, guint64 slack)
{
  g_autofree char *a = host_test_file_sha256 (f->image);
  g_autofree char *b = host_test_file_sha256 (dest);
  struct stat si, sd;
  guint64 ai = allocated (f->image), ad = allocated (dest);

  ck_assert_str_eq (a, b);
  ck_assert_int_eq (stat (f->image, &si), 0);
  ck_assert_int_eq (stat (dest, &sd), 0);
  ck_assert_int_eq (si.st_size, sd.st_size);
  ck_assert_int_eq (sd.st_mode & 07777, 0600);
  ck_assert_uint_eq (r->image_size, IMAGE_SIZE);
  ck_assert_uint_eq (r->disk_size, IMAGE_SIZE);
  ck_assert_uint_eq (r->data_bytes, f->data);
  /* holes preserved: the copy costs what the image holds (26 MiB of a
   * 96 MiB file), give or take file system metadata */
  ck_assert_msg (ad <= ai + slack && ad + slack >= ai,
                 "image allocates %" G_GUINT64_FORMAT ", copy %" G_GUINT64_FORMAT, ai, ad);
  ck_assert_msg (ad < f->data + 2 * MiB, "the copy is not sparse: %" G_GUINT64_FORMAT, ad);
}

START_TEST (test_sparse_copy)
{
  Fixture f;
  BangerCowResult r = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *dest = NULL;

  fixture_init (&f);
  dest = g_build_filename (f.dir, "vm.rootfs", NULL);
  ck_assert (banger_cow_disk_create (BANGER_COW_STRATEGY_SPARSE_COPY, f.image, dest, 0, NULL,
                                     NULL, &r, NULL, &error));
  g_assert_no_error (error);
  ck_assert_int_eq (r.strategy, BANGER_COW_STRATEGY_SPARSE_COPY);
  check_copy (&f, dest, &r, 1 * MiB);
  if (on_ext4 (f.dir))
    {
      ck_assert (r.used_copy_file_range);
      ck_assert (!r.used_read_write);
    }
  {
    g_autofree char *l = listing (f.dir);
    ck_assert_str_eq (l, "image.ext4 vm.rootfs");
  }
  fixture_clear (&f);
}
END_TEST

START_TEST (test_sparse_copy_read_write)
{
  Fixture f;
  BangerCowResult r = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *dest = NULL;

  fixture_init (&f);
  dest = g_build_filename (f.dir, "vm.rootfs", NULL);
  ck_assert (banger_cow_disk_create (BANGER_COW_STRATEGY_SPARSE_COPY, f.image, dest,
                                     BANGER_COW_CREATE_NO_COPY_FILE_RANGE, NULL, NULL, &r, NULL,
                                     &error));
  g_assert_no_error (error);
  check_copy (&f, dest, &r, 1 * MiB);
  ck_assert (!r.used_copy_file_range);
  ck_assert (r.used_read_write);
  fixture_clear (&f);
}
END_TEST

/* An image that is all hole, and one that is all data. */
START_TEST (test_sparse_copy_edges)
{
  Fixture f;
  g_autoptr (GError) error = NULL;
  g_autofree char *empty = NULL;
  g_autofree char *full = NULL;
  g_autofree char *d1 = NULL;
  g_autofree char *d2 = NULL;
  BangerCowResult r = { 0 };
  const guint64 all[] = { 0, 3 * MiB };

  fixture_init (&f);
  empty = g_build_filename (f.dir, "empty.img", NULL);
  full = g_build_filename (f.dir, "full.img", NULL);
  d1 = g_build_filename (f.dir, "d1", NULL);
  d2 = g_build_filename (f.dir, "d2", NULL);
  host_test_make_image (empty, 64 * MiB, NULL, 0, 1, &error);
  g_assert_no_error (error);
  host_test_make_image (full, 3 * MiB, all, 1, 2, &error);
  g_assert_no_error (error);
  ck_assert (banger_cow_disk_create (BANGER_COW_STRATEGY_SPARSE_COPY, empty, d1, 0, NULL, NULL,
                                     &r, NULL, &error));
  g_assert_no_error (error);
  ck_assert_uint_eq (r.data_bytes, 0);
  ck_assert_uint_eq (allocated (d1), 0);
  {
    struct stat st;
    ck_assert_int_eq (stat (d1, &st), 0);
    ck_assert_int_eq (st.st_size, 64 * MiB);
  }
  ck_assert (banger_cow_disk_create (BANGER_COW_STRATEGY_SPARSE_COPY, full, d2, 0, NULL, NULL,
                                     &r, NULL, &error));
  g_assert_no_error (error);
  ck_assert_uint_eq (r.data_bytes, 3 * MiB);
  {
    g_autofree char *a = host_test_file_sha256 (full);
    g_autofree char *b = host_test_file_sha256 (d2);
    ck_assert_str_eq (a, b);
  }
  fixture_clear (&f);
}
END_TEST

/* --------------------------------------------------------------- errors */

START_TEST (test_create_errors)
{
  Fixture f;
  g_autofree char *dest = NULL;
  g_autofree char *missing_dir = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;

  fixture_init (&f);
  dest = g_build_filename (f.dir, "vm.rootfs", NULL);
  missing_dir = g_build_filename (f.dir, "no", "vm.rootfs", NULL);
  {
    g_autoptr (GError) e = NULL;
    g_autofree char *img = g_build_filename (f.dir, "missing.ext4", NULL);
    ck_assert (!banger_cow_disk_create (BANGER_COW_STRATEGY_SPARSE_COPY, img, dest, 0, NULL,
                                        NULL, NULL, NULL, &e));
    banger_assert_error (e, BANGER_ERROR_NOT_FOUND);
    ck_assert_msg (strstr (e->message, "does not exist") != NULL, "%s", e->message);
  }
  {
    g_autoptr (GError) e = NULL;
    ck_assert (!banger_cow_disk_create (BANGER_COW_STRATEGY_SPARSE_COPY, f.dir, dest, 0, NULL,
                                        NULL, NULL, NULL, &e));
    banger_assert_error (e, BANGER_ERROR_INVALID_ARGUMENT);
  }
  {
    g_autoptr (GError) e = NULL;
    ck_assert (!banger_cow_disk_create (BANGER_COW_STRATEGY_SPARSE_COPY, f.image, missing_dir, 0,
                                        NULL, NULL, NULL, NULL, &e));
    banger_assert_error (e, BANGER_ERROR_NOT_FOUND);
  }
  {
    g_autoptr (GError) e = NULL;
    ck_assert (!banger_cow_disk_create (BANGER_COW_STRATEGY_SPARSE_COPY, f.image, dest, 1 << 7,
                                        NULL, NULL, NULL, NULL, &e));
    banger_assert_error (e, BANGER_ERROR_INVALID_ARGUMENT);
  }
  {
    g_autoptr (GError) e = NULL;
    ck_assert (!banger_cow_disk_create ((BangerCowStrategy) 7, f.image, dest, 0, NULL, NULL,
                                        NULL, NULL, &e));
    banger_assert_error (e, BANGER_ERROR_INVALID_ARGUMENT);
  }
  {
    g_autoptr (GError) e = NULL;
    g_autofree char *l = NULL;
    if (on_ext4 (f.dir))
      {
        ck_assert (!banger_cow_disk_create (BANGER_COW_STRATEGY_REFLINK, f.image, dest, 0, NULL,
                                            NULL, NULL, NULL, &e));
        banger_assert_error (e, BANGER_ERROR_UNSUPPORTED);
      }
    l = listing (f.dir);
    ck_assert_str_eq (l, "image.ext4");
  }
  /* an existing destination: ALREADY_EXISTS, and it is left as it was */
  ck_assert (g_file_set_contents (dest, "not yours", -1, NULL));
  before = host_test_file_sha256 (dest);
  for (int s = 0; s < 3; s++)
    {
      g_autoptr (GError) e = NULL;
      ck_assert (!banger_cow_disk_create ((BangerCowStrategy) s, f.image, dest, 0, NULL, NULL,
                                          NULL, NULL, &e));
      banger_assert_error (e, BANGER_ERROR_ALREADY_EXISTS);
    }
  /* also a dangling symlink counts as existing, and is not followed */
  {
    g_autoptr (GError) e = NULL;
    g_autofree char *link = g_build_filename (f.dir, "link.rootfs", NULL);
    g_autofree char *target = g_build_filename (f.dir, "target", NULL);
    ck_assert_int_eq (symlink (target, link), 0);
    ck_assert (!banger_cow_disk_create (BANGER_COW_STRATEGY_SPARSE_COPY, f.image, link, 0, NULL,
                                        NULL, NULL, NULL, &e));
    banger_assert_error (e, BANGER_ERROR_ALREADY_EXISTS);
    ck_assert (!g_file_test (target, G_FILE_TEST_EXISTS));
  }
  after = host_test_file_sha256 (dest);
  ck_assert_str_eq (before, after);
  {
    g_autofree char *l = listing (f.dir);
    ck_assert_str_eq (l, "image.ext4 link.rootfs vm.rootfs");
  }
  fixture_clear (&f);
}
END_TEST

/* -------------------------------------------------------------- dm store */

START_TEST (test_dm_store)
{
  Fixture f;
  BangerCowResult r = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *dest = NULL;
  g_autofree char *odd = NULL;
  struct stat st;
  guint8 head[4096], zero[4096] = { 0 };
  int fd;

  fixture_init (&f);
  dest = g_build_filename (f.dir, "vm.cow", NULL);
  ck_assert (banger_cow_disk_create (BANGER_COW_STRATEGY_DM_SNAPSHOT, f.image, dest, 0, NULL,
                                     NULL, &r, NULL, &error));
  g_assert_no_error (error);
  ck_assert_int_eq (r.strategy, BANGER_COW_STRATEGY_DM_SNAPSHOT);
  ck_assert_uint_eq (r.disk_size, banger_cow_dm_store_size (IMAGE_SIZE));
  /* 24576 chunks of 4 KiB + header + 96 metadata chunks + spares */
  ck_assert_uint_eq (banger_cow_dm_store_size (IMAGE_SIZE), (1 + 96 + 1 + 24576 + 256) * 4096);
  ck_assert_int_eq (stat (dest, &st), 0);
  ck_assert_uint_eq ((guint64) st.st_size, r.disk_size);
  ck_assert_uint_eq ((guint64) st.st_blocks, 0);
  fd = open (dest, O_RDONLY | O_CLOEXEC);
  ck_assert_int_eq (pread (fd, head, sizeof head, 0), sizeof head);
  close (fd);
  ck_assert (memcmp (head, zero, sizeof head) == 0); /* a new, empty snapshot */

  /* an origin must be whole sectors */
  odd = g_build_filename (f.dir, "odd.img", NULL);
  ck_assert (g_file_set_contents (odd, "123", 3, NULL));
  {
    g_autoptr (GError) e = NULL;
    g_autofree char *d2 = g_build_filename (f.dir, "odd.cow", NULL);
    ck_assert (!banger_cow_disk_create (BANGER_COW_STRATEGY_DM_SNAPSHOT, odd, d2, 0, NULL, NULL,
                                        NULL, NULL, &e));
    banger_assert_error (e, BANGER_ERROR_INVALID_ARGUMENT);
    ck_assert (!g_file_test (d2, G_FILE_TEST_EXISTS));
  }
  fixture_clear (&f);
}
END_TEST

/* ---------------------------------------------------------- cancellation */

static void
cancel_after_first (guint64 done, guint64 total, gpointer user_data)
{
  if (done > 0)
    g_cancellable_cancel (user_data);
}

START_TEST (test_cancel)
{
  Fixture f;
  g_autofree char *dest = NULL;
  g_autoptr (GCancellable) pre = g_cancellable_new ();
  g_autoptr (GCancellable) mid = g_cancellable_new ();

  fixture_init (&f);
  dest = g_build_filename (f.dir, "vm.rootfs", NULL);
  g_cancellable_cancel (pre);
  for (int s = 0; s < 3; s++)
    {
      g_autoptr (GError) e = NULL;
      ck_assert (!banger_cow_disk_create ((BangerCowStrategy) s, f.image, dest, 0, NULL, NULL,
                                          NULL, pre, &e));
      banger_assert_error (e, BANGER_ERROR_CANCELLED);
    }
  /* cancelled in the middle of the copy (after its first 1 MiB): the
   * temporary file goes */
  {
    g_autoptr (GError) e = NULL;
    ck_assert (!banger_cow_disk_create (BANGER_COW_STRATEGY_SPARSE_COPY, f.image, dest,
                                        BANGER_COW_CREATE_NO_COPY_FILE_RANGE, cancel_after_first,
                                        mid, NULL, mid, &e));
    banger_assert_error (e, BANGER_ERROR_CANCELLED);
  }
  {
    g_autofree char *l = listing (f.dir);
    ck_assert_str_eq (l, "image.ext4");
  }
  fixture_clear (&f);
}
END_TEST

/* ----------------------------------------------------------------- async */

typedef struct
{
  GMainLoop *loop;
  GThread *main_thread;
  GArray *done; /* guint64 */
  guint64 total;
  gboolean finished;
  gboolean progress_after_finish;
  gboolean ok;
  BangerCowResult result;
  GError *error;
} AsyncCtx;

static void
async_progress (guint64 done, guint64 total, gpointer user_data)
{
  AsyncCtx *c = user_data;

  ck_assert_ptr_eq (g_thread_self (), c->main_thread);
  if (c->finished)
    c->progress_after_finish = TRUE;
  g_array_append_val (c->done, done);
  c->total = total;
}

static void
async_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  AsyncCtx *c = user_data;

  ck_assert_ptr_eq (g_thread_self (), c->main_thread);
  c->ok = banger_cow_disk_create_finish (res, &c->result, &c->error);
  c->finished = TRUE;
  /* let any (wrongly) late progress idle show itself before quitting */
  g_idle_add_once ((GSourceOnceFunc) g_main_loop_quit, c->loop);
}

START_TEST (test_async)
{
  Fixture f;
  g_autofree char *dest = NULL;
  AsyncCtx c = { 0 };

  fixture_init (&f);
  dest = g_build_filename (f.dir, "vm.rootfs", NULL);
  c.loop = g_main_loop_new (NULL, FALSE);
  c.main_thread = g_thread_self ();
  c.done = g_array_new (FALSE, FALSE, sizeof (guint64));
  banger_cow_disk_create_async (BANGER_COW_STRATEGY_SPARSE_COPY, f.image, dest,
                                BANGER_COW_CREATE_NO_COPY_FILE_RANGE, async_progress, &c, NULL,
                                async_done, &c);
  g_main_loop_run (c.loop);
  g_assert_no_error (c.error);
  ck_assert (c.ok);
  ck_assert (!c.progress_after_finish);
  ck_assert_uint_ge (c.done->len, 2);
  ck_assert_uint_eq (c.total, IMAGE_SIZE);
  for (guint i = 1; i < c.done->len; i++)
    ck_assert_uint_ge (g_array_index (c.done, guint64, i), g_array_index (c.done, guint64, i - 1));
  ck_assert_uint_eq (g_array_index (c.done, guint64, c.done->len - 1), IMAGE_SIZE);
  check_copy (&f, dest, &c.result, 1 * MiB);

  /* async + cancelled: CANCELLED (banger's, not GIO's), nothing left */
  {
    g_autoptr (GCancellable) cancel = g_cancellable_new ();
    g_autofree char *dest2 = g_build_filename (f.dir, "vm2.rootfs", NULL);
    AsyncCtx c2 = { 0 };
    c2.loop = c.loop;
    c2.main_thread = c.main_thread;
    c2.done = g_array_new (FALSE, FALSE, sizeof (guint64));
    g_cancellable_cancel (cancel);
    banger_cow_disk_create_async (BANGER_COW_STRATEGY_SPARSE_COPY, f.image, dest2, 0, NULL, NULL,
                                  cancel, async_done, &c2);
    g_main_loop_run (c.loop);
    ck_assert (!c2.ok);
    banger_assert_error (c2.error, BANGER_ERROR_CANCELLED);
    g_clear_error (&c2.error);
    g_array_unref (c2.done);
    ck_assert (!g_file_test (dest2, G_FILE_TEST_EXISTS));
  }
  {
    g_autofree char *l = listing (f.dir);
    ck_assert_str_eq (l, "image.ext4 vm.rootfs");
  }
  g_array_unref (c.done);
  g_main_loop_unref (c.loop);
  fixture_clear (&f);
}
END_TEST

/* ------------------------------------------------------------- work disk */

static char *
dumpe2fs (const char *path, gboolean header_only)
{
  const char *argv_h[] = { "/sbin/dumpe2fs", "-h", path, NULL };
  const char *argv[] = { "/sbin/dumpe2fs", path, NULL };
  int status = -1;
  char *out = host_test_run (header_only ? argv_h : argv, &status);
  ck_assert_msg (out != NULL, "dumpe2fs %s failed (%d)", path, status);
  return out;
}

/* The value of "Key:   value" in dumpe2fs output. */
static char *
field (const char *out, const char *key)
{
  g_auto (GStrv) lines = g_strsplit (out, "\n", -1);
  for (char **l = lines; *l; l++)
    if (g_str_has_prefix (*l, key) && (*l)[strlen (key)] == ':')
      return g_strstrip (g_strdup (*l + strlen (key) + 1));
  return NULL;
}

static void
fsck_clean (const char *path)
{
  const char *argv[] = { "/sbin/e2fsck", "-f", "-n", path, NULL };
  int status = -1;
  g_autofree char *out = host_test_run (argv, &status);
  ck_assert_msg (out != NULL && status == 0, "e2fsck -fn %s: status %d: %s", path, status,
                 out ? out : "");
}

START_TEST (test_work_disk)
{
  Fixture f;
  g_autofree char *dest = NULL;
  g_autofree char *out = NULL;
  g_autofree char *full = NULL;
  g_autoptr (GError) error = NULL;
  struct stat st;

  fixture_init (&f);
  dest = g_build_filename (f.dir, "vm.work.ext4", NULL);
  ck_assert (banger_work_disk_create (dest, 512 * MiB, 0, NULL, &error));
  g_assert_no_error (error);
  ck_assert_int_eq (stat (dest, &st), 0);
  ck_assert_int_eq (st.st_size, 512 * MiB);
  ck_assert_int_eq (st.st_mode & 07777, 0600);
  /* sparse: mkfs wrote its metadata only (lazy init, no discard) */
  ck_assert_msg ((guint64) st.st_blocks * 512 < 32 * MiB, "work disk allocates %" G_GUINT64_FORMAT,
                 (guint64) st.st_blocks * 512);
  out = dumpe2fs (dest, TRUE);
  {
    g_autofree char *label = field (out, "Filesystem volume name");
    g_autofree char *bs = field (out, "Block size");
    g_autofree char *reserved = field (out, "Reserved block count");
    g_autofree char *features = field (out, "Filesystem features");
    g_autofree char *blocks = field (out, "Block count");
    ck_assert_str_eq (label, "banger-work");
    ck_assert_str_eq (bs, "4096");
    ck_assert_str_eq (reserved, "0");
    ck_assert_str_eq (blocks, "131072");
    ck_assert_msg (strstr (features, "has_journal") != NULL, "%s", features);
    ck_assert_msg (strstr (features, "extent") != NULL, "%s", features);
  }
  /* assume_storage_prezeroed: every group's inode table is marked zeroed,
   * so the guest kernel has no lazy-init writes to do */
  full = dumpe2fs (dest, FALSE);
  ck_assert_msg (strstr (full, "ITABLE_ZEROED") != NULL, "no group marked ITABLE_ZEROED");
  {
    g_auto (GStrv) lines = g_strsplit (full, "\n", -1);
    guint groups = 0, zeroed = 0;
    for (char **l = lines; *l; l++)
      if (g_str_has_prefix (*l, "Group ") && g_ascii_isdigit ((*l)[6]))
        {
          groups++;
          zeroed += strstr (*l, "ITABLE_ZEROED") != NULL;
        }
    ck_assert_uint_eq (groups, 4);
    ck_assert_uint_eq (zeroed, groups);
  }
  /* the guest's root owns the root directory, not the host user */
  {
    const char *argv[] = { "/sbin/debugfs", "-R", "stat /", dest, NULL };
    g_autofree char *s = host_test_run (argv, NULL);
    ck_assert_ptr_nonnull (s);
    ck_assert_msg (strstr (s, "User:     0   Group:     0") != NULL, "%s", s);
  }
  fsck_clean (dest);
  {
    g_autofree char *l = listing (f.dir);
    ck_assert_str_eq (l, "image.ext4 vm.work.ext4");
  }
  fixture_clear (&f);
}
END_TEST

START_TEST (test_work_disk_no_prezeroed)
{
  Fixture f;
  g_autofree char *dest = NULL;
  g_autofree char *full = NULL;
  g_autoptr (GError) error = NULL;

  fixture_init (&f);
  dest = g_build_filename (f.dir, "vm.work.ext4", NULL);
  ck_assert (banger_work_disk_create (dest, 256 * MiB, BANGER_WORK_DISK_NO_PREZEROED, NULL,
                                      &error));
  g_assert_no_error (error);
  /* lazy_itable_init alone: the tables are left for the guest to zero (the
   * first group's, which mkfs fills, aside) */
  full = dumpe2fs (dest, FALSE);
  {
    g_auto (GStrv) lines = g_strsplit (full, "\n", -1);
    guint groups = 0, zeroed = 0;
    for (char **l = lines; *l; l++)
      if (g_str_has_prefix (*l, "Group ") && g_ascii_isdigit ((*l)[6]))
        {
          groups++;
          zeroed += strstr (*l, "ITABLE_ZEROED") != NULL;
        }
    ck_assert_uint_eq (groups, 2);
    ck_assert_uint_lt (zeroed, groups);
  }
  fsck_clean (dest);
  fixture_clear (&f);
}
END_TEST

START_TEST (test_work_disk_errors)
{
  Fixture f;
  g_autofree char *dest = NULL;
  const struct
  {
    guint64 size;
    guint flags;
    int code;
  } cases[] = {
    { 0, 0, BANGER_ERROR_INVALID_ARGUMENT },
    { 15 * MiB, 0, BANGER_ERROR_INVALID_ARGUMENT },
    { 64 * MiB + 512, 0, BANGER_ERROR_INVALID_ARGUMENT },
    { BANGER_WORK_DISK_MAX_SIZE + 4096, 0, BANGER_ERROR_LIMIT_EXCEEDED },
    { G_MAXUINT64, 0, BANGER_ERROR_LIMIT_EXCEEDED },
    { 64 * MiB, 1 << 4, BANGER_ERROR_INVALID_ARGUMENT },
  };

  fixture_init (&f);
  dest = g_build_filename (f.dir, "vm.work.ext4", NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) e = NULL;
      ck_assert (!banger_work_disk_create (dest, cases[i].size, cases[i].flags, NULL, &e));
      banger_assert_error (e, cases[i].code);
    }
  {
    g_autoptr (GError) e = NULL;
    g_autofree char *nodir = g_build_filename (f.dir, "no", "w.ext4", NULL);
    ck_assert (!banger_work_disk_create (nodir, 64 * MiB, 0, NULL, &e));
    banger_assert_error (e, BANGER_ERROR_NOT_FOUND);
  }
  {
    g_autoptr (GError) e = NULL;
    g_autoptr (GCancellable) c = g_cancellable_new ();
    g_cancellable_cancel (c);
    ck_assert (!banger_work_disk_create (dest, 64 * MiB, 0, c, &e));
    banger_assert_error (e, BANGER_ERROR_CANCELLED);
  }
  {
    g_autoptr (GError) e = NULL;
    g_autofree char *l = NULL;
    ck_assert (!banger_work_disk_create (f.image, 64 * MiB, 0, NULL, &e));
    banger_assert_error (e, BANGER_ERROR_ALREADY_EXISTS);
    l = listing (f.dir);
    ck_assert_str_eq (l, "image.ext4");
  }
  /* the image was not formatted */
  {
    g_autoptr (GError) e = NULL;
    g_autofree char *sha = host_test_file_sha256 (f.image);
    g_autofree char *copy = g_build_filename (f.dir, "again.img", NULL);
    host_test_make_image (copy, IMAGE_SIZE, image_extents, G_N_ELEMENTS (image_extents) / 2, 7,
                          &e);
    g_assert_no_error (e);
    {
      g_autofree char *sha2 = host_test_file_sha256 (copy);
      ck_assert_str_eq (sha, sha2);
    }
  }
  fixture_clear (&f);
}
END_TEST

static void
work_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  AsyncCtx *c = user_data;

  ck_assert_ptr_eq (g_thread_self (), c->main_thread);
  c->ok = banger_work_disk_create_finish (res, &c->error);
  g_main_loop_quit (c->loop);
}

static gboolean
cancel_now (gpointer data)
{
  g_cancellable_cancel (data);
  return G_SOURCE_REMOVE;
}

START_TEST (test_work_disk_async)
{
  Fixture f;
  g_autofree char *dest = NULL;
  g_autofree char *big = NULL;
  AsyncCtx c = { 0 };
  g_autoptr (GCancellable) cancel = g_cancellable_new ();

  fixture_init (&f);
  dest = g_build_filename (f.dir, "vm.work.ext4", NULL);
  c.loop = g_main_loop_new (NULL, FALSE);
  c.main_thread = g_thread_self ();
  banger_work_disk_create_async (dest, 128 * MiB, 0, NULL, work_done, &c);
  g_main_loop_run (c.loop);
  g_assert_no_error (c.error);
  ck_assert (c.ok);
  fsck_clean (dest);

  /* cancelled while mkfs runs: mkfs is killed, the temporary file goes.
   * 4 TiB with the tables left for lazy init takes mkfs well over the
   * 20 ms before the cancel. */
  big = g_build_filename (f.dir, "big.work.ext4", NULL);
  c.ok = FALSE;
  banger_work_disk_create_async (big, 4 * 1024 * 1024 * MiB, BANGER_WORK_DISK_NO_PREZEROED,
                                 cancel, work_done, &c);
  g_timeout_add (20, cancel_now, cancel);
  g_main_loop_run (c.loop);
  ck_assert (!c.ok);
  banger_assert_error (c.error, BANGER_ERROR_CANCELLED);
  g_clear_error (&c.error);
  {
    g_autofree char *l = listing (f.dir);
    ck_assert_str_eq (l, "image.ext4 vm.work.ext4");
  }
  g_main_loop_unref (c.loop);
  fixture_clear (&f);
}
END_TEST

static Suite *
cow_disk_suite (void)
{
  Suite *s = suite_create ("cow-disk");
  TCase *tc = tcase_create ("root");
  TCase *tw = tcase_create ("work");

  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_strategy_names);
  tcase_add_test (tc, test_choose_sparse_on_ext4);
  tcase_add_test (tc, test_choose_dm_injected);
  tcase_add_test (tc, test_choose_errors);
  tcase_add_test (tc, test_sparse_copy);
  tcase_add_test (tc, test_sparse_copy_read_write);
  tcase_add_test (tc, test_sparse_copy_edges);
  tcase_add_test (tc, test_create_errors);
  tcase_add_test (tc, test_dm_store);
  tcase_add_test (tc, test_cancel);
  tcase_add_test (tc, test_async);
  suite_add_tcase (s, tc);
  tcase_set_timeout (tw, 60);
  tcase_add_test (tw, test_work_disk);
  tcase_add_test (tw, test_work_disk_no_prezeroed);
  tcase_add_test (tw, test_work_disk_errors);
  tcase_add_test (tw, test_work_disk_async);
  suite_add_tcase (s, tw);
  return s;
}

BANGER_TEST_MAIN (cow_disk_suite)
