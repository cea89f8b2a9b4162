/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The CLI's shared client helpers (see banger-cli-client.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "banger-cli-client.h"
#include "banger-engine-config.h"
#include "banger-error-private.h"

BangerClient *
banger_cli_client (BangerCliGlobals *globals)
{
  return banger_client_new_for_socket (globals->socket);
}

void
banger_cli_done (GObject *source, GAsyncResult *result, gpointer slot)
{
  *(GAsyncResult **)slot = g_object_ref (result);
}

GAsyncResult *
banger_cli_wait (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *slot;
}

gboolean
banger_cli_parse (const char *command, const char *args_help, const char *summary,
                  GOptionEntry *entries, int n_args, int *argc, char ***argv, int *out_exit)
{
  g_autofree char *param = g_strdup_printf ("%s", args_help ? args_help : "");
  g_autoptr (GOptionContext) ctx = g_option_context_new (param);
  g_autoptr (GError) error = NULL;
  g_autofree char *prg = g_strdup_printf ("banger %s", command);

  g_set_prgname (prg);
  g_option_context_set_summary (ctx, summary);
  if (entries != NULL)
    g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_help_enabled (ctx, TRUE);
  if (!g_option_context_parse (ctx, argc, argv, &error))
    {
      g_printerr ("banger %s: %s\n", command, error->message);
      *out_exit = BANGER_EXIT_USAGE;
      return FALSE;
    }
  if ((n_args >= 0 && *argc - 1 != n_args) || (n_args < 0 && *argc - 1 < 1))
    {
      g_autofree char *help = g_option_context_get_help (ctx, TRUE, NULL);
      g_printerr ("banger %s: expected %s\n\n%s", command,
                  args_help && args_help[0] ? args_help : "no arguments", help);
      *out_exit = BANGER_EXIT_USAGE;
      return FALSE;
    }
  return TRUE;
}

int
banger_cli_fail (BangerCliGlobals *globals, const char *command, const GError *error)
{
  /* no daemon: the socket is absent or nobody listens */
  if (error->domain == G_IO_ERROR
      || (error->domain == BANGER_ERROR && strstr (error->message, "Cannot connect") != NULL))
    {
      g_autofree char *path
          = globals->socket ? g_strdup (globals->socket) : banger_engine_default_socket ();
      g_autoptr (GError) e = g_error_new (BANGER_ERROR, BANGER_ERROR_NOT_FOUND,
                                          "no bangerd answers on %s (%s); start one with "
                                          "'bangerd', or point --socket or BANGER_SOCKET at a "
                                          "running one",
                                          path, error->message);
      return banger_cli_report_error (globals, command, e);
    }
  return banger_cli_report_error (globals, command, error);
}

void
banger_cli_print_table (const char *const *header, GPtrArray *rows, guint n_cols)
{
  g_autofree gsize *width = g_new0 (gsize, n_cols);

  for (guint c = 0; c < n_cols; c++)
    width[c] = g_utf8_strlen (header[c], -1);
  for (guint r = 0; r < rows->len; r++)
    {
      char **row = rows->pdata[r];
      for (guint c = 0; c < n_cols; c++)
        width[c] = MAX (width[c], row[c] ? (gsize)g_utf8_strlen (row[c], -1) : 1);
    }
  for (guint c = 0; c < n_cols; c++)
    {
      if (c + 1 < n_cols)
        g_print ("%-*s  ", (int)width[c], header[c]);
      else
        g_print ("%s\n", header[c]);
    }
  for (guint r = 0; r < rows->len; r++)
    {
      char **row = rows->pdata[r];
      for (guint c = 0; c < n_cols; c++)
        {
          const char *v = row[c] ? row[c] : "-";
          if (c + 1 < n_cols)
            g_print ("%s%*s  ", v, (int)(width[c] - g_utf8_strlen (v, -1)), "");
          else
            g_print ("%s\n", v);
        }
    }
}

void
banger_cli_print_json (JsonNode *node)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autofree char *out = NULL;

  json_generator_set_pretty (gen, TRUE);
  json_generator_set_root (gen, node);
  out = json_generator_to_data (gen, NULL);
  g_print ("%s\n", out);
}

char *
banger_cli_format_time (gint64 unix_us)
{
  g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (unix_us / G_USEC_PER_SEC);
  return dt ? g_date_time_format_iso8601 (dt) : g_strdup ("-");
}

void
banger_cli_json_add_nullable (JsonBuilder *b, const char *value)
{
  if (value != NULL)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

char *
banger_cli_format_size (guint64 bytes)
{
  return g_format_size_full (bytes, G_FORMAT_SIZE_IEC_UNITS);
}

gboolean
banger_cli_parse_size (const char *s, guint64 *out)
{
  char *end = NULL;
  guint64 v, mult = 1;

  if (s == NULL || !g_ascii_isdigit (s[0]))
    return FALSE;
  v = g_ascii_strtoull (s, &end, 10);
  if (g_str_equal (end, "") || g_ascii_strcasecmp (end, "B") == 0)
    mult = 1;
  else if (g_ascii_strcasecmp (end, "K") == 0 || g_ascii_strcasecmp (end, "KiB") == 0)
    mult = 1024;
  else if (g_ascii_strcasecmp (end, "M") == 0 || g_ascii_strcasecmp (end, "MiB") == 0)
    mult = 1024 * 1024;
  else if (g_ascii_strcasecmp (end, "G") == 0 || g_ascii_strcasecmp (end, "GiB") == 0)
    mult = 1024 * 1024 * 1024;
  else if (g_ascii_strcasecmp (end, "T") == 0 || g_ascii_strcasecmp (end, "TiB") == 0)
    mult = G_GUINT64_CONSTANT (1024) * 1024 * 1024 * 1024;
  else
    return FALSE;
  if (v > G_MAXUINT64 / mult)
    return FALSE;
  *out = v * mult;
  return TRUE;
}

char *
banger_cli_absolute (const char *path)
{
  return g_canonicalize_filename (path, NULL);
}

static void
member_str (JsonBuilder *b, const char *name, const char *v)
{
  json_builder_set_member_name (b, name);
  if (v)
    json_builder_add_string_value (b, v);
  else
    json_builder_add_null_value (b);
}

static void
member_int (JsonBuilder *b, const char *name, gint64 v)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, v);
}

JsonNode *
banger_cli_vm_json (BangerVmInfo *vm)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree char *created = banger_cli_format_time (banger_vm_info_get_created_at (vm));

  json_builder_begin_object (b);
  member_str (b, "name", banger_vm_info_get_name (vm));
  member_str (b, "id", banger_vm_info_get_id (vm));
  member_str (b, "state", banger_vm_state_to_string (banger_vm_info_get_state (vm)));
  member_str (b, "vmm", banger_vmm_kind_to_string (banger_vm_info_get_vmm (vm)));
  member_int (b, "pid", banger_vm_info_get_pid (vm));
  member_str (b, "ip", banger_vm_info_get_ip (vm));
  member_str (b, "tap", banger_vm_info_get_tap (vm));
  member_str (b, "publish", banger_vm_info_get_publish (vm));
  member_str (b, "egress", banger_vm_info_get_egress (vm));
  member_int (b, "vcpus", banger_vm_info_get_vcpus (vm));
  member_int (b, "memory_mib", (gint64)banger_vm_info_get_memory_mib (vm));
  member_int (b, "work_disk_bytes", (gint64)banger_vm_info_get_work_disk_size (vm));
  member_str (b, "rootfs_cow", banger_vm_info_get_rootfs_cow (vm));
  member_str (b, "image", banger_vm_info_get_image (vm));
  member_str (b, "kernel", banger_vm_info_get_kernel (vm));
  member_str (b, "created_at", created);
  member_str (b, "failed_step", banger_vm_info_get_failed_step (vm));
  member_str (b, "error", banger_vm_info_get_error_message (vm));
  json_builder_end_object (b);
  return json_builder_get_root (b);
}
