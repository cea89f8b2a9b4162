/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One BangerClient call made synchronously, and list output
 * (banger-cli-call.h). */
#include "config.h"

#include "banger-cli-call.h"

gboolean
banger_cli_name_call (int argc, char **argv, BangerCliGlobals *globals, const char *command,
                      const char *summary, BangerCliNameAsync start, BangerClient **out_client,
                      GAsyncResult **out_result, int *out_exit)
{
  if (!banger_cli_parse (command, "NAME", summary, NULL, 1, &argc, &argv, out_exit))
    return FALSE;
  *out_client = banger_cli_client (globals);
  *out_result = NULL;
  start (*out_client, argv[1], NULL, banger_cli_done, out_result);
  banger_cli_wait (out_result);
  return TRUE;
}

int
banger_cli_name_command (int argc, char **argv, BangerCliGlobals *globals, const char *command,
                         const char *summary, BangerCliNameAsync start, BangerCliBoolFinish fin)
{
  g_autoptr (BangerClient) client = NULL;
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  int code;

  if (!banger_cli_name_call (argc, argv, globals, command, summary, start, &client, &res, &code))
    return code;
  if (!fin (client, res, &error))
    return banger_cli_fail (globals, command, error);
  return BANGER_EXIT_OK;
}

GPtrArray *
banger_cli_list_call (int argc, char **argv, BangerCliGlobals *globals, const char *command,
                      const char *summary, BangerCliListAsync start, BangerCliListFinish fin,
                      int *out_exit)
{
  g_autoptr (BangerClient) client = NULL;
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  GPtrArray *list;

  if (!banger_cli_parse (command, "", summary, NULL, 0, &argc, &argv, out_exit))
    return NULL;
  client = banger_cli_client (globals);
  start (client, NULL, banger_cli_done, &res);
  list = fin (client, banger_cli_wait (&res), &error);
  if (list == NULL)
    *out_exit = banger_cli_fail (globals, command, error);
  return list;
}

void
banger_cli_print_json_list (GPtrArray *list, void (*add_members) (JsonBuilder *b, gpointer item))
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_array (b);
  for (guint i = 0; i < list->len; i++)
    {
      json_builder_begin_object (b);
      add_members (b, list->pdata[i]);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  root = json_builder_get_root (b);
  banger_cli_print_json (root);
}

void
banger_cli_print_list_table (const char *const *header, guint n_cols, GPtrArray *list,
                             char **(*row) (gpointer item))
{
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify)g_strfreev);

  for (guint i = 0; i < list->len; i++)
    g_ptr_array_add (rows, row (list->pdata[i]));
  banger_cli_print_table (header, rows, n_cols);
}

int
banger_cli_list_command (int argc, char **argv, BangerCliGlobals *globals, const char *command,
                         const char *summary, BangerCliListAsync start, BangerCliListFinish fin,
                         void (*add_members) (JsonBuilder *b, gpointer item),
                         const char *const *header, guint n_cols, char **(*row) (gpointer item))
{
  g_autoptr (GPtrArray) list = NULL;
  int code;

  list = banger_cli_list_call (argc, argv, globals, command, summary, start, fin, &code);
  if (list == NULL)
    return code;
  if (globals->json)
    banger_cli_print_json_list (list, add_members);
  else
    banger_cli_print_list_table (header, n_cols, list, row);
  return BANGER_EXIT_OK;
}
