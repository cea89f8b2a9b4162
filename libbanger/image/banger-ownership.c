/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The ownership record file written next to a staging tree.  Records end in
 * NUL, so any file name (newlines included) round-trips:
 *
 *   "banger-ownership 1 <content-bytes> <inodes>\0"
 *   "<uid> <gid> <mode, octal> <path>\0" ...
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "banger-error-private.h"
#include "banger-image-private.h"
#include "banger-ownership.h"
#include "banger-quote.h"

#define HEADER_MAGIC "banger-ownership 1 "
/* a bound on what loading a record file may allocate */
#define MAX_FILE_BYTES (512u * 1024 * 1024)

static void
entry_free (BangerOwnershipEntry *e)
{
  g_free (e->path);
  g_free (e);
}

/**
 * banger_ownership_list_free:
 * @list: (nullable): a list
 */
void
banger_ownership_list_free (BangerOwnershipList *list)
{
  if (list == NULL)
    return;
  g_clear_pointer (&list->entries, g_ptr_array_unref);
  g_free (list);
}

/**
 * banger_ownership_list_save:
 * @list: the records
 * @path: the file to write; replaced atomically
 * @error: return location for a #GError
 *
 * Returns: %TRUE on success
 */
gboolean
banger_ownership_list_save (const BangerOwnershipList *list, const char *path, GError **error)
{
  g_autoptr (GString) out = g_string_new (NULL);

  g_string_append_printf (out, HEADER_MAGIC "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT,
                          list->content_bytes, list->inodes);
  g_string_append_c (out, '\0');
  for (guint i = 0; i < list->entries->len; i++)
    {
      const BangerOwnershipEntry *e = list->entries->pdata[i];
      g_string_append_printf (out, "%u %u %o %s", e->own.uid, e->own.gid, e->own.mode, e->path);
      g_string_append_c (out, '\0');
    }
  if (!g_file_set_contents_full (path, out->str, (gssize) out->len,
                                 G_FILE_SET_CONTENTS_CONSISTENT, 0600, error))
    return banger_image_error_normalize (error);
  return TRUE;
}

static gboolean
parse_u64 (const char **p, int base, guint64 max, guint64 *out)
{
  char *end = NULL;
  guint64 v;

  if (!g_ascii_isdigit (**p))
    return FALSE;
  errno = 0;
  v = g_ascii_strtoull (*p, &end, base);
  if (errno != 0 || end == *p || *end != ' ' || v > max)
    return FALSE;
  *out = v;
  *p = end + 1;
  return TRUE;
}

static gboolean
corrupt (GError **error, const char *path)
{
  g_autofree char *quoted = banger_quote (path);

  g_set_error (error, BANGER_ERROR, BANGER_ERROR_PROTOCOL,
               "Ownership record file '%s' is corrupt", quoted);
  return FALSE;
}

/**
 * banger_ownership_list_load:
 * @path: a file written by banger_ownership_list_save()
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the records, or %NULL with @error set
 *   (%BANGER_ERROR_PROTOCOL for a malformed file)
 */
BangerOwnershipList *
banger_ownership_list_load (const char *path, GError **error)
{
  g_autoptr (BangerOwnershipList) list = g_new0 (BangerOwnershipList, 1);
  g_autofree char *data = NULL;
  gsize len = 0;
  const char *p;
  const char *end;

  if (!g_file_get_contents (path, &data, &len, error))
    return banger_image_error_normalize (error), NULL;
  if (len > MAX_FILE_BYTES || len == 0 || data[len - 1] != '\0')
    return corrupt (error, path), NULL;
  list->entries = g_ptr_array_new_with_free_func ((GDestroyNotify) entry_free);
  end = data + len;
  p = data;
  if (!g_str_has_prefix (p, HEADER_MAGIC))
    return corrupt (error, path), NULL;
  {
    const char *q = p + strlen (HEADER_MAGIC);
    char *e = NULL;
    if (!parse_u64 (&q, 10, G_MAXUINT64, &list->content_bytes))
      return corrupt (error, path), NULL;
    list->inodes = g_ascii_strtoull (q, &e, 10);
    if (e == q || *e != '\0')
      return corrupt (error, path), NULL;
  }
  p += strlen (p) + 1;
  while (p < end)
    {
      BangerOwnershipEntry *entry;
      guint64 uid, gid, mode;
      const char *q = p;
      if (!parse_u64 (&q, 10, G_MAXUINT32, &uid) || !parse_u64 (&q, 10, G_MAXUINT32, &gid)
          || !parse_u64 (&q, 8, G_MAXUINT32, &mode))
        return corrupt (error, path), NULL;
      entry = g_new0 (BangerOwnershipEntry, 1);
      entry->path = g_strdup (q);
      entry->own.uid = (guint32) uid;
      entry->own.gid = (guint32) gid;
      entry->own.mode = (guint32) mode;
      g_ptr_array_add (list->entries, entry);
      p += strlen (p) + 1;
    }
  return g_steal_pointer (&list);
}
