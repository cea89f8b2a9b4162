/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The extraction half of a workspace pull (libbanger/guest/banger-ws-stream.c)
 * on archives a hostile guest could send, made here with libarchive (the
 * guest's cpio sends newc): the files asked for land with the archive's
 * mode, mtime and content; an entry `../x`, an absolute name, a symlink
 * followed by a file through it, a file through a symlink planted on the
 * host, a name not asked for and a second copy are refused, and nothing
 * lands outside the workspace; a hard link sent without content is left
 * for the caller. */
#include "config.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "banger-error.h"
#include "banger-ws-host.h"
#include "banger-ws-stream.h"
#include "guest-access-test.h"

static char *tmp;
static char *ws;
static char *outside;
static int root_fd = -1;
static GHashTable *wanted;   /* path -> BangerWsEntry* */
static GHashTable *received; /* path */

static void
setup (void)
{
  tmp = g_dir_make_tmp ("banger-wss-XXXXXX", NULL);
  ck_assert (tmp != NULL);
  ws = g_build_filename (tmp, "ws", NULL);
  outside = g_build_filename (tmp, "outside", NULL);
  ck_assert_int_eq (g_mkdir (ws, 0755), 0);
  ck_assert_int_eq (g_mkdir (outside, 0755), 0);
  root_fd = banger_ws_host_open_root (ws, NULL);
  ck_assert_int_ge (root_fd, 0);
  wanted = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                  (GDestroyNotify)banger_ws_entry_free);
  received = g_hash_table_new (g_str_hash, g_str_equal);
}

static void
teardown (void)
{
  g_clear_pointer (&received, g_hash_table_unref);
  g_clear_pointer (&wanted, g_hash_table_unref);
  close (root_fd);
  root_fd = -1;
  ga_rm_rf (tmp);
  g_clear_pointer (&tmp, g_free);
  g_clear_pointer (&ws, g_free);
  g_clear_pointer (&outside, g_free);
}

static void
want (const char *path)
{
  BangerWsEntry *e = banger_ws_entry_new (path, BANGER_WS_FILE);
  g_hash_table_insert (wanted, e->path, e);
}

typedef struct
{
  const char *name;
  mode_t type;
  guint perm;
  const char *content; /* files */
  const char *target;  /* symlinks */
  guint nlink;
} Item;

/* A newc archive of @items, in memory. */
static GBytes *
make_cpio (const Item *items, guint n)
{
  struct archive *a = archive_write_new ();
  gsize cap = 1 << 20, used = 0;
  guchar *buf = g_malloc0 (cap);

  ck_assert_int_eq (archive_write_set_format_cpio_newc (a), ARCHIVE_OK);
  ck_assert_int_eq (archive_write_open_memory (a, buf, cap, &used), ARCHIVE_OK);
  for (guint i = 0; i < n; i++)
    {
      struct archive_entry *ae = archive_entry_new ();
      archive_entry_set_pathname (ae, items[i].name);
      archive_entry_set_filetype (ae, items[i].type);
      archive_entry_set_perm (ae, items[i].perm);
      archive_entry_set_mtime (ae, 1600000000 + (time_t)i, 0);
      archive_entry_set_nlink (ae, items[i].nlink ? items[i].nlink : 1);
      archive_entry_set_ino (ae, 100 + i);
      archive_entry_set_size (ae, items[i].content ? (la_int64_t)strlen (items[i].content) : 0);
      if (items[i].type == AE_IFLNK)
        {
          archive_entry_set_symlink (ae, items[i].target);
          archive_entry_set_size (ae, (la_int64_t)strlen (items[i].target));
        }
      ck_assert_msg (archive_write_header (a, ae) == ARCHIVE_OK, "%s", archive_error_string (a));
      if (items[i].content != NULL && items[i].content[0])
        ck_assert_int_eq (archive_write_data (a, items[i].content, strlen (items[i].content)),
                          (la_ssize_t)strlen (items[i].content));
      archive_entry_free (ae);
    }
  ck_assert_int_eq (archive_write_close (a), ARCHIVE_OK);
  archive_write_free (a);
  return g_bytes_new_take (buf, used);
}

/* Extracts @bytes; the GError (or NULL). */
static GError *
extract (GBytes *bytes)
{
  struct archive *a = archive_read_new ();
  GError *error = NULL;
  guint64 total = 0;
  gsize len;
  const void *data = g_bytes_get_data (bytes, &len);

  ck_assert_int_eq (archive_read_support_format_cpio (a), ARCHIVE_OK);
  ck_assert_int_eq (archive_read_open_memory (a, data, len), ARCHIVE_OK);
  banger_ws_stream_extract (a, root_fd, wanted, received, &total, NULL, &error);
  archive_read_free (a);
  return error;
}

static gboolean
exists_at (const char *dir, const char *rel)
{
  g_autofree char *p = g_build_filename (dir, rel, NULL);
  struct stat st;
  return lstat (p, &st) == 0;
}

/* Nothing but @n names is in the workspace, and nothing in outside/. */
static void
assert_outside_empty (void)
{
  g_autoptr (GDir) d = g_dir_open (outside, 0, NULL);
  ck_assert (d != NULL);
  ck_assert_ptr_null (g_dir_read_name (d));
  ck_assert (!exists_at (tmp, "x"));
}

START_TEST (test_files_land)
{
  const Item items[] = {
    { "a/b.txt", AE_IFREG, 0750, "hello", NULL, 0 },
    { "sp ace \xc3\xa9.txt", AE_IFREG, 0644, "utf8", NULL, 0 },
    { "empty", AE_IFREG, 0600, "", NULL, 0 },
  };
  g_autoptr (GBytes) b = make_cpio (items, G_N_ELEMENTS (items));
  g_autoptr (GError) error = NULL;
  g_autofree char *content = NULL;
  g_autofree char *p = g_build_filename (ws, "a", "b.txt", NULL);
  const BangerWsEntry *e;
  struct stat st;

  want ("a/b.txt");
  want ("sp ace \xc3\xa9.txt");
  want ("empty");
  error = extract (b);
  ck_assert_msg (error == NULL, "%s", error ? error->message : "");
  ck_assert_uint_eq (g_hash_table_size (received), 3);
  ck_assert (g_file_get_contents (p, &content, NULL, NULL));
  ck_assert_str_eq (content, "hello");
  ck_assert_int_eq (stat (p, &st), 0);
  ck_assert_uint_eq (st.st_mode & 07777, 0750);
  ck_assert_int_eq (st.st_mtime, 1600000000);
  e = g_hash_table_lookup (wanted, "a/b.txt");
  ck_assert_uint_eq (e->mode, 0750);
  ck_assert_int_eq (e->mtime_ns, G_GINT64_CONSTANT (1600000000) * 1000000000);
  ck_assert_uint_eq (e->size, 5);
  ck_assert_str_eq (e->hash,
                    "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
  ck_assert (exists_at (ws, "sp ace \xc3\xa9.txt"));
  ck_assert (exists_at (ws, "empty"));
}
END_TEST

/* one refused archive: INVALID_ARGUMENT (or @code), and nothing outside */
static void
assert_refused (const Item *items, guint n, int code)
{
  g_autoptr (GBytes) b = make_cpio (items, n);
  g_autoptr (GError) error = extract (b);

  ck_assert_msg (error != NULL, "accepted");
  ck_assert_msg (g_error_matches (error, BANGER_ERROR, code), "%d: %s", error->code,
                 error->message);
  assert_outside_empty ();
}

START_TEST (test_dotdot_refused)
{
  const Item items[] = { { "../x", AE_IFREG, 0644, "evil", NULL, 0 } };

  want ("../x"); /* even when the list were to name it */
  assert_refused (items, 1, BANGER_ERROR_INVALID_ARGUMENT);
  ck_assert_uint_eq (g_hash_table_size (received), 0);
}
END_TEST

START_TEST (test_absolute_refused)
{
  g_autofree char *abs = g_build_filename (outside, "x", NULL);
  const Item items[] = { { abs, AE_IFREG, 0644, "evil", NULL, 0 },
                         { "/etc/banger-ws-stream-test", AE_IFREG, 0644, "evil", NULL, 0 } };

  want (abs);
  assert_refused (items, 1, BANGER_ERROR_INVALID_ARGUMENT);
  assert_refused (items + 1, 1, BANGER_ERROR_INVALID_ARGUMENT);
  ck_assert (!g_file_test ("/etc/banger-ws-stream-test", G_FILE_TEST_EXISTS));
}
END_TEST

START_TEST (test_symlink_then_file_refused)
{
  const Item items[] = { { "l", AE_IFLNK, 0777, NULL, "../outside", 0 },
                         { "l/x", AE_IFREG, 0644, "evil", NULL, 0 } };

  want ("l");
  want ("l/x");
  assert_refused (items, 2, BANGER_ERROR_INVALID_ARGUMENT);
  ck_assert (!exists_at (ws, "l"));
}
END_TEST

START_TEST (test_planted_symlink_refused)
{
  /* the host tree holds l -> outside (planted by someone): a file the
   * guest sends under l/ must not go through it */
  const Item items[] = { { "l/x", AE_IFREG, 0644, "evil", NULL, 0 } };
  g_autofree char *l = g_build_filename (ws, "l", NULL);

  ck_assert_int_eq (symlink (outside, l), 0);
  want ("l/x");
  assert_refused (items, 1, BANGER_ERROR_PERMISSION_DENIED);
}
END_TEST

START_TEST (test_not_asked_refused)
{
  const Item items[] = { { "a", AE_IFREG, 0644, "fine", NULL, 0 },
                         { "b", AE_IFREG, 0644, "not asked", NULL, 0 } };

  want ("a");
  assert_refused (items, 2, BANGER_ERROR_INVALID_ARGUMENT);
  ck_assert (exists_at (ws, "a")); /* what came before the refusal */
  ck_assert (g_hash_table_contains (received, "a"));
  ck_assert (!exists_at (ws, "b"));
}
END_TEST

START_TEST (test_second_copy_refused)
{
  const Item items[] = { { "a", AE_IFREG, 0644, "first", NULL, 0 },
                         { "a", AE_IFREG, 0644, "second", NULL, 0 } };
  g_autofree char *content = NULL;
  g_autofree char *p = g_build_filename (ws, "a", NULL);

  want ("a");
  assert_refused (items, 2, BANGER_ERROR_INVALID_ARGUMENT);
  ck_assert (g_file_get_contents (p, &content, NULL, NULL));
  ck_assert_str_eq (content, "first");
}
END_TEST

START_TEST (test_device_refused)
{
  const Item items[] = { { "dev", AE_IFCHR, 0644, NULL, NULL, 0 } };

  want ("dev");
  assert_refused (items, 1, BANGER_ERROR_INVALID_ARGUMENT);
  ck_assert (!exists_at (ws, "dev"));
}
END_TEST

START_TEST (test_hollow_hard_link_left)
{
  const Item items[] = { { "h1", AE_IFREG, 0644, "", NULL, 2 },
                         { "h2", AE_IFREG, 0644, "data", NULL, 2 } };
  g_autoptr (GBytes) b = make_cpio (items, 2);
  g_autoptr (GError) error = NULL;

  want ("h1");
  want ("h2");
  error = extract (b);
  ck_assert_msg (error == NULL, "%s", error ? error->message : "");
  ck_assert (!g_hash_table_contains (received, "h1")); /* the caller fetches it */
  ck_assert (g_hash_table_contains (received, "h2"));
  ck_assert (!exists_at (ws, "h1"));
}
END_TEST

static Suite *
ws_stream_suite (void)
{
  Suite *s = suite_create ("ws-stream");
  TCase *tc = tcase_create ("extract");

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_files_land);
  tcase_add_test (tc, test_dotdot_refused);
  tcase_add_test (tc, test_absolute_refused);
  tcase_add_test (tc, test_symlink_then_file_refused);
  tcase_add_test (tc, test_planted_symlink_refused);
  tcase_add_test (tc, test_not_asked_refused);
  tcase_add_test (tc, test_second_copy_refused);
  tcase_add_test (tc, test_device_refused);
  tcase_add_test (tc, test_hollow_hard_link_left);
  suite_add_tcase (s, tc);
  return s;
}

BANGER_TEST_MAIN (ws_stream_suite)
