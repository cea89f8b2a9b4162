/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The one KVM answer (launch/banger-kvm-probe.c) on injected hosts:
 *  - a device that does not open: absent, tcg;
 *  - a device that opens and a QEMU whose guest stays silent (the
 *    paravirtual KVM of the build machines): unusable, tcg, bounded;
 *  - one whose QEMU exits at once: unusable, tcg;
 *  - one whose guest prints its banner: usable, kvm;
 *  - the cache: a second ask runs no probe; a change of the host kernel
 *    release, the QEMU binary or the device probes again;
 *  - no kernel or no QEMU: untested, nothing cached; cancellation;
 *  - explicit requests and $BANGER_QEMU_ACCEL.
 * The fake QEMU is this executable, re-executed with the probe's argv. */
#include "config.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger-error.h"
#include "banger-kvm-probe.h"
#include "banger-test.h"

static char *self_exe;

/* ------------------------------------------------------------ fake QEMU */

static int
fake_qemu_main (int argc, char **argv)
{
  const char *behaviour = g_getenv ("FAKE_QEMU_PROBE");
  const char *runs = g_getenv ("FAKE_QEMU_RUNS");
  const char *serial = NULL;

  if (runs != NULL)
    {
      int fd = open (runs, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
      if (fd >= 0)
        {
          if (write (fd, "x", 1) != 1)
            return 3;
          close (fd);
        }
    }
  for (int i = 1; i + 1 < argc; i++)
    if (strcmp (argv[i], "-serial") == 0 && g_str_has_prefix (argv[i + 1], "file:"))
      serial = argv[i + 1] + 5;
  if (serial == NULL || behaviour == NULL)
    return 2;
  if (strcmp (behaviour, "boots") == 0)
    {
      g_file_set_contents (serial, "[    0.000000] Linux version 6.1\n", -1, NULL);
      g_usleep (30 * G_USEC_PER_SEC);
      return 0;
    }
  if (strcmp (behaviour, "hangs") == 0)
    {
      g_usleep (30 * G_USEC_PER_SEC);
      return 0;
    }
  return 1; /* "exits": KVM refused */
}

/* ------------------------------------------------------------- fixture */

typedef struct
{
  char *dir;
  char *cache;
  char *runs;
  char *kernel;
} Fx;

static Fx fx;

static void
setup (void)
{
  fx.dir = g_dir_make_tmp ("banger-kvm-probe-test-XXXXXX", NULL);
  ck_assert (fx.dir != NULL);
  fx.cache = g_build_filename (fx.dir, "cache", NULL);
  fx.runs = g_build_filename (fx.dir, "runs", NULL);
  fx.kernel = g_build_filename (fx.dir, "vmlinuz", NULL);
  ck_assert (g_file_set_contents (fx.kernel, "not really a kernel", -1, NULL));
  g_setenv ("FAKE_QEMU_RUNS", fx.runs, TRUE);
  g_unsetenv (BANGER_KVM_ACCEL_ENV);
  g_unsetenv (BANGER_KVM_CACHE_DIR_ENV);
}

static void
teardown (void)
{
  const char *argv[] = { "/bin/rm", "-rf", fx.dir, NULL };

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL, NULL, NULL);
  g_clear_pointer (&fx.dir, g_free);
  g_clear_pointer (&fx.cache, g_free);
  g_clear_pointer (&fx.runs, g_free);
  g_clear_pointer (&fx.kernel, g_free);
}

/* How many times the fake QEMU ran. */
static gsize
runs (void)
{
  g_autofree char *s = NULL;
  gsize len = 0;

  if (!g_file_get_contents (fx.runs, &s, &len, NULL))
    return 0;
  return len;
}

static BangerKvmHost
injected_host (const char *behaviour)
{
  g_setenv ("FAKE_QEMU_PROBE", behaviour, TRUE);
  return (BangerKvmHost){ .kvm_device = "/dev/null", /* opens */
                          .qemu_binary = self_exe,
                          .kernel = fx.kernel,
                          .cache_dir = fx.cache,
                          .host_release = "6.1.0-test",
                          .timeout_ms = 400 };
}

static gboolean
cache_exists (void)
{
  g_autofree char *p = g_build_filename (fx.cache, "kvm-probe", NULL);
  return g_file_test (p, G_FILE_TEST_IS_REGULAR);
}

/* --------------------------------------------------------------- tests */

/* The machine this project is built on: /dev/kvm opens, the guest hangs. */
START_TEST (test_kvm_cannot_boot_is_unusable_and_tcg)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerKvmAnswer) answer = NULL;
  BangerKvmHost host = injected_host ("hangs");
  g_autofree char *accel = NULL;
  gint64 t0 = g_get_monotonic_time ();

  accel = banger_kvm_choose_accel (NULL, &host, &answer, NULL, &error);
  ck_assert_ptr_null (error);
  ck_assert_str_eq (accel, "tcg");
  ck_assert_int_eq (answer->state, BANGER_KVM_UNUSABLE);
  ck_assert (!answer->cached);
  ck_assert_msg (strstr (answer->detail, "printed nothing within 400 ms") != NULL, "%s",
                 answer->detail);
  ck_assert_uint_eq (runs (), 1);
  /* bounded by the timeout, not by the fake's 30 s sleep */
  ck_assert (g_get_monotonic_time () - t0 < 5 * G_USEC_PER_SEC);
  ck_assert (cache_exists ());
}
END_TEST

START_TEST (test_qemu_exits_is_unusable)
{
  g_autoptr (GError) error = NULL;
  BangerKvmHost host = injected_host ("exits");
  g_autoptr (BangerKvmAnswer) a = banger_kvm_probe (&host, NULL, &error);

  ck_assert_ptr_null (error);
  ck_assert_int_eq (a->state, BANGER_KVM_UNUSABLE);
  ck_assert_msg (strstr (a->detail, "exited with status 1") != NULL, "%s", a->detail);
}
END_TEST

START_TEST (test_kvm_boots_is_usable_and_kvm)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerKvmAnswer) answer = NULL;
  BangerKvmHost host = injected_host ("boots");
  g_autofree char *accel = banger_kvm_choose_accel ("auto", &host, &answer, NULL, &error);

  ck_assert_ptr_null (error);
  ck_assert_str_eq (accel, "kvm");
  ck_assert_int_eq (answer->state, BANGER_KVM_USABLE);
  ck_assert_str_eq (banger_kvm_state_to_string (answer->state), "usable");
}
END_TEST

START_TEST (test_absent_device)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerKvmAnswer) answer = NULL;
  BangerKvmHost host = injected_host ("boots");
  g_autofree char *accel = NULL;

  host.kvm_device = "/nonexistent/kvm";
  accel = banger_kvm_choose_accel (NULL, &host, &answer, NULL, &error);
  ck_assert_str_eq (accel, "tcg");
  ck_assert_int_eq (answer->state, BANGER_KVM_ABSENT);
  ck_assert_msg (strstr (answer->detail, "/nonexistent/kvm does not open (No such file") != NULL,
                 "%s", answer->detail);
  ck_assert_uint_eq (runs (), 0);
  ck_assert (!cache_exists ());
}
END_TEST

/* The second ask reads the cache: no probe, same answer. */
START_TEST (test_cache_hit)
{
  g_autoptr (GError) error = NULL;
  BangerKvmHost host = injected_host ("hangs");
  g_autoptr (BangerKvmAnswer) first = banger_kvm_probe (&host, NULL, &error);
  g_autoptr (BangerKvmAnswer) second = NULL;

  ck_assert_int_eq (first->state, BANGER_KVM_UNUSABLE);
  ck_assert (!first->cached);
  ck_assert_uint_eq (runs (), 1);
  second = banger_kvm_probe (&host, NULL, &error);
  ck_assert_int_eq (second->state, BANGER_KVM_UNUSABLE);
  ck_assert (second->cached);
  ck_assert_str_eq (second->detail, first->detail);
  ck_assert_uint_eq (runs (), 1);
  /* a cached answer wins even if the host would now answer otherwise */
  g_setenv ("FAKE_QEMU_PROBE", "boots", TRUE);
  {
    g_autoptr (BangerKvmAnswer) third = banger_kvm_probe (&host, NULL, &error);
    ck_assert_int_eq (third->state, BANGER_KVM_UNUSABLE);
  }
  ck_assert (banger_kvm_probe_forget (fx.cache));
  ck_assert (!cache_exists ());
  {
    g_autoptr (BangerKvmAnswer) fourth = banger_kvm_probe (&host, NULL, &error);
    ck_assert_int_eq (fourth->state, BANGER_KVM_USABLE);
    ck_assert (!fourth->cached);
  }
  ck_assert_uint_eq (runs (), 2);
}
END_TEST

/* Each part of the key invalidates: host kernel release, QEMU binary, device. */
START_TEST (test_cache_invalidation)
{
  g_autoptr (GError) error = NULL;
  BangerKvmHost host = injected_host ("hangs");
  g_autofree char *qemu_copy = g_build_filename (fx.dir, "qemu-system-x86_64", NULL);
  g_autofree char *bytes = NULL;
  gsize len;

  ck_assert (g_file_get_contents (self_exe, &bytes, &len, NULL));
  ck_assert (g_file_set_contents (qemu_copy, bytes, (gssize) len, NULL));
  ck_assert_int_eq (chmod (qemu_copy, 0755), 0);
  host.qemu_binary = qemu_copy;

  banger_kvm_answer_free (banger_kvm_probe (&host, NULL, &error));
  banger_kvm_answer_free (banger_kvm_probe (&host, NULL, &error));
  ck_assert_uint_eq (runs (), 1);

  host.host_release = "6.2.0-other";
  banger_kvm_answer_free (banger_kvm_probe (&host, NULL, &error));
  ck_assert_uint_eq (runs (), 2);
  banger_kvm_answer_free (banger_kvm_probe (&host, NULL, &error));
  ck_assert_uint_eq (runs (), 2);

  /* QEMU upgraded in place: a new mtime */
  {
    struct timespec ts[2] = { { 1000000, 0 }, { 1000000, 0 } };
    ck_assert_int_eq (utimensat (AT_FDCWD, qemu_copy, ts, 0), 0);
  }
  banger_kvm_answer_free (banger_kvm_probe (&host, NULL, &error));
  ck_assert_uint_eq (runs (), 3);

  /* another device */
  host.kvm_device = "/dev/zero";
  banger_kvm_answer_free (banger_kvm_probe (&host, NULL, &error));
  ck_assert_uint_eq (runs (), 4);
  banger_kvm_answer_free (banger_kvm_probe (&host, NULL, &error));
  ck_assert_uint_eq (runs (), 4);
  ck_assert_ptr_null (error);
}
END_TEST

START_TEST (test_untested_is_not_cached)
{
  g_autoptr (GError) error = NULL;
  BangerKvmHost host = injected_host ("boots");
  g_autofree char *missing = g_build_filename (fx.dir, "no-kernel", NULL);

  host.kernel = missing;
  {
    g_autoptr (BangerKvmAnswer) a = banger_kvm_probe (&host, NULL, &error);
    ck_assert_int_eq (a->state, BANGER_KVM_UNTESTED);
    ck_assert_msg (strstr (a->detail, "no kernel to boot-probe it with") != NULL, "%s",
                   a->detail);
  }
  host.kernel = fx.kernel;
  host.qemu_binary = "/nonexistent/qemu";
  {
    g_autoptr (BangerKvmAnswer) a = banger_kvm_probe (&host, NULL, &error);
    ck_assert_int_eq (a->state, BANGER_KVM_UNTESTED);
    ck_assert_msg (strstr (a->detail, "no QEMU to probe it with (/nonexistent/qemu") != NULL,
                   "%s", a->detail);
  }
  ck_assert_uint_eq (runs (), 0);
  ck_assert (!cache_exists ());
  ck_assert_ptr_null (error);
}
END_TEST

/* The probe's QEMU starts through the one spawn (banger_spawn_vmm): a file
 * that cannot be executed (no ELF, no '#!': execve's ENOEXEC) is a QEMU that
 * could not be started — untested, with the exec error, nothing cached —
 * not a QEMU that ran and exited (g_spawn would have handed it to /bin/sh). */
START_TEST (test_qemu_not_a_program_is_untested)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *bogus = g_build_filename (fx.dir, "qemu-not-a-program", NULL);
  BangerKvmHost host = injected_host ("boots");
  g_autoptr (BangerKvmAnswer) a = NULL;

  ck_assert (g_file_set_contents (bogus, "not a program\n", -1, NULL));
  ck_assert_int_eq (chmod (bogus, 0755), 0);
  host.qemu_binary = bogus;
  a = banger_kvm_probe (&host, NULL, &error);
  ck_assert_ptr_null (error);
  ck_assert_int_eq (a->state, BANGER_KVM_UNTESTED);
  ck_assert_msg (strstr (a->detail, "could not be started to probe it") != NULL
                     && strstr (a->detail, "could not exec") != NULL,
                 "%s", a->detail);
  ck_assert (!cache_exists ());
}
END_TEST

START_TEST (test_cancelled)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GCancellable) c = g_cancellable_new ();
  BangerKvmHost host = injected_host ("hangs");
  BangerKvmAnswer *a;

  g_cancellable_cancel (c);
  a = banger_kvm_probe (&host, c, &error);
  ck_assert_ptr_null (a);
  banger_assert_error (error, BANGER_ERROR_CANCELLED);
  ck_assert (!cache_exists ());
}
END_TEST

START_TEST (test_requests_and_environment)
{
  g_autoptr (GError) error = NULL;
  BangerKvmHost host = injected_host ("boots");
  char *a;

  host.kvm_device = "/nonexistent/kvm";
  a = banger_kvm_choose_accel ("kvm", &host, NULL, NULL, &error);
  ck_assert_str_eq (a, "kvm");
  g_free (a);

  g_setenv (BANGER_KVM_ACCEL_ENV, "kvm", TRUE);
  a = banger_kvm_choose_accel (NULL, &host, NULL, NULL, &error);
  ck_assert_str_eq (a, "kvm");
  g_free (a);
  /* an explicit request beats the environment */
  a = banger_kvm_choose_accel ("tcg", &host, NULL, NULL, &error);
  ck_assert_str_eq (a, "tcg");
  g_free (a);
  ck_assert_uint_eq (runs (), 0);

  g_setenv (BANGER_KVM_ACCEL_ENV, "xen", TRUE);
  a = banger_kvm_choose_accel (NULL, &host, NULL, NULL, &error);
  ck_assert_ptr_null (a);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_unsetenv (BANGER_KVM_ACCEL_ENV);

  a = banger_kvm_choose_accel ("hvf", &host, NULL, NULL, &error);
  ck_assert_ptr_null (a);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
}
END_TEST

START_TEST (test_default_cache_dir)
{
  g_autofree char *d = NULL;

  g_setenv (BANGER_KVM_CACHE_DIR_ENV, "/some/where", TRUE);
  d = banger_kvm_probe_default_cache_dir ();
  ck_assert_str_eq (d, "/some/where");
  g_free (d);
  g_unsetenv (BANGER_KVM_CACHE_DIR_ENV);
  d = banger_kvm_probe_default_cache_dir ();
  if (geteuid () == 0)
    ck_assert_str_eq (d, "/var/cache/banger");
  else
    {
      g_autofree char *want = g_build_filename (g_get_user_cache_dir (), "banger", NULL);
      ck_assert_str_eq (d, want);
    }
}
END_TEST

static Suite *
kvm_probe_suite (void)
{
  Suite *s = suite_create ("kvm-probe");
  TCase *tc = tcase_create ("probe");

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 20);
  tcase_add_test (tc, test_kvm_cannot_boot_is_unusable_and_tcg);
  tcase_add_test (tc, test_qemu_exits_is_unusable);
  tcase_add_test (tc, test_kvm_boots_is_usable_and_kvm);
  tcase_add_test (tc, test_absent_device);
  tcase_add_test (tc, test_cache_hit);
  tcase_add_test (tc, test_cache_invalidation);
  tcase_add_test (tc, test_untested_is_not_cached);
  tcase_add_test (tc, test_qemu_not_a_program_is_untested);
  tcase_add_test (tc, test_cancelled);
  tcase_add_test (tc, test_requests_and_environment);
  tcase_add_test (tc, test_default_cache_dir);
  suite_add_tcase (s, tc);
  return s;
}

int
main (int argc, char **argv)
{
  for (int i = 1; i < argc; i++)
    if (strcmp (argv[i], "-accel") == 0)
      return fake_qemu_main (argc, argv);
  self_exe = g_file_read_link ("/proc/self/exe", NULL);
  return banger_test_run (kvm_probe_suite ());
}
