/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * banger vm pause|resume|snapshot|restore|stats, banger vm set --balloon,
 * banger snapshot ls|rm: each a thin layer over one BangerClient call
 * (doc/cli.md). */
#include "config.h"

#include <stdio.h>
#include <unistd.h>

#include "banger-cli-call.h"
#include "banger-cli-progress.h"

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
  vm = fin (client, res, &error);
  if (vm == NULL)
    return banger_cli_fail (globals, command, error);
  banger_cli_print_vm (globals, vm);
  return BANGER_EXIT_OK;
}

int
banger_builtin_vm_pause (int argc, char **argv, BangerCliGlobals *globals)
{
  return vm_name_command (argc, argv, globals, "vm pause",
                          "Pause a running VM (its vCPUs stop; VMM, tap and address stay).",
                          banger_client_vm_pause_async, banger_client_vm_pause_finish);
}

int
banger_builtin_vm_resume (int argc, char **argv, BangerCliGlobals *globals)
{
  return vm_name_command (argc, argv, globals, "vm resume", "Resume a paused VM.",
                          banger_client_vm_resume_async, banger_client_vm_resume_finish);
}

/* ------------------------------------------------------------ snapshots */

static void
snapshot_members (JsonBuilder *b, gpointer item)
{
  BangerSnapshotInfo *s = item;
  g_autofree char *created = banger_cli_format_time (banger_snapshot_info_get_created_at (s));
  struct
  {
    const char *name;
    const char *value;
  } strs[] = {
    { "name", banger_snapshot_info_get_name (s) },
    { "vm", banger_snapshot_info_get_vm_name (s) },
    { "vmm", banger_vmm_kind_to_string (banger_snapshot_info_get_vmm (s)) },
    { "image", banger_snapshot_info_get_image (s) },
    { "kernel", banger_snapshot_info_get_kernel (s) },
    { "parent", banger_snapshot_info_get_parent (s) },
    { "guest_ip", banger_snapshot_info_get_guest_ip (s) },
    { "created_at", created },
  };

  for (guint i = 0; i < G_N_ELEMENTS (strs); i++)
    {
      json_builder_set_member_name (b, strs[i].name);
      if (strs[i].value != NULL)
        json_builder_add_string_value (b, strs[i].value);
      else
        json_builder_add_null_value (b);
    }
  json_builder_set_member_name (b, "diff");
  json_builder_add_boolean_value (b, banger_snapshot_info_get_diff (s));
  json_builder_set_member_name (b, "vcpus");
  json_builder_add_int_value (b, banger_snapshot_info_get_vcpus (s));
  json_builder_set_member_name (b, "memory_mib");
  json_builder_add_int_value (b, (gint64)banger_snapshot_info_get_memory_mib (s));
  json_builder_set_member_name (b, "work_disk_bytes");
  json_builder_add_int_value (b, (gint64)banger_snapshot_info_get_work_disk_size (s));
  json_builder_set_member_name (b, "size_bytes");
  json_builder_add_int_value (b, (gint64)banger_snapshot_info_get_size (s));
}

static char **
snapshot_row (gpointer item)
{
  BangerSnapshotInfo *s = item;
  char **row = g_new0 (char *, 8);

  row[0] = g_strdup (banger_snapshot_info_get_name (s));
  row[1] = g_strdup (banger_snapshot_info_get_vm_name (s));
  row[2] = g_strdup (banger_vmm_kind_to_string (banger_snapshot_info_get_vmm (s)));
  row[3] = g_strdup (banger_snapshot_info_get_diff (s) ? "diff" : "full");
  row[4] = g_strdup_printf ("%" G_GUINT64_FORMAT " MiB", banger_snapshot_info_get_memory_mib (s));
  row[5] = banger_cli_format_size (banger_snapshot_info_get_size (s));
  row[6] = banger_cli_format_time (banger_snapshot_info_get_created_at (s));
  return row;
}

int
banger_builtin_vm_snapshot (int argc, char **argv, BangerCliGlobals *globals)
{
  g_autofree char *name = NULL;
  gboolean diff = FALSE;
  int code;
  GOptionEntry entries[] = {
    { "name", 0, 0, G_OPTION_ARG_STRING, &name,
      "The snapshot's name (default: the VM's name and the time)", "SNAP" },
    { "diff", 0, 0, G_OPTION_ARG_NONE, &diff,
      "A Diff snapshot over the VM's newest Full one (Firecracker)", NULL },
    { NULL },
  };
  g_autoptr (BangerClient) client = NULL;
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (BangerSnapshotInfo) snap = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) one = NULL;
  g_autofree char *what = NULL;
  BangerCliProgress *progress;

  if (!banger_cli_parse ("vm snapshot", "NAME",
                         "Snapshot a running or paused VM: memory, devices and a copy-on-write "
                         "point of its disks.",
                         entries, 1, &argc, &argv, &code))
    return code;
  client = banger_cli_client (globals);
  what = g_strdup_printf ("Snapshotting %s", argv[1]);
  progress = banger_cli_progress_new (what, globals->json);
  banger_cli_progress_watch (progress, client);
  banger_client_vm_snapshot_async (client, argv[1], name, diff, NULL, banger_cli_done, &res);
  banger_cli_progress_set_op_id (progress, banger_client_get_last_op_id (client));
  snap = banger_client_vm_snapshot_finish (client, banger_cli_wait (&res), &error);
  if (snap == NULL)
    {
      banger_cli_progress_finish (progress, NULL);
      return banger_cli_fail (globals, "vm snapshot", error);
    }
  {
    g_autofree char *size = banger_cli_format_size (banger_snapshot_info_get_size (snap));
    g_autofree char *summary
        = g_strdup_printf ("%s (%s)", banger_snapshot_info_get_name (snap), size);
    banger_cli_progress_finish (progress, summary);
  }
  if (globals->json)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      g_autoptr (JsonNode) node = NULL;
      json_builder_begin_object (b);
      snapshot_members (b, snap);
      json_builder_end_object (b);
      node = json_builder_get_root (b);
      banger_cli_print_json (node);
      return BANGER_EXIT_OK;
    }
  one = g_ptr_array_new ();
  g_ptr_array_add (one, snap);
  {
    const char *header[] = { "NAME", "VM", "VMM", "TYPE", "MEMORY", "SIZE", "CREATED" };
    banger_cli_print_list_table (header, 7, one, snapshot_row);
  }
  return BANGER_EXIT_OK;
}

int
banger_builtin_snapshot_list (int argc, char **argv, BangerCliGlobals *globals)
{
  const char *header[] = { "NAME", "VM", "VMM", "TYPE", "MEMORY", "SIZE", "CREATED" };

  return banger_cli_list_command (
      argc, argv, globals, "snapshot list", "List snapshots.", banger_client_snapshot_list_async,
      banger_client_snapshot_list_finish, snapshot_members, header, 7, snapshot_row);
}

int
banger_builtin_snapshot_delete (int argc, char **argv, BangerCliGlobals *globals)
{
  return banger_cli_name_command (
      argc, argv, globals, "snapshot delete", "Delete a snapshot and its files.",
      banger_client_snapshot_delete_async, banger_client_snapshot_delete_finish);
}

int
banger_builtin_vm_restore (int argc, char **argv, BangerCliGlobals *globals)
{
  g_autofree char *name = NULL;
  int code;
  GOptionEntry entries[] = {
    { "name", 0, 0, G_OPTION_ARG_STRING, &name,
      "The new VM's name (default: the snapshotted VM's name and 6 hex digits)", "NEWVM" },
    { NULL },
  };
  g_autoptr (BangerClient) client = NULL;
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (BangerVmInfo) vm = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *what = NULL;
  BangerCliProgress *progress;

  if (!banger_cli_parse ("vm restore", "SNAP",
                         "Make a new VM that resumes from a snapshot: its own copy-on-write "
                         "disks, a new address, its own tap.",
                         entries, 1, &argc, &argv, &code))
    return code;
  client = banger_cli_client (globals);
  what = g_strdup_printf ("Restoring %s", argv[1]);
  progress = banger_cli_progress_new (what, globals->json);
  banger_cli_progress_watch (progress, client);
  banger_client_vm_restore_async (client, argv[1], name, NULL, banger_cli_done, &res);
  banger_cli_progress_set_op_id (progress, banger_client_get_last_op_id (client));
  vm = banger_client_vm_restore_finish (client, banger_cli_wait (&res), &error);
  if (vm == NULL)
    {
      banger_cli_progress_finish (progress, NULL);
      return banger_cli_fail (globals, "vm restore", error);
    }
  {
    g_autofree char *summary = g_strdup_printf ("%s", banger_vm_info_get_name (vm));
    banger_cli_progress_finish (progress, summary);
  }
  banger_cli_print_vm (globals, vm);
  return BANGER_EXIT_OK;
}

/* ---------------------------------------------------------------- stats */

static JsonNode *
stats_json (BangerVmStats *s, double cpu_percent)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  const struct
  {
    const char *name;
    gint64 value;
  } ints[] = {
    { "timestamp", banger_vm_stats_get_timestamp (s) },
    { "cpu_user_us", (gint64)banger_vm_stats_get_cpu_user_us (s) },
    { "cpu_system_us", (gint64)banger_vm_stats_get_cpu_system_us (s) },
    { "rss_bytes", (gint64)banger_vm_stats_get_rss_bytes (s) },
    { "memory_mib", (gint64)banger_vm_stats_get_memory_mib (s) },
    { "balloon_target_mib", banger_vm_stats_get_balloon_target_mib (s) },
    { "balloon_actual_mib", banger_vm_stats_get_balloon_actual_mib (s) },
    { "block_read_bytes", (gint64)banger_vm_stats_get_block_read_bytes (s) },
    { "block_write_bytes", (gint64)banger_vm_stats_get_block_write_bytes (s) },
    { "net_rx_bytes", (gint64)banger_vm_stats_get_net_rx_bytes (s) },
    { "net_tx_bytes", (gint64)banger_vm_stats_get_net_tx_bytes (s) },
  };

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, banger_vm_stats_get_name (s));
  json_builder_set_member_name (b, "state");
  json_builder_add_string_value (b, banger_vm_state_to_string (banger_vm_stats_get_state (s)));
  for (guint i = 0; i < G_N_ELEMENTS (ints); i++)
    {
      json_builder_set_member_name (b, ints[i].name);
      json_builder_add_int_value (b, ints[i].value);
    }
  if (cpu_percent >= 0)
    {
      json_builder_set_member_name (b, "cpu_percent");
      json_builder_add_double_value (b, cpu_percent);
    }
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static char *
balloon_text (gint64 mib)
{
  return mib < 0 ? g_strdup ("-") : g_strdup_printf ("%" G_GINT64_FORMAT " MiB", mib);
}

static void
print_stats_text (BangerVmStats *s, double cpu_percent)
{
  g_autofree char *rss = banger_cli_format_size (banger_vm_stats_get_rss_bytes (s));
  g_autofree char *rd = banger_cli_format_size (banger_vm_stats_get_block_read_bytes (s));
  g_autofree char *wr = banger_cli_format_size (banger_vm_stats_get_block_write_bytes (s));
  g_autofree char *rx = banger_cli_format_size (banger_vm_stats_get_net_rx_bytes (s));
  g_autofree char *tx = banger_cli_format_size (banger_vm_stats_get_net_tx_bytes (s));
  g_autofree char *bt = balloon_text (banger_vm_stats_get_balloon_target_mib (s));
  g_autofree char *ba = balloon_text (banger_vm_stats_get_balloon_actual_mib (s));
  g_autofree char *cpu
      = cpu_percent >= 0 ? g_strdup_printf ("%.1f%%", cpu_percent) : g_strdup ("-");

  g_print ("%-16s %s\n", "name", banger_vm_stats_get_name (s));
  g_print ("%-16s %s\n", "state", banger_vm_state_to_string (banger_vm_stats_get_state (s)));
  g_print ("%-16s %s\n", "cpu", cpu);
  g_print ("%-16s %.2f s user, %.2f s system\n", "cpu time",
           banger_vm_stats_get_cpu_user_us (s) / 1e6, banger_vm_stats_get_cpu_system_us (s) / 1e6);
  g_print ("%-16s %s\n", "rss", rss);
  g_print ("%-16s %" G_GUINT64_FORMAT " MiB\n", "memory", banger_vm_stats_get_memory_mib (s));
  g_print ("%-16s target %s, actual %s\n", "balloon", bt, ba);
  g_print ("%-16s read %s, written %s\n", "block", rd, wr);
  g_print ("%-16s received %s, sent %s\n", "network", rx, tx);
}

int
banger_builtin_vm_stats (int argc, char **argv, BangerCliGlobals *globals)
{
  gboolean watch = FALSE;
  double interval = 1.0;
  int code;
  GOptionEntry entries[] = {
    { "watch", 0, 0, G_OPTION_ARG_NONE, &watch,
      "Refresh until interrupted (like top; with --json: one object per line)", NULL },
    { "interval", 0, 0, G_OPTION_ARG_DOUBLE, &interval, "Seconds between readings (default 1)",
      "S" },
    { NULL },
  };
  g_autoptr (BangerClient) client = NULL;
  g_autoptr (BangerVmStats) prev = NULL;
  gboolean tty = isatty (STDOUT_FILENO);

  if (!banger_cli_parse ("vm stats", "NAME",
                         "A running VM's CPU, memory, balloon, disk and network figures.", entries,
                         1, &argc, &argv, &code))
    return code;
  if (interval < 0.1 || interval > 3600)
    {
      g_printerr ("banger vm stats: --interval must be 0.1-3600 seconds\n");
      return BANGER_EXIT_USAGE;
    }
  client = banger_cli_client (globals);
  for (;;)
    {
      g_autoptr (GAsyncResult) res = NULL;
      g_autoptr (GError) error = NULL;
      g_autoptr (BangerVmStats) s = NULL;
      double cpu = -1;

      banger_client_vm_stats_async (client, argv[1], NULL, banger_cli_done, &res);
      s = banger_client_vm_stats_finish (client, banger_cli_wait (&res), &error);
      if (s == NULL)
        return banger_cli_fail (globals, "vm stats", error);
      if (prev != NULL)
        {
          gint64 dt = banger_vm_stats_get_timestamp (s) - banger_vm_stats_get_timestamp (prev);
          guint64 now = banger_vm_stats_get_cpu_user_us (s) + banger_vm_stats_get_cpu_system_us (s);
          guint64 was
              = banger_vm_stats_get_cpu_user_us (prev) + banger_vm_stats_get_cpu_system_us (prev);
          if (dt > 0 && now >= was)
            cpu = 100.0 * (double)(now - was) / (double)dt;
        }
      if (globals->json)
        {
          g_autoptr (JsonNode) node = stats_json (s, cpu);
          banger_cli_print_json (node);
        }
      else
        {
          if (watch && tty)
            g_print ("\033[H\033[2J"); /* home, clear: top's refresh */
          print_stats_text (s, cpu);
          if (watch && !tty)
            g_print ("\n");
        }
      fflush (stdout);
      if (!watch)
        return BANGER_EXIT_OK;
      g_clear_pointer (&prev, banger_vm_stats_unref);
      prev = g_steal_pointer (&s);
      g_usleep ((gulong)(interval * G_USEC_PER_SEC));
    }
}

/* banger vm set NAME --balloon MIB (banger-builtin-vm.c parses it) */
int
banger_cli_vm_set_balloon (BangerCliGlobals *globals, const char *name, guint64 balloon_mib)
{
  g_autoptr (BangerClient) client = banger_cli_client (globals);
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (BangerVmInfo) vm = NULL;
  g_autoptr (GError) error = NULL;

  banger_client_vm_set_balloon_async (client, name, balloon_mib, NULL, banger_cli_done, &res);
  vm = banger_client_vm_set_balloon_finish (client, banger_cli_wait (&res), &error);
  if (vm == NULL)
    return banger_cli_fail (globals, "vm set", error);
  banger_cli_print_vm (globals, vm);
  return BANGER_EXIT_OK;
}
