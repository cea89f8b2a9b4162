/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * banger vm create|start|stop|kill|delete|list|show|set: each a thin
 * layer over one BangerClient call (doc/cli.md). */
#include "config.h"

#include <stdio.h>
#include <unistd.h>

#include "banger-cli-call.h"
#include "banger-cli-workspace.h"

static BangerVmInfo *
finish_vm (BangerClient *client, GAsyncResult *res,
           BangerVmInfo *(*fn) (BangerClient *, GAsyncResult *, GError **), GError **error)
{
  return fn (client, res, error);
}

void
banger_cli_print_vm (BangerCliGlobals *globals, BangerVmInfo *vm)
{
  g_autoptr (JsonNode) node = banger_cli_vm_json (vm);

  if (globals->json)
    {
      banger_cli_print_json (node);
      return;
    }
  {
    JsonObject *o = json_node_get_object (node);
    g_autoptr (GList) members = json_object_get_members (o);
    for (GList *l = members; l; l = l->next)
      {
        JsonNode *n = json_object_get_member (o, l->data);
        g_autofree char *v = NULL;
        if (JSON_NODE_HOLDS_NULL (n))
          continue;
        if (json_node_get_value_type (n) == G_TYPE_INT64)
          v = g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (n));
        else
          v = g_strdup (json_node_get_string (n));
        g_print ("%-16s %s\n", (const char *)l->data, v);
      }
  }
}

int
banger_builtin_vm_create (int argc, char **argv, BangerCliGlobals *globals)
{
  g_autofree char *image = NULL, *kernel = NULL, *work = NULL, *vmm = NULL, *workspace = NULL,
                   *egress = NULL;
  g_auto (GStrv) publish = NULL;
  int vcpus = 0, memory = 0, code;
  gboolean no_start = FALSE;
  GOptionEntry entries[] = {
    { "image", 0, 0, G_OPTION_ARG_STRING, &image, "The image to make the root disk from", "IMAGE" },
    { "kernel", 0, 0, G_OPTION_ARG_STRING, &kernel, "The guest kernel", "KERNEL" },
    { "vcpus", 0, 0, G_OPTION_ARG_INT, &vcpus, "vCPUs (1-32, default 1)", "N" },
    { "memory", 0, 0, G_OPTION_ARG_INT, &memory, "Memory in MiB (64-262144, default 256)", "MIB" },
    { "work-disk", 0, 0, G_OPTION_ARG_STRING, &work,
      "A fresh ext4 work disk (/dev/vdb) of SIZE (e.g. 1G, 512M)", "SIZE" },
    { "vmm", 0, 0, G_OPTION_ARG_STRING, &vmm, "firecracker or qemu (default: the daemon's)",
      "VMM" },
    { "no-start", 0, 0, G_OPTION_ARG_NONE, &no_start, "Make the disks only; leave it stopped",
      NULL },
    { "workspace", 0, 0, G_OPTION_ARG_FILENAME, &workspace,
      "Sync host DIR into the guest (default /workspace; doc/workspace.md)", "DIR[:GUESTDIR]" },
    { "publish", 'p', 0, G_OPTION_ARG_STRING_ARRAY, &publish,
      "Forward a host port to the guest (repeatable)", "[HOSTIP:]HOSTPORT:GUESTPORT[/tcp|/udp]" },
    { "egress", 0, 0, G_OPTION_ARG_STRING, &egress,
      "Where the VM may connect: nat (default), none, or CIDR,...", "POLICY" },
    { NULL },
  };
  g_autoptr (BangerClient) client = NULL;
  g_autoptr (BangerVmSpec) spec = NULL;
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (BangerVmInfo) vm = NULL;
  g_autoptr (GError) error = NULL;

  if (!banger_cli_parse ("vm create", "NAME", "Create a VM from an image and boot it.", entries, 1,
                         &argc, &argv, &code))
    return code;
  if (image == NULL || kernel == NULL)
    {
      g_printerr ("banger vm create: --image and --kernel are required\n");
      return BANGER_EXIT_USAGE;
    }
  spec = banger_vm_spec_new (argv[1], image, kernel);
  if (workspace != NULL)
    {
      /* the daemon's cwd is not ours: DIR made absolute here */
      const char *colon = strrchr (workspace, ':');
      g_autofree char *dir = colon && colon[1] == '/' ? g_strndup (workspace, colon - workspace)
                                                      : g_strdup (workspace);
      g_autofree char *abs = banger_cli_absolute (dir);
      g_autofree char *full = g_strconcat (abs, colon && colon[1] == '/' ? colon : "", NULL);
      banger_vm_spec_set_workspace (spec, full);
    }
  if (vcpus < 0 || memory < 0)
    {
      g_printerr ("banger vm create: --vcpus and --memory must be positive\n");
      return BANGER_EXIT_USAGE;
    }
  banger_vm_spec_set_vcpus (spec, (guint)vcpus);
  banger_vm_spec_set_memory_mib (spec, (guint64)memory);
  if (work != NULL)
    {
      guint64 size;
      if (!banger_cli_parse_size (work, &size))
        {
          g_printerr ("banger vm create: --work-disk '%s' is not a size (e.g. 1G, 512M)\n", work);
          return BANGER_EXIT_USAGE;
        }
      banger_vm_spec_set_work_disk_size (spec, size);
    }
  if (vmm != NULL)
    {
      if (g_str_equal (vmm, "firecracker"))
        banger_vm_spec_set_vmm (spec, BANGER_VMM_KIND_FIRECRACKER);
      else if (g_str_equal (vmm, "qemu"))
        banger_vm_spec_set_vmm (spec, BANGER_VMM_KIND_QEMU);
      else
        {
          g_printerr ("banger vm create: --vmm '%s' is not firecracker or qemu\n", vmm);
          return BANGER_EXIT_USAGE;
        }
    }
  banger_vm_spec_set_start (spec, !no_start);
  for (guint i = 0; publish != NULL && publish[i] != NULL; i++)
    if (!banger_vm_spec_add_publish (spec, publish[i], &error))
      {
        g_printerr ("banger vm create: --publish: %s\n", error->message);
        return BANGER_EXIT_USAGE;
      }
  if (egress != NULL && !banger_vm_spec_set_egress (spec, egress, &error))
    {
      g_printerr ("banger vm create: --egress: %s\n", error->message);
      return BANGER_EXIT_USAGE;
    }
  client = banger_cli_client (globals);
  banger_client_vm_create_async (client, spec, NULL, banger_cli_done, &res);
  vm = banger_client_vm_create_finish (client, banger_cli_wait (&res), &error);
  if (vm == NULL)
    return banger_cli_fail (globals, "vm create", error);
  banger_cli_print_vm (globals, vm);
  return BANGER_EXIT_OK;
}

typedef BangerVmInfo *(*VmFinish) (BangerClient *, GAsyncResult *, GError **);

static int
vm_name_command (int argc, char **argv, BangerCliGlobals *globals, const char *command,
                 const char *summary, BangerCliNameAsync start, VmFinish fin)
{
  g_autoptr (BangerClient) client = NULL;
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (BangerVmInfo) vm = NULL;
  g_autoptr (GError) error = NULL;
  int code;

  if (!banger_cli_name_call (argc, argv, globals, command, summary, start, &client, &res, &code))
    return code;
  vm = finish_vm (client, res, fin, &error);
  if (vm == NULL)
    return banger_cli_fail (globals, command, error);
  banger_cli_print_vm (globals, vm);
  return BANGER_EXIT_OK;
}

int
banger_builtin_vm_start (int argc, char **argv, BangerCliGlobals *globals)
{
  return vm_name_command (argc, argv, globals, "vm start", "Boot a stopped VM.",
                          banger_client_vm_start_async, banger_client_vm_start_finish);
}

int
banger_builtin_vm_stop (int argc, char **argv, BangerCliGlobals *globals)
{
  return vm_name_command (argc, argv, globals, "vm stop",
                          "Stop a VM gracefully; its disks are kept.", banger_client_vm_stop_async,
                          banger_client_vm_stop_finish);
}

int
banger_builtin_vm_kill (int argc, char **argv, BangerCliGlobals *globals)
{
  return vm_name_command (argc, argv, globals, "vm kill", "Kill a VM's VMM at once.",
                          banger_client_vm_kill_async, banger_client_vm_kill_finish);
}

int
banger_builtin_vm_show (int argc, char **argv, BangerCliGlobals *globals)
{
  return vm_name_command (argc, argv, globals, "vm show", "Show one VM.",
                          banger_client_vm_get_async, banger_client_vm_get_finish);
}

int
banger_builtin_vm_delete (int argc, char **argv, BangerCliGlobals *globals)
{
  return banger_cli_name_command (
      argc, argv, globals, "vm delete",
      "Delete a VM and everything made for it (disks, tap, NAT rule, lease).",
      banger_client_vm_delete_async, banger_client_vm_delete_finish);
}

static char **
vm_row (gpointer item)
{
  BangerVmInfo *vm = item;
  char **row = g_new0 (char *, 9);

  row[0] = g_strdup (banger_vm_info_get_name (vm));
  row[1] = g_strdup (banger_vm_state_to_string (banger_vm_info_get_state (vm)));
  row[2] = g_strdup (banger_vmm_kind_to_string (banger_vm_info_get_vmm (vm)));
  row[3] = g_strdup (banger_vm_info_get_ip (vm) ? banger_vm_info_get_ip (vm) : "-");
  row[4] = g_strdup_printf ("%u", banger_vm_info_get_vcpus (vm));
  row[5] = g_strdup_printf ("%" G_GUINT64_FORMAT " MiB", banger_vm_info_get_memory_mib (vm));
  row[6] = banger_vm_info_get_pid (vm) ? g_strdup_printf ("%d", banger_vm_info_get_pid (vm))
                                       : g_strdup ("-");
  row[7] = banger_cli_format_time (banger_vm_info_get_created_at (vm));
  return row;
}

int
banger_builtin_vm_list (int argc, char **argv, BangerCliGlobals *globals)
{
  const char *header[] = { "NAME", "STATE", "VMM", "IP", "VCPUS", "MEMORY", "PID", "CREATED" };
  g_autoptr (GPtrArray) vms = NULL;
  int code;

  vms = banger_cli_list_call (argc, argv, globals, "vm list", "List VMs.",
                              banger_client_vm_list_async, banger_client_vm_list_finish, &code);
  if (vms == NULL)
    return code;
  if (globals->json)
    {
      g_autoptr (JsonArray) a = json_array_new ();
      g_autoptr (JsonNode) root = json_node_new (JSON_NODE_ARRAY);
      for (guint i = 0; i < vms->len; i++)
        json_array_add_element (a, banger_cli_vm_json (vms->pdata[i]));
      json_node_set_array (root, a);
      banger_cli_print_json (root);
      return BANGER_EXIT_OK;
    }
  banger_cli_print_list_table (header, 8, vms, vm_row);
  return BANGER_EXIT_OK;
}

int
banger_builtin_vm_set (int argc, char **argv, BangerCliGlobals *globals)
{
  int vcpus = 0, memory = 0, balloon = -1, code;
  GOptionEntry entries[] = {
    { "vcpus", 0, 0, G_OPTION_ARG_INT, &vcpus, "vCPUs (1-32)", "N" },
    { "memory", 0, 0, G_OPTION_ARG_INT, &memory, "Memory in MiB (64-262144)", "MIB" },
    { "balloon", 0, 0, G_OPTION_ARG_INT, &balloon,
      "A running VM's balloon: MiB taken back from the guest", "MIB" },
    { NULL },
  };
  g_autoptr (BangerClient) client = NULL;
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (BangerVmInfo) vm = NULL;
  g_autoptr (GError) error = NULL;

  if (!banger_cli_parse ("vm set", "NAME",
                         "Change a stopped VM's vCPUs or memory, or a running VM's balloon.",
                         entries, 1, &argc, &argv, &code))
    return code;
  if (balloon >= 0 && vcpus <= 0 && memory <= 0)
    return banger_cli_vm_set_balloon (globals, argv[1], (guint64)balloon);
  if (balloon >= 0)
    {
      g_printerr ("banger vm set: --balloon (a running VM's) cannot come with --vcpus or "
                  "--memory (a stopped VM's)\n");
      return BANGER_EXIT_USAGE;
    }
  if (vcpus <= 0 && memory <= 0)
    {
      g_printerr ("banger vm set: give --vcpus or --memory (positive)\n");
      return BANGER_EXIT_USAGE;
    }
  client = banger_cli_client (globals);
  banger_client_vm_set_async (client, argv[1], (guint)MAX (vcpus, 0), (guint64)MAX (memory, 0),
                              NULL, banger_cli_done, &res);
  vm = banger_client_vm_set_finish (client, banger_cli_wait (&res), &error);
  if (vm == NULL)
    return banger_cli_fail (globals, "vm set", error);
  banger_cli_print_vm (globals, vm);
  return BANGER_EXIT_OK;
}
