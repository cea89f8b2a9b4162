/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The KVM boot probe and its cache (banger-kvm-probe.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger-error-private.h"
#include "banger-kvm-probe.h"
#include "banger-pidfd.h"
#include "banger-spawn.h"
#include "banger-quote.h"

#define CACHE_FILE "kvm-probe"
#define CACHE_GROUP "kvm-probe"
#define DEFAULT_QEMU "qemu-system-x86_64"

static const char *const state_names[] = { "absent", "unusable", "usable", "untested" };

const char *
banger_kvm_state_to_string (BangerKvmState state)
{
  g_return_val_if_fail ((guint) state < G_N_ELEMENTS (state_names), NULL);
  return state_names[state];
}

static gboolean
state_from_string (const char *s, BangerKvmState *out)
{
  for (guint i = 0; i < G_N_ELEMENTS (state_names); i++)
    if (g_strcmp0 (s, state_names[i]) == 0)
      {
        *out = (BangerKvmState) i;
        return TRUE;
      }
  return FALSE;
}

void
banger_kvm_answer_free (BangerKvmAnswer *answer)
{
  if (answer == NULL)
    return;
  g_free (answer->detail);
  g_free (answer);
}

static BangerKvmAnswer *
answer_new (BangerKvmState state, char *detail)
{
  BangerKvmAnswer *a = g_new0 (BangerKvmAnswer, 1);

  a->state = state;
  a->detail = detail;
  return a;
}

char *
banger_kvm_probe_default_cache_dir (void)
{
  const char *env = g_getenv (BANGER_KVM_CACHE_DIR_ENV);

  if (env != NULL && env[0] != '\0')
    return g_strdup (env);
  if (geteuid () == 0)
    return g_strdup ("/var/cache/banger");
  return g_build_filename (g_get_user_cache_dir (), "banger", NULL);
}

static char *
host_release (void)
{
  struct utsname u;

  if (uname (&u) < 0)
    return g_strdup ("unknown");
  return g_strdup (u.release);
}

char *
banger_kvm_probe_find_kernel (void)
{
  const char *env = g_getenv (BANGER_KVM_PROBE_KERNEL_ENV);
  g_autofree char *release = host_release ();
  g_autofree char *versioned = g_strdup_printf ("/boot/vmlinuz-%s", release);
  const char *candidates[] = { versioned, "/boot/vmlinuz", "/vmlinuz" };

  if (env != NULL && env[0] != '\0')
    return access (env, R_OK) == 0 ? g_strdup (env) : NULL;
  for (guint i = 0; i < G_N_ELEMENTS (candidates); i++)
    if (access (candidates[i], R_OK) == 0)
      return g_strdup (candidates[i]);
  return NULL;
}

static char *
resolve_qemu (const char *binary)
{
  const char *env = g_getenv ("BANGER_QEMU");

  if (binary == NULL)
    binary = env != NULL && env[0] != '\0' ? env : DEFAULT_QEMU;
  if (strchr (binary, '/') != NULL)
    return access (binary, X_OK) == 0 ? g_strdup (binary) : NULL;
  return g_find_program_in_path (binary);
}

/* ---------------------------------------------------------------- cache */

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* "kvm,kvm_intel": the kvm modules loaded (a module swap keeps the device
 * number and may keep the release). */
static char *
kvm_modules (void)
{
  g_autoptr (GDir) dir = g_dir_open ("/sys/module", 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_prefix (name, "kvm"))
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);
  return g_strjoinv (",", (char **) names->pdata);
}

static char *
file_identity (const char *path, gboolean device)
{
  struct stat st;

  if (stat (path, &st) < 0)
    return NULL;
  if (device)
    {
      g_autofree char *mods = kvm_modules ();
      return g_strdup_printf ("%s rdev=%u:%u ino=%llu ctime=%lld.%09ld modules=%s", path,
                              major (st.st_rdev), minor (st.st_rdev),
                              (unsigned long long) st.st_ino, (long long) st.st_ctim.tv_sec,
                              st.st_ctim.tv_nsec, mods);
    }
  return g_strdup_printf ("%s dev=%llu ino=%llu size=%lld mtime=%lld.%09ld", path,
                          (unsigned long long) st.st_dev, (unsigned long long) st.st_ino,
                          (long long) st.st_size, (long long) st.st_mtim.tv_sec,
                          st.st_mtim.tv_nsec);
}

typedef struct
{
  char *release;
  char *qemu;
  char *kvm;
} CacheKey;

static void
cache_key_clear (CacheKey *k)
{
  g_free (k->release);
  g_free (k->qemu);
  g_free (k->kvm);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CacheKey, cache_key_clear)

static const char *const key_names[] = { "host-release", "qemu", "kvm-device" };

static BangerKvmAnswer *
cache_read (const char *cache_dir, const CacheKey *key)
{
  g_autofree char *path = g_build_filename (cache_dir, CACHE_FILE, NULL);
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  const char *want[] = { key->release, key->qemu, key->kvm };
  g_autofree char *state_s = NULL;
  BangerKvmState state;
  BangerKvmAnswer *a;

  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, NULL))
    return NULL;
  for (guint i = 0; i < G_N_ELEMENTS (key_names); i++)
    {
      g_autofree char *got = g_key_file_get_string (kf, CACHE_GROUP, key_names[i], NULL);
      if (g_strcmp0 (got, want[i]) != 0)
        return NULL; /* something changed: probe again */
    }
  state_s = g_key_file_get_string (kf, CACHE_GROUP, "state", NULL);
  if (!state_from_string (state_s, &state)
      || (state != BANGER_KVM_USABLE && state != BANGER_KVM_UNUSABLE))
    return NULL;
  a = answer_new (state, g_key_file_get_string (kf, CACHE_GROUP, "detail", NULL));
  if (a->detail == NULL)
    a->detail = g_strdup (state_s);
  a->cached = TRUE;
  return a;
}

static void
cache_write (const char *cache_dir, const CacheKey *key, const BangerKvmAnswer *a)
{
  g_autofree char *path = g_build_filename (cache_dir, CACHE_FILE, NULL);
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  const char *values[] = { key->release, key->qemu, key->kvm };
  g_autofree char *data = NULL;
  gsize len;

  for (guint i = 0; i < G_N_ELEMENTS (key_names); i++)
    g_key_file_set_string (kf, CACHE_GROUP, key_names[i], values[i]);
  g_key_file_set_string (kf, CACHE_GROUP, "state", banger_kvm_state_to_string (a->state));
  g_key_file_set_string (kf, CACHE_GROUP, "detail", a->detail);
  data = g_key_file_to_data (kf, &len, NULL);
  /* best effort: a cache that cannot be written only costs the next probe */
  if (g_mkdir_with_parents (cache_dir, 0755) == 0)
    g_file_set_contents_full (path, data, (gssize) len, G_FILE_SET_CONTENTS_CONSISTENT, 0644,
                              NULL);
}

gboolean
banger_kvm_probe_forget (const char *cache_dir)
{
  g_autofree char *dflt = cache_dir ? NULL : banger_kvm_probe_default_cache_dir ();
  g_autofree char *path = g_build_filename (cache_dir ? cache_dir : dflt, CACHE_FILE, NULL);

  return g_unlink (path) == 0 || errno == ENOENT;
}

/* ---------------------------------------------------------------- probe */

/* Escape a value for a QEMU option list (',' doubles). */
static char *
opt_escape (const char *value)
{
  GString *s = g_string_new (NULL);

  for (const char *p = value; *p != '\0'; p++)
    {
      if (*p == ',')
        g_string_append_c (s, ',');
      g_string_append_c (s, *p);
    }
  return g_string_free (s, FALSE);
}

typedef enum
{
  BOOT_BANNER,    /* the kernel printed "Linux version" */
  BOOT_EXITED,    /* QEMU exited first */
  BOOT_TIMEOUT,   /* silence until the deadline */
  BOOT_NO_SPAWN,  /* QEMU could not be started */
  BOOT_CANCELLED,
} BootResult;

/* Kill the probe's QEMU through its pidfd and reap it. */
static void
kill_and_reap (int pidfd)
{
  banger_pidfd_send_signal (pidfd, SIGKILL);
  if (banger_pidfd_wait_exit (pidfd, -1))
    banger_pidfd_reap_if_exited (pidfd, NULL);
}

/* Boot @kernel under -accel kvm with no root disk and watch the serial
 * port for its banner.  QEMU is started with the one spawn
 * (banger-spawn.h) and waited for and killed through its pidfd. */
static BootResult
kvm_boots_kernel (const char *binary, const char *kernel, guint timeout_ms,
                  GCancellable *cancellable, siginfo_t *out_end, GError **out_spawn_error)
{
  g_autofree char *dir = g_dir_make_tmp ("banger-kvm-probe-XXXXXX", NULL);
  g_autofree char *serial = NULL;
  g_autofree char *serial_opt = NULL;
  g_autofree char *e_serial = NULL;
  g_autofree char *abs_binary = NULL;
  g_auto (GStrv) env = g_get_environ ();
  BangerSpawnSpec spec = { 0 };
  BootResult result = BOOT_TIMEOUT;
  gint64 deadline;
  pid_t pid = 0;
  int pidfd = -1;

  if (dir == NULL)
    {
      g_set_error (out_spawn_error, BANGER_ERROR, BANGER_ERROR_FAILED,
                   "Cannot make a directory for the probe's serial port");
      return BOOT_NO_SPAWN;
    }
  serial = g_build_filename (dir, "serial.log", NULL);
  e_serial = opt_escape (serial);
  serial_opt = g_strdup_printf ("file:%s", e_serial);
  /* banger_spawn_vmm executes argv[0] as is */
  abs_binary = g_canonicalize_filename (binary, NULL);
  {
    const char *argv[] = { abs_binary, "-M", "microvm", "-accel", "kvm", "-m", "128",
                           "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
                           "-serial", serial_opt, "-kernel", kernel,
                           "-append", "console=ttyS0 earlyprintk=ttyS0 panic=-1", NULL };
    spec.argv = argv;
    spec.envp = (const char *const *) env;
    spec.stdout_fd = -1; /* /dev/null */
    spec.pass_fd = -1;
    spec.exiting_is_started = TRUE; /* a QEMU that exits at once is an answer */
    if (!banger_spawn_vmm (&spec, cancellable, &pid, &pidfd, out_spawn_error))
      {
        g_rmdir (dir);
        return g_cancellable_is_cancelled (cancellable) ? BOOT_CANCELLED : BOOT_NO_SPAWN;
      }
  }

  deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  while (g_get_monotonic_time () < deadline)
    {
      g_autofree char *contents = NULL;

      if (g_cancellable_is_cancelled (cancellable))
        {
          result = BOOT_CANCELLED;
          break;
        }
      if (g_file_get_contents (serial, &contents, NULL, NULL)
          && strstr (contents, "Linux version") != NULL)
        {
          result = BOOT_BANNER;
          break;
        }
      if (banger_pidfd_reap_if_exited (pidfd, out_end))
        {
          close (pidfd);
          pidfd = -1;
          result = BOOT_EXITED;
          break;
        }
      /* a slice of the wait, ended early by QEMU's exit */
      banger_pidfd_wait_exit (pidfd, 50);
    }
  if (pidfd >= 0)
    {
      kill_and_reap (pidfd);
      close (pidfd);
    }
  g_unlink (serial);
  g_rmdir (dir);
  return result;
}

/* What an answer needs before any probe: the device, the QEMU, the cache
 * and its key. */
typedef struct
{
  const char *device;
  char *qemu;
  char *cache_dir;
  CacheKey key;
} ProbeHost;

static void
probe_host_clear (ProbeHost *h)
{
  g_free (h->qemu);
  g_free (h->cache_dir);
  cache_key_clear (&h->key);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ProbeHost, probe_host_clear)

static gboolean
probe_host_can_cache (const ProbeHost *h)
{
  return h->cache_dir[0] != '\0' && h->key.qemu != NULL && h->key.kvm != NULL;
}

/* The cheap part of the answer, shared by banger_kvm_probe() and
 * banger_kvm_probe_cached(): a device that does not open (absent), no QEMU
 * to probe with (untested), or a valid cached answer.  NULL when only a
 * boot probe can tell; @out is filled for it. */
static BangerKvmAnswer *
cheap_answer (const BangerKvmHost *host, ProbeHost *out)
{
  BangerKvmAnswer *a;
  int fd;

  out->device = host->kvm_device;
  if (out->device == NULL)
    out->device = g_getenv (BANGER_KVM_DEVICE_ENV);
  if (out->device == NULL || out->device[0] == '\0')
    out->device = "/dev/kvm";

  fd = open (out->device, O_RDWR | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    {
      int e = errno;
      return answer_new (BANGER_KVM_ABSENT,
                         g_strdup_printf ("%s does not open (%s): guests run with software "
                                          "emulation (TCG)",
                                          out->device, g_strerror (e)));
    }
  close (fd);

  out->qemu = resolve_qemu (host->qemu_binary);
  if (out->qemu == NULL)
    return answer_new (BANGER_KVM_UNTESTED,
                       g_strdup_printf ("%s opens, but there is no QEMU to probe it with "
                                        "(%s not found)",
                                        out->device, host->qemu_binary ? host->qemu_binary
                                                                       : DEFAULT_QEMU));

  out->cache_dir = host->cache_dir ? g_strdup (host->cache_dir)
                                   : banger_kvm_probe_default_cache_dir ();
  out->key.release = host->host_release ? g_strdup (host->host_release) : host_release ();
  out->key.qemu = file_identity (out->qemu, FALSE);
  out->key.kvm = file_identity (out->device, TRUE);
  if (probe_host_can_cache (out) && (a = cache_read (out->cache_dir, &out->key)) != NULL)
    return a;
  return NULL;
}

BangerKvmAnswer *
banger_kvm_probe_cached (const BangerKvmHost *host)
{
  static const BangerKvmHost defaults = { 0 };
  g_auto (ProbeHost) h = { 0 };
  BangerKvmAnswer *a = cheap_answer (host ? host : &defaults, &h);

  if (a != NULL)
    return a;
  return answer_new (BANGER_KVM_UNTESTED,
                     g_strdup_printf ("%s opens, but no boot probe has run yet (the first QEMU "
                                      "launch or `banger doctor` runs it)",
                                      h.device));
}

BangerKvmAnswer *
banger_kvm_probe (const BangerKvmHost *host, GCancellable *cancellable, GError **error)
{
  static const BangerKvmHost defaults = { 0 };
  g_auto (ProbeHost) h = { 0 };
  g_autoptr (GError) spawn_error = NULL;
  g_autofree char *kernel = NULL;
  BangerKvmAnswer *a;
  siginfo_t end;
  guint timeout_ms;
  gint64 t0;

  if (host == NULL)
    host = &defaults;
  if ((a = cheap_answer (host, &h)) != NULL)
    return a;
  timeout_ms = host->timeout_ms ? host->timeout_ms : BANGER_KVM_PROBE_TIMEOUT_MS;

  kernel = host->kernel ? g_strdup (host->kernel) : banger_kvm_probe_find_kernel ();
  if (kernel == NULL || access (kernel, R_OK) != 0)
    return answer_new (BANGER_KVM_UNTESTED,
                       g_strdup_printf ("%s opens, but no kernel to boot-probe it with was found "
                                        "(set %s, or launch a VM once)",
                                        h.device, BANGER_KVM_PROBE_KERNEL_ENV));

  memset (&end, 0, sizeof end);
  t0 = g_get_monotonic_time ();
  switch (kvm_boots_kernel (h.qemu, kernel, timeout_ms, cancellable, &end, &spawn_error))
    {
    case BOOT_BANNER:
      a = answer_new (BANGER_KVM_USABLE,
                      g_strdup_printf ("%s boots a kernel under KVM", h.device));
      break;
    case BOOT_TIMEOUT:
      a = answer_new (BANGER_KVM_UNUSABLE,
                      g_strdup_printf ("%s opens, but a kernel printed nothing within %u ms "
                                       "under KVM (a paravirtual KVM?): guests run with "
                                       "software emulation (TCG)",
                                       h.device, timeout_ms));
      break;
    case BOOT_EXITED:
      a = answer_new (BANGER_KVM_UNUSABLE,
                      g_strdup_printf ("%s opens, but QEMU %s %d before a kernel booted under "
                                       "KVM: guests run with software emulation (TCG)",
                                       h.device,
                                       end.si_code == CLD_EXITED ? "exited with status"
                                                                 : "was killed by signal",
                                       end.si_status));
      break;
    case BOOT_NO_SPAWN:
      {
        g_autofree char *q = banger_quote (h.qemu);
        return answer_new (BANGER_KVM_UNTESTED,
                           g_strdup_printf ("%s opens, but QEMU '%s' could not be started to "
                                            "probe it (%s)",
                                            h.device, q,
                                            spawn_error ? spawn_error->message : "unknown"));
      }
    case BOOT_CANCELLED:
    default:
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_CANCELLED,
                   "The KVM boot probe was cancelled");
      return NULL;
    }
  a->probe_secs = (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC;
  if (probe_host_can_cache (&h))
    cache_write (h.cache_dir, &h.key, a);
  return a;
}

char *
banger_kvm_choose_accel (const char *requested, const BangerKvmHost *host,
                         BangerKvmAnswer **out_answer, GCancellable *cancellable,
                         GError **error)
{
  g_autoptr (BangerKvmAnswer) a = NULL;
  char *accel;

  if (requested == NULL || strcmp (requested, "auto") == 0)
    {
      const char *env = g_getenv (BANGER_KVM_ACCEL_ENV);
      if (env != NULL && env[0] != '\0' && strcmp (env, "auto") != 0)
        {
          if (strcmp (env, "kvm") == 0 || strcmp (env, "tcg") == 0)
            return g_strdup (env);
          {
            g_autofree char *q = banger_quote (env);
            g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                         "%s='%s' is not one of kvm, tcg, auto", BANGER_KVM_ACCEL_ENV, q);
            return NULL;
          }
        }
    }
  else if (strcmp (requested, "kvm") == 0 || strcmp (requested, "tcg") == 0)
    return g_strdup (requested);
  else
    {
      g_autofree char *q = banger_quote (requested);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "Accelerator '%s' is not one of kvm, tcg, auto", q);
      return NULL;
    }

  a = banger_kvm_probe (host, cancellable, error);
  if (a == NULL)
    return NULL;
  accel = g_strdup (a->state == BANGER_KVM_USABLE ? "kvm" : "tcg");
  if (out_answer != NULL)
    *out_answer = g_steal_pointer (&a);
  return accel;
}
