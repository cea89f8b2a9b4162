/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * banger image pull, banger kernel pull, banger image prune (doc/cli.md). */
#include "config.h"

#include "banger-cli-call.h"
#include "banger-cli-progress.h"

static void
print_image_json (BangerImageInfo *im)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) node = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, banger_image_info_get_name (im));
  json_builder_set_member_name (b, "ref");
  banger_cli_json_add_nullable (b, banger_image_info_get_ref (im));
  json_builder_set_member_name (b, "digest");
  banger_cli_json_add_nullable (b, banger_image_info_get_digest (im));
  json_builder_set_member_name (b, "path");
  json_builder_add_string_value (b, banger_image_info_get_path (im));
  json_builder_set_member_name (b, "size_bytes");
  json_builder_add_int_value (b, (gint64)banger_image_info_get_size (im));
  json_builder_end_object (b);
  node = json_builder_get_root (b);
  banger_cli_print_json (node);
}

/* The live line is fed from the daemon's progress events of this pull's
 * own op id (banger-cli-progress.h): the client subscribes first (no
 * subscription: the line shows elapsed time only), and another client's
 * pull at the same moment does not move it. */

int
banger_builtin_image_pull (int argc, char **argv, BangerCliGlobals *globals)
{
  g_autofree char *name = NULL;
  g_autofree char *size_text = NULL;
  guint64 size = 0;
  int code;
  GOptionEntry entries[] = {
    { "name", 0, 0, G_OPTION_ARG_STRING, &name, "The image's name (default: from REF)", "NAME" },
    { "size", 0, 0, G_OPTION_ARG_STRING, &size_text,
      "The root file system's size (default: content plus headroom)", "SIZE" },
    { NULL },
  };
  g_autoptr (BangerClient) client = NULL;
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (BangerImageInfo) image = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *what = NULL;
  BangerCliProgress *progress;

  if (!banger_cli_parse ("image pull", "REF",
                         "Pull an image from an OCI registry and build its ext4 root file "
                         "system.",
                         entries, 1, &argc, &argv, &code))
    return code;
  if (size_text != NULL && !banger_cli_parse_size (size_text, &size))
    {
      g_printerr ("banger image pull: --size '%s' is not a size (e.g. 2G, 512M)\n", size_text);
      return BANGER_EXIT_USAGE;
    }
  client = banger_cli_client (globals);
  what = g_strdup_printf ("Pulling %s", argv[1]);
  progress = banger_cli_progress_new (what, globals->json);
  banger_cli_progress_watch (progress, client);
  banger_client_image_pull_async (client, argv[1], name, size, NULL, banger_cli_done, &res);
  banger_cli_progress_set_op_id (progress, banger_client_get_last_op_id (client));
  image = banger_client_image_pull_finish (client, banger_cli_wait (&res), &error);
  banger_cli_progress_unwatch (progress);
  if (image == NULL)
    {
      banger_cli_progress_finish (progress, NULL);
      return banger_cli_fail (globals, "image pull", error);
    }
  {
    g_autofree char *size_str = banger_cli_format_size (banger_image_info_get_size (image));
    g_autofree char *summary
        = g_strdup_printf ("%s (%s, %s)", banger_image_info_get_name (image),
                           banger_image_info_get_digest (image), size_str);
    banger_cli_progress_finish (progress, summary);
  }
  if (globals->json)
    print_image_json (image);
  else
    g_print ("%s\n", banger_image_info_get_name (image));
  return BANGER_EXIT_OK;
}

int
banger_builtin_kernel_pull (int argc, char **argv, BangerCliGlobals *globals)
{
  g_autofree char *name = NULL;
  g_autofree char *sha256 = NULL;
  int code;
  GOptionEntry entries[] = {
    { "name", 0, 0, G_OPTION_ARG_STRING, &name, "The kernel's name (default: from REF)", "NAME" },
    { "sha256", 0, 0, G_OPTION_ARG_STRING, &sha256,
      "For a URL: the sha256 its content must have (required)", "HEX" },
    { NULL },
  };
  g_autoptr (BangerClient) client = NULL;
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (BangerKernelInfo) k = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *what = NULL;
  BangerCliProgress *progress;

  if (!banger_cli_parse ("kernel pull", "REF|URL",
                         "Pull a guest kernel: a banger kernel artifact from an OCI registry, "
                         "or an https:// URL with --sha256.",
                         entries, 1, &argc, &argv, &code))
    return code;
  client = banger_cli_client (globals);
  what = g_strdup_printf ("Pulling %s", argv[1]);
  progress = banger_cli_progress_new (what, globals->json);
  banger_cli_progress_watch (progress, client);
  banger_client_kernel_pull_async (client, argv[1], name, sha256, NULL, banger_cli_done, &res);
  banger_cli_progress_set_op_id (progress, banger_client_get_last_op_id (client));
  k = banger_client_kernel_pull_finish (client, banger_cli_wait (&res), &error);
  banger_cli_progress_unwatch (progress);
  if (k == NULL)
    {
      banger_cli_progress_finish (progress, NULL);
      return banger_cli_fail (globals, "kernel pull", error);
    }
  {
    g_autofree char *summary = g_strdup_printf ("%s (%s)", banger_kernel_info_get_name (k),
                                                banger_kernel_info_get_digest (k));
    banger_cli_progress_finish (progress, summary);
  }
  if (globals->json)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      g_autoptr (JsonNode) node = NULL;
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, banger_kernel_info_get_name (k));
      json_builder_set_member_name (b, "ref");
      banger_cli_json_add_nullable (b, banger_kernel_info_get_ref (k));
      json_builder_set_member_name (b, "digest");
      banger_cli_json_add_nullable (b, banger_kernel_info_get_digest (k));
      json_builder_set_member_name (b, "kernel");
      json_builder_add_string_value (b, banger_kernel_info_get_kernel_path (k));
      json_builder_set_member_name (b, "initrd");
      banger_cli_json_add_nullable (b, banger_kernel_info_get_initrd_path (k));
      json_builder_end_object (b);
      node = json_builder_get_root (b);
      banger_cli_print_json (node);
    }
  else
    g_print ("%s\n", banger_kernel_info_get_name (k));
  return BANGER_EXIT_OK;
}

int
banger_builtin_image_prune (int argc, char **argv, BangerCliGlobals *globals)
{
  int code;
  GOptionEntry entries[] = { { NULL } };
  g_autoptr (BangerClient) client = NULL;
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  guint removed = 0;
  guint64 bytes = 0;

  if (!banger_cli_parse ("image prune", NULL,
                         "Remove the downloaded blobs no image or kernel refers to.", entries, 0,
                         &argc, &argv, &code))
    return code;
  client = banger_cli_client (globals);
  banger_client_image_prune_async (client, NULL, banger_cli_done, &res);
  if (!banger_client_image_prune_finish (client, banger_cli_wait (&res), &removed, &bytes,
                                         &error))
    return banger_cli_fail (globals, "image prune", error);
  if (globals->json)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      g_autoptr (JsonNode) node = NULL;
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "removed_blobs");
      json_builder_add_int_value (b, removed);
      json_builder_set_member_name (b, "removed_bytes");
      json_builder_add_int_value (b, (gint64)bytes);
      json_builder_end_object (b);
      node = json_builder_get_root (b);
      banger_cli_print_json (node);
    }
  else
    {
      g_autofree char *size = banger_cli_format_size (bytes);
      g_print ("%u blobs removed (%s)\n", removed, size);
    }
  return BANGER_EXIT_OK;
}
