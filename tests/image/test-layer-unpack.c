/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Layer unpacking: whiteouts and opaque directories across layers, hard and
 * symbolic links, ownership records, streaming verification; and malicious
 * layers built here, each checked to leave nothing outside the staging
 * tree. */
#include "config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger-digest.h"
#include "banger-error.h"
#include "banger-layer-unpack.h"
#include "banger-ownership.h"
#include "banger-test.h"
#include "image-test-tar.h"

static char *tmpdir;
static char *outside;        /* <tmp>/outside: must never change */
static char *outside_secret; /* <tmp>/outside/secret */
static BangerRootfsStaging *staging;

static void
setup (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = NULL;

  tmpdir = g_dir_make_tmp ("banger-unpack-XXXXXX", &error);
  g_assert_no_error (error);
  outside = g_build_filename (tmpdir, "outside", NULL);
  outside_secret = g_build_filename (outside, "secret", NULL);
  g_assert (g_mkdir (outside, 0755) == 0);
  g_assert (g_file_set_contents (outside_secret, "secret", -1, NULL));
  dir = g_build_filename (tmpdir, "staging", NULL);
  staging = banger_rootfs_staging_new (dir, &error);
  g_assert_no_error (error);
}

static void
teardown (void)
{
  const char *argv[] = { "rm", "-rf", tmpdir, NULL };

  g_clear_pointer (&staging, banger_rootfs_staging_free);
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL,
                NULL);
  g_clear_pointer (&tmpdir, g_free);
  g_clear_pointer (&outside, g_free);
  g_clear_pointer (&outside_secret, g_free);
}

/* The outside directory holds exactly the secret, unchanged, with one link. */
static void
assert_outside_untouched (void)
{
  g_autoptr (GDir) dir = g_dir_open (outside, 0, NULL);
  g_autofree char *content = NULL;
  const char *name;
  guint n = 0;
  struct stat st;

  while ((name = g_dir_read_name (dir)) != NULL)
    {
      ck_assert_str_eq (name, "secret");
      n++;
    }
  ck_assert_uint_eq (n, 1);
  ck_assert (g_file_get_contents (outside_secret, &content, NULL, NULL));
  ck_assert_str_eq (content, "secret");
  ck_assert_int_eq (lstat (outside_secret, &st), 0);
  ck_assert_uint_eq (st.st_nlink, 1);
  ck_assert (S_ISREG (st.st_mode));
}

static gboolean
apply (GBytes *layer, BangerLayerCompression c, BangerLayerStats *stats, GError **error)
{
  g_autoptr (GInputStream) in = g_memory_input_stream_new_from_bytes (layer);
  g_autofree char *digest = banger_digest_of_bytes (layer);

  return banger_rootfs_staging_apply_layer (staging, in, c, digest,
                                            (gint64) g_bytes_get_size (layer), stats, NULL,
                                            error);
}

static char *
tree (const char *rel)
{
  return g_build_filename (banger_rootfs_staging_get_tree_path (staging), rel, NULL);
}

static gboolean
tree_has (const char *rel)
{
  g_autofree char *p = tree (rel);
  struct stat st;
  return lstat (p, &st) == 0;
}

static char *
tree_read (const char *rel)
{
  g_autofree char *p = tree (rel);
  char *content = NULL;

  if (!g_file_get_contents (p, &content, NULL, NULL))
    return NULL;
  return content;
}

static const BangerOwnership *
find_owner (BangerOwnershipList *list, const char *path)
{
  for (guint i = 0; i < list->entries->len; i++)
    {
      const BangerOwnershipEntry *e = list->entries->pdata[i];
      if (g_str_equal (e->path, path))
        return &e->own;
    }
  return NULL;
}

START_TEST (test_layers_whiteouts_links_ownership)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerOwnershipList) list = NULL;
  g_autofree char *passwd = NULL;
  g_autofree char *su_path = NULL;
  g_autofree char *su2_path = NULL;
  g_autofree char *link = NULL;
  BangerLayerStats stats;
  const BangerOwnership *o;
  struct stat st, st2;
  TestTar *t;
  g_autoptr (GBytes) l1 = NULL;
  g_autoptr (GBytes) l2 = NULL;
  g_autoptr (GBytes) l3 = NULL;

  /* layer 1, gzip */
  t = test_tar_new ('g');
  tt_dir (t, "./", 0755);
  tt_dir (t, "etc/", 0755);
  tt_file (t, "etc/passwd", 0644, "root:x:0:0\n");
  tt_dir (t, "bin/", 0755);
  tt_file (t, "bin/busybox", 0755, "#!busybox");
  tt_file (t, "bin/su", 04755, "su");
  tt_hardlink (t, "bin/su2", "bin/su");
  tt_symlink (t, "bin/sh", "busybox");
  tt_dir_owned (t, "home/user/", 0700, 1000, 1000);
  tt_file_owned (t, "home/user/.profile", 0640, 1000, 1001, "PS1=$");
  tt_dir (t, "tmp/", 01777);
  tt_file (t, "a/keep", 0644, "keep");
  tt_file (t, "a/gone", 0644, "gone");
  tt_file (t, "d/x", 0644, "x");
  tt_file (t, "d/sub/y", 0644, "y");
  test_tar_add (t, "dev/null", AE_IFCHR, 0666, 0, 0, NULL, NULL, FALSE);
  test_tar_add (t, "run/fifo", AE_IFIFO, 0600, 0, 0, NULL, NULL, FALSE);
  l1 = test_tar_finish (t);
  ck_assert_msg (apply (l1, BANGER_LAYER_TAR_GZIP, &stats, &error), "%s", error ? error->message : "");
  ck_assert_uint_eq (stats.devices, 1);
  ck_assert_uint_eq (stats.special_bits, 2); /* su, tmp */
  ck_assert_uint_eq (stats.compressed_bytes, g_bytes_get_size (l1));

  /* layer 2, zstd: a whiteout, an opaque directory with new content, a
   * replaced file */
  t = test_tar_new ('z');
  tt_file (t, "a/.wh.gone", 0644, "");
  tt_dir (t, "d/", 0755);
  tt_file (t, "d/.wh..wh..opq", 0644, "");
  tt_file (t, "d/z", 0644, "z");
  tt_file (t, "etc/passwd", 0600, "root:x:0:0\nuser:x:1000:1000\n");
  tt_file (t, "bin/.wh..wh.plnk", 0644, ""); /* aufs metadata: ignored */
  l2 = test_tar_finish (t);
  ck_assert_msg (apply (l2, BANGER_LAYER_TAR_ZSTD, &stats, &error), "%s", error ? error->message : "");
  ck_assert_uint_eq (stats.whiteouts, 2);

  /* layer 3, plain: a whiteout of a whole directory */
  t = test_tar_new (0);
  tt_file (t, ".wh.home", 0644, "");
  l3 = test_tar_finish (t);
  ck_assert_msg (apply (l3, BANGER_LAYER_TAR, &stats, &error), "%s", error ? error->message : "");

  ck_assert (tree_has ("a/keep"));
  ck_assert (!tree_has ("a/gone"));
  ck_assert (!tree_has ("a/.wh.gone"));
  ck_assert (!tree_has ("d/x"));
  ck_assert (!tree_has ("d/sub"));
  ck_assert (tree_has ("d/z"));
  ck_assert (!tree_has ("d/.wh..wh..opq"));
  ck_assert (!tree_has ("home"));
  ck_assert (!tree_has ("dev/null"));
  ck_assert (!tree_has ("bin/.wh..wh.plnk"));
  passwd = tree_read ("etc/passwd");
  ck_assert_str_eq (passwd, "root:x:0:0\nuser:x:1000:1000\n");
  {
    g_autofree char *sh = tree ("bin/sh");
    link = g_file_read_link (sh, NULL);
  }
  ck_assert_str_eq (link, "busybox");
  su_path = tree ("bin/su");
  su2_path = tree ("bin/su2");
  ck_assert_int_eq (lstat (su_path, &st), 0);
  ck_assert_int_eq (lstat (su2_path, &st2), 0);
  ck_assert_uint_eq (st.st_ino, st2.st_ino);
  /* no setuid bit and owner-only access on the host */
  ck_assert_uint_eq (st.st_mode & 07777, 0600);
  {
    g_autofree char *tmp = tree ("tmp");
    ck_assert_int_eq (lstat (tmp, &st), 0);
    ck_assert_uint_eq (st.st_mode & 07777, 0700);
  }
  {
    g_autofree char *fifo = tree ("run/fifo");
    ck_assert_int_eq (lstat (fifo, &st), 0);
    ck_assert (S_ISFIFO (st.st_mode));
  }

  ck_assert (banger_rootfs_staging_finish (staging, &error));
  list = banger_ownership_list_load (banger_rootfs_staging_get_ownership_path (staging), &error);
  ck_assert_ptr_nonnull (list);
  o = find_owner (list, "bin/su");
  ck_assert_ptr_nonnull (o);
  ck_assert_uint_eq (o->mode, S_IFREG | 04755);
  o = find_owner (list, "bin/su2");
  ck_assert_uint_eq (o->mode, S_IFREG | 04755);
  o = find_owner (list, "tmp");
  ck_assert_uint_eq (o->mode, S_IFDIR | 01777);
  o = find_owner (list, "etc/passwd");
  ck_assert_uint_eq (o->mode, S_IFREG | 0600);
  o = find_owner (list, "bin/sh");
  ck_assert_uint_eq (o->mode & S_IFMT, S_IFLNK);
  o = find_owner (list, "");
  ck_assert_uint_eq (o->mode, S_IFDIR | 0755);
  o = find_owner (list, "a"); /* implicit parent: root:root 0755 */
  ck_assert_uint_eq (o->mode, S_IFDIR | 0755);
  ck_assert_uint_eq (o->uid, 0);
  ck_assert_ptr_null (find_owner (list, "home/user/.profile"));
  ck_assert_uint_gt (list->content_bytes, 0);
}
END_TEST

START_TEST (test_ownership_of_users)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerOwnershipList) list = NULL;
  const BangerOwnership *o;
  TestTar *t = test_tar_new (0);
  g_autoptr (GBytes) l1 = NULL;

  tt_dir_owned (t, "home/user/", 0700, 1000, 1000);
  tt_file_owned (t, "home/user/new\nline", 02640, 1000, 1001, "x");
  l1 = test_tar_finish (t);
  ck_assert (apply (l1, BANGER_LAYER_TAR, NULL, &error));
  ck_assert (banger_rootfs_staging_finish (staging, &error));
  list = banger_ownership_list_load (banger_rootfs_staging_get_ownership_path (staging), &error);
  o = find_owner (list, "home/user/new\nline");
  ck_assert_ptr_nonnull (o);
  ck_assert_uint_eq (o->uid, 1000);
  ck_assert_uint_eq (o->gid, 1001);
  ck_assert_uint_eq (o->mode, S_IFREG | 02640);
  o = find_owner (list, "home/user");
  ck_assert_uint_eq (o->uid, 1000);
  ck_assert_uint_eq (o->mode, S_IFDIR | 0700);
}
END_TEST

/* Every record names the file type the tree holds at that path. */
static void
assert_records_match_tree (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerOwnershipList) list = NULL;

  ck_assert (banger_rootfs_staging_finish (staging, &error));
  list = banger_ownership_list_load (banger_rootfs_staging_get_ownership_path (staging), &error);
  ck_assert_ptr_nonnull (list);
  for (guint i = 0; i < list->entries->len; i++)
    {
      const BangerOwnershipEntry *e = list->entries->pdata[i];
      g_autofree char *p = tree (e->path);
      struct stat st;
      ck_assert_int_eq (lstat (p, &st), 0);
      ck_assert_msg ((st.st_mode & S_IFMT) == (e->own.mode & S_IFMT), "'%s': record %o, tree %o",
                     e->path, e->own.mode, st.st_mode);
    }
}

START_TEST (test_inode_reuse_after_whiteout)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) l1 = NULL;
  g_autoptr (GBytes) l2 = NULL;
  g_autoptr (GBytes) l3 = NULL;
  TestTar *t1 = test_tar_new (0);
  TestTar *t2 = test_tar_new (0);
  TestTar *t3 = test_tar_new (0);

  /* files removed by whiteouts free inode numbers that implicit
   * directories of a later layer then get */
  for (int i = 0; i < 64; i++)
    {
      g_autofree char *f = g_strdup_printf ("f%d", i);
      g_autofree char *wh = g_strdup_printf (".wh.f%d", i);
      g_autofree char *x = g_strdup_printf ("d%d/x", i);
      tt_file (t1, f, 0644, "data");
      tt_file (t2, wh, 0644, "");
      tt_file (t3, x, 0644, "x");
    }
  l1 = test_tar_finish (t1);
  l2 = test_tar_finish (t2);
  l3 = test_tar_finish (t3);
  ck_assert (apply (l1, BANGER_LAYER_TAR, NULL, &error));
  ck_assert (apply (l2, BANGER_LAYER_TAR, NULL, &error));
  ck_assert (apply (l3, BANGER_LAYER_TAR, NULL, &error));
  assert_records_match_tree ();
}
END_TEST

/* ---- escapes: each leaves <tmp>/outside as it was */

START_TEST (test_escape_dotdot)
{
  g_autoptr (GError) error = NULL;
  TestTar *t = test_tar_new (0);
  g_autoptr (GBytes) l = NULL;

  tt_file (t, "../outside/evil", 0644, "evil");
  tt_file (t, "../../outside/evil", 0644, "evil");
  l = test_tar_finish (t);
  ck_assert (!apply (l, BANGER_LAYER_TAR, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_PERMISSION_DENIED);
  assert_outside_untouched ();
}
END_TEST

START_TEST (test_escape_dotdot_inside)
{
  g_autoptr (GError) error = NULL;
  TestTar *t = test_tar_new (0);
  g_autoptr (GBytes) l = NULL;

  tt_dir (t, "a/", 0755);
  tt_file (t, "a/../../../outside/evil", 0644, "evil");
  l = test_tar_finish (t);
  ck_assert (!apply (l, BANGER_LAYER_TAR, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_PERMISSION_DENIED);
  assert_outside_untouched ();
}
END_TEST

START_TEST (test_escape_absolute)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *abs = g_build_filename (outside, "evil", NULL);
  g_autofree char *landed = NULL;
  TestTar *t = test_tar_new (0);
  g_autoptr (GBytes) l = NULL;

  tt_file (t, abs, 0644, "evil");
  l = test_tar_finish (t);
  /* a leading "/" is dropped: the file lands inside the tree */
  ck_assert (apply (l, BANGER_LAYER_TAR, NULL, &error));
  landed = tree_read (abs + 1);
  ck_assert_str_eq (landed, "evil");
  assert_outside_untouched ();
}
END_TEST

START_TEST (test_escape_symlink_same_layer)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *landed = NULL;
  g_autofree char *landed2 = NULL;
  g_autofree char *outside_dir = g_strconcat (outside + 1, "/", NULL);
  g_autofree char *via_rel = g_strconcat ("rel", outside, "/evil2", NULL);
  g_autofree char *inside = g_strconcat (outside + 1, "/evil", NULL);
  g_autofree char *inside2 = g_strconcat (outside + 1, "/evil2", NULL);
  TestTar *t = test_tar_new (0);
  g_autoptr (GBytes) l = NULL;

  /* the tree has its own directory at the outside directory's path */
  tt_dir (t, outside_dir, 0755);
  tt_symlink (t, "link", outside);
  tt_file (t, "link/evil", 0644, "evil");
  tt_symlink (t, "rel", "../../../../../../../..");
  tt_file (t, via_rel, 0644, "evil2");
  l = test_tar_finish (t);
  ck_assert_msg (apply (l, BANGER_LAYER_TAR, NULL, &error), "%s", error ? error->message : "");
  /* resolved with the tree as "/" */
  landed = tree_read (inside);
  ck_assert_str_eq (landed, "evil");
  landed2 = tree_read (inside2);
  ck_assert_str_eq (landed2, "evil2");
  assert_outside_untouched ();
}
END_TEST

START_TEST (test_escape_symlink_dangling)
{
  g_autoptr (GError) error = NULL;
  TestTar *t = test_tar_new (0);
  g_autoptr (GBytes) l = NULL;

  /* the tree lacks the target: refused, not created on the host */
  tt_symlink (t, "link", outside);
  tt_file (t, "link/evil", 0644, "evil");
  l = test_tar_finish (t);
  ck_assert (!apply (l, BANGER_LAYER_TAR, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_PERMISSION_DENIED);
  assert_outside_untouched ();
}
END_TEST

START_TEST (test_escape_symlink_earlier_layer)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *rel_target = g_strdup_printf ("../../../../../../../..%s", outside);
  g_autofree char *outside_dir = g_strconcat (outside + 1, "/", NULL);
  g_autofree char *inside = g_strconcat (outside + 1, "/evil", NULL);
  g_autofree char *landed = NULL;
  TestTar *t = test_tar_new ('g');
  g_autoptr (GBytes) l1 = NULL;
  g_autoptr (GBytes) l2 = NULL;

  tt_dir (t, outside_dir, 0755);
  tt_symlink (t, "abs", outside);
  tt_symlink (t, "rel", rel_target);
  tt_symlink (t, "secretlink", outside_secret);
  l1 = test_tar_finish (t);
  ck_assert (apply (l1, BANGER_LAYER_TAR_GZIP, NULL, &error));
  t = test_tar_new ('g');
  tt_file (t, "abs/evil", 0644, "evil");
  tt_file (t, "rel/evil", 0644, "evil");
  tt_dir (t, "abs/dir/", 0755);
  tt_file (t, "secretlink", 0644, "overwritten?"); /* replaces the link, not its target */
  test_tar_add (t, "abs/fifo", AE_IFIFO, 0600, 0, 0, NULL, NULL, FALSE);
  tt_symlink (t, "abs/sym", "/etc/passwd");
  tt_file (t, "abs/.wh.secret", 0644, "");
  tt_file (t, "rel/.wh..wh..opq", 0644, "");
  l2 = test_tar_finish (t);
  ck_assert_msg (apply (l2, BANGER_LAYER_TAR_GZIP, NULL, &error), "%s", error ? error->message : "");
  {
    g_autofree char *c = tree_read ("secretlink");
    ck_assert_str_eq (c, "overwritten?");
  }
  landed = tree_read (inside);
  ck_assert_str_eq (landed, "evil");
  assert_outside_untouched ();
}
END_TEST

START_TEST (test_escape_hardlinks)
{
  static const char *targets[] = { "../outside/secret", NULL, NULL };
  BangerError codes[] = { BANGER_ERROR_PERMISSION_DENIED, BANGER_ERROR_NOT_FOUND,
                          BANGER_ERROR_NOT_FOUND };
  g_autofree char *via_link = NULL;

  targets[1] = outside_secret;
  via_link = g_strdup ("lnk/secret");
  targets[2] = via_link;
  for (gsize i = 0; i < G_N_ELEMENTS (targets); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *dir = g_strdup_printf ("%s/staging-%zu", tmpdir, i);
      g_autoptr (BangerRootfsStaging) s = banger_rootfs_staging_new (dir, &error);
      g_autoptr (GBytes) l = NULL;
      g_autoptr (GInputStream) in = NULL;
      TestTar *t = test_tar_new (0);

      tt_symlink (t, "lnk", outside);
      tt_hardlink (t, "h", targets[i]);
      l = test_tar_finish (t);
      in = g_memory_input_stream_new_from_bytes (l);
      ck_assert (!banger_rootfs_staging_apply_layer (s, in, BANGER_LAYER_TAR, NULL, -1, NULL,
                                                     NULL, &error));
      banger_assert_error (error, codes[i]);
      assert_outside_untouched ();
    }
}
END_TEST

START_TEST (test_escape_hardlink_to_dir)
{
  g_autoptr (GError) error = NULL;
  TestTar *t = test_tar_new (0);
  g_autoptr (GBytes) l = NULL;

  tt_dir (t, "d/", 0755);
  tt_hardlink (t, "h", "d");
  l = test_tar_finish (t);
  ck_assert (!apply (l, BANGER_LAYER_TAR, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_PERMISSION_DENIED);
}
END_TEST

START_TEST (test_escape_whiteout_dotdot)
{
  g_autoptr (GError) error = NULL;
  TestTar *t = test_tar_new (0);
  g_autoptr (GBytes) l = NULL;

  tt_dir (t, "a/", 0755);
  tt_file (t, "a/.wh..", 0644, "");
  l = test_tar_finish (t);
  ck_assert (!apply (l, BANGER_LAYER_TAR, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_PERMISSION_DENIED);
  ck_assert (tree_has ("a"));
}
END_TEST

START_TEST (test_escape_root_replaced)
{
  g_autoptr (GError) error = NULL;
  TestTar *t = test_tar_new (0);
  g_autoptr (GBytes) l = NULL;

  tt_symlink (t, "./", outside);
  l = test_tar_finish (t);
  ck_assert (!apply (l, BANGER_LAYER_TAR, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_PERMISSION_DENIED);
  assert_outside_untouched ();
}
END_TEST

/* ---- verification */

START_TEST (test_digest_mismatch_taints)
{
  g_autoptr (GError) error = NULL;
  TestTar *t = test_tar_new ('g');
  g_autoptr (GBytes) l = NULL;
  g_autoptr (GInputStream) in = NULL;
  g_autoptr (GInputStream) in2 = NULL;

  tt_file (t, "f", 0644, "content");
  l = test_tar_finish (t);
  in = g_memory_input_stream_new_from_bytes (l);
  ck_assert (!banger_rootfs_staging_apply_layer (
      staging, in, BANGER_LAYER_TAR_GZIP,
      "sha256:0000000000000000000000000000000000000000000000000000000000000000", -1, NULL, NULL,
      &error));
  banger_assert_error (error, BANGER_ERROR_PROTOCOL);
  ck_assert_ptr_nonnull (strstr (error->message, "does not match its digest"));
  g_clear_error (&error);
  in2 = g_memory_input_stream_new_from_bytes (l);
  ck_assert (!banger_rootfs_staging_apply_layer (staging, in2, BANGER_LAYER_TAR_GZIP, NULL, -1,
                                                 NULL, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ck_assert (!banger_rootfs_staging_finish (staging, &error));
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
}
END_TEST

START_TEST (test_wrong_compression)
{
  g_autoptr (GError) error = NULL;
  TestTar *t = test_tar_new ('z');
  g_autoptr (GBytes) l = NULL;

  tt_file (t, "f", 0644, "content");
  l = test_tar_finish (t);
  ck_assert (!apply (l, BANGER_LAYER_TAR_GZIP, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_PROTOCOL);
  ck_assert (!tree_has ("f"));
}
END_TEST

START_TEST (test_size_mismatch)
{
  g_autoptr (GError) error = NULL;
  TestTar *t = test_tar_new (0);
  g_autoptr (GBytes) l = NULL;
  g_autoptr (GInputStream) in = NULL;
  g_autofree char *digest = NULL;

  tt_file (t, "f", 0644, "content");
  l = test_tar_finish (t);
  digest = banger_digest_of_bytes (l);
  in = g_memory_input_stream_new_from_bytes (l);
  ck_assert (!banger_rootfs_staging_apply_layer (staging, in, BANGER_LAYER_TAR, digest,
                                                 (gint64) g_bytes_get_size (l) + 1, NULL, NULL,
                                                 &error));
  banger_assert_error (error, BANGER_ERROR_PROTOCOL);
}
END_TEST

START_TEST (test_cancelled)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GInputStream) in = NULL;
  g_autoptr (GBytes) l = NULL;
  TestTar *t = test_tar_new ('g');

  tt_file (t, "f", 0644, "content");
  l = test_tar_finish (t);
  in = g_memory_input_stream_new_from_bytes (l);
  g_cancellable_cancel (cancellable);
  ck_assert (!banger_rootfs_staging_apply_layer (staging, in, BANGER_LAYER_TAR_GZIP, NULL, -1,
                                                 NULL, cancellable, &error));
  banger_assert_error (error, BANGER_ERROR_CANCELLED);
}
END_TEST

START_TEST (test_delete_leaves_outside_alone)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *outside_dir = g_strconcat (outside + 1, "/", NULL);
  TestTar *t = test_tar_new (0);
  g_autoptr (GBytes) l = NULL;

  tt_symlink (t, "abs", outside);
  tt_symlink (t, "secret", outside_secret);
  tt_hardlink (t, "h", "abs");
  tt_file (t, "d/e/f", 0644, "x");
  l = test_tar_finish (t);
  (void) apply (l, BANGER_LAYER_TAR, NULL, &error); /* the hard link to a symlink is fine */
  g_clear_error (&error);
  ck_assert (banger_rootfs_staging_delete (staging, &error));
  g_assert_no_error (error);
  ck_assert (!g_file_test (banger_rootfs_staging_get_tree_path (staging), G_FILE_TEST_EXISTS));
  assert_outside_untouched ();
}
END_TEST

START_TEST (test_depth_bounded)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) deep = g_string_new (NULL);
  g_autoptr (GString) half = g_string_new (NULL);
  g_autoptr (GString) via_link = g_string_new ("s");
  g_autoptr (GBytes) l1 = NULL;
  g_autoptr (GBytes) l2 = NULL;
  g_autoptr (GBytes) l3 = NULL;
  g_autofree char *dir2 = g_build_filename (tmpdir, "staging2", NULL);
  g_autoptr (BangerRootfsStaging) s2 = NULL;
  g_autoptr (GInputStream) in = NULL;
  TestTar *t;

  /* one entry 300 levels down */
  for (int i = 0; i < 300; i++)
    g_string_append (deep, "d/");
  g_string_append (deep, "f");
  t = test_tar_new (0);
  tt_file (t, deep->str, 0644, "x");
  l1 = test_tar_finish (t);
  ck_assert (!apply (l1, BANGER_LAYER_TAR, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_LIMIT_EXCEEDED);
  g_clear_error (&error);
  /* what was made is still removable */
  ck_assert (banger_rootfs_staging_delete (staging, &error));

  /* 200 levels, a link to the bottom, 100 more through the link */
  s2 = banger_rootfs_staging_new (dir2, &error);
  for (int i = 0; i < 200; i++)
    g_string_append (half, i ? "/a" : "a");
  for (int i = 0; i < 100; i++)
    g_string_append (via_link, "/b");
  g_string_append (via_link, "/f");
  t = test_tar_new (0);
  {
    g_autofree char *bottom = g_strconcat (half->str, "/f", NULL);
    tt_file (t, bottom, 0644, "x");
  }
  tt_symlink (t, "s", half->str);
  l2 = test_tar_finish (t);
  in = g_memory_input_stream_new_from_bytes (l2);
  ck_assert_msg (banger_rootfs_staging_apply_layer (s2, in, BANGER_LAYER_TAR, NULL, -1, NULL, NULL,
                                                    &error),
                 "%s", error ? error->message : "");
  g_clear_object (&in);
  t = test_tar_new (0);
  tt_file (t, via_link->str, 0644, "x");
  l3 = test_tar_finish (t);
  in = g_memory_input_stream_new_from_bytes (l3);
  ck_assert (!banger_rootfs_staging_apply_layer (s2, in, BANGER_LAYER_TAR, NULL, -1, NULL, NULL,
                                                 &error));
  banger_assert_error (error, BANGER_ERROR_LIMIT_EXCEEDED);
  g_clear_error (&error);
  ck_assert (banger_rootfs_staging_delete (s2, &error));
}
END_TEST

START_TEST (test_staging_exists)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerRootfsStaging) again = banger_rootfs_staging_new (outside, &error);

  ck_assert_ptr_null (again);
  banger_assert_error (error, BANGER_ERROR_ALREADY_EXISTS);
}
END_TEST

static Suite *
unpack_suite (void)
{
  Suite *s = suite_create ("layer-unpack");
  TCase *tc = tcase_create ("layers");
  TCase *te = tcase_create ("escapes");
  TCase *tv = tcase_create ("verify");

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_layers_whiteouts_links_ownership);
  tcase_add_test (tc, test_ownership_of_users);
  tcase_add_test (tc, test_inode_reuse_after_whiteout);
  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (te, setup, teardown);
  tcase_add_test (te, test_escape_dotdot);
  tcase_add_test (te, test_escape_dotdot_inside);
  tcase_add_test (te, test_escape_absolute);
  tcase_add_test (te, test_escape_symlink_same_layer);
  tcase_add_test (te, test_escape_symlink_dangling);
  tcase_add_test (te, test_escape_symlink_earlier_layer);
  tcase_add_test (te, test_escape_hardlinks);
  tcase_add_test (te, test_escape_hardlink_to_dir);
  tcase_add_test (te, test_escape_whiteout_dotdot);
  tcase_add_test (te, test_escape_root_replaced);
  suite_add_tcase (s, te);
  tcase_add_checked_fixture (tv, setup, teardown);
  tcase_add_test (tv, test_digest_mismatch_taints);
  tcase_add_test (tv, test_wrong_compression);
  tcase_add_test (tv, test_size_mismatch);
  tcase_add_test (tv, test_staging_exists);
  tcase_add_test (tv, test_cancelled);
  tcase_add_test (tv, test_depth_bounded);
  tcase_add_test (tv, test_delete_leaves_outside_alone);
  suite_add_tcase (s, tv);
  return s;
}

BANGER_TEST_MAIN (unpack_suite)
