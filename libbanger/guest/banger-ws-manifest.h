/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A workspace manifest (doc/workspace.md): what one side of a workspace
 * holds, path by path — type, permission bits, size, mtime, symlink
 * target, and the SHA-256 of a file's content when known.  Paths are
 * relative to the workspace root, '/'-separated, never empty, "." or "..".
 * Internal API. */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Bounds on what a manifest may hold (a guest is not trusted). */
#define BANGER_WS_MAX_ENTRIES 200000
#define BANGER_WS_MAX_PATH 4096
#define BANGER_WS_MAX_DEPTH 64

typedef enum
{
  BANGER_WS_FILE = 1,
  BANGER_WS_DIR = 2,
  BANGER_WS_SYMLINK = 3,
} BangerWsType;

typedef struct
{
  char *path;
  BangerWsType type;
  guint32 mode;     /* permission bits (07777); 0 for a symlink */
  guint64 size;     /* files */
  gint64 mtime_ns;  /* files and symlinks; the guest's in whole seconds */
  char *target;     /* symlinks */
  char *hash;       /* files: lowercase SHA-256 hex, or NULL when not known */
} BangerWsEntry;

BangerWsEntry *banger_ws_entry_new (const char *path, BangerWsType type);
BangerWsEntry *banger_ws_entry_copy (const BangerWsEntry *entry);
void banger_ws_entry_free (BangerWsEntry *entry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerWsEntry, banger_ws_entry_free)

typedef struct _BangerWsManifest BangerWsManifest;

BangerWsManifest *banger_ws_manifest_new (void);
void banger_ws_manifest_free (BangerWsManifest *manifest);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BangerWsManifest, banger_ws_manifest_free)

/* Takes @entry; replaces an entry of the same path. */
void banger_ws_manifest_add (BangerWsManifest *manifest, BangerWsEntry *entry);
void banger_ws_manifest_remove (BangerWsManifest *manifest, const char *path);
const BangerWsEntry *banger_ws_manifest_lookup (const BangerWsManifest *manifest,
                                                const char *path);
BangerWsEntry *banger_ws_manifest_lookup_mutable (BangerWsManifest *manifest, const char *path);
guint banger_ws_manifest_size (const BangerWsManifest *manifest);
/* The paths, sorted (a parent before its children). (transfer container) */
GPtrArray *banger_ws_manifest_paths (const BangerWsManifest *manifest);

/* Whether @path is a relative workspace path banger accepts. */
gboolean banger_ws_path_is_valid (const char *path);

/* Whether the symlink at @path with @target resolves (lexically) inside
 * the workspace: relative, and no ".." climbing above the root. */
gboolean banger_ws_symlink_stays_inside (const char *path, const char *target);

JsonNode *banger_ws_manifest_to_json (const BangerWsManifest *manifest);
BangerWsManifest *banger_ws_manifest_from_json (JsonNode *node, GError **error);

G_END_DECLS
