/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * doctor's checks (banger-engine-doctor.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "banger-cgroup.h"
#include "banger-cow-disk.h"
#include "banger-engine-doctor.h"
#include "banger-engine-private.h"
#include "banger-error.h"
#include "banger-kvm-probe.h"
#include "banger-priv-executor.h"

static const char *const status_names[] = { "ok", "warn", "fail" };

void
banger_engine_check_free (BangerEngineCheck *check)
{
  if (check == NULL)
    return;
  g_free (check->name);
  g_free (check->message);
  g_free (check);
}

const char *
banger_engine_check_status_to_string (BangerEngineCheckStatus status)
{
  return (guint)status < G_N_ELEMENTS (status_names) ? status_names[status] : NULL;
}

gboolean
banger_engine_check_status_from_string (const char *s, BangerEngineCheckStatus *out)
{
  for (guint i = 0; i < G_N_ELEMENTS (status_names); i++)
    if (g_strcmp0 (s, status_names[i]) == 0)
      {
        *out = (BangerEngineCheckStatus)i;
        return TRUE;
      }
  return FALSE;
}

static BangerEngineCheck *
check_new (const char *name, BangerEngineCheckStatus status, char *message /* taken */)
{
  BangerEngineCheck *c = g_new0 (BangerEngineCheck, 1);

  c->name = g_strdup (name);
  c->status = status;
  c->message = message;
  return c;
}

static BangerEngineCheck *
check_device (const char *name, const char *path, int flags, BangerEngineCheckStatus if_missing,
              const char *missing_detail)
{
  int fd = open (path, flags | O_CLOEXEC | O_NOCTTY);
  if (fd >= 0)
    {
      close (fd);
      return check_new (name, BANGER_ENGINE_CHECK_OK, g_strdup_printf ("%s opens", path));
    }
  return check_new (name, if_missing,
                    g_strdup_printf ("%s: %s (%s)", path, g_strerror (errno), missing_detail));
}

/* @path: a configured absolute path, or NULL: @program in PATH. */
static BangerEngineCheck *
check_program (const char *name, const char *program, const char *path,
               BangerEngineCheckStatus if_missing, const char *missing_detail)
{
  g_autofree char *found = NULL;

  if (path != NULL)
    {
      if (g_file_test (path, G_FILE_TEST_IS_EXECUTABLE) && !g_file_test (path, G_FILE_TEST_IS_DIR))
        return check_new (name, BANGER_ENGINE_CHECK_OK, g_strdup (path));
      return check_new (name, if_missing,
                        g_strdup_printf ("%s (configured) is not an executable file (%s)", path,
                                         missing_detail));
    }
  found = g_find_program_in_path (program);
  if (found)
    return check_new (name, BANGER_ENGINE_CHECK_OK, g_steal_pointer (&found));
  return check_new (name, if_missing,
                    g_strdup_printf ("%s not found in PATH (%s)", program, missing_detail));
}

/* Taps are made by bangerd-root (root), so what matters is that the device
 * exists; whether this user may open it matters only to root itself. */
static BangerEngineCheck *
check_tun (void)
{
  struct stat st;

  if (stat ("/dev/net/tun", &st) < 0 || !S_ISCHR (st.st_mode))
    return check_new ("tun", BANGER_ENGINE_CHECK_FAIL,
                      g_strdup_printf ("/dev/net/tun: %s (taps cannot be created)",
                                       errno ? g_strerror (errno) : "not a character device"));
  if (geteuid () == 0)
    return check_device ("tun", "/dev/net/tun", O_RDWR, BANGER_ENGINE_CHECK_FAIL,
                         "taps cannot be created");
  return check_new ("tun", BANGER_ENGINE_CHECK_OK,
                    g_strdup ("/dev/net/tun is present (bangerd-root makes the taps)"));
}

/* The one KVM answer (launch/banger-kvm-probe.c): the same the QEMU driver
 * acts on, from the same cache. */
static BangerEngineCheck *
check_kvm (BangerKvmState *out_state)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerKvmAnswer) a = banger_kvm_probe (NULL, NULL, &error);

  if (a == NULL)
    {
      *out_state = BANGER_KVM_UNTESTED;
      return check_new ("kvm", BANGER_ENGINE_CHECK_WARN, g_strdup (error->message));
    }
  *out_state = a->state;
  return check_new ("kvm", a->state == BANGER_KVM_USABLE ? BANGER_ENGINE_CHECK_OK
                                                          : BANGER_ENGINE_CHECK_WARN,
                    g_strdup_printf ("%s: %s%s", banger_kvm_state_to_string (a->state), a->detail,
                                     a->cached ? " (cached answer)" : ""));
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

static BangerEngineCheck *
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
    return check_new (check_name, BANGER_ENGINE_CHECK_OK,
                      g_strdup_printf ("%s is not installed", unit));
  if (!g_file_get_contents (shipped_path, &shipped, NULL, NULL))
    return check_new (check_name, BANGER_ENGINE_CHECK_WARN,
                      g_strdup_printf ("%s is installed but the shipped copy %s is missing: "
                                       "cannot check for drift",
                                       installed_path, shipped_path));
  line = first_difference (installed, shipped);
  if (line != 0)
    return check_new (check_name, BANGER_ENGINE_CHECK_WARN,
                      g_strdup_printf ("%s differs from the shipped %s (first at line %u); "
                                       "its hardening may have drifted",
                                       installed_path, shipped_path, line));
  collect_dropins (dirs, unit, allowed_dropin, dropins);
  if (dropins->len > 0)
    {
      g_autofree char *list = NULL;
      g_ptr_array_add (dropins, NULL);
      list = g_strjoinv (", ", (char **)dropins->pdata);
      return check_new (check_name, BANGER_ENGINE_CHECK_WARN,
                        g_strdup_printf ("%s matches the shipped unit, but drop-ins override "
                                         "it: %s",
                                         installed_path, list));
    }
  return check_new (check_name, BANGER_ENGINE_CHECK_OK,
                    g_strdup_printf ("%s matches the shipped unit", installed_path));
}

GPtrArray *
banger_engine_doctor_host (const char *firecracker_path, const char *jailer_path,
                           const char *qemu_path)
{
  GPtrArray *checks = g_ptr_array_new_with_free_func ((GDestroyNotify)banger_engine_check_free);
  g_autoptr (GError) error = NULL;
  g_autofree char *cgroup2 = NULL;
  BangerKvmState kvm = BANGER_KVM_UNTESTED;
  gboolean have_vmm = FALSE;
  BangerEngineCheck *c;

  g_ptr_array_add (checks, check_kvm (&kvm));
  g_ptr_array_add (checks, check_tun ());
  /* dm-snapshot is the only copy-on-write root disk that needs no file
   * system support: without it root disks are reflinks or sparse copies. */
  g_ptr_array_add (checks, check_device ("device-mapper", "/dev/mapper/control", O_RDWR,
                                         BANGER_ENGINE_CHECK_WARN,
                                         "no dm-snapshot root disks; the root-disks check of a daemon says what is used"));

  cgroup2 = banger_cgroup2_find_mount (NULL, &error);
  /* bangerd-root launches every VMM into a cgroup of its own
   * (banger-vm-cgroup.c) and refuses to launch without one. */
  g_ptr_array_add (
      checks, check_new ("cgroup2", cgroup2 ? BANGER_ENGINE_CHECK_OK : BANGER_ENGINE_CHECK_FAIL,
                         cgroup2 ? g_strdup_printf ("mounted at %s", cgroup2)
                                 : g_strdup_printf ("%s (bangerd-root launches each VM into a "
                                                    "cgroup of its own and cannot launch "
                                                    "without one)",
                                                    error->message)));

  /* Firecracker runs only on a usable KVM; QEMU runs anywhere (TCG). */
  c = check_program ("firecracker", "firecracker", firecracker_path, BANGER_ENGINE_CHECK_WARN,
                     "the QEMU driver is used");
  if (c->status == BANGER_ENGINE_CHECK_OK && kvm != BANGER_KVM_USABLE)
    {
      char *detail = g_strdup_printf ("%s (unusable here: Firecracker needs a usable KVM)",
                                      c->message);
      g_free (c->message);
      c->message = detail;
      c->status = BANGER_ENGINE_CHECK_WARN;
    }
  have_vmm |= c->status == BANGER_ENGINE_CHECK_OK;
  g_ptr_array_add (checks, c);
  g_ptr_array_add (checks, check_program ("jailer", "jailer", jailer_path, BANGER_ENGINE_CHECK_WARN,
                                          "Firecracker runs without the jailer, and snapshots "
                                          "of Firecracker VMs cannot be restored"));
  c = check_program ("qemu", "qemu-system-x86_64", qemu_path, BANGER_ENGINE_CHECK_WARN,
                     "needed where Firecracker cannot run");
  have_vmm |= c->status == BANGER_ENGINE_CHECK_OK;
  if (!have_vmm)
    c->status = BANGER_ENGINE_CHECK_FAIL; /* no VMM that can run here at all */
  g_ptr_array_add (checks, c);
  g_ptr_array_add (checks, check_program ("mkfs.ext4", "mkfs.ext4", NULL, BANGER_ENGINE_CHECK_FAIL,
                                          "work disks cannot be made"));
  g_ptr_array_add (checks, check_unit_drift ("helper-unit", "bangerd-root.service", NULL));
  g_ptr_array_add (checks,
                   check_unit_drift ("helper-socket", "bangerd-root.socket", "owner.conf"));
  return checks;
}

/* The privileged backend answers priv.status. */
static BangerEngineCheck *
check_backend (BangerEngine *self, GCancellable *cancellable)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) st = banger_priv_backend_call (self->backend, "priv.status", NULL,
                                                        banger_priv_current_op_id (), cancellable,
                                                        &error);

  if (st == NULL)
    return check_new ("backend", BANGER_ENGINE_CHECK_FAIL,
                      g_strdup_printf ("%s does not answer: %s",
                                       banger_priv_backend_describe (self->backend),
                                       error->message));
  return check_new ("backend", BANGER_ENGINE_CHECK_OK,
                    g_strdup_printf ("%s answers", banger_priv_backend_describe (self->backend)));
}

/* The strategy the next create will use for its root disk. */
static BangerEngineCheck *
check_root_disks (BangerEngine *self)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *detail = NULL;
  BangerCowStrategy strategy;

  if (!banger_cow_choose (self->vms_dir, NULL,
                          banger_engine_dm_usable (self) ? BANGER_COW_CHOOSE_DM_USABLE
                                                         : BANGER_COW_CHOOSE_NONE,
                          &strategy, &detail, &error))
    return check_new ("root-disks", BANGER_ENGINE_CHECK_FAIL,
                      g_strdup_printf ("cannot probe %s: %s", self->vms_dir, error->message));
  /* the chooser's sentence starts with the strategy's name */
  if (detail == NULL)
    detail = g_strdup (banger_cow_strategy_to_string (strategy));
  if (strategy == BANGER_COW_STRATEGY_SPARSE_COPY)
    return check_new ("root-disks", BANGER_ENGINE_CHECK_WARN,
                      g_strdup_printf ("%s (each VM's root disk holds a copy of the image's data; "
                                       "a state dir on a file system that clones files, such "
                                       "as xfs with reflink=1 or btrfs, makes them instant)",
                                       detail));
  return check_new ("root-disks", BANGER_ENGINE_CHECK_OK, g_steal_pointer (&detail));
}

BangerEngineCheck *
banger_engine_doctor_dns_check (const BangerEngineConfig *config)
{
  gboolean ok = FALSE;
  char *advice = banger_engine_doctor_dns (config, &ok);

  return check_new ("host-dns", ok ? BANGER_ENGINE_CHECK_OK : BANGER_ENGINE_CHECK_WARN, advice);
}

/* In-process with a jailer: the jails live under the runtime dir, the VM's
 * files are bind-mounted into them by priv.launch_vmm (any filesystem),
 * and the jailer runs its copy of Firecracker from there: the runtime dir
 * must not be on a noexec mount (a tmpfs /run often is). */
static BangerEngineCheck *
check_jail_links (const BangerEngineConfig *c)
{
  struct statvfs sv;

  if (statvfs (c->runtime_dir, &sv) < 0)
    return check_new ("jail-disks", BANGER_ENGINE_CHECK_WARN,
                      g_strdup_printf ("cannot inspect the runtime dir '%s': %s", c->runtime_dir,
                                       g_strerror (errno)));
  if (sv.f_flag & ST_NOEXEC)
    return check_new ("jail-disks", BANGER_ENGINE_CHECK_WARN,
                      g_strdup_printf ("the runtime dir '%s' is on a noexec mount: the jailer "
                                       "cannot run its copy of Firecracker from a jail there, "
                                       "and Firecracker VMs will not start (use a runtime dir "
                                       "on a mount that allows exec)",
                                       c->runtime_dir));
  return check_new ("jail-disks", BANGER_ENGINE_CHECK_OK,
                    g_strdup ("jails under the runtime dir (exec allowed); the VM's files are "
                              "bind-mounted into them, from any filesystem"));
}

GPtrArray *
banger_engine_doctor (BangerEngine *self, GCancellable *cancellable)
{
  const BangerEngineConfig *c = self->config;
  GPtrArray *checks = banger_engine_doctor_host (c->firecracker_path, c->jailer_path, c->qemu_path);

  if (c->jailer_path != NULL && c->helper_socket == NULL)
    g_ptr_array_add (checks, check_jail_links (c));

  g_ptr_array_add (checks, check_backend (self, cancellable));
  g_ptr_array_add (checks, check_root_disks (self));
  g_ptr_array_add (checks, banger_engine_doctor_dns_check (c));
  return checks;
}

gboolean
banger_engine_doctor_can_run_vms (GPtrArray *checks)
{
  for (guint i = 0; i < checks->len; i++)
    if (((BangerEngineCheck *)checks->pdata[i])->status == BANGER_ENGINE_CHECK_FAIL)
      return FALSE;
  return TRUE;
}

gboolean
banger_engine_op_doctor (BangerPrivState *state, const BangerPeerCred *caller, JsonObject *params,
                         JsonBuilder *result, GCancellable *cancellable, GError **error)
{
  g_autoptr (GPtrArray) checks = banger_engine_doctor (BANGER_ENGINE (state->table_data),
                                                       cancellable);

  json_builder_set_member_name (result, "checks");
  json_builder_begin_array (result);
  for (guint i = 0; i < checks->len; i++)
    {
      BangerEngineCheck *k = checks->pdata[i];
      json_builder_begin_object (result);
      json_builder_set_member_name (result, "name");
      json_builder_add_string_value (result, k->name);
      json_builder_set_member_name (result, "status");
      json_builder_add_string_value (result, banger_engine_check_status_to_string (k->status));
      json_builder_set_member_name (result, "message");
      json_builder_add_string_value (result, k->message);
      json_builder_end_object (result);
    }
  json_builder_end_array (result);
  json_builder_set_member_name (result, "can_run_vms");
  json_builder_add_boolean_value (result, banger_engine_doctor_can_run_vms (checks));
  return TRUE;
}
