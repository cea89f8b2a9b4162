/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The event stream, streaming exec and doctor through BangerClient, on the
 * real test guest (QEMU, TCG) behind a bangerd (root, the in-process
 * executor) in a network namespace this test makes:
 *   - client B subscribes; client A creates, stops and deletes a VM: B sees
 *     every state change (creating, running, stopping, stopped, deleting,
 *     deleted) and the create's steps as progress, in order, under A's op id;
 *   - exec streamed: more than 1 MiB arrives whole (the old 40 KiB cap is
 *     gone), and a command that prints, sleeps and prints delivers its first
 *     line before it ends; the bytes form carries more than 40 KiB too;
 *     `banger vm exec` relays stdout/stderr and exits with the remote status;
 *   - doctor: engine.doctor's checks through the client and the CLI;
 *   - embedded: the same events for a create --no-start and a delete.
 * Root only. */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <banger.h>
#include <glib/gstdio.h>

#include "banger-e2e-test.h"

#ifndef BANGER_CLI_PATH
#error "BANGER_CLI_PATH must name the banger this build makes"
#endif

typedef BangerE2eEnv Env;

/* the kit's helpers under the names the cases use */
#define done_cb banger_e2e_async_done
#define wait_for banger_e2e_async_wait

/* A bangerd (root) in a namespace of the test's own; or only its config,
 * for an embedded client in this process. */
static Env *
env_new (gboolean with_daemon)
{
  const BangerE2eOptions options = {
    .prefix = "banger-ev",
    .deploy = with_daemon ? BANGER_E2E_DEPLOY_ROOT : BANGER_E2E_DEPLOY_HERE,
    .subnet = "10.79.0.0/24",
    .find_guest = TRUE,
  };

  return banger_e2e_test_env_new (&options, !with_daemon);
}

/* ------------------------------------------------------------ helpers */

/* Iterate until @cond or @timeout_s. */
#define ITERATE_UNTIL(cond, timeout_s)                                                             \
  do                                                                                               \
    {                                                                                              \
      gint64 _end = g_get_monotonic_time () + (timeout_s) * G_USEC_PER_SEC;                        \
      while (!(cond) && g_get_monotonic_time () < _end)                                            \
        g_main_context_iteration (NULL, FALSE) || (g_usleep (1000), 0);                            \
    }                                                                                              \
  while (0)

typedef struct
{
  GPtrArray *states;   /* "name:state" */
  GPtrArray *progress; /* "op:kind:target:step:i/n" */
  guint ended;
} Seen;

static void
on_state (BangerClient *c, const char *name, BangerVmState state, Seen *seen)
{
  g_ptr_array_add (seen->states,
                   g_strdup_printf ("%s:%s", name, banger_vm_state_to_string (state)));
}

static void
on_progress (BangerClient *c, const char *op_id, const char *kind, const char *target,
             const char *step, guint index, guint count, guint64 done, guint64 total, Seen *seen)
{
  ck_assert (op_id != NULL && op_id[0] == 'c');
  /* the steps' starts (a step that counts bytes reports them after it) */
  if (total == 0)
    g_ptr_array_add (seen->progress,
                     g_strdup_printf ("%s:%s:%s:%u/%u", kind, target, step, index, count));
  /* one op id for every step of one operation */
  if (g_object_get_data (G_OBJECT (c), kind) == NULL)
    g_object_set_data_full (G_OBJECT (c), kind, g_strdup (op_id), g_free);
  else
    ck_assert_str_eq (g_object_get_data (G_OBJECT (c), kind), op_id);
}

static void
on_ended (BangerClient *c, GError *error, Seen *seen)
{
  seen->ended++;
}

static gboolean
has (GPtrArray *a, const char *s)
{
  for (guint i = 0; i < a->len; i++)
    if (g_str_equal (a->pdata[i], s))
      return TRUE;
  return FALSE;
}

static char *
joined (GPtrArray *a)
{
  g_autoptr (GPtrArray) v = g_ptr_array_new ();
  for (guint i = 0; i < a->len; i++)
    g_ptr_array_add (v, a->pdata[i]);
  g_ptr_array_add (v, NULL);
  return g_strjoinv (" ", (char **)v->pdata);
}

static void
subscribe (BangerClient *client, Seen *seen)
{
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;

  seen->states = g_ptr_array_new_with_free_func (g_free);
  seen->progress = g_ptr_array_new_with_free_func (g_free);
  g_signal_connect (client, "vm-state-changed", G_CALLBACK (on_state), seen);
  g_signal_connect (client, "progress", G_CALLBACK (on_progress), seen);
  g_signal_connect (client, "subscription-ended", G_CALLBACK (on_ended), seen);
  banger_client_subscribe_async (client, NULL, done_cb, &res);
  ck_assert_msg (banger_client_subscribe_finish (client, wait_for (&res), &error), "subscribe: %s",
                 error ? error->message : "?");
}

static void
seen_clear (Seen *seen)
{
  g_clear_pointer (&seen->states, g_ptr_array_unref);
  g_clear_pointer (&seen->progress, g_ptr_array_unref);
}

static void
add_kernel_and_image (BangerClient *client, const char *guest)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *vmlinuz = NULL, *initrd = NULL, *rootfs = NULL;

  banger_e2e_guest_files (guest, &vmlinuz, &initrd, &rootfs);
  ck_assert_msg (banger_e2e_client_add_guest (client, vmlinuz, initrd, rootfs, &error), "%s",
                 error ? error->message : "?");
}

/* --------------------------------------------------------------- exec */

static void
check_exec_big (BangerClient *a)
{
  const char *argv[] = { "dd", "if=/dev/zero", "bs=4096", "count=300", NULL };
  g_autoptr (GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_autoptr (GOutputStream) err = g_memory_output_stream_new_resizable ();
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GAsyncResult) res2 = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bout = NULL, berr = NULL;
  const guint8 *data;
  int status = -1;

  banger_client_vm_exec_stream_async (a, "ev-1", argv, out, err, NULL, done_cb, &res);
  ck_assert_msg (banger_client_vm_exec_stream_finish (a, wait_for (&res), &status, &error),
                 "exec: %s", error ? error->message : "?");
  ck_assert_int_eq (status, 0);
  ck_assert_uint_eq (g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (out)),
                     1228800);
  data = g_memory_output_stream_get_data (G_MEMORY_OUTPUT_STREAM (out));
  for (gsize i = 0; i < 1228800; i++)
    if (data[i] != 0)
      ck_abort_msg ("byte %" G_GSIZE_FORMAT " of the output is %u", i, data[i]);

  /* a figure: 16 MiB through the stream (discarded on arrival) */
  {
    const char *argv16[] = { "dd", "if=/dev/zero", "bs=65536", "count=256", NULL };
    g_autoptr (GAsyncResult) r16 = NULL;
    gint64 t0 = g_get_monotonic_time ();
    double s16;

    banger_client_vm_exec_stream_async (a, "ev-1", argv16, NULL, NULL, NULL, done_cb, &r16);
    ck_assert_msg (banger_client_vm_exec_stream_finish (a, wait_for (&r16), &status, &error),
                   "exec: %s", error ? error->message : "?");
    s16 = (g_get_monotonic_time () - t0) / (double)G_USEC_PER_SEC;
    g_print ("# exec stream: 16 MiB from the guest (TCG) in %.2f s (%.1f MiB/s)\n", s16, 16 / s16);
  }
  /* the same over plain OpenSSH from the namespace, for the ratio */
  if (g_object_get_data (G_OBJECT (a), "env-ns") != NULL)
    {
      g_autofree char *key = g_build_filename (g_object_get_data (G_OBJECT (a), "env-dir"),
                                               "state", "ssh", "id_ed25519", NULL);
      const char *ssh[] = { "ip", "netns", "exec", g_object_get_data (G_OBJECT (a), "env-ns"),
                            "sh", "-c", NULL, NULL };
      g_autofree char *cmd = g_strdup_printf (
          "ssh -i '%s' -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
          "-o LogLevel=ERROR root@10.79.0.2 dd if=/dev/zero bs=65536 count=256 2>/dev/null | wc -c",
          key);
      g_autofree char *n = NULL;
      gint64 t0 = g_get_monotonic_time ();
      double s16;

      ssh[6] = cmd;
      ck_assert_msg (banger_kit_run (ssh, &n, &error), "ssh: %s", error ? error->message : "?");
      s16 = (g_get_monotonic_time () - t0) / (double)G_USEC_PER_SEC;
      ck_assert_str_eq (g_strstrip (n), "16777216");
      g_print ("# the same over OpenSSH ssh from the namespace: %.2f s (%.1f MiB/s)\n", s16,
               16 / s16);
    }

  /* the bytes form (Python's) has no 40 KiB cap either */
  banger_client_vm_exec_async (a, "ev-1", argv, NULL, done_cb, &res2);
  ck_assert_msg (banger_client_vm_exec_finish (a, wait_for (&res2), &status, &bout, &berr, &error),
                 "exec (bytes): %s", error ? error->message : "?");
  ck_assert_int_eq (status, 0);
  ck_assert_uint_eq (g_bytes_get_size (bout), 1228800);
}

static void
check_exec_live (BangerClient *a)
{
  const char *argv[] = { "sh", "-c", "echo first; sleep 3; echo second", NULL };
  g_autoptr (GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  GMemoryOutputStream *m = G_MEMORY_OUTPUT_STREAM (out);
  g_autofree char *first = NULL;
  gint64 t_first, t_end;
  int status = -1;

  banger_client_vm_exec_stream_async (a, "ev-1", argv, out, NULL, NULL, done_cb, &res);
  ITERATE_UNTIL (g_memory_output_stream_get_data_size (m) > 0 || res != NULL, 60);
  t_first = g_get_monotonic_time ();
  ck_assert_msg (res == NULL, "the command ended before its first line arrived");
  first = g_strndup (g_memory_output_stream_get_data (m), g_memory_output_stream_get_data_size (m));
  ck_assert_str_eq (first, "first\n");
  ck_assert_msg (banger_client_vm_exec_stream_finish (a, wait_for (&res), &status, &error),
                 "exec: %s", error ? error->message : "?");
  t_end = g_get_monotonic_time ();
  ck_assert_int_eq (status, 0);
  ck_assert_msg (t_end - t_first >= 2 * G_USEC_PER_SEC,
                 "the first line came only %.2f s before the end",
                 (t_end - t_first) / (double)G_USEC_PER_SEC);
  ck_assert_uint_eq (g_memory_output_stream_get_data_size (m), strlen ("first\nsecond\n"));
}

static void
check_cli_exec (Env *env)
{
  g_autofree char *out = NULL, *err = NULL;
  const char *status_args[]
      = { "vm", "exec", "ev-1", "--", "sh", "-c", "echo out; echo err >&2; exit 3", NULL };

  ck_assert_int_eq (banger_e2e_cli_v (env, &out, &err, status_args), 3);
  ck_assert_str_eq (out, "out\n");
  ck_assert_str_eq (err, "err\n");

  /* live: the first line reaches banger's stdout while the command runs */
  {
    g_autofree char *sock = g_strdup_printf ("--socket=%s", env->socket);
    g_autoptr (GError) error = NULL;
    g_autoptr (GSubprocess) p = g_subprocess_new (
        G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, BANGER_CLI_PATH, sock, "vm", "exec", "ev-1", "--",
        "sh", "-c", "echo first; sleep 3; echo second", NULL);
    g_autoptr (GDataInputStream) in = NULL;
    g_autofree char *line = NULL;
    gint64 t_first;

    ck_assert_msg (p != NULL, "%s", error ? error->message : "?");
    in = g_data_input_stream_new (g_subprocess_get_stdout_pipe (p));
    line = g_data_input_stream_read_line (in, NULL, NULL, &error);
    t_first = g_get_monotonic_time ();
    ck_assert_str_eq (line, "first");
    ck_assert (g_subprocess_wait_check (p, NULL, &error));
    ck_assert_msg (g_get_monotonic_time () - t_first >= 2 * G_USEC_PER_SEC,
                   "banger printed the first line only at the end");
  }
}

static void
check_cli_exec_size (Env *env)
{
  /* the byte count through a pipe (g_spawn_sync's strings stop at a NUL) */
  g_autofree char *sock = g_strdup_printf ("--socket=%s", env->socket);
  g_autofree char *cmd = g_strdup_printf ("'%s' '%s' vm exec ev-1 -- dd if=/dev/zero bs=65536 "
                                          "count=20 2>/dev/null | wc -c",
                                          BANGER_CLI_PATH, sock);
  const char *argv[] = { "sh", "-c", cmd, NULL };
  g_autofree char *out = NULL;
  g_autoptr (GError) error = NULL;

  ck_assert_msg (banger_kit_run (argv, &out, &error), "%s", error ? error->message : "?");
  ck_assert_str_eq (g_strstrip (out), "1310720");
}

/* ------------------------------------------------------------- doctor */

static void
check_doctor (Env *env, BangerClient *a)
{
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) checks = NULL;
  g_autofree char *out = NULL;
  const char *args[] = { "doctor", NULL };
  gboolean backend = FALSE, cow = FALSE, kvm = FALSE;

  banger_client_doctor_async (a, NULL, done_cb, &res);
  checks = banger_client_doctor_finish (a, wait_for (&res), &error);
  ck_assert_msg (checks != NULL, "doctor: %s", error ? error->message : "?");
  for (guint i = 0; i < checks->len; i++)
    {
      BangerDoctorCheck *c = checks->pdata[i];
      const char *name = banger_doctor_check_get_name (c);
      ck_assert (banger_doctor_check_get_message (c) != NULL);
      if (g_str_equal (name, "backend"))
        {
          backend = TRUE;
          ck_assert_int_eq (banger_doctor_check_get_status (c), BANGER_CHECK_STATUS_OK);
          ck_assert_msg (strstr (banger_doctor_check_get_message (c), "answers") != NULL, "%s",
                         banger_doctor_check_get_message (c));
        }
      else if (g_str_equal (name, "root-disks"))
        {
          cow = TRUE;
          ck_assert_msg (g_str_has_prefix (banger_doctor_check_get_message (c), "reflink")
                             || g_str_has_prefix (banger_doctor_check_get_message (c),
                                                  "sparse-copy"),
                         "%s", banger_doctor_check_get_message (c));
        }
      else if (g_str_equal (name, "kvm"))
        kvm = TRUE;
    }
  ck_assert (backend && cow && kvm);
  /* the CLI shows the daemon's checks (root-disks is the engine's own) */
  banger_e2e_cli_v (env, &out, NULL, args);
  ck_assert_msg (strstr (out, "root-disks") != NULL && strstr (out, "backend") != NULL, "%s", out);
  ck_assert_msg (strstr (out, "no bangerd answers") == NULL, "%s", out);
}

/* -------------------------------------------------------------- tests */

START_TEST (test_two_clients)
{
  Env *env = env_new (TRUE);
  g_autoptr (BangerClient) a = banger_client_new_for_socket (env->socket);
  g_autoptr (BangerClient) b = banger_client_new_for_socket (env->socket);
  g_autoptr (BangerVmSpec) spec = banger_vm_spec_new ("ev-1", "guest", "k");
  g_autoptr (BangerVmInfo) vm = NULL;
  g_autoptr (GAsyncResult) r1 = NULL, r2 = NULL, r3 = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *states = NULL, *steps = NULL;
  Seen seen = { 0 };
  Seen seen_a = { 0 };
  const char *const create_steps[]
      = { "rootfs", "workspace", "work-disk", "inject-key", "lease", "rootfs-device", "tap",
          "nat",    "publish",   "launch",    "start",      "ssh",   "workspace" };

  g_object_set_data (G_OBJECT (a), "env-ns", env->ns);
  g_object_set_data (G_OBJECT (a), "env-dir", env->dir);
  /* A's own calls, without a subscription: only its replies' states */
  g_signal_connect (a, "vm-state-changed", G_CALLBACK (on_state), &seen_a);
  seen_a.states = g_ptr_array_new_with_free_func (g_free);
  subscribe (b, &seen);
  add_kernel_and_image (a, env->guest);

  banger_vm_spec_set_memory_mib (spec, 256);
  banger_client_vm_create_async (a, spec, NULL, done_cb, &r1);
  vm = banger_client_vm_create_finish (a, wait_for (&r1), &error);
  ck_assert_msg (vm != NULL, "create: %s", error ? error->message : "?");
  ITERATE_UNTIL (has (seen.states, "ev-1:running"), 10);
  states = joined (seen.states);
  ck_assert_str_eq (states, "ev-1:creating ev-1:running");
  steps = joined (seen.progress);
  ck_assert_uint_eq (seen.progress->len, G_N_ELEMENTS (create_steps));
  for (guint i = 0; i < G_N_ELEMENTS (create_steps); i++)
    {
      g_autofree char *want = g_strdup_printf ("vm.create:ev-1:%s:%u/%u", create_steps[i], i + 1,
                                               (guint)G_N_ELEMENTS (create_steps));
      ck_assert_str_eq (seen.progress->pdata[i], want);
    }
  ck_assert_str_eq (g_ptr_array_index (seen_a.states, 0), "ev-1:running");

  check_exec_big (a);
  check_exec_live (a);
  check_cli_exec (env);
  check_cli_exec_size (env);
  check_doctor (env, a);

  banger_client_vm_stop_async (a, "ev-1", NULL, done_cb, &r2);
  g_clear_pointer (&vm, banger_vm_info_unref);
  vm = banger_client_vm_stop_finish (a, wait_for (&r2), &error);
  ck_assert_msg (vm != NULL, "stop: %s", error ? error->message : "?");
  banger_client_vm_delete_async (a, "ev-1", NULL, done_cb, &r3);
  ck_assert_msg (banger_client_vm_delete_finish (a, wait_for (&r3), &error), "delete: %s",
                 error ? error->message : "?");
  ITERATE_UNTIL (has (seen.states, "ev-1:deleted"), 10);
  g_free (states);
  states = joined (seen.states);
  ck_assert_str_eq (states, "ev-1:creating ev-1:running ev-1:stopping ev-1:stopped "
                            "ev-1:deleting ev-1:deleted");
  ck_assert_uint_eq (seen.ended, 0);

  /* after unsubscribe, nothing more (and the daemon forgets it) */
  banger_client_unsubscribe (b);
  {
    g_autoptr (BangerVmSpec) s2 = banger_vm_spec_new ("ev-2", "guest", "k");
    g_autoptr (BangerVmInfo) v2 = NULL;
    g_autoptr (GAsyncResult) r4 = NULL, r5 = NULL;
    guint before = seen.states->len;

    banger_vm_spec_set_start (s2, FALSE);
    banger_client_vm_create_async (a, s2, NULL, done_cb, &r4);
    v2 = banger_client_vm_create_finish (a, wait_for (&r4), &error);
    ck_assert_msg (v2 != NULL, "create: %s", error ? error->message : "?");
    banger_client_vm_delete_async (a, "ev-2", NULL, done_cb, &r5);
    ck_assert (banger_client_vm_delete_finish (a, wait_for (&r5), NULL));
    ITERATE_UNTIL (FALSE, 1);
    ck_assert_uint_eq (seen.states->len, before);
  }
  seen_clear (&seen);
  g_clear_pointer (&seen_a.states, g_ptr_array_unref);
  g_clear_object (&a);
  g_clear_object (&b);
  banger_e2e_env_free (env);
}
END_TEST

/* The daemon going away ends the subscription with subscription-ended. */
START_TEST (test_daemon_gone)
{
  Env *env = env_new (TRUE);
  g_autoptr (BangerClient) b = banger_client_new_for_socket (env->socket);
  Seen seen = { 0 };

  subscribe (b, &seen);
  banger_e2e_env_stop_daemon (env);
  ITERATE_UNTIL (seen.ended > 0, 10);
  ck_assert_uint_eq (seen.ended, 1);
  seen_clear (&seen);
  g_clear_object (&b);
  banger_e2e_env_free (env);
}
END_TEST

START_TEST (test_embedded)
{
  Env *env = env_new (FALSE);
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerClient) client
      = banger_client_new_embedded (env->state_dir, env->run_dir, env->conf, &error);
  g_autoptr (BangerVmSpec) spec = banger_vm_spec_new ("em-1", "guest", "k");
  g_autoptr (BangerVmInfo) vm = NULL;
  g_autoptr (GAsyncResult) r1 = NULL, r2 = NULL, r3 = NULL;
  g_autofree char *states = NULL;
  const char *argv[] = { "true", NULL };
  Seen seen = { 0 };

  ck_assert_msg (client != NULL, "embedded: %s", error ? error->message : "?");
  subscribe (client, &seen);
  add_kernel_and_image (client, env->guest);
  /* no boot: the disk steps only (this process is in the host's network
   * namespace, where the test makes no taps) */
  banger_vm_spec_set_start (spec, FALSE);
  banger_client_vm_create_async (client, spec, NULL, done_cb, &r1);
  vm = banger_client_vm_create_finish (client, wait_for (&r1), &error);
  ck_assert_msg (vm != NULL, "create: %s", error ? error->message : "?");
  ITERATE_UNTIL (has (seen.states, "em-1:stopped"), 10);
  states = joined (seen.states);
  ck_assert_str_eq (states, "em-1:creating em-1:stopped");
  ck_assert_uint_eq (seen.progress->len, 5);
  ck_assert_str_eq (seen.progress->pdata[0], "vm.create:em-1:rootfs:1/5");
  ck_assert_str_eq (seen.progress->pdata[4], "vm.create:em-1:lease:5/5");

  /* streaming exec embedded: a typed error (the VM is stopped) */
  banger_client_vm_exec_stream_async (client, "em-1", argv, NULL, NULL, NULL, done_cb, &r3);
  ck_assert (!banger_client_vm_exec_stream_finish (client, wait_for (&r3), NULL, &error));
  ck_assert_msg (g_error_matches (error, BANGER_ERROR, BANGER_ERROR_BUSY), "%s", error->message);
  g_clear_error (&error);

  banger_client_vm_delete_async (client, "em-1", NULL, done_cb, &r2);
  ck_assert_msg (banger_client_vm_delete_finish (client, wait_for (&r2), &error), "delete: %s",
                 error ? error->message : "?");
  ITERATE_UNTIL (has (seen.states, "em-1:deleted"), 10);
  g_free (states);
  states = joined (seen.states);
  ck_assert_str_eq (states, "em-1:creating em-1:stopped em-1:deleting em-1:deleted");
  seen_clear (&seen);
  g_clear_object (&client);
  banger_e2e_env_free (env);
}
END_TEST

static Suite *
events_suite (void)
{
  Suite *s = suite_create ("e2e-events");
  TCase *tc = tcase_create ("events");

  tcase_set_timeout (tc, 600);
  banger_e2e_tcase_add_cleanup (tc);
  tcase_add_test (tc, test_embedded);
  tcase_add_test (tc, test_daemon_gone);
  tcase_add_test (tc, test_two_clients);
  suite_add_tcase (s, tc);
  return s;
}

/* no fork: a failed assertion longjmps back to the runner; the kit's
 * cleanup after each test kills and removes what it left */
BANGER_E2E_TEST_MAIN (events_suite, CK_NOFORK, "network namespace, taps, QEMU")
