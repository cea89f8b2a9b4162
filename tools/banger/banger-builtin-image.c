/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * banger image import|list|delete and banger kernel add|list|delete
 * (doc/cli.md). */
#include "config.h"

#include "banger-cli-call.h"

int
banger_builtin_image_import (int argc, char **argv, BangerCliGlobals *globals)
{
  g_autofree char *rootfs = NULL;
  g_autofree char *abs = NULL;
  int code;
  GOptionEntry entries[] = {
    { "rootfs", 0, 0, G_OPTION_ARG_FILENAME, &rootfs, "The ext4 image to import", "PATH.ext4" },
    { NULL },
  };
  g_autoptr (BangerClient) client = NULL;
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (BangerImageInfo) image = NULL;
  g_autoptr (GError) error = NULL;

  if (!banger_cli_parse ("image import", "NAME", "Import an ext4 root file system image.", entries,
                         1, &argc, &argv, &code))
    return code;
  if (rootfs == NULL)
    {
      g_printerr ("banger image import: --rootfs is required\n");
      return BANGER_EXIT_USAGE;
    }
  abs = banger_cli_absolute (rootfs);
  client = banger_cli_client (globals);
  banger_client_image_import_async (client, argv[1], abs, NULL, banger_cli_done, &res);
  image = banger_client_image_import_finish (client, banger_cli_wait (&res), &error);
  if (image == NULL)
    return banger_cli_fail (globals, "image import", error);
  if (!globals->json)
    g_print ("%s\n", banger_image_info_get_name (image));
  return BANGER_EXIT_OK;
}

static void
image_json_members (JsonBuilder *b, gpointer item)
{
  BangerImageInfo *im = item;
  g_autofree char *t = banger_cli_format_time (banger_image_info_get_created_at (im));

  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, banger_image_info_get_name (im));
  json_builder_set_member_name (b, "path");
  json_builder_add_string_value (b, banger_image_info_get_path (im));
  json_builder_set_member_name (b, "size_bytes");
  json_builder_add_int_value (b, (gint64)banger_image_info_get_size (im));
  json_builder_set_member_name (b, "ref");
  banger_cli_json_add_nullable (b, banger_image_info_get_ref (im));
  json_builder_set_member_name (b, "digest");
  banger_cli_json_add_nullable (b, banger_image_info_get_digest (im));
  json_builder_set_member_name (b, "created_at");
  json_builder_add_string_value (b, t);
}

static char **
image_row (gpointer item)
{
  BangerImageInfo *im = item;
  char **row = g_new0 (char *, 6);
  const char *ref = banger_image_info_get_ref (im);
  const char *digest = banger_image_info_get_digest (im);

  row[0] = g_strdup (banger_image_info_get_name (im));
  row[1] = g_strdup (ref ? ref : "-");
  /* "sha256:" and 12 hex digits, as container tools show an id */
  row[2] = digest ? g_strndup (digest, 7 + 12) : g_strdup ("-");
  row[3] = banger_cli_format_size (banger_image_info_get_size (im));
  row[4] = banger_cli_format_time (banger_image_info_get_created_at (im));
  return row;
}

int
banger_builtin_image_list (int argc, char **argv, BangerCliGlobals *globals)
{
  const char *header[] = { "NAME", "REF", "DIGEST", "SIZE", "CREATED" };

  return banger_cli_list_command (argc, argv, globals, "image list", "List images.",
                                  banger_client_image_list_async, banger_client_image_list_finish,
                                  image_json_members, header, 5, image_row);
}

int
banger_builtin_image_delete (int argc, char **argv, BangerCliGlobals *globals)
{
  return banger_cli_name_command (argc, argv, globals, "image delete", "Delete an image.",
                                  banger_client_image_delete_async,
                                  banger_client_image_delete_finish);
}

int
banger_builtin_kernel_delete (int argc, char **argv, BangerCliGlobals *globals)
{
  return banger_cli_name_command (argc, argv, globals, "kernel delete", "Delete a kernel.",
                                  banger_client_kernel_delete_async,
                                  banger_client_kernel_delete_finish);
}

int
banger_builtin_kernel_add (int argc, char **argv, BangerCliGlobals *globals)
{
  g_autofree char *kernel = NULL, *initrd = NULL, *cmdline = NULL;
  g_autofree char *kabs = NULL, *iabs = NULL;
  int code;
  GOptionEntry entries[] = {
    { "kernel", 0, 0, G_OPTION_ARG_FILENAME, &kernel, "The kernel image", "PATH" },
    { "initrd", 0, 0, G_OPTION_ARG_FILENAME, &initrd, "An initrd", "PATH" },
    { "cmdline", 0, 0, G_OPTION_ARG_STRING, &cmdline, "Extra kernel arguments", "ARGS" },
    { NULL },
  };
  g_autoptr (BangerClient) client = NULL;
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (BangerKernelInfo) k = NULL;
  g_autoptr (GError) error = NULL;

  if (!banger_cli_parse ("kernel add", "NAME", "Register a guest kernel.", entries, 1, &argc, &argv,
                         &code))
    return code;
  if (kernel == NULL)
    {
      g_printerr ("banger kernel add: --kernel is required\n");
      return BANGER_EXIT_USAGE;
    }
  kabs = banger_cli_absolute (kernel);
  iabs = initrd ? banger_cli_absolute (initrd) : NULL;
  client = banger_cli_client (globals);
  banger_client_kernel_add_async (client, argv[1], kabs, iabs, cmdline, NULL, banger_cli_done,
                                  &res);
  k = banger_client_kernel_add_finish (client, banger_cli_wait (&res), &error);
  if (k == NULL)
    return banger_cli_fail (globals, "kernel add", error);
  if (!globals->json)
    g_print ("%s\n", banger_kernel_info_get_name (k));
  return BANGER_EXIT_OK;
}

static void
kernel_json_members (JsonBuilder *b, gpointer item)
{
  BangerKernelInfo *k = item;
  g_autofree char *t = banger_cli_format_time (banger_kernel_info_get_created_at (k));

  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, banger_kernel_info_get_name (k));
  json_builder_set_member_name (b, "kernel");
  json_builder_add_string_value (b, banger_kernel_info_get_kernel_path (k));
  json_builder_set_member_name (b, "initrd");
  if (banger_kernel_info_get_initrd_path (k))
    json_builder_add_string_value (b, banger_kernel_info_get_initrd_path (k));
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "created_at");
  json_builder_add_string_value (b, t);
}

static char **
kernel_row (gpointer item)
{
  BangerKernelInfo *k = item;
  char **row = g_new0 (char *, 5);

  row[0] = g_strdup (banger_kernel_info_get_name (k));
  row[1] = g_strdup (banger_kernel_info_get_initrd_path (k) ? "yes" : "no");
  row[2] = g_strdup (banger_kernel_info_get_cmdline (k) ? banger_kernel_info_get_cmdline (k) : "-");
  row[3] = banger_cli_format_time (banger_kernel_info_get_created_at (k));
  return row;
}

int
banger_builtin_kernel_list (int argc, char **argv, BangerCliGlobals *globals)
{
  const char *header[] = { "NAME", "INITRD", "CMDLINE", "CREATED" };

  return banger_cli_list_command (argc, argv, globals, "kernel list", "List kernels.",
                                  banger_client_kernel_list_async, banger_client_kernel_list_finish,
                                  kernel_json_members, header, 4, kernel_row);
}
