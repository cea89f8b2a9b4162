/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What the CLI's engine commands share: the BangerClient (the CLI reaches
 * the engine only through it), waiting for an _async call, option parsing,
 * aligned tables and JSON output. */
#pragma once

#include <banger.h>
#include <json-glib/json-glib.h>

#include "banger-builtins.h"

G_BEGIN_DECLS

/* The client for --socket, else $BANGER_SOCKET, else the default. */
BangerClient *banger_cli_client (BangerCliGlobals *globals);

/* Iterate the main context until @slot holds the result of a call made
 * with banger_cli_done as callback and @slot as user data. */
void banger_cli_done (GObject *source, GAsyncResult *result, gpointer slot);
GAsyncResult *banger_cli_wait (GAsyncResult **slot);

/* Parse @entries out of argv (after the command name).  On --help prints
 * the help and returns FALSE with *out_exit 0; on a usage error prints it
 * and returns FALSE with *out_exit 2.  @n_args: positional arguments
 * wanted (exactly), -1: at least one. */
gboolean banger_cli_parse (const char *command, const char *args_help, const char *summary,
                           GOptionEntry *entries, int n_args, int *argc, char ***argv,
                           int *out_exit);

/* A failed call: the one error line (and the JSON error with --json); adds
 * how to start a daemon when none answered. */
int banger_cli_fail (BangerCliGlobals *globals, const char *command, const GError *error);

/* An aligned table: rows of @n_cols strings each (NULL-terminated string
 * arrays, so no cell may be NULL: an absent value is "-"). */
void banger_cli_print_table (const char *const *header, GPtrArray *rows, guint n_cols);

void banger_cli_print_json (JsonNode *node);
/* @value as a JSON string, or null when NULL. */
void banger_cli_json_add_nullable (JsonBuilder *b, const char *value);
JsonNode *banger_cli_vm_json (BangerVmInfo *vm);
/* A VM: its JSON (--json), else "key value" lines (banger-builtin-vm.c). */
void banger_cli_print_vm (BangerCliGlobals *globals, BangerVmInfo *vm);
/* banger vm set NAME --balloon MIB (banger-builtin-snapshot.c). */
int banger_cli_vm_set_balloon (BangerCliGlobals *globals, const char *name, guint64 balloon_mib);
char *banger_cli_format_time (gint64 unix_us);
char *banger_cli_format_size (guint64 bytes);
/* "1G", "512M", "4096": bytes; FALSE for anything else. */
gboolean banger_cli_parse_size (const char *s, guint64 *out);
/* An absolute form of a path the user gave. */
char *banger_cli_absolute (const char *path);

G_END_DECLS
