/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * banger vm workspace push|pull|status NAME [--force]: one BangerClient
 * workspace call each (doc/workspace.md).  Exit status: 0; 3 when
 * conflicts are left (push, pull); 1 on an error. */
#include "config.h"

#include <stdio.h>

#include "banger-cli-client.h"
#include "banger-cli-workspace.h"

#define EXIT_CONFLICTS 3

static void
print_list (const char *title, const char *const *paths)
{
  if (paths == NULL || paths[0] == NULL)
    return;
  g_print ("%s:\n", title);
  for (guint i = 0; paths[i]; i++)
    g_print ("  %s\n", paths[i]);
}

static JsonNode *
strv_json (const char *const *v)
{
  JsonArray *a = json_array_new ();
  JsonNode *n = json_node_new (JSON_NODE_ARRAY);

  for (guint i = 0; v != NULL && v[i]; i++)
    json_array_add_string_element (a, v[i]);
  json_node_take_array (n, a);
  return n;
}

static void
print_report (BangerCliGlobals *globals, const char *what, BangerWorkspaceReport *r)
{
  if (globals->json)
    {
      g_autoptr (JsonNode) root = json_node_new (JSON_NODE_OBJECT);
      JsonObject *o = json_object_new ();
      json_object_set_boolean_member (o, "bound", banger_workspace_report_get_bound (r));
      json_object_set_boolean_member (o, "skipped", banger_workspace_report_get_skipped (r));
      if (banger_workspace_report_get_host_dir (r))
        json_object_set_string_member (o, "host_dir", banger_workspace_report_get_host_dir (r));
      if (banger_workspace_report_get_guest_dir (r))
        json_object_set_string_member (o, "guest_dir", banger_workspace_report_get_guest_dir (r));
      json_object_set_int_member (o, "copied", banger_workspace_report_get_copied (r));
      json_object_set_int_member (o, "deleted", banger_workspace_report_get_deleted (r));
      json_object_set_int_member (o, "bytes", (gint64)banger_workspace_report_get_bytes (r));
      json_object_set_member (o, "conflicts", strv_json (banger_workspace_report_get_conflicts (r)));
      json_object_set_member (o, "host_changes",
                              strv_json (banger_workspace_report_get_host_changes (r)));
      json_object_set_member (o, "guest_changes",
                              strv_json (banger_workspace_report_get_guest_changes (r)));
      json_node_take_object (root, o);
      banger_cli_print_json (root);
      return;
    }
  if (!banger_workspace_report_get_bound (r))
    {
      g_print ("This VM has no workspace.\n");
      return;
    }
  g_print ("%s ↔ %s\n", banger_workspace_report_get_host_dir (r),
           banger_workspace_report_get_guest_dir (r));
  if (!g_str_equal (what, "status"))
    {
      g_autofree char *size = banger_cli_format_size (banger_workspace_report_get_bytes (r));
      g_print ("%s: %u written, %u deleted, %s\n", what, banger_workspace_report_get_copied (r),
               banger_workspace_report_get_deleted (r), size);
    }
  print_list ("changed on the host", banger_workspace_report_get_host_changes (r));
  print_list ("changed in the guest", banger_workspace_report_get_guest_changes (r));
  print_list ("conflicts (changed on both sides, left alone)",
              banger_workspace_report_get_conflicts (r));
}

int
banger_builtin_vm_workspace (int argc, char **argv, BangerCliGlobals *globals)
{
  gboolean force = FALSE;
  GOptionEntry entries[] = {
    { "force", 0, 0, G_OPTION_ARG_NONE, &force,
      "Conflicts go this sync's way (push: the host wins; pull: the guest wins)", NULL },
    { NULL },
  };
  GOptionEntry no_entries[] = { { NULL } };
  g_autoptr (BangerClient) client = NULL;
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerWorkspaceReport) r = NULL;
  g_autofree char *command = NULL;
  const char *what;
  int code;

  if (argc < 2 || g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h"))
    {
      (argc < 2 ? g_printerr : g_print) (
          "Usage:\n  banger vm workspace push|pull|status NAME [--force]\n\n"
          "Sync a VM's workspace (vm create --workspace): push the host's changes into the\n"
          "guest, pull the guest's back, or show what changed where. A path changed on both\n"
          "sides is a conflict: reported and left alone (exit status 3) unless --force.\n");
      return argc < 2 ? BANGER_EXIT_USAGE : BANGER_EXIT_OK;
    }
  what = argv[1];
  if (!g_str_equal (what, "push") && !g_str_equal (what, "pull") && !g_str_equal (what, "status"))
    {
      g_printerr ("banger vm workspace: unknown command '%s' (push, pull or status)\n", what);
      return BANGER_EXIT_USAGE;
    }
  command = g_strdup_printf ("vm workspace %s", what);
  argc--;
  argv++;
  if (!banger_cli_parse (command, "NAME",
                         "Sync a VM's workspace (doc/workspace.md).",
                         g_str_equal (what, "status") ? no_entries : entries, 1, &argc, &argv,
                         &code))
    return code;
  client = banger_cli_client (globals);
  if (g_str_equal (what, "push"))
    {
      banger_client_vm_workspace_push_async (
          client, argv[1], force ? BANGER_WORKSPACE_FLAGS_FORCE : BANGER_WORKSPACE_FLAGS_NONE,
          NULL, banger_cli_done, &res);
      r = banger_client_vm_workspace_push_finish (client, banger_cli_wait (&res), &error);
    }
  else if (g_str_equal (what, "pull"))
    {
      banger_client_vm_workspace_pull_async (
          client, argv[1], force ? BANGER_WORKSPACE_FLAGS_FORCE : BANGER_WORKSPACE_FLAGS_NONE,
          NULL, banger_cli_done, &res);
      r = banger_client_vm_workspace_pull_finish (client, banger_cli_wait (&res), &error);
    }
  else
    {
      banger_client_vm_workspace_status_async (client, argv[1], NULL, banger_cli_done, &res);
      r = banger_client_vm_workspace_status_finish (client, banger_cli_wait (&res), &error);
    }
  if (r == NULL)
    return banger_cli_fail (globals, command, error);
  print_report (globals, what, r);
  if (!g_str_equal (what, "status") && banger_workspace_report_get_conflicts (r)[0] != NULL)
    {
      g_printerr ("banger %s: %u paths changed on both sides were left alone "
                  "(--force to let the %s win)\n",
                  command, g_strv_length ((char **)banger_workspace_report_get_conflicts (r)),
                  g_str_equal (what, "push") ? "host" : "guest");
      return EXIT_CONFLICTS;
    }
  return BANGER_EXIT_OK;
}

gboolean
banger_cli_workspace_push_if_dirty (BangerCliGlobals *globals, BangerClient *client,
                                    const char *name, int *out_exit)
{
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerWorkspaceReport) r = NULL;
  const char *const *conflicts;

  banger_client_vm_workspace_push_async (client, name, BANGER_WORKSPACE_FLAGS_IF_DIRTY, NULL,
                                         banger_cli_done, &res);
  r = banger_client_vm_workspace_push_finish (client, banger_cli_wait (&res), &error);
  if (r == NULL)
    {
      g_prefix_error (&error, "pushing the workspace first (--no-sync skips it): ");
      *out_exit = banger_cli_fail (globals, "vm exec", error);
      return FALSE;
    }
  if (!banger_workspace_report_get_bound (r) || banger_workspace_report_get_skipped (r))
    return TRUE;
  g_printerr ("banger: workspace pushed to %s:%s (%u written, %u deleted)\n", name,
              banger_workspace_report_get_guest_dir (r), banger_workspace_report_get_copied (r),
              banger_workspace_report_get_deleted (r));
  conflicts = banger_workspace_report_get_conflicts (r);
  for (guint i = 0; conflicts[i]; i++)
    g_printerr ("banger: workspace conflict, left alone: %s\n", conflicts[i]);
  return TRUE;
}
