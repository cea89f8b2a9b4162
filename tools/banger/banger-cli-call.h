/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The commands that are one BangerClient call made synchronously: a NAME
 * command that only succeeds or fails (delete), a list command, and
 * printing a list as a table or a JSON array. */
#pragma once

#include "banger-cli-client.h"

G_BEGIN_DECLS

typedef void (*BangerCliNameAsync) (BangerClient *client, const char *name,
                                    GCancellable *cancellable, GAsyncReadyCallback callback,
                                    gpointer user_data);
typedef gboolean (*BangerCliBoolFinish) (BangerClient *client, GAsyncResult *result,
                                         GError **error);
typedef void (*BangerCliListAsync) (BangerClient *client, GCancellable *cancellable,
                                    GAsyncReadyCallback callback, gpointer user_data);
typedef GPtrArray *(*BangerCliListFinish) (BangerClient *client, GAsyncResult *result,
                                           GError **error);

/* "banger COMMAND NAME": parse, call @start on NAME and wait.  TRUE with
 * the client and the result for the call's _finish (both the caller's),
 * or FALSE with *out_exit set (--help or a usage error). */
gboolean banger_cli_name_call (int argc, char **argv, BangerCliGlobals *globals,
                               const char *command, const char *summary, BangerCliNameAsync start,
                               BangerClient **out_client, GAsyncResult **out_result, int *out_exit);

/* "banger COMMAND NAME": parse, call @start on NAME, wait; the exit code
 * (0, or banger_cli_fail()'s). Prints nothing on success. */
int banger_cli_name_command (int argc, char **argv, BangerCliGlobals *globals, const char *command,
                             const char *summary, BangerCliNameAsync start,
                             BangerCliBoolFinish fin);

/* "banger COMMAND" with no arguments: parse, call @start, wait.  The list,
 * or NULL with *out_exit set (help, usage error or a failed call). */
GPtrArray *banger_cli_list_call (int argc, char **argv, BangerCliGlobals *globals,
                                 const char *command, const char *summary, BangerCliListAsync start,
                                 BangerCliListFinish fin, int *out_exit);

/* One JSON object per item, in an array, on stdout: @add_members adds an
 * item's members to the open object. */
void banger_cli_print_json_list (GPtrArray *list,
                                 void (*add_members) (JsonBuilder *b, gpointer item));

/* A table under @header, one row of @n_cols cells per item from @row. */
void banger_cli_print_list_table (const char *const *header, guint n_cols, GPtrArray *list,
                                  char **(*row) (gpointer item));

/* "banger COMMAND" listing: banger_cli_list_call(), then the list as JSON
 * (--json) or as a table; the exit code. */
int banger_cli_list_command (int argc, char **argv, BangerCliGlobals *globals, const char *command,
                             const char *summary, BangerCliListAsync start, BangerCliListFinish fin,
                             void (*add_members) (JsonBuilder *b, gpointer item),
                             const char *const *header, guint n_cols,
                             char **(*row) (gpointer item));

G_END_DECLS
