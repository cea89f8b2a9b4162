/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Guest access against a real SSH server: the test guest (tests/guest/,
 * dropbear) with the install key written into a copy of its rootfs by
 * banger_guest_inject_authorized_key(), booted under QEMU (TCG here) in a
 * network namespace the test makes.  Then: wait for SSH (async), the host
 * key recorded on first contact, exec `uname -r` (stdout = the guest's
 * kernel release, status 0), exec `sh -c 'echo err >&2; exit 7'` (stderr
 * "err", status 7), argument quoting, 1 MiB of output, a signal, a
 * cancelled command, a refused key, a changed host key refused (exec and
 * wait, at once, file untouched), a closed port timing out, a cancelled
 * wait; and cleanup:
 * graceful stop, no QEMU, no namespace, no scratch files.
 *
 * Root only; a skip is a failure under CI=true. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "banger-error.h"
#include "banger-guest-exec.h"
#include "banger-guest-wait.h"
#include "banger-vmm-qemu.h"
#include "guest-access-test.h"
#include "guest-access-vm.h"

/* What a failed assertion (a longjmp under CK_NOFORK) leaves behind. */
static BangerKitNetns *leftover_ns;
static GaVm *leftover_vm;
static int saved_netns = -1;
static char *leftover_dir;

typedef struct
{
  GMainLoop *loop;
  GAsyncResult *result;
} Waiter;

static void
on_done (GObject *source, GAsyncResult *result, gpointer data)
{
  Waiter *w = data;

  w->result = g_object_ref (result);
  g_main_loop_quit (w->loop);
}

static gboolean
cancel_cb (gpointer data)
{
  g_cancellable_cancel (data);
  return G_SOURCE_REMOVE;
}

static char *
memory_stream_text (GOutputStream *stream)
{
  GMemoryOutputStream *m = G_MEMORY_OUTPUT_STREAM (stream);

  ck_assert (g_output_stream_close (stream, NULL, NULL));
  if (g_memory_output_stream_get_data_size (m) == 0)
    return g_strdup ("");
  return g_strndup (g_memory_output_stream_get_data (m),
                    g_memory_output_stream_get_data_size (m));
}

/* Runs @argv synchronously; its stdout and stderr. */
static gboolean
exec_capture (BangerGuestEndpoint *ep, const char *const *argv, char **out, char **err,
              int *status, GError **error)
{
  g_autoptr (GOutputStream) o = g_memory_output_stream_new_resizable ();
  g_autoptr (GOutputStream) e = g_memory_output_stream_new_resizable ();

  if (!banger_guest_exec (ep, argv, o, e, status, NULL, error))
    return FALSE;
  *out = memory_stream_text (o);
  *err = memory_stream_text (e);
  return TRUE;
}

START_TEST (test_guest_access)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *guest = NULL;
  g_autofree char *release_file = NULL;
  g_autofree char *expected_release = NULL;
  g_autofree char *ns_name = NULL;
  g_autofree char *vm_dir = NULL;
  g_autofree char *kh_text = NULL;
  g_autoptr (BangerGuestEndpoint) ep = NULL;
  g_autoptr (GMainContext) ctx = g_main_context_new ();
  BangerKitNetns *ns;
  GaVm *vm;
  GPid pid;
  gint64 t0;

  g_main_context_push_thread_default (ctx);

  guest = banger_kit_build_guest (&error);
  ck_assert_msg (guest != NULL, "building the guest: %s", error ? error->message : "?");
  release_file = g_build_filename (guest, "kernel-release", NULL);
  ck_assert (g_file_get_contents (release_file, &expected_release, NULL, NULL));
  g_strstrip (expected_release);

  ns = banger_kit_netns_new ("banger-ga", &error);
  ck_assert_msg (ns != NULL, "netns: %s", error ? error->message : "?");
  ns_name = g_strdup (ns->name);
  leftover_ns = ns;

  /* This thread, and every thread it makes from now on (GTask's workers,
   * which the VMM driver starts too), joins the namespace where the guest
   * is reachable: before anything has started a worker in the host's. */
  saved_netns = ga_enter_netns (ns->name, &error);
  ck_assert_msg (saved_netns >= 0, "%s", error ? error->message : "?");

  /* inject (the library's function) + boot */
  vm = ga_vm_boot (guest, ns, &error);
  ck_assert_msg (vm != NULL, "boot: %s", error ? error->message : "?");
  leftover_vm = vm;
  vm_dir = g_strdup (vm->dir);
  pid = banger_vmm_get_pid (vm->vmm);
  printf ("# key injected into the rootfs copy in %.3f s\n", vm->inject_s);

  ep = banger_guest_endpoint_new (ns->guest_ip, 22, vm->key, vm->known_hosts, &error);
  ck_assert_msg (ep != NULL, "%s", error ? error->message : "?");
  banger_guest_endpoint_set_connect_timeout (ep, 3000);
  ck_assert (!g_file_test (vm->known_hosts, G_FILE_TEST_EXISTS));

  /* wait for SSH, async */
  {
    Waiter w = { g_main_loop_new (ctx, FALSE), NULL };
    t0 = g_get_monotonic_time ();
    banger_guest_wait_ssh_async (ep, 180 * 1000, NULL, on_done, &w);
    g_main_loop_run (w.loop);
    if (!banger_guest_wait_ssh_finish (ep, w.result, &error))
      {
        g_autofree char *console = NULL;
        if (g_file_get_contents (banger_vmm_qemu_get_console_log (BANGER_VMM_QEMU (vm->vmm)),
                                 &console, NULL, NULL))
          g_printerr ("# guest console:\n%s\n", console);
        ck_abort_msg ("wait: %s", error->message);
      }
    printf ("# launch to SSH login (libssh): %.2f s\n",
            (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC);
    g_object_unref (w.result);
    g_main_loop_unref (w.loop);
  }

  /* the host key was recorded, in a file of ours */
  {
    struct stat st;
    g_autofree char *prefix = g_strdup_printf ("%s ssh-ed25519 AAAA", ns->guest_ip);
    ck_assert (g_file_get_contents (vm->known_hosts, &kh_text, NULL, NULL));
    ck_assert_msg (g_str_has_prefix (kh_text, prefix), "known_hosts: %s", kh_text);
    ck_assert_int_eq (strchr (kh_text, '\n') - kh_text, (long) strlen (kh_text) - 1);
    ck_assert_int_eq (stat (vm->known_hosts, &st), 0);
    ck_assert_uint_eq (st.st_mode & 07777, 0600);
  }

  /* uname -r */
  {
    const char *argv[] = { "uname", "-r", NULL };
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    g_autofree char *want = g_strconcat (expected_release, "\n", NULL);
    int status = -1;

    ck_assert_msg (exec_capture (ep, argv, &out, &err, &status, &error), "%s",
                   error ? error->message : "?");
    ck_assert_int_eq (status, 0);
    ck_assert_str_eq (out, want);
    ck_assert_str_eq (err, "");
    printf ("# guest uname -r: %s", out);
  }

  /* stderr and a status, async */
  {
    const char *argv[] = { "sh", "-c", "echo err >&2; exit 7", NULL };
    g_autoptr (GOutputStream) o = g_memory_output_stream_new_resizable ();
    g_autoptr (GOutputStream) e = g_memory_output_stream_new_resizable ();
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    Waiter w = { g_main_loop_new (ctx, FALSE), NULL };
    int status = -1;

    banger_guest_exec_async (ep, argv, o, e, NULL, on_done, &w);
    g_main_loop_run (w.loop);
    ck_assert_msg (banger_guest_exec_finish (ep, w.result, &status, &error), "%s",
                   error ? error->message : "?");
    out = memory_stream_text (o);
    err = memory_stream_text (e);
    ck_assert_int_eq (status, 7);
    ck_assert_str_eq (err, "err\n");
    ck_assert_str_eq (out, "");
    g_object_unref (w.result);
    g_main_loop_unref (w.loop);
  }

  /* each argv element arrives as one word, shell characters and all */
  {
    const char *argv[] = { "printf", "%s|", "a b", "it's", "$HOME", ";true", NULL };
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    int status = -1;

    ck_assert_msg (exec_capture (ep, argv, &out, &err, &status, &error), "%s",
                   error ? error->message : "?");
    ck_assert_int_eq (status, 0);
    ck_assert_str_eq (out, "a b|it's|$HOME|;true|");
  }

  /* 1 MiB of output, streamed through the SSH window */
  {
    const char *argv[] = { "head", "-c", "1048576", "/dev/zero", NULL };
    g_autoptr (GOutputStream) o = g_memory_output_stream_new_resizable ();
    int status = -1;

    t0 = g_get_monotonic_time ();
    ck_assert_msg (banger_guest_exec (ep, argv, o, NULL, &status, NULL, &error), "%s",
                   error ? error->message : "?");
    ck_assert_int_eq (status, 0);
    ck_assert_uint_eq (g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (o)),
                       1048576);
    printf ("# 1 MiB of stdout in %.2f s\n",
            (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC);
  }

  /* killed by a signal: an error naming it, not a status */
  {
    const char *argv[] = { "sh", "-c", "kill -9 $$", NULL };
    int status = -1;

    ck_assert (!banger_guest_exec (ep, argv, NULL, NULL, &status, NULL, &error));
    banger_assert_error (error, BANGER_ERROR_FAILED);
    ck_assert_msg (strstr (error->message, "SIGKILL") != NULL, "%s", error->message);
    ck_assert_int_eq (status, -1);
    g_clear_error (&error);
  }

  /* a cancelled command ends at once */
  {
    const char *argv[] = { "sleep", "60", NULL };
    g_autoptr (GCancellable) cancellable = g_cancellable_new ();
    Waiter w = { g_main_loop_new (ctx, FALSE), NULL };
    GSource *timer = g_timeout_source_new (1500);
    int status = -1;

    g_source_set_callback (timer, cancel_cb, cancellable, NULL);
    g_source_attach (timer, ctx);
    g_source_unref (timer);
    t0 = g_get_monotonic_time ();
    banger_guest_exec_async (ep, argv, NULL, NULL, cancellable, on_done, &w);
    g_main_loop_run (w.loop);
    ck_assert (!banger_guest_exec_finish (ep, w.result, &status, &error));
    banger_assert_error (error, BANGER_ERROR_CANCELLED);
    ck_assert_msg (g_get_monotonic_time () - t0 < 5 * G_USEC_PER_SEC, "cancel took %.2f s",
                   (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC);
    g_clear_error (&error);
    g_object_unref (w.result);
    g_main_loop_unref (w.loop);
  }

  /* a key the guest does not know: refused, and wait_ssh gives up at once */
  {
    g_autofree char *other_dir = g_build_filename (vm->dir, "other-ssh", NULL);
    g_autoptr (BangerGuestKey) other = banger_guest_key_load_or_create (other_dir, NULL, &error);
    g_autoptr (BangerGuestEndpoint) bad = NULL;
    const char *argv[] = { "true", NULL };

    ck_assert_msg (other != NULL, "%s", error ? error->message : "?");
    bad = banger_guest_endpoint_new (ns->guest_ip, 22, other, vm->known_hosts, &error);
    ck_assert (bad != NULL);
    ck_assert (!banger_guest_exec (bad, argv, NULL, NULL, NULL, NULL, &error));
    banger_assert_error (error, BANGER_ERROR_PERMISSION_DENIED);
    ck_assert_msg (strstr (error->message, "refused banger's key") != NULL, "%s",
                   error->message);
    g_clear_error (&error);
  }

  /* a changed host key: the recorded key is swapped for another ed25519 key */
  {
    g_autofree char *fake_dir = g_build_filename (vm->dir, "fake-host", NULL);
    g_autoptr (BangerGuestKey) fake = banger_guest_key_load_or_create (fake_dir, NULL, &error);
    g_auto (GStrv) fields = NULL;
    g_auto (GStrv) fake_fields = NULL;
    g_autofree char *forged = NULL;
    g_autofree char *after = NULL;
    const char *argv[] = { "true", NULL };
    guint attempts = 0;

    ck_assert_msg (fake != NULL, "%s", error ? error->message : "?");
    fields = g_strsplit (kh_text, " ", 3);
    fake_fields = g_strsplit (banger_guest_key_get_public_line (fake), " ", 3);
    forged = g_strdup_printf ("%s %s %s\n", fields[0], fields[1], fake_fields[1]);
    ck_assert (g_file_set_contents (vm->known_hosts, forged, -1, NULL));
    ck_assert_int_eq (chmod (vm->known_hosts, 0600), 0);

    ck_assert (!banger_guest_exec (ep, argv, NULL, NULL, NULL, NULL, &error));
    banger_assert_error (error, BANGER_ERROR_HOST_KEY_MISMATCH);
    ck_assert_msg (strstr (error->message, "host key") != NULL
                       && strstr (error->message, "changed") != NULL,
                   "%s", error->message);
    printf ("# %s\n", error->message);
    g_clear_error (&error);

    t0 = g_get_monotonic_time ();
    ck_assert (!banger_guest_wait_ssh (ep, 60 * 1000, &attempts, NULL, &error));
    banger_assert_error (error, BANGER_ERROR_HOST_KEY_MISMATCH);
    ck_assert_uint_eq (attempts, 1);
    ck_assert (g_get_monotonic_time () - t0 < 10 * G_USEC_PER_SEC);
    g_clear_error (&error);

    /* never a silent accept: the file still holds the forged key alone */
    ck_assert (g_file_get_contents (vm->known_hosts, &after, NULL, NULL));
    ck_assert_str_eq (after, forged);

    /* the real key back: accepted again */
    ck_assert (g_file_set_contents (vm->known_hosts, kh_text, -1, NULL));
    ck_assert_msg (banger_guest_exec (ep, argv, NULL, NULL, NULL, NULL, &error), "%s",
                   error ? error->message : "?");
  }

  /* nothing listens on port 2222: retried until the deadline */
  {
    g_autoptr (BangerGuestEndpoint) closed = NULL;
    guint attempts = 0;

    closed = banger_guest_endpoint_new (ns->guest_ip, 2222, vm->key, vm->known_hosts, &error);
    ck_assert (closed != NULL);
    t0 = g_get_monotonic_time ();
    ck_assert (!banger_guest_wait_ssh (closed, 1500, &attempts, NULL, &error));
    banger_assert_error (error, BANGER_ERROR_TIMED_OUT);
    ck_assert_uint_gt (attempts, 1);
    ck_assert (g_get_monotonic_time () - t0 < 4 * G_USEC_PER_SEC);
    ck_assert_msg (strstr (error->message, "Connection refused") != NULL, "%s", error->message);
    g_clear_error (&error);

    /* the same wait, cancelled from the main loop after 300 ms, async */
    {
      g_autoptr (GCancellable) cancellable = g_cancellable_new ();
      Waiter w = { g_main_loop_new (ctx, FALSE), NULL };
      GSource *timer = g_timeout_source_new (300);

      g_source_set_callback (timer, cancel_cb, cancellable, NULL);
      g_source_attach (timer, ctx);
      g_source_unref (timer);
      t0 = g_get_monotonic_time ();
      banger_guest_wait_ssh_async (closed, 60 * 1000, cancellable, on_done, &w);
      g_main_loop_run (w.loop);
      ck_assert (!banger_guest_wait_ssh_finish (closed, w.result, &error));
      banger_assert_error (error, BANGER_ERROR_CANCELLED);
      ck_assert_msg (g_get_monotonic_time () - t0 < 2 * G_USEC_PER_SEC, "cancel took %.2f s",
                     (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC);
      g_clear_error (&error);
      g_object_unref (w.result);
      g_main_loop_unref (w.loop);
    }
  }

  /* cleanup */
  ck_assert_msg (ga_leave_netns (saved_netns, &error), "%s", error ? error->message : "?");
  saved_netns = -1;
  ck_assert_msg (ga_vm_stop (vm, &error), "stop: %s", error ? error->message : "?");
  /* QEMU is bangerd-root's child: exited now (its pidfd said so), and gone
   * once the helper has reaped it (it does every 5 s) */
  for (int i = 0; i < 1000 && kill (pid, 0) == 0; i++)
    g_usleep (10 * 1000);
  ck_assert_msg (kill (pid, 0) < 0 && errno == ESRCH, "QEMU (pid %d) is still there", pid);
  leftover_vm = NULL;
  ga_vm_free (vm);
  ck_assert_msg (!g_file_test (vm_dir, G_FILE_TEST_EXISTS), "%s was left behind", vm_dir);
  leftover_ns = NULL;
  ck_assert_msg (banger_kit_netns_destroy (ns, &error), "%s", error ? error->message : "?");
  ck_assert_msg (!banger_kit_netns_exists (ns_name), "namespace %s was left behind", ns_name);
  g_main_context_pop_thread_default (ctx);
}
END_TEST

/* Without a guest: the argument checks of the endpoint and the command. */
START_TEST (test_endpoint_arguments)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("banger-ga-XXXXXX", NULL);
  g_autofree char *key_dir = g_build_filename (dir, "ssh", NULL);
  g_autoptr (BangerGuestKey) key = banger_guest_key_load_or_create (key_dir, NULL, &error);
  g_autoptr (BangerGuestEndpoint) ep = NULL;
  g_autofree char *cmd = NULL;

  ck_assert (key != NULL);
  leftover_dir = g_strdup (dir);
  ep = banger_guest_endpoint_new ("vm.example", 22, key, "/tmp/kh", &error);
  ck_assert_ptr_null (ep);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ep = banger_guest_endpoint_new ("10.0.0.2", 22, key, "relative/kh", &error);
  ck_assert_ptr_null (ep);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ep = banger_guest_endpoint_new ("10.0.0.2", 22, key, "/tmp/%d/kh", &error);
  ck_assert_ptr_null (ep);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  ep = banger_guest_endpoint_new ("10.0.0.2", 0, key, "/tmp/kh", &error);
  ck_assert (ep != NULL);
  ck_assert_uint_eq (banger_guest_endpoint_get_port (ep), 22);
  ck_assert (!banger_guest_endpoint_set_user (ep, "-oProxyCommand=x", &error));
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  {
    const char *empty[] = { NULL };
    const char *argv[] = { "echo", "it's", NULL };
    ck_assert_ptr_null (banger_guest_exec_command_line (empty, &error));
    banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
    cmd = banger_guest_exec_command_line (argv, &error);
    ck_assert_str_eq (cmd, "'echo' 'it'\\''s'");
  }

  /* a foreign known-hosts file is refused before any connection */
  {
    g_autofree char *kh = g_build_filename (dir, "kh", NULL);
    g_autoptr (BangerGuestEndpoint) ep2 = NULL;
    const char *argv[] = { "true", NULL };
    ck_assert (g_file_set_contents (kh, "", -1, NULL));
    ck_assert_int_eq (chmod (kh, 0666), 0);
    ep2 = banger_guest_endpoint_new ("127.0.0.1", 1, key, kh, &error);
    ck_assert (ep2 != NULL);
    ck_assert (!banger_guest_exec (ep2, argv, NULL, NULL, NULL, NULL, &error));
    banger_assert_error (error, BANGER_ERROR_PERMISSION_DENIED);
    g_clear_error (&error);
  }
  ga_rm_rf (dir);
  g_clear_pointer (&leftover_dir, g_free);
}
END_TEST

static Suite *
guest_ssh_suite (void)
{
  Suite *s = suite_create ("guest-ssh");
  TCase *tc = tcase_create ("args");

  tcase_add_test (tc, test_endpoint_arguments);
  suite_add_tcase (s, tc);
  tc = tcase_create ("guest");
  tcase_set_timeout (tc, 900);
  tcase_add_test (tc, test_guest_access);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  SRunner *sr;
  int failed;

  if (geteuid () != 0)
    return banger_test_skip_suite ("needs root (network namespace, tap)");
  g_setenv ("G_DEBUG", "fatal-warnings,fatal-criticals", TRUE);
  sr = srunner_create (guest_ssh_suite ());
  /* no fork: the namespace and the guest are cleaned up here on failure */
  srunner_set_fork_status (sr, CK_NOFORK);
  srunner_set_tap (sr, "-");
  srunner_run_all (sr, CK_SILENT);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  if (saved_netns >= 0)
    ga_leave_netns (saved_netns, NULL);
  g_clear_pointer (&leftover_vm, ga_vm_free);
  if (leftover_ns != NULL)
    banger_kit_netns_destroy (g_steal_pointer (&leftover_ns), NULL);
  if (leftover_dir != NULL)
    ga_rm_rf (leftover_dir);
  g_free (leftover_dir);
  return failed == 0 ? 0 : 1;
}
