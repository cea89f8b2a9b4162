/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * banger vm port NAME: a VM's published ports and egress policy
 * (BangerClient's vm_port; doc/cli.md). */
#include "config.h"

#include "banger-cli-call.h"

int
banger_builtin_vm_port (int argc, char **argv, BangerCliGlobals *globals)
{
  g_autoptr (BangerClient) client = NULL;
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) publish = NULL;
  g_autofree char *egress = NULL;
  gboolean active = FALSE;
  int code;

  if (!banger_cli_name_call (argc, argv, globals, "vm port",
                             "List a VM's published ports and its egress policy.",
                             banger_client_vm_port_async, &client, &res, &code))
    return code;
  publish = banger_client_vm_port_finish (client, res, &egress, &active, &error);
  if (publish == NULL)
    return banger_cli_fail (globals, "vm port", error);
  if (globals->json)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      g_autoptr (JsonNode) root = NULL;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "publish");
      json_builder_begin_array (b);
      for (guint i = 0; publish[i] != NULL; i++)
        json_builder_add_string_value (b, publish[i]);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "egress");
      json_builder_add_string_value (b, egress);
      json_builder_set_member_name (b, "active");
      json_builder_add_boolean_value (b, active);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      banger_cli_print_json (root);
      return BANGER_EXIT_OK;
    }
  /* like `docker port`: GUESTPORT/PROTO -> HOSTIP:HOSTPORT */
  for (guint i = 0; publish[i] != NULL; i++)
    {
      g_auto (GStrv) parts = g_strsplit_set (publish[i], ":/", -1);
      if (g_strv_length (parts) == 4)
        g_print ("%s/%s -> %s:%s%s\n", parts[2], parts[3], parts[0], parts[1],
                 active ? "" : " (not in force: the VM is not running)");
    }
  g_print ("egress: %s\n", egress);
  return BANGER_EXIT_OK;
}
