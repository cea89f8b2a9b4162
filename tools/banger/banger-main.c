/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * banger: the command-line front-end.  Dispatches `banger GROUP COMMAND` (or
 * `banger COMMAND` for the top-level ones) to one builtin per file. */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "banger-builtins.h"
#include "banger-error-private.h"

static const BangerBuiltin vm_builtins[] = {
  { "create", "Create a VM from an image and boot it", banger_builtin_vm_create },
  { "start", "Start a stopped VM", banger_builtin_vm_start },
  { "stop", "Stop a VM gracefully (power button, then TERM, then KILL); disks are kept",
    banger_builtin_vm_stop },
  { "kill", "Kill a VM's VMM at once", banger_builtin_vm_kill },
  { "delete", "Delete a VM and everything made for it (alias: rm)", banger_builtin_vm_delete },
  { "rm", NULL, banger_builtin_vm_delete },
  { "list", "List VMs (alias: ls)", banger_builtin_vm_list },
  { "ls", NULL, banger_builtin_vm_list },
  { "show", "Show one VM", banger_builtin_vm_show },
  { "set", "Change a stopped VM's vCPUs or memory, or a running VM's balloon",
    banger_builtin_vm_set },
  { "exec", "Run a command in a VM over SSH", banger_builtin_vm_exec },
  { "ssh", "Open an SSH session to a VM (OpenSSH, host key checked)", banger_builtin_vm_ssh },
  { "workspace", "Push, pull or show a VM's workspace (push|pull|status)",
    banger_builtin_vm_workspace },
  { "pause", "Pause a running VM", banger_builtin_vm_pause },
  { "resume", "Resume a paused VM", banger_builtin_vm_resume },
  { "snapshot", "Snapshot a running or paused VM (memory, devices, disks)",
    banger_builtin_vm_snapshot },
  { "restore", "Make a new VM from a snapshot", banger_builtin_vm_restore },
  { "stats", "A running VM's CPU, memory, balloon, disk and network figures",
    banger_builtin_vm_stats },
  { "port", "List a VM's published ports and egress policy", banger_builtin_vm_port },
  { NULL, NULL, NULL },
};

static const BangerBuiltin image_builtins[] = {
  { "import", "Import an ext4 root file system image", banger_builtin_image_import },
  { "pull", "Pull an image from an OCI registry", banger_builtin_image_pull },
  { "list", "List images (alias: ls)", banger_builtin_image_list },
  { "ls", NULL, banger_builtin_image_list },
  { "delete", "Delete an image (alias: rm)", banger_builtin_image_delete },
  { "rm", NULL, banger_builtin_image_delete },
  { "prune", "Remove downloaded blobs no image or kernel uses", banger_builtin_image_prune },
  { NULL, NULL, NULL },
};

static const BangerBuiltin snapshot_builtins[] = {
  { "list", "List snapshots (alias: ls)", banger_builtin_snapshot_list },
  { "ls", NULL, banger_builtin_snapshot_list },
  { "delete", "Delete a snapshot (alias: rm)", banger_builtin_snapshot_delete },
  { "rm", NULL, banger_builtin_snapshot_delete },
  { NULL, NULL, NULL },
};

static const BangerBuiltin kernel_builtins[] = {
  { "add", "Register a guest kernel (and initrd)", banger_builtin_kernel_add },
  { "pull", "Pull a guest kernel (OCI artifact, or URL with --sha256)", banger_builtin_kernel_pull },
  { "list", "List kernels (alias: ls)", banger_builtin_kernel_list },
  { "ls", NULL, banger_builtin_kernel_list },
  { "delete", "Delete a kernel (alias: rm)", banger_builtin_kernel_delete },
  { "rm", NULL, banger_builtin_kernel_delete },
  { NULL, NULL, NULL },
};

static const BangerBuiltin system_builtins[] = {
  { "install", "Write the install config (owner, fixed binaries) for the root helper",
    banger_builtin_system_install },
  { NULL, NULL, NULL },
};

typedef struct
{
  const char *name;
  const char *summary;
  const BangerBuiltin *sub; /* a group of subcommands, or NULL */
  BangerBuiltinFunc fn;     /* a top-level command */
} BangerGroup;

static const BangerGroup groups[] = {
  { "vm", "Manage virtual machines", vm_builtins, NULL },
  { "image", "Manage root file system images", image_builtins, NULL },
  { "kernel", "Manage guest kernels", kernel_builtins, NULL },
  { "snapshot", "Manage VM snapshots (banger vm snapshot / vm restore)", snapshot_builtins, NULL },
  { "system", "Install and configure banger on this host", system_builtins, NULL },
  { "doctor", "Check what this host can do", NULL, banger_builtin_doctor },
  { "ssh-config", "Add or remove the Include line for VMs in ~/.ssh/config", NULL,
    banger_builtin_ssh_config },
  { NULL, NULL, NULL, NULL },
};

int
banger_cli_report_error (BangerCliGlobals *globals, const char *command, const GError *error)
{
  if (globals->json)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      g_autoptr (JsonGenerator) gen = json_generator_new ();
      g_autoptr (JsonNode) root = NULL;
      g_autofree char *out = NULL;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "error");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "code");
      json_builder_add_string_value (b, banger_error_to_name (banger_error_code_from_gerror (error)));
      json_builder_set_member_name (b, "message");
      json_builder_add_string_value (b, error->message);
      json_builder_end_object (b);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      json_generator_set_root (gen, root);
      out = json_generator_to_data (gen, NULL);
      g_print ("%s\n", out);
    }
  g_printerr ("banger %s: %s\n", command, error->message);
  return BANGER_EXIT_FAILED;
}

static void
print_group_help (FILE *f, const BangerGroup *g)
{
  fprintf (f, "Usage: banger [--json] %s COMMAND [ARGS…]\n\n%s.\n\nCommands:\n", g->name,
           g->summary);
  for (const BangerBuiltin *b = g->sub; b->name; b++)
    if (b->summary != NULL) /* aliases have none */
      fprintf (f, "  %-8s %s%s\n", b->name, b->summary, b->fn ? "" : " (not built yet)");
}

static void
print_help (FILE *f)
{
  fprintf (f, "Usage: banger [--json] [--socket PATH] [--version] COMMAND [ARGS…]\n\n"
              "Run disposable microVMs (Firecracker or QEMU microvm) with SSH in seconds.\n\n"
              "Commands:\n");
  for (const BangerGroup *g = groups; g->name; g++)
    fprintf (f, "  %-8s %s\n", g->name, g->summary);
  fprintf (f, "\nGlobal options:\n"
              "  --json     Machine-readable output (one JSON document on stdout)\n"
              "  --socket PATH  bangerd's socket (default: $BANGER_SOCKET, else\n"
              "             $XDG_RUNTIME_DIR/banger/bangerd.sock)\n"
              "  --version  Print the version and exit\n"
              "  -h, --help Show this help\n\n"
              "Run 'banger COMMAND --help' for a command's options.\n");
}

static int
not_built (BangerCliGlobals *globals, const char *group, const char *command)
{
  g_autofree char *full = g_strdup_printf ("%s %s", group, command);
  g_autoptr (GError) error = g_error_new (BANGER_ERROR, BANGER_ERROR_UNSUPPORTED,
                                          "this command is not built into banger %s yet",
                                          PACKAGE_VERSION);
  banger_cli_report_error (globals, full, error);
  return BANGER_EXIT_USAGE;
}

int
main (int argc, char **argv)
{
  BangerCliGlobals globals = { 0 };
  int i;

  setlocale (LC_ALL, "");

  /* Global options come before the command. */
  for (i = 1; i < argc && argv[i][0] == '-'; i++)
    {
      if (g_str_equal (argv[i], "--json"))
        globals.json = TRUE;
      else if (g_str_equal (argv[i], "--socket") && i + 1 < argc)
        globals.socket = argv[++i];
      else if (g_str_has_prefix (argv[i], "--socket="))
        globals.socket = argv[i] + strlen ("--socket=");
      else if (g_str_equal (argv[i], "--version"))
        {
          g_print ("banger %s\n", PACKAGE_VERSION);
          return BANGER_EXIT_OK;
        }
      else if (g_str_equal (argv[i], "--help") || g_str_equal (argv[i], "-h"))
        {
          print_help (stdout);
          return BANGER_EXIT_OK;
        }
      else
        {
          g_printerr ("banger: unknown option '%s'\n\n", argv[i]);
          print_help (stderr);
          return BANGER_EXIT_USAGE;
        }
    }
  if (i >= argc)
    {
      print_help (stderr);
      return BANGER_EXIT_USAGE;
    }

  for (const BangerGroup *g = groups; g->name; g++)
    {
      if (!g_str_equal (argv[i], g->name))
        continue;
      if (g->fn)
        return g->fn (argc - i, argv + i, &globals);
      if (i + 1 >= argc || g_str_equal (argv[i + 1], "--help") || g_str_equal (argv[i + 1], "-h"))
        {
          print_group_help (i + 1 >= argc ? stderr : stdout, g);
          return i + 1 >= argc ? BANGER_EXIT_USAGE : BANGER_EXIT_OK;
        }
      for (const BangerBuiltin *b = g->sub; b->name; b++)
        {
          if (!g_str_equal (argv[i + 1], b->name))
            continue;
          if (b->fn == NULL)
            return not_built (&globals, g->name, b->name);
          return b->fn (argc - i - 1, argv + i + 1, &globals);
        }
      g_printerr ("banger %s: unknown command '%s'\n\n", g->name, argv[i + 1]);
      print_group_help (stderr, g);
      return BANGER_EXIT_USAGE;
    }

  g_printerr ("banger: unknown command '%s'\n\n", argv[i]);
  print_help (stderr);
  return BANGER_EXIT_USAGE;
}
