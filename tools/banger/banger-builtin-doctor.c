/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * banger doctor: what this host can do, one check per line. */
#include "config.h"

#include <fcntl.h>
#include <unistd.h>

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "banger-builtins.h"
#include "banger-cgroup.h"

typedef enum
{
  CHECK_OK,
  CHECK_WARN, /* works, but degraded (for example no KVM: software emulation) */
  CHECK_FAIL, /* a part banger needs is missing */
} CheckStatus;

static const char *const status_names[] = { "ok", "warn", "fail" };

typedef struct
{
  const char *name;
  CheckStatus status;
  char *detail;
} Check;

static void
check_clear (Check *c)
{
  g_free (c->detail);
}

static Check
check_device (const char *name, const char *path, int flags, CheckStatus if_missing,
              const char *missing_detail)
{
  int fd = open (path, flags | O_CLOEXEC | O_NOCTTY);
  if (fd >= 0)
    {
      close (fd);
      return (Check){ name, CHECK_OK, g_strdup_printf ("%s opens", path) };
    }
  return (Check){ name, if_missing,
                  g_strdup_printf ("%s: %s (%s)", path, g_strerror (errno), missing_detail) };
}

static Check
check_program (const char *name, const char *program, CheckStatus if_missing,
               const char *missing_detail)
{
  g_autofree char *found = g_find_program_in_path (program);
  if (found)
    return (Check){ name, CHECK_OK, g_strdup (found) };
  return (Check){ name, if_missing, g_strdup_printf ("%s not found in PATH (%s)", program,
                                                     missing_detail) };
}

int
banger_builtin_doctor (int argc, char **argv, BangerCliGlobals *globals)
{
  g_autoptr (GArray) checks = g_array_new (FALSE, TRUE, sizeof (Check));
  g_autoptr (GError) error = NULL;
  g_autofree char *cgroup2 = NULL;
  gboolean can_run_vms;
  gboolean any_fail = FALSE;
  Check c;

  g_array_set_clear_func (checks, (GDestroyNotify) check_clear);

  if (argc > 1)
    {
      if (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h"))
        {
          g_print ("Usage: banger [--json] doctor\n\nCheck what this host can do: KVM, "
                   "tun/tap, device-mapper, cgroup2, and the VMM binaries.\n"
                   "Exits 0 when VMs can run here (perhaps degraded), 1 otherwise.\n");
          return BANGER_EXIT_OK;
        }
      g_printerr ("banger doctor: unexpected argument '%s'\n", argv[1]);
      return BANGER_EXIT_USAGE;
    }

  c = check_device ("kvm", "/dev/kvm", O_RDWR, CHECK_WARN,
                    "guests run under QEMU with software emulation");
  g_array_append_val (checks, c);
  c = check_device ("tun", "/dev/net/tun", O_RDWR, CHECK_FAIL, "taps cannot be created");
  g_array_append_val (checks, c);
  c = check_device ("device-mapper", "/dev/mapper/control", O_RDWR, CHECK_WARN,
                    "copy-on-write disks fall back to reflink or sparse copies");
  g_array_append_val (checks, c);

  cgroup2 = banger_cgroup2_find_mount (NULL, &error);
  c = (Check){ "cgroup2", cgroup2 ? CHECK_OK : CHECK_WARN,
               cgroup2 ? g_strdup_printf ("mounted at %s", cgroup2)
                       : g_strdup_printf ("%s (VMs run without a cgroup of their own)",
                                          error->message) };
  g_array_append_val (checks, c);

  c = check_program ("firecracker", "firecracker", CHECK_WARN, "the QEMU driver is used");
  g_array_append_val (checks, c);
  c = check_program ("jailer", "jailer", CHECK_WARN, "Firecracker runs without the jailer");
  g_array_append_val (checks, c);
  c = check_program ("qemu", "qemu-system-x86_64", CHECK_WARN,
                     "needed where Firecracker is missing");
  g_array_append_val (checks, c);
  c = check_program ("mkfs.ext4", "mkfs.ext4", CHECK_FAIL, "work disks cannot be made");
  g_array_append_val (checks, c);

  can_run_vms = g_array_index (checks, Check, 1).status == CHECK_OK
                && (g_array_index (checks, Check, 4).status == CHECK_OK
                    || g_array_index (checks, Check, 6).status == CHECK_OK);

  for (guint i = 0; i < checks->len; i++)
    any_fail |= g_array_index (checks, Check, i).status == CHECK_FAIL;

  if (globals->json)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      g_autoptr (JsonGenerator) gen = json_generator_new ();
      g_autoptr (JsonNode) root = NULL;
      g_autofree char *out = NULL;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "version");
      json_builder_add_string_value (b, PACKAGE_VERSION);
      json_builder_set_member_name (b, "can_run_vms");
      json_builder_add_boolean_value (b, can_run_vms);
      json_builder_set_member_name (b, "checks");
      json_builder_begin_array (b);
      for (guint i = 0; i < checks->len; i++)
        {
          Check *k = &g_array_index (checks, Check, i);
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "name");
          json_builder_add_string_value (b, k->name);
          json_builder_set_member_name (b, "status");
          json_builder_add_string_value (b, status_names[k->status]);
          json_builder_set_member_name (b, "detail");
          json_builder_add_string_value (b, k->detail);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      json_generator_set_root (gen, root);
      json_generator_set_pretty (gen, TRUE);
      out = json_generator_to_data (gen, NULL);
      g_print ("%s\n", out);
    }
  else
    {
      for (guint i = 0; i < checks->len; i++)
        {
          Check *k = &g_array_index (checks, Check, i);
          g_print ("%-4s  %-14s %s\n", status_names[k->status], k->name, k->detail);
        }
      g_print ("\n%s\n", can_run_vms ? "VMs can run on this host."
                                     : "VMs cannot run on this host (see 'fail' lines).");
    }
  return can_run_vms && !any_fail ? BANGER_EXIT_OK : BANGER_EXIT_FAILED;
}
