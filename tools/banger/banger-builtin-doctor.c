/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * banger doctor: what this host can do, one check per line. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "banger-builtins.h"
#include "banger-cgroup.h"
#include "banger-doctor-dns.h"
#include "banger-kvm-probe.h"

typedef enum
{
  CHECK_OK,
  CHECK_WARN, /* works, but degraded (for example no KVM: software emulation) */
  CHECK_FAIL, /* a part a VM launch needs is missing: "VMs cannot run" */
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

/* Taps are made by bangerd-root (root), so what matters is that the device
 * exists; whether this user may open it matters only to root itself. */
static Check
check_tun (void)
{
  struct stat st;

  if (stat ("/dev/net/tun", &st) < 0 || !S_ISCHR (st.st_mode))
    return (Check){ "tun", CHECK_FAIL,
                    g_strdup_printf ("/dev/net/tun: %s (taps cannot be created)",
                                     errno ? g_strerror (errno) : "not a character device") };
  if (geteuid () == 0)
    return check_device ("tun", "/dev/net/tun", O_RDWR, CHECK_FAIL, "taps cannot be created");
  return (Check){ "tun", CHECK_OK,
                  g_strdup ("/dev/net/tun is present (bangerd-root makes the taps)") };
}

/* The one KVM answer (launch/banger-kvm-probe.c): the same the QEMU driver
 * acts on, from the same cache. */
static Check
check_kvm (BangerKvmState *out_state)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerKvmAnswer) a = banger_kvm_probe (NULL, NULL, &error);

  if (a == NULL)
    {
      *out_state = BANGER_KVM_UNTESTED;
      return (Check){ "kvm", CHECK_WARN, g_strdup (error->message) };
    }
  *out_state = a->state;
  return (Check){ "kvm", a->state == BANGER_KVM_USABLE ? CHECK_OK : CHECK_WARN,
                  g_strdup_printf ("%s: %s%s", banger_kvm_state_to_string (a->state), a->detail,
                                   a->cached ? " (cached answer)" : "") };
}

/* ------------------------------------------------------- unit drift
 * The root helper's hardening lives in its unit file: an installed copy that
 * differs from the one this banger ships (or drop-ins that override it) may
 * have lost some of it.  Overridable for tests: BANGER_SHIPPED_UNIT_DIR and
 * BANGER_SYSTEMD_UNIT_PATH (colon-separated, highest precedence first). */

static const char *
shipped_unit_dir (void)
{
  const char *env = g_getenv ("BANGER_SHIPPED_UNIT_DIR");
  return env ? env : BANGER_DATADIR "/banger/systemd";
}

static char **
systemd_unit_path (void)
{
  const char *env = g_getenv ("BANGER_SYSTEMD_UNIT_PATH");
  return g_strsplit (env ? env
                         : "/etc/systemd/system:/run/systemd/system:/usr/local/lib/systemd/system:"
                           "/usr/lib/systemd/system:/lib/systemd/system",
                     ":", -1);
}

/* First differing line (1-based), 0 when equal. */
static guint
first_difference (const char *a, const char *b)
{
  g_auto (GStrv) la = g_strsplit (a, "\n", -1);
  g_auto (GStrv) lb = g_strsplit (b, "\n", -1);
  guint i;

  for (i = 0; la[i] != NULL && lb[i] != NULL; i++)
    if (!g_str_equal (la[i], lb[i]))
      return i + 1;
  return la[i] == NULL && lb[i] == NULL ? 0 : i + 1;
}

/* Drop-ins (<dir>/<unit>.d/NAME.conf) other than @allowed_dropin. */
static void
collect_dropins (char **dirs, const char *unit, const char *allowed_dropin, GPtrArray *out)
{
  for (char **d = dirs; *d; d++)
    {
      g_autofree char *ddir = g_strdup_printf ("%s/%s.d", *d, unit);
      g_autoptr (GDir) dir = g_dir_open (ddir, 0, NULL);
      const char *name;

      while (dir && (name = g_dir_read_name (dir)) != NULL)
        if (g_str_has_suffix (name, ".conf")
            && (allowed_dropin == NULL || !g_str_equal (name, allowed_dropin)))
          g_ptr_array_add (out, g_build_filename (ddir, name, NULL));
    }
}

static Check
check_unit_drift (const char *check_name, const char *unit, const char *allowed_dropin)
{
  g_auto (GStrv) dirs = systemd_unit_path ();
  g_autofree char *shipped_path = g_build_filename (shipped_unit_dir (), unit, NULL);
  g_autofree char *shipped = NULL;
  g_autofree char *installed_path = NULL;
  g_autofree char *installed = NULL;
  g_autoptr (GPtrArray) dropins = g_ptr_array_new_with_free_func (g_free);
  guint line;

  for (char **d = dirs; *d && installed_path == NULL; d++)
    {
      g_autofree char *p = g_build_filename (*d, unit, NULL);
      if (g_file_get_contents (p, &installed, NULL, NULL))
        installed_path = g_steal_pointer (&p);
    }
  if (installed_path == NULL)
    return (Check){ check_name, CHECK_OK, g_strdup_printf ("%s is not installed", unit) };
  if (!g_file_get_contents (shipped_path, &shipped, NULL, NULL))
    return (Check){ check_name, CHECK_WARN,
                    g_strdup_printf ("%s is installed but the shipped copy %s is missing: "
                                     "cannot check for drift",
                                     installed_path, shipped_path) };
  line = first_difference (installed, shipped);
  if (line != 0)
    return (Check){ check_name, CHECK_WARN,
                    g_strdup_printf ("%s differs from the shipped %s (first at line %u); "
                                     "its hardening may have drifted",
                                     installed_path, shipped_path, line) };
  collect_dropins (dirs, unit, allowed_dropin, dropins);
  if (dropins->len > 0)
    {
      g_ptr_array_add (dropins, NULL);
      {
        g_autofree char *list = g_strjoinv (", ", (char **) dropins->pdata);
        return (Check){ check_name, CHECK_WARN,
                        g_strdup_printf ("%s matches the shipped unit, but drop-ins override "
                                         "it: %s",
                                         installed_path, list) };
      }
    }
  return (Check){ check_name, CHECK_OK,
                  g_strdup_printf ("%s matches the shipped unit", installed_path) };
}

int
banger_builtin_doctor (int argc, char **argv, BangerCliGlobals *globals)
{
  g_autoptr (GArray) checks = g_array_new (FALSE, TRUE, sizeof (Check));
  g_autoptr (GError) error = NULL;
  g_autofree char *cgroup2 = NULL;
  BangerKvmState kvm = BANGER_KVM_UNTESTED;
  gboolean have_vmm = FALSE;
  gboolean can_run_vms;
  Check c;

  g_array_set_clear_func (checks, (GDestroyNotify) check_clear);

  if (argc > 1)
    {
      if (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h"))
        {
          g_print ("Usage: banger [--json] doctor\n\nCheck what this host can do: KVM, "
                   "tun/tap, device-mapper, cgroup2, the VMM binaries,\n"
                   "and drift of the installed bangerd-root units from the shipped ones.\n"
                   "KVM is judged by a boot probe (a kernel must boot under it), whose\n"
                   "answer is cached per host kernel, QEMU binary and /dev/kvm.\n"
                   "Exits 0 when VMs can run here (perhaps degraded: 'warn'), 1 when a\n"
                   "part a launch needs is missing ('fail').\n");
          return BANGER_EXIT_OK;
        }
      g_printerr ("banger doctor: unexpected argument '%s'\n", argv[1]);
      return BANGER_EXIT_USAGE;
    }

  c = check_kvm (&kvm);
  g_array_append_val (checks, c);
  c = check_tun ();
  g_array_append_val (checks, c);
  /* dm-snapshot is the only copy-on-write root disk banger has: without it
   * each VM needs a root disk of its own (a full copy of the image). */
  c = check_device ("device-mapper", "/dev/mapper/control", O_RDWR, CHECK_WARN,
                    "no copy-on-write root disks: each VM needs its own copy of the image");
  g_array_append_val (checks, c);

  cgroup2 = banger_cgroup2_find_mount (NULL, &error);
  /* bangerd-root launches every VMM into a cgroup of its own
   * (banger-vm-cgroup.c) and refuses to launch without one. */
  c = (Check){ "cgroup2", cgroup2 ? CHECK_OK : CHECK_FAIL,
               cgroup2 ? g_strdup_printf ("mounted at %s", cgroup2)
                       : g_strdup_printf ("%s (bangerd-root launches each VM into a cgroup of "
                                          "its own and cannot launch without one)",
                                          error->message) };
  g_array_append_val (checks, c);

  /* Firecracker runs only on a usable KVM; QEMU runs anywhere (TCG). */
  c = check_program ("firecracker", "firecracker", CHECK_WARN, "the QEMU driver is used");
  if (c.status == CHECK_OK && kvm != BANGER_KVM_USABLE)
    {
      char *detail = g_strdup_printf ("%s (unusable here: Firecracker needs a usable KVM)",
                                      c.detail);
      g_free (c.detail);
      c.detail = detail;
      c.status = CHECK_WARN;
    }
  have_vmm |= c.status == CHECK_OK;
  g_array_append_val (checks, c);
  c = check_program ("jailer", "jailer", CHECK_WARN, "Firecracker runs without the jailer");
  g_array_append_val (checks, c);
  c = check_program ("qemu", "qemu-system-x86_64", CHECK_WARN,
                     "needed where Firecracker cannot run");
  have_vmm |= c.status == CHECK_OK;
  if (!have_vmm)
    c.status = CHECK_FAIL; /* no VMM that can run here at all */
  g_array_append_val (checks, c);
  c = check_program ("mkfs.ext4", "mkfs.ext4", CHECK_FAIL, "work disks cannot be made");
  g_array_append_val (checks, c);
  {
    gboolean dns_ok = FALSE;
    char *advice = banger_doctor_dns (&dns_ok);
    c = (Check){ "host-dns", dns_ok ? CHECK_OK : CHECK_WARN, advice };
    g_array_append_val (checks, c);
  }
  c = check_unit_drift ("helper-unit", "bangerd-root.service", NULL);
  g_array_append_val (checks, c);
  c = check_unit_drift ("helper-socket", "bangerd-root.socket", "owner.conf");
  g_array_append_val (checks, c);

  /* "VMs can run" exactly when no check a launch needs failed. */
  can_run_vms = TRUE;
  for (guint i = 0; i < checks->len; i++)
    can_run_vms &= g_array_index (checks, Check, i).status != CHECK_FAIL;

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
  return can_run_vms ? BANGER_EXIT_OK : BANGER_EXIT_FAILED;
}
