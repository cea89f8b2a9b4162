/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * banger doctor: what this host can do, one check per line.  With a
 * bangerd answering, the checks are its engine.doctor (through
 * BangerClient: the host as the daemon sees it, with its config's VMM
 * binaries, and the engine's own checks); without one, the same host
 * checks run here (libbanger/engine/banger-engine-doctor.c: one
 * implementation of each). */
#include "config.h"

#include "banger-cli-client.h"
#include "banger-engine-doctor.h"

typedef struct
{
  char *name;
  BangerCheckStatus status;
  char *message;
} Line;

static void
line_free (Line *l)
{
  g_free (l->name);
  g_free (l->message);
  g_free (l);
}

static Line *
line_new (const char *name, BangerCheckStatus status, const char *message)
{
  Line *l = g_new0 (Line, 1);
  l->name = g_strdup (name);
  l->status = status;
  l->message = g_strdup (message);
  return l;
}

/* A socket with nobody behind it (banger_cli_fail's test). */
static gboolean
is_no_daemon (const GError *error)
{
  return error->domain == G_IO_ERROR
         || (error->domain == BANGER_ERROR && strstr (error->message, "Cannot connect") != NULL);
}

int
banger_builtin_doctor (int argc, char **argv, BangerCliGlobals *globals)
{
  g_autoptr (GPtrArray) lines = g_ptr_array_new_with_free_func ((GDestroyNotify)line_free);
  g_autoptr (BangerClient) client = NULL;
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) checks = NULL;
  g_autofree char *socket = NULL;
  gboolean from_daemon;
  gboolean can_run_vms = TRUE;

  if (argc > 1)
    {
      if (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h"))
        {
          g_print ("Usage: banger [--json] [--socket PATH] doctor\n\nCheck what this host can "
                   "do: KVM, tun/tap, device-mapper, cgroup2, the VMM binaries,\n"
                   "and drift of the installed bangerd-root units from the shipped ones.\n"
                   "With a bangerd answering, it runs the checks (with its config's VMM\n"
                   "binaries) and adds its own: its privileged backend answers, and the\n"
                   "root-disk strategy (root-disks); without one, the host checks run here.\n"
                   "KVM is judged by a boot probe (a kernel must boot under it), whose\n"
                   "answer is cached per host kernel, QEMU binary and /dev/kvm.\n"
                   "Exits 0 when VMs can run here (perhaps degraded: 'warn'), 1 when a\n"
                   "part a launch needs is missing ('fail').\n");
          return BANGER_EXIT_OK;
        }
      g_printerr ("banger doctor: unexpected argument '%s'\n", argv[1]);
      return BANGER_EXIT_USAGE;
    }

  socket = globals->socket ? g_strdup (globals->socket) : banger_engine_default_socket ();
  client = banger_cli_client (globals);
  banger_client_doctor_async (client, NULL, banger_cli_done, &res);
  checks = banger_client_doctor_finish (client, banger_cli_wait (&res), &error);
  from_daemon = checks != NULL;
  if (checks != NULL)
    for (guint i = 0; i < checks->len; i++)
      {
        BangerDoctorCheck *c = checks->pdata[i];
        g_ptr_array_add (lines, line_new (banger_doctor_check_get_name (c),
                                          banger_doctor_check_get_status (c),
                                          banger_doctor_check_get_message (c)));
      }
  else if (is_no_daemon (error))
    {
      g_autoptr (GPtrArray) host = banger_engine_doctor_host (NULL, NULL, NULL);
      g_autoptr (BangerEngineConfig) config = banger_engine_config_new ();
      const char *conf = g_getenv ("BANGER_CONFIG");
      g_autofree char *msg = g_strdup_printf ("no bangerd answers on %s: host checks only", socket);

      for (guint i = 0; i < host->len; i++)
        {
          BangerEngineCheck *c = host->pdata[i];
          g_ptr_array_add (lines, line_new (c->name, (BangerCheckStatus)c->status, c->message));
        }
      /* host-dns for the config a daemon would read ($BANGER_CONFIG) */
      if (conf != NULL && !banger_engine_config_load (config, conf, NULL))
        g_ptr_array_add (lines, line_new ("host-dns", BANGER_CHECK_STATUS_WARN,
                                          "cannot read the daemon's config ($BANGER_CONFIG)"));
      else
        {
          gboolean ok = FALSE;
          g_autofree char *advice = banger_engine_doctor_dns (config, &ok);

          g_ptr_array_add (lines, line_new ("host-dns",
                                            ok ? BANGER_CHECK_STATUS_OK : BANGER_CHECK_STATUS_WARN,
                                            advice));
        }
      g_ptr_array_add (lines, line_new ("daemon", BANGER_CHECK_STATUS_WARN, msg));
    }
  else
    return banger_cli_fail (globals, "doctor", error);

  /* "VMs can run" exactly when no check a launch needs failed. */
  for (guint i = 0; i < lines->len; i++)
    can_run_vms &= ((Line *)lines->pdata[i])->status != BANGER_CHECK_STATUS_FAIL;

  if (globals->json)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      g_autoptr (JsonNode) root = NULL;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "version");
      json_builder_add_string_value (b, PACKAGE_VERSION);
      json_builder_set_member_name (b, "daemon");
      if (from_daemon)
        json_builder_add_string_value (b, socket);
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "can_run_vms");
      json_builder_add_boolean_value (b, can_run_vms);
      json_builder_set_member_name (b, "checks");
      json_builder_begin_array (b);
      for (guint i = 0; i < lines->len; i++)
        {
          Line *k = lines->pdata[i];
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "name");
          json_builder_add_string_value (b, k->name);
          json_builder_set_member_name (b, "status");
          json_builder_add_string_value (b, banger_check_status_to_string (k->status));
          json_builder_set_member_name (b, "detail");
          json_builder_add_string_value (b, k->message);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      banger_cli_print_json (root);
    }
  else
    {
      for (guint i = 0; i < lines->len; i++)
        {
          Line *k = lines->pdata[i];
          g_print ("%-4s  %-14s %s\n", banger_check_status_to_string (k->status), k->name,
                   k->message);
        }
      g_print ("\n%s\n", can_run_vms ? "VMs can run on this host."
                                     : "VMs cannot run on this host (see 'fail' lines).");
    }
  return can_run_vms ? BANGER_EXIT_OK : BANGER_EXIT_FAILED;
}
