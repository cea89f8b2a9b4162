/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Tar layers built by the tests themselves with libarchive's writer. */
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <glib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

typedef struct
{
  struct archive *a;
  GByteArray *out;
} TestTar;

static la_ssize_t
test_tar_write_cb (struct archive *a, void *data, const void *buf, size_t len)
{
  g_byte_array_append (data, buf, (guint) len);
  return (la_ssize_t) len;
}

/* filter: 0 plain, 'g' gzip, 'z' zstd */
static inline TestTar *
test_tar_new (char filter)
{
  TestTar *t = g_new0 (TestTar, 1);

  t->out = g_byte_array_new ();
  t->a = archive_write_new ();
  g_assert (archive_write_set_format_pax_restricted (t->a) == ARCHIVE_OK);
  if (filter == 'g')
    g_assert (archive_write_add_filter_gzip (t->a) == ARCHIVE_OK);
  else if (filter == 'z')
    g_assert (archive_write_add_filter_zstd (t->a) == ARCHIVE_OK);
  g_assert (archive_write_set_bytes_in_last_block (t->a, 1) == ARCHIVE_OK);
  g_assert (archive_write_open (t->a, t->out, NULL, test_tar_write_cb, NULL) == ARCHIVE_OK);
  return t;
}

static inline void
test_tar_add (TestTar *t, const char *path, mode_t type, mode_t mode, la_int64_t uid,
              la_int64_t gid, const char *content, const char *link, gboolean hard)
{
  struct archive_entry *e = archive_entry_new ();
  size_t len = content ? strlen (content) : 0;

  archive_entry_set_pathname (e, path);
  archive_entry_set_filetype (e, type);
  archive_entry_set_perm (e, mode);
  archive_entry_set_uid (e, uid);
  archive_entry_set_gid (e, gid);
  archive_entry_set_mtime (e, 1700000000, 0);
  if (type == AE_IFCHR)
    archive_entry_set_rdev (e, makedev (1, 3));
  if (link != NULL && hard)
    archive_entry_set_hardlink (e, link);
  else if (link != NULL)
    archive_entry_set_symlink (e, link);
  archive_entry_set_size (e, (la_int64_t) len);
  g_assert (archive_write_header (t->a, e) == ARCHIVE_OK);
  if (len > 0)
    g_assert (archive_write_data (t->a, content, len) == (la_ssize_t) len);
  archive_entry_free (e);
}

#define tt_file(t, p, mode, c) test_tar_add (t, p, AE_IFREG, mode, 0, 0, c, NULL, FALSE)
#define tt_file_owned(t, p, mode, u, g, c) test_tar_add (t, p, AE_IFREG, mode, u, g, c, NULL, FALSE)
#define tt_dir(t, p, mode) test_tar_add (t, p, AE_IFDIR, mode, 0, 0, NULL, NULL, FALSE)
#define tt_dir_owned(t, p, mode, u, g) test_tar_add (t, p, AE_IFDIR, mode, u, g, NULL, NULL, FALSE)
#define tt_symlink(t, p, target) test_tar_add (t, p, AE_IFLNK, 0777, 0, 0, NULL, target, FALSE)
#define tt_hardlink(t, p, target) test_tar_add (t, p, AE_IFREG, 0644, 0, 0, NULL, target, TRUE)

static inline GBytes *
test_tar_finish (TestTar *t)
{
  GBytes *b;

  g_assert (archive_write_close (t->a) == ARCHIVE_OK);
  archive_write_free (t->a);
  b = g_byte_array_free_to_bytes (t->out);
  g_free (t);
  return b;
}
