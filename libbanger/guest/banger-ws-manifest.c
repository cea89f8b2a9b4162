/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Workspace manifests (see banger-ws-manifest.h). */
#include "config.h"

#include <string.h>

#include "banger-error.h"
#include "banger-quote.h"
#include "banger-ws-manifest.h"

struct _BangerWsManifest
{
  GHashTable *entries; /* path -> BangerWsEntry */
};

BangerWsEntry *
banger_ws_entry_new (const char *path, BangerWsType type)
{
  BangerWsEntry *e = g_new0 (BangerWsEntry, 1);

  e->path = g_strdup (path);
  e->type = type;
  return e;
}

BangerWsEntry *
banger_ws_entry_copy (const BangerWsEntry *entry)
{
  BangerWsEntry *e = g_new0 (BangerWsEntry, 1);

  *e = *entry;
  e->path = g_strdup (entry->path);
  e->target = g_strdup (entry->target);
  e->hash = g_strdup (entry->hash);
  return e;
}

void
banger_ws_entry_free (BangerWsEntry *entry)
{
  if (entry == NULL)
    return;
  g_free (entry->path);
  g_free (entry->target);
  g_free (entry->hash);
  g_free (entry);
}

BangerWsManifest *
banger_ws_manifest_new (void)
{
  BangerWsManifest *m = g_new0 (BangerWsManifest, 1);

  m->entries = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                      (GDestroyNotify)banger_ws_entry_free);
  return m;
}

void
banger_ws_manifest_free (BangerWsManifest *manifest)
{
  if (manifest == NULL)
    return;
  g_hash_table_unref (manifest->entries);
  g_free (manifest);
}

void
banger_ws_manifest_add (BangerWsManifest *manifest, BangerWsEntry *entry)
{
  g_hash_table_replace (manifest->entries, entry->path, entry);
}

void
banger_ws_manifest_remove (BangerWsManifest *manifest, const char *path)
{
  g_hash_table_remove (manifest->entries, path);
}

const BangerWsEntry *
banger_ws_manifest_lookup (const BangerWsManifest *manifest, const char *path)
{
  return manifest ? g_hash_table_lookup (manifest->entries, path) : NULL;
}

BangerWsEntry *
banger_ws_manifest_lookup_mutable (BangerWsManifest *manifest, const char *path)
{
  return g_hash_table_lookup (manifest->entries, path);
}

guint
banger_ws_manifest_size (const BangerWsManifest *manifest)
{
  return g_hash_table_size (manifest->entries);
}

static int
cmp_paths (gconstpointer a, gconstpointer b)
{
  /* bytewise, with '/' sorting first, so "a/b" comes right after "a" and
   * before "a-b" (a parent is directly followed by its subtree) */
  const guchar *x = *(const guchar *const *)a;
  const guchar *y = *(const guchar *const *)b;

  for (; *x && *x == *y; x++, y++)
    ;
  if (*x == *y)
    return 0;
  if (*x == '/')
    return *y == '\0' ? 1 : -1;
  if (*y == '/')
    return *x == '\0' ? -1 : 1;
  return (int)*x - (int)*y;
}

GPtrArray *
banger_ws_manifest_paths (const BangerWsManifest *manifest)
{
  GPtrArray *paths = g_ptr_array_sized_new (g_hash_table_size (manifest->entries));
  GHashTableIter it;
  gpointer key;

  g_hash_table_iter_init (&it, manifest->entries);
  while (g_hash_table_iter_next (&it, &key, NULL))
    g_ptr_array_add (paths, key);

  g_ptr_array_sort (paths, cmp_paths);
  return paths;
}

gboolean
banger_ws_path_is_valid (const char *path)
{
  g_auto (GStrv) parts = NULL;

  if (path == NULL || path[0] == '\0' || path[0] == '/' || strlen (path) > BANGER_WS_MAX_PATH)
    return FALSE;
  for (const char *p = path; *p; p++)
    if ((guchar)*p < 0x20 || *p == 0x7f)
      return FALSE;
  parts = g_strsplit (path, "/", -1);
  if (g_strv_length (parts) > BANGER_WS_MAX_DEPTH)
    return FALSE;
  for (guint i = 0; parts[i]; i++)
    if (parts[i][0] == '\0' || g_str_equal (parts[i], ".") || g_str_equal (parts[i], ".."))
      return FALSE;
  return TRUE;
}

gboolean
banger_ws_symlink_stays_inside (const char *path, const char *target)
{
  g_auto (GStrv) tparts = NULL;
  int depth;

  if (target == NULL || target[0] == '\0' || target[0] == '/')
    return FALSE;
  /* the link lives in path's directory: its depth below the root */
  depth = 0;
  for (const char *p = path; *p; p++)
    if (*p == '/')
      depth++;
  tparts = g_strsplit (target, "/", -1);
  for (guint i = 0; tparts[i]; i++)
    {
      if (g_str_equal (tparts[i], ".."))
        {
          if (--depth < 0)
            return FALSE;
        }
      else if (tparts[i][0] != '\0' && !g_str_equal (tparts[i], "."))
        depth++;
    }
  return TRUE;
}

static const char *
type_name (BangerWsType t)
{
  switch (t)
    {
    case BANGER_WS_FILE:
      return "file";
    case BANGER_WS_DIR:
      return "dir";
    case BANGER_WS_SYMLINK:
      return "symlink";
    default:
      return "?";
    }
}

JsonNode *
banger_ws_manifest_to_json (const BangerWsManifest *manifest)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (GPtrArray) paths = banger_ws_manifest_paths (manifest);

  json_builder_begin_array (b);
  for (guint i = 0; i < paths->len; i++)
    {
      const BangerWsEntry *e = banger_ws_manifest_lookup (manifest, paths->pdata[i]);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "path");
      json_builder_add_string_value (b, e->path);
      json_builder_set_member_name (b, "type");
      json_builder_add_string_value (b, type_name (e->type));
      json_builder_set_member_name (b, "mode");
      json_builder_add_int_value (b, e->mode);
      json_builder_set_member_name (b, "size");
      json_builder_add_int_value (b, (gint64)e->size);
      json_builder_set_member_name (b, "mtime_ns");
      json_builder_add_int_value (b, e->mtime_ns);
      if (e->target)
        {
          json_builder_set_member_name (b, "target");
          json_builder_add_string_value (b, e->target);
        }
      if (e->hash)
        {
          json_builder_set_member_name (b, "sha256");
          json_builder_add_string_value (b, e->hash);
        }
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  return json_builder_get_root (b);
}

BangerWsManifest *
banger_ws_manifest_from_json (JsonNode *node, GError **error)
{
  g_autoptr (BangerWsManifest) m = banger_ws_manifest_new ();
  JsonArray *a;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node)
      || json_array_get_length (a = json_node_get_array (node)) > BANGER_WS_MAX_ENTRIES)
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                           "A workspace manifest is not an array of at most 200000 entries");
      return NULL;
    }
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonNode *n = json_array_get_element (a, i);
      JsonObject *o = JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
      const char *path = o ? json_object_get_string_member_with_default (o, "path", NULL) : NULL;
      const char *type = o ? json_object_get_string_member_with_default (o, "type", "") : "";
      BangerWsType t = g_str_equal (type, "file")      ? BANGER_WS_FILE
                       : g_str_equal (type, "dir")     ? BANGER_WS_DIR
                       : g_str_equal (type, "symlink") ? BANGER_WS_SYMLINK
                                                       : 0;
      BangerWsEntry *e;

      if (!banger_ws_path_is_valid (path) || t == 0)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                       "Workspace manifest entry %u is malformed", i);
          return NULL;
        }
      e = banger_ws_entry_new (path, t);
      e->mode = (guint32)json_object_get_int_member_with_default (o, "mode", 0) & 07777;
      e->size = (guint64)json_object_get_int_member_with_default (o, "size", 0);
      e->mtime_ns = json_object_get_int_member_with_default (o, "mtime_ns", 0);
      e->target = g_strdup (json_object_get_string_member_with_default (o, "target", NULL));
      e->hash = g_strdup (json_object_get_string_member_with_default (o, "sha256", NULL));
      banger_ws_manifest_add (m, e);
    }
  return g_steal_pointer (&m);
}
