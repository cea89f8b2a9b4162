/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The Firecracker driver against the fake Firecracker and the fake jailer
 * (tests/fakes/firecracker/): the fake validates every request against the
 * real OpenAPI spec and the real server's rules, and logs each request; the
 * tests read the log back and check the exact calls.  No root needed. */
#include "config.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "fc-test-harness.h"

/* ------------------------------------------------------------ full boot */

static void
check_boot_requests (BangerVmmFirecracker *v, const char *kernel, const char *rootfs)
{
  g_autoptr (GPtrArray) reqs = read_requests ();
  const BangerVmmConfig *c = banger_vmm_get_config (BANGER_VMM (v));
  g_autofree char *mac = banger_vmm_mac_for_vm (VM_ID, 0);
  g_autofree char *args = banger_vmm_build_boot_args (c, "ttyS0");
  JsonObject *b;

  assert_all_accepted (reqs);
  assert_sequence (reqs, 0, boot_sequence);
  /* one kept-alive connection for the whole boot */
  for (guint i = 0; i < reqs->len; i++)
    ck_assert_int_eq (json_object_get_int_member (req (reqs, i), "conn"), 1);
  b = find_body (reqs, "PUT", "/boot-source");
  ck_assert_str_eq (json_object_get_string_member (b, "kernel_image_path"), kernel);
  ck_assert_str_eq (json_object_get_string_member (b, "boot_args"), args);
  ck_assert_ptr_nonnull (strstr (args, "ip=172.30.0.2::172.30.0.1:255.255.255.252:" VM_ID
                                       ":eth0:off"));
  b = find_body (reqs, "PUT", "/drives/rootfs");
  ck_assert_str_eq (json_object_get_string_member (b, "path_on_host"), rootfs);
  ck_assert (json_object_get_boolean_member (b, "is_root_device"));
  b = find_body (reqs, "PUT", "/network-interfaces/eth0");
  ck_assert_str_eq (json_object_get_string_member (b, "host_dev_name"), "bngtest0");
  ck_assert_str_eq (json_object_get_string_member (b, "guest_mac"), mac);
  b = find_body (reqs, "PUT", "/machine-config");
  ck_assert_int_eq (json_object_get_int_member (b, "vcpu_count"), 2);
  ck_assert_int_eq (json_object_get_int_member (b, "mem_size_mib"), 256);
  b = find_body (reqs, "PUT", "/mmds/config");
  ck_assert_str_eq (json_object_get_string_member (b, "version"), "V2");
  b = find_body (reqs, "PUT", "/mmds");
  ck_assert_str_eq (json_object_get_string_member (json_object_get_object_member (b, "banger"),
                                                   "vm"),
                    VM_ID);
  b = find_body (reqs, "PUT", "/actions");
  ck_assert_str_eq (json_object_get_string_member (b, "action_type"), "InstanceStart");
  b = find_body (reqs, "PUT", "/balloon");
  ck_assert_int_gt (json_object_get_int_member (b, "stats_polling_interval_s"), 0);
}

START_TEST (test_boot_every_call)
{
  BangerVmmFirecracker *v = make_vmm (make_config (VM_ID, "run", "bngtest0"));
  g_autoptr (GError) error = NULL;
  const char *const *argv;

  boot (v);
  check_boot_requests (v, h.kernel, h.rootfs);

  /* Firecracker's own command line */
  argv = banger_vmm_firecracker_get_argv (v);
  ck_assert_str_eq (argv[0], h.bin);
  ck_assert_str_eq (argv[1], "--api-sock");
  ck_assert_str_eq (argv[2], banger_vmm_get_api_socket (BANGER_VMM (v)));
  ck_assert_str_eq (argv[3], "--id");
  ck_assert_str_eq (argv[4], VM_ID);
  ck_assert_ptr_null (argv[5]);
  ck_assert_ptr_null (banger_vmm_firecracker_get_jail_root (v));

  /* configure twice is refused by the driver, before Firecracker sees it */
  ck_assert (!banger_vmm_configure (BANGER_VMM (v), NULL, &error));
  banger_assert_error (error, BANGER_ERROR_BUSY);
}
END_TEST

START_TEST (test_boot_released_spec)
{
  /* the same boot validated against the v1.16.1 release's spec */
  g_autofree char *spec = g_build_filename (FAKE_FC_DIR, "firecracker-api-v1.16.1.yaml", NULL);
  BangerVmmFirecracker *v;

  g_setenv ("FAKE_FC_SPEC", spec, TRUE);
  v = make_vmm (make_config (VM_ID, "run", "bngtest0"));
  boot (v);
  check_boot_requests (v, h.kernel, h.rootfs);
  OK (banger_vmm_stop);
}
END_TEST

START_TEST (test_running_calls)
{
  BangerVmmFirecracker *v = make_vmm (make_config (VM_ID, "run", "bngtest0"));
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) reqs = NULL;
  BangerVmmStats st = { 0 };
  guint n_boot = g_strv_length ((char **) boot_sequence);
  int pidfd;

  boot (v);
  OK (banger_vmm_pause);
  ck_assert_int_eq (banger_vmm_get_state (BANGER_VMM (v)), BANGER_VMM_STATE_PAUSED);
  OK (banger_vmm_refresh_state);
  ck_assert_int_eq (banger_vmm_get_state (BANGER_VMM (v)), BANGER_VMM_STATE_PAUSED);
  OK (banger_vmm_resume);
  ck_assert_int_eq (banger_vmm_get_state (BANGER_VMM (v)), BANGER_VMM_STATE_RUNNING);
  OK (banger_vmm_refresh_state);
  ck_assert_int_eq (banger_vmm_get_state (BANGER_VMM (v)), BANGER_VMM_STATE_RUNNING);

  /* metrics: two flushes; Firecracker's counters are per-flush deltas */
  flush_metrics (v);
  flush_metrics (v);
  ck_assert_msg (banger_vmm_read_stats (BANGER_VMM (v), &st, &error), "%s",
                 error ? error->message : "");
  ck_assert_uint_eq (st.net_rx_bytes, 2000);     /* 1000 + 1000 */
  ck_assert_uint_eq (st.net_tx_bytes, 1500);     /* 500 + 1000 */
  ck_assert_uint_eq (st.block_read_bytes, 8192);
  ck_assert_uint_eq (st.block_write_bytes, 1024);
  ck_assert_uint_gt (st.rss_bytes, 0);


  reqs = read_requests ();
  assert_all_accepted (reqs);
  {
    const char *const after_boot[] = { "PATCH /vm", "GET /", "PATCH /vm", "GET /",
                                       "PUT /actions", "PUT /actions", NULL };
    assert_sequence (reqs, n_boot, after_boot);
  }
  ck_assert_str_eq (json_object_get_string_member (
                        json_object_get_object_member (req (reqs, n_boot), "body"), "state"),
                    "Paused");

  pidfd = banger_vmm_get_pidfd (BANGER_VMM (v));
  ck_assert_int_ge (pidfd, 0);
  OK (banger_vmm_stop);
  ck_assert_str_eq (banger_vmm_firecracker_get_stop_method (v), "ctrl-alt-del");
  ck_assert (banger_vmm_has_exited (BANGER_VMM (v)));
  ck_assert_int_eq (banger_vmm_get_state (BANGER_VMM (v)), BANGER_VMM_STATE_EXITED);
}
END_TEST

/* ------------------------------------------------------------- balloon */

START_TEST (test_balloon_and_mmds)
{
  BangerVmmFirecracker *v = make_vmm (make_config (VM_ID, "run", "bngtest0"));
  g_autoptr (GMainContext) ctx = g_main_context_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) stats = NULL;
  g_autoptr (GPtrArray) reqs = NULL;
  g_autoptr (JsonParser) p = json_parser_new ();
  Wait w1 = { NULL }, w2 = { NULL }, w3 = { NULL }, w4 = { NULL };

  boot (v);
  g_main_context_push_thread_default (ctx);
  banger_vmm_firecracker_set_balloon_async (v, 32, NULL, got_result, &w1);
  ck_assert_msg (banger_vmm_firecracker_set_balloon_finish (v, wait_result (&w1, ctx), &error), "%s",
                 error ? error->message : "");
  banger_vmm_firecracker_get_balloon_stats_async (v, NULL, got_result, &w2);
  stats = banger_vmm_firecracker_get_balloon_stats_finish (v, wait_result (&w2, ctx), &error);
  ck_assert_msg (stats != NULL, "%s", error ? error->message : "");
  ck_assert_int_eq (json_object_get_int_member (stats, "target_mib"), 32);

  /* more than the guest has: Firecracker's refusal reaches us verbatim */
  banger_vmm_firecracker_set_balloon_async (v, 100000, NULL, got_result, &w3);
  ck_assert (!banger_vmm_firecracker_set_balloon_finish (v, wait_result (&w3, ctx), &error));
  banger_assert_error (error, BANGER_ERROR_VMM);
  ck_assert_ptr_nonnull (strstr (error->message, "PATCH /balloon"));
  ck_assert_ptr_nonnull (strstr (error->message, "cannot be greater than the memory"));
  g_clear_error (&error);

  ck_assert (json_parser_load_from_data (p, "{\"extra\": {\"k\": \"v\"}}", -1, NULL));
  banger_vmm_firecracker_patch_mmds_async (v, json_parser_get_root (p), NULL, got_result, &w4);
  ck_assert_msg (banger_vmm_firecracker_patch_mmds_finish (v, wait_result (&w4, ctx), &error), "%s",
                 error ? error->message : "");
  g_main_context_pop_thread_default (ctx);
  g_object_unref (w1.res);
  g_object_unref (w2.res);
  g_object_unref (w3.res);
  g_object_unref (w4.res);

  reqs = read_requests ();
  ck_assert_int_eq (json_object_get_int_member (find_body (reqs, "PATCH", "/balloon"),
                                                "amount_mib"),
                    32);
  find_body (reqs, "PATCH", "/mmds");
  OK (banger_vmm_stop);
}
END_TEST

/* ---------------------------------------------------------- error paths */

/* GIO's rule: a _finish takes only the result of its own _async call.
 * Handing the result of pause to resume_finish is a programming error
 * (a critical, FALSE), and leaves the result for pause_finish. */
static guint criticals;

static gboolean
count_not_fatal (const char *domain, GLogLevelFlags level, const char *message, gpointer data)
{
  if (level & G_LOG_LEVEL_CRITICAL)
    criticals++;
  return FALSE; /* do not abort */
}

START_TEST (test_finish_checks_its_tag)
{
  BangerVmmFirecracker *v = make_vmm (make_config (VM_ID, "run", "bngtest0"));
  g_autoptr (GMainContext) ctx = g_main_context_new ();
  g_autoptr (GError) error = NULL;
  Wait w = { NULL };

  boot (v);
  g_main_context_push_thread_default (ctx);
  banger_vmm_pause_async (BANGER_VMM (v), NULL, got_result, &w);
  wait_result (&w, ctx);
  g_test_log_set_fatal_handler (count_not_fatal, NULL);
  criticals = 0;
  ck_assert (!banger_vmm_resume_finish (BANGER_VMM (v), w.res, &error));
  ck_assert_ptr_null (error);
  ck_assert_uint_eq (criticals, 1);
  g_test_log_set_fatal_handler (NULL, NULL);
  ck_assert_msg (banger_vmm_pause_finish (BANGER_VMM (v), w.res, &error), "%s",
                 error ? error->message : "");
  ck_assert_int_eq (banger_vmm_get_state (BANGER_VMM (v)), BANGER_VMM_STATE_PAUSED);
  g_main_context_pop_thread_default (ctx);
  g_object_unref (w.res);
  OK (banger_vmm_stop);
}
END_TEST

START_TEST (test_fault_reaches_caller)
{
  BangerVmmConfig *c = make_config (VM_ID, "run", "bngtest0");
  BangerVmmFirecracker *v;
  g_autoptr (GError) error = NULL;

  /* a balloon larger than the guest's memory: a genuine Firecracker 400 */
  c->mem_mib = 128;
  c->balloon_mib = 512;
  v = make_vmm (c);
  ck_assert (banger_vmm_prepare (BANGER_VMM (v), &error));
  OK (banger_vmm_launch);
  ck_assert (!banger_vmm_configure (BANGER_VMM (v), NULL, &error));
  banger_assert_error (error, BANGER_ERROR_VMM);
  ck_assert_msg (strstr (error->message, "Firecracker refused PUT /balloon (HTTP 400): Amount of "
                                         "pages requested cannot be greater than the memory of "
                                         "the guest.")
                     != NULL,
                 "%s", error->message);
  /* the driver stays where it was */
  ck_assert_int_eq (banger_vmm_get_state (BANGER_VMM (v)), BANGER_VMM_STATE_LAUNCHED);
  ck_assert (banger_vmm_kill (BANGER_VMM (v), NULL));
}
END_TEST

START_TEST (test_socket_never_appears)
{
  BangerVmmFirecracker *v = make_vmm (make_config (VM_ID, "run", "bngtest0"));
  g_autoptr (GError) error = NULL;
  gint64 t0;

  g_setenv ("FAKE_FC_MODE", "no-socket", TRUE);
  banger_vmm_firecracker_set_timeout (v, BANGER_FC_TIMEOUT_SOCKET, 400);
  ck_assert (banger_vmm_prepare (BANGER_VMM (v), &error));
  t0 = g_get_monotonic_time ();
  ck_assert (!banger_vmm_launch (BANGER_VMM (v), NULL, &error));
  banger_assert_error (error, BANGER_ERROR_TIMED_OUT);
  ck_assert_ptr_nonnull (strstr (error->message, "did not answer within 400 ms"));
  ck_assert_int_lt (g_get_monotonic_time () - t0, 3 * G_TIME_SPAN_SECOND);
  /* nothing is left running */
  ck_assert (banger_vmm_has_exited (BANGER_VMM (v)));
}
END_TEST

START_TEST (test_dies_before_socket)
{
  BangerVmmFirecracker *v = make_vmm (make_config (VM_ID, "run", "bngtest0"));
  g_autoptr (GError) error = NULL;
  gint64 t0;

  g_setenv ("FAKE_FC_MODE", "exit-early", TRUE);
  ck_assert (banger_vmm_prepare (BANGER_VMM (v), &error));
  t0 = g_get_monotonic_time ();
  ck_assert (!banger_vmm_launch (BANGER_VMM (v), NULL, &error));
  banger_assert_error (error, BANGER_ERROR_FAILED);
  ck_assert_msg (strstr (error->message, "exited before its API socket answered") != NULL,
                 "%s", error->message);
  ck_assert_msg (strstr (error->message, "exiting early") != NULL, "%s", error->message);
  /* found through the pidfd, well before the 5 s socket timeout */
  ck_assert_int_lt (g_get_monotonic_time () - t0, 3 * G_TIME_SPAN_SECOND);
}
END_TEST

START_TEST (test_bad_binary)
{
  g_autofree char *missing = g_build_filename (h.tmp, "no-such-firecracker", NULL);
  BangerVmm *v = banger_vmm_firecracker_new (make_config (VM_ID, "run", "bngtest0"), missing);
  g_autoptr (GError) error = NULL;

  g_ptr_array_add (h.vmms, v);
  ck_assert (banger_vmm_prepare (v, &error));
  ck_assert (!banger_vmm_launch (v, NULL, &error));
  /* execve's ENOENT, not a generic failure */
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
  ck_assert_ptr_nonnull (strstr (error->message, "no-such-firecracker"));
}
END_TEST

/* A binary without an execute bit: execve's EACCES (even for root). */
START_TEST (test_unexecutable_binary)
{
  g_autofree char *noexec = g_build_filename (h.tmp, "noexec-firecracker", NULL);
  BangerVmm *v = banger_vmm_firecracker_new (make_config (VM_ID, "run", "bngtest0"), noexec);
  g_autoptr (GError) error = NULL;

  g_ptr_array_add (h.vmms, v);
  ck_assert (g_file_set_contents (noexec, "not a program", -1, NULL));
  ck_assert_int_eq (chmod (noexec, 0644), 0);
  ck_assert (banger_vmm_prepare (v, &error));
  ck_assert (!banger_vmm_launch (v, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_PERMISSION_DENIED);
  ck_assert_ptr_nonnull (strstr (error->message, "noexec-firecracker"));
}
END_TEST

START_TEST (test_dies_mid_boot)
{
  BangerVmmFirecracker *v = make_vmm (make_config (VM_ID, "run", "bngtest0"));
  g_autoptr (GError) error = NULL;
  gint64 t0;

  g_setenv ("FAKE_FC_MODE", "die-on=/drives/work", TRUE);
  ck_assert (banger_vmm_prepare (BANGER_VMM (v), &error));
  OK (banger_vmm_launch);
  t0 = g_get_monotonic_time ();
  ck_assert (!banger_vmm_configure (BANGER_VMM (v), NULL, &error));
  /* the VMM died: FAILED (not PROTOCOL, the broken connection it caused) */
  banger_assert_error (error, BANGER_ERROR_FAILED);
  ck_assert_msg (strstr (error->message, "exited during PUT /drives/work") != NULL, "%s",
                 error->message);
  ck_assert_int_lt (g_get_monotonic_time () - t0, 3 * G_TIME_SPAN_SECOND);
  ck_assert (banger_vmm_has_exited (BANGER_VMM (v)));
}
END_TEST

START_TEST (test_call_timeout)
{
  BangerVmmFirecracker *v = make_vmm (make_config (VM_ID, "run", "bngtest0"));
  g_autoptr (GError) error = NULL;
  gint64 t0;

  g_setenv ("FAKE_FC_MODE", "hang-on=/machine-config", TRUE);
  banger_vmm_firecracker_set_timeout (v, BANGER_FC_TIMEOUT_API, 300);
  ck_assert (banger_vmm_prepare (BANGER_VMM (v), &error));
  OK (banger_vmm_launch);
  t0 = g_get_monotonic_time ();
  ck_assert (!banger_vmm_configure (BANGER_VMM (v), NULL, &error));
  banger_assert_error (error, BANGER_ERROR_TIMED_OUT);
  ck_assert_ptr_nonnull (strstr (error->message, "PUT /machine-config within 300 ms"));
  ck_assert_int_lt (g_get_monotonic_time () - t0, 2 * G_TIME_SPAN_SECOND);
}
END_TEST

START_TEST (test_cancel)
{
  BangerVmmFirecracker *v = make_vmm (make_config (VM_ID, "run", "bngtest0"));
  g_autoptr (GError) error = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();

  g_setenv ("FAKE_FC_MODE", "no-socket", TRUE);
  ck_assert (banger_vmm_prepare (BANGER_VMM (v), &error));
  g_cancellable_cancel (cancellable);
  ck_assert (!banger_vmm_launch (BANGER_VMM (v), cancellable, &error));
  banger_assert_error (error, BANGER_ERROR_CANCELLED);
  ck_assert (banger_vmm_has_exited (BANGER_VMM (v)));
}
END_TEST

/* The fake really enforces the spec and the real server's rules (so the
 * boot tests above mean something). */
typedef struct
{
  const char *method, *path, *body, *fault;
} BadCall;

static void
raw_call (BangerFcClient *client, GMainContext *ctx, const char *method, const char *path,
          const char *body, GError **error)
{
  g_autoptr (JsonNode) node = body ? json_from_string (body, NULL) : NULL;
  Wait w = { NULL };

  banger_fc_client_call_async (client, method, path, node, 2000, NULL, got_result, &w);
  banger_fc_client_call_finish (wait_result (&w, ctx), NULL, error);
  g_object_unref (w.res);
}

START_TEST (test_fake_enforces_rules)
{
  BangerVmmFirecracker *v = make_vmm (make_config (VM_ID, "run", "bngtest0"));
  g_autoptr (GMainContext) ctx = g_main_context_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerFcClient) client = NULL;
  g_autofree char *kernel_json = g_strdup_printf ("{\"kernel_image_path\": \"%s\"}", h.kernel);
  const BadCall bad[] = {
    { "PUT", "/machine-config", "{\"vcpu_count\": 1, \"mem_size_mib\": 128, \"x\": 1}",
      "unknown field `x`" },
    { "PUT", "/machine-config", "{\"vcpu_count\": 33, \"mem_size_mib\": 128}", "maximum 32" },
    { "PUT", "/machine-config", "{\"vcpu_count\": \"2\", \"mem_size_mib\": 128}",
      "expected an integer" },
    { "PUT", "/machine-config", "{\"mem_size_mib\": 128}", "missing field `vcpu_count`" },
    { "PUT", "/drives/a", "{\"drive_id\": \"b\", \"is_root_device\": true, "
      "\"path_on_host\": \"/x\", \"is_read_only\": false}", "does not match" },
    { "PUT", "/drives/a-b", "{\"drive_id\": \"a-b\", \"is_root_device\": true}",
      "alphanumeric characters and underscores" },
    { "PUT", "/boot-source", "{\"kernel_image_path\": \"/nonexistent/vmlinux\"}",
      "No such file" },
    { "PUT", "/logger", "{\"level\": \"Loud\"}", "unknown variant" },
    { "PATCH", "/vm", "{\"state\": \"Paused\"}", "not supported before starting" },
    { "PUT", "/actions", "{\"action_type\": \"Reboot\"}", "unknown variant" },
    { "PUT", "/actions", NULL, "Empty PUT request." },
    { "PUT", "/no-such-thing", "{}", "Invalid request method and/or path" },
    { "PUT", "/snapshot/load", "{\"snapshot_path\": \"/x\"}", "Exactly one of" },
  };

  ck_assert (banger_vmm_prepare (BANGER_VMM (v), &error));
  OK (banger_vmm_launch);
  client = banger_fc_client_new (banger_vmm_get_api_socket (BANGER_VMM (v)));
  g_main_context_push_thread_default (ctx);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      raw_call (client, ctx, bad[i].method, bad[i].path, bad[i].body, &error);
      ck_assert_msg (error != NULL, "%s %s was accepted", bad[i].method, bad[i].path);
      banger_assert_error (error, BANGER_ERROR_VMM);
      ck_assert_msg (strstr (error->message, bad[i].fault) != NULL, "%s %s: %s", bad[i].method,
                     bad[i].path, error->message);
      g_clear_error (&error);
    }
  /* Logger.level is case-insensitive, and "Off" is a string, not YAML's false */
  raw_call (client, ctx, "PUT", "/logger", "{\"level\": \"off\"}", &error);
  ck_assert_msg (error == NULL, "%s", error ? error->message : "");
  raw_call (client, ctx, "PUT", "/logger", "{\"level\": \"Off\"}", &error);
  banger_assert_error (error, BANGER_ERROR_VMM); /* once only */
  ck_assert_ptr_nonnull (strstr (error->message, "already"));
  g_clear_error (&error);
  /* post-boot rules */
  raw_call (client, ctx, "PUT", "/boot-source", kernel_json, &error);
  ck_assert_msg (error == NULL, "%s", error ? error->message : "");
  raw_call (client, ctx, "PUT", "/actions", "{\"action_type\": \"InstanceStart\"}", &error);
  ck_assert_msg (error == NULL, "%s", error ? error->message : "");
  raw_call (client, ctx, "PUT", "/boot-source", kernel_json, &error);
  banger_assert_error (error, BANGER_ERROR_VMM);
  ck_assert_ptr_nonnull (strstr (error->message, "not supported after starting"));
  g_clear_error (&error);
  raw_call (client, ctx, "PUT", "/snapshot/create",
            "{\"snapshot_path\": \"/tmp/x\", \"mem_file_path\": \"/tmp/y\"}", &error);
  banger_assert_error (error, BANGER_ERROR_VMM);
  ck_assert_ptr_nonnull (strstr (error->message, "not paused"));
  g_clear_error (&error);
  g_main_context_pop_thread_default (ctx);
  ck_assert (banger_vmm_kill (BANGER_VMM (v), NULL));
}
END_TEST

/* ------------------------------------------------------------ stop ladder */

START_TEST (test_stop_ctrl_alt_del)
{
  BangerVmmFirecracker *v = make_vmm (make_config (VM_ID, "run", "bngtest0"));
  gint64 took;

  boot (v);
  took = timed_stop (v);
  ck_assert_str_eq (banger_vmm_firecracker_get_stop_method (v), "ctrl-alt-del");
  ck_assert_int_lt (took, G_TIME_SPAN_SECOND);
  /* stopping again is a no-op */
  OK (banger_vmm_stop);
  ck_assert_str_eq (banger_vmm_firecracker_get_stop_method (v), "already-exited");
}
END_TEST

START_TEST (test_stop_term)
{
  BangerVmmFirecracker *v = make_vmm (make_config (VM_ID, "run", "bngtest0"));
  gint64 took;

  g_setenv ("FAKE_FC_MODE", "ignore-ctrlaltdel", TRUE);
  banger_vmm_set_stop_timeout (BANGER_VMM (v), 1);
  boot (v);
  took = timed_stop (v);
  ck_assert_str_eq (banger_vmm_firecracker_get_stop_method (v), "term");
  ck_assert_int_ge (took, G_TIME_SPAN_SECOND);
  ck_assert_int_lt (took, 2 * G_TIME_SPAN_SECOND + G_TIME_SPAN_SECOND / 2);
}
END_TEST

START_TEST (test_stop_kill)
{
  BangerVmmFirecracker *v = make_vmm (make_config (VM_ID, "run", "bngtest0"));
  gint64 took;

  g_setenv ("FAKE_FC_MODE", "ignore-ctrlaltdel,ignore-term", TRUE);
  banger_vmm_set_stop_timeout (BANGER_VMM (v), 1);
  boot (v);
  took = timed_stop (v);
  ck_assert_str_eq (banger_vmm_firecracker_get_stop_method (v), "kill");
  ck_assert_int_ge (took, 2 * G_TIME_SPAN_SECOND);
  ck_assert_int_lt (took, 3 * G_TIME_SPAN_SECOND + G_TIME_SPAN_SECOND / 2);
}
END_TEST

START_TEST (test_stop_not_started)
{
  BangerVmmFirecracker *v = make_vmm (make_config (VM_ID, "run", "bngtest0"));
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) reqs = NULL;

  ck_assert (banger_vmm_prepare (BANGER_VMM (v), &error));
  OK (banger_vmm_launch);
  timed_stop (v);
  /* no Ctrl-Alt-Del before boot (Firecracker refuses it): straight to TERM */
  ck_assert_str_eq (banger_vmm_firecracker_get_stop_method (v), "term");
  reqs = read_requests ();
  ck_assert_uint_eq (reqs->len, 1); /* the launch probe only */
}
END_TEST

/* ---------------------------------------------------------------- snapshots */

START_TEST (test_snapshot_create_load)
{
  BangerVmmFirecracker *v = make_vmm (make_config (VM_ID, "run", "bngtest0"));
  BangerVmmFirecracker *r;
  g_autofree char *snap = g_build_filename (h.tmp, "vm.snap", NULL);
  g_autofree char *mem = g_build_filename (h.tmp, "vm.mem", NULL);
  g_autofree char *dsnap = g_build_filename (h.tmp, "vm.diff.snap", NULL);
  g_autofree char *dmem = g_build_filename (h.tmp, "vm.diff.mem", NULL);
  g_autoptr (GMainContext) ctx = g_main_context_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) reqs = NULL;
  Wait w1 = { NULL }, w2 = { NULL }, w3 = { NULL }, w4 = { NULL };
  JsonObject *b;
  JsonArray *ov;

  banger_vmm_firecracker_set_track_dirty_pages (v, TRUE);
  boot (v);
  g_main_context_push_thread_default (ctx);
  /* running: refused by the driver (Firecracker wants it paused) */
  banger_vmm_snapshot_create_async (BANGER_VMM (v), snap, mem, FALSE, NULL, got_result, &w1);
  ck_assert (!banger_vmm_snapshot_create_finish (BANGER_VMM (v), wait_result (&w1, ctx), &error));
  banger_assert_error (error, BANGER_ERROR_BUSY);
  g_clear_error (&error);
  g_main_context_pop_thread_default (ctx);

  OK (banger_vmm_pause);
  g_main_context_push_thread_default (ctx);
  banger_vmm_snapshot_create_async (BANGER_VMM (v), snap, mem, FALSE, NULL, got_result, &w2);
  ck_assert_msg (banger_vmm_snapshot_create_finish (BANGER_VMM (v), wait_result (&w2, ctx), &error), "%s",
                 error ? error->message : "");
  banger_vmm_snapshot_create_async (BANGER_VMM (v), dsnap, dmem, TRUE, NULL, got_result, &w3);
  ck_assert_msg (banger_vmm_snapshot_create_finish (BANGER_VMM (v), wait_result (&w3, ctx), &error), "%s",
                 error ? error->message : "");
  g_main_context_pop_thread_default (ctx);
  ck_assert (g_file_test (snap, G_FILE_TEST_IS_REGULAR));
  ck_assert (g_file_test (mem, G_FILE_TEST_IS_REGULAR));
  ck_assert (g_file_test (dsnap, G_FILE_TEST_IS_REGULAR));
  OK (banger_vmm_stop);

  /* restore into a fresh process, on another tap, in another run dir */
  r = make_vmm (make_config (VM_ID, "run2", "bngtest9"));
  banger_vmm_firecracker_set_track_dirty_pages (r, TRUE);
  ck_assert (banger_vmm_prepare (BANGER_VMM (r), &error));
  {
    BangerVmmFirecracker *v_ = v;
    v = r;
    OK (banger_vmm_launch);
    v = v_;
  }
  g_main_context_push_thread_default (ctx);
  banger_vmm_snapshot_load_async (BANGER_VMM (r), snap, mem, TRUE, NULL, got_result, &w4);
  ck_assert_msg (banger_vmm_snapshot_load_finish (BANGER_VMM (r), wait_result (&w4, ctx), &error), "%s",
                 error ? error->message : "");
  g_main_context_pop_thread_default (ctx);
  ck_assert_int_eq (banger_vmm_get_state (BANGER_VMM (r)), BANGER_VMM_STATE_RUNNING);
  {
    BangerVmmFirecracker *v_ = v;
    v = r;
    OK (banger_vmm_refresh_state);
    v = v_;
  }
  ck_assert_int_eq (banger_vmm_get_state (BANGER_VMM (r)), BANGER_VMM_STATE_RUNNING);

  reqs = read_requests ();
  assert_all_accepted (reqs);
  b = find_body (reqs, "PUT", "/snapshot/create");
  ck_assert_str_eq (json_object_get_string_member (b, "snapshot_type"), "Full");
  ck_assert_str_eq (json_object_get_string_member (b, "snapshot_path"), snap);
  b = find_body (reqs, "PUT", "/snapshot/load");
  ck_assert_str_eq (json_object_get_string_member (b, "snapshot_path"), snap);
  ck_assert_str_eq (json_object_get_string_member (json_object_get_object_member (b,
                                                                                  "mem_backend"),
                                                   "backend_type"),
                    "File");
  ck_assert_str_eq (json_object_get_string_member (json_object_get_object_member (b,
                                                                                  "mem_backend"),
                                                   "backend_path"),
                    mem);
  /* with MMDS data to put back, the load does not resume; PATCH /vm does
   * once PUT /mmds is in (test-firecracker-restore.c checks the order) */
  ck_assert (!json_object_get_boolean_member (b, "resume_vm"));
  ov = json_object_get_array_member (b, "network_overrides");
  ck_assert_uint_eq (json_array_get_length (ov), 1);
  ck_assert_str_eq (json_object_get_string_member (json_array_get_object_element (ov, 0),
                                                   "iface_id"),
                    "eth0");
  ck_assert_str_eq (json_object_get_string_member (json_array_get_object_element (ov, 0),
                                                   "host_dev_name"),
                    "bngtest9");
  ck_assert (json_object_has_member (b, "vsock_override"));
  /* the diff one was asked for as Diff */
  {
    guint n = 0;
    for (guint i = 0; i < reqs->len; i++)
      if (g_str_equal (json_object_get_string_member (req (reqs, i), "path"), "/snapshot/create"))
        {
          JsonObject *bb = json_object_get_object_member (req (reqs, i), "body");
          ck_assert_str_eq (json_object_get_string_member (bb, "snapshot_type"),
                            n++ == 0 ? "Full" : "Diff");
        }
    ck_assert_uint_eq (n, 2);
  }
  {
    BangerVmmFirecracker *v_ = v;
    v = r;
    OK (banger_vmm_stop);
    v = v_;
  }
}
END_TEST

START_TEST (test_snapshot_load_needs_fresh_process)
{
  BangerVmmFirecracker *v = make_vmm (make_config (VM_ID, "run", "bngtest0"));
  g_autofree char *snap = g_build_filename (h.tmp, "vm.snap", NULL);
  g_autoptr (GMainContext) ctx = g_main_context_new ();
  g_autoptr (GError) error = NULL;
  Wait w = { NULL };

  write_file (snap, "{}", 2);
  boot (v);
  g_main_context_push_thread_default (ctx);
  banger_vmm_snapshot_load_async (BANGER_VMM (v), snap, snap, FALSE, NULL, got_result, &w);
  ck_assert (!banger_vmm_snapshot_load_finish (BANGER_VMM (v), wait_result (&w, ctx), &error));
  g_main_context_pop_thread_default (ctx);
  banger_assert_error (error, BANGER_ERROR_BUSY);
  g_object_unref (w.res);
  OK (banger_vmm_stop);
}
END_TEST

/* ------------------------------------------------------------------ jailer */

START_TEST (test_jailer_boot)
{
  BangerVmmFirecracker *v = make_vmm (make_config (VM_ID, "run", "bngtest0"));
  g_autoptr (BangerFcJailerConfig) j = jailer_config (FALSE);
  g_autoptr (GPtrArray) argv = NULL;
  g_autoptr (GPtrArray) reqs = NULL;
  g_autofree char *uid = g_strdup_printf ("%u", getuid ());
  g_autofree char *gid = g_strdup_printf ("%u", getgid ());
  g_autofree char *jail_dir = NULL;
  g_autofree char *root = NULL;
  g_autofree char *staged = NULL;
  g_autofree char *cg = NULL;
  struct stat a, b;
  JsonObject *body;

  banger_vmm_firecracker_set_jailer (v, j);
  boot (v);
  root = g_build_filename (h.tmp, "jail", "firecracker", VM_ID, "root", NULL);
  jail_dir = g_path_get_dirname (root);
  ck_assert_str_eq (banger_vmm_firecracker_get_jail_root (v), root);

  /* the jailer's argv, as jailer.md specifies it */
  argv = read_jailer_argv ();
  {
    const char *expected[] = { "--id", VM_ID, "--exec-file", h.bin, "--uid", uid, "--gid", gid,
                               "--cgroup-version", "2", "--chroot-base-dir", NULL,
                               "--netns", j->netns, "--cgroup", "cpu.weight=100",
                               "--resource-limit", "fsize=17179869184",
                               "--resource-limit", "no-file=1024", "--", "--api-sock",
                               "/api.sock", NULL };
    g_autofree char *base = g_build_filename (h.tmp, "jail", NULL);
    expected[11] = base;
    for (guint i = 0; expected[i]; i++)
      ck_assert_str_eq (argv->pdata[i], expected[i]);
    ck_assert_ptr_null (argv->pdata[G_N_ELEMENTS (expected) - 1]);
  }

  /* chroot-relative paths in every call */
  reqs = read_requests ();
  assert_all_accepted (reqs);
  assert_sequence (reqs, 0, boot_sequence);
  body = find_body (reqs, "PUT", "/boot-source");
  ck_assert_str_eq (json_object_get_string_member (body, "kernel_image_path"), "/kernel");
  ck_assert_str_eq (json_object_get_string_member (body, "initrd_path"), "/initrd");
  ck_assert_str_eq (json_object_get_string_member (find_body (reqs, "PUT", "/drives/rootfs"),
                                                   "path_on_host"),
                    "/disk-rootfs");
  ck_assert_str_eq (json_object_get_string_member (find_body (reqs, "PUT", "/logger"),
                                                   "log_path"),
                    "/fc.log");
  ck_assert_str_eq (json_object_get_string_member (find_body (reqs, "PUT", "/vsock"),
                                                   "uds_path"),
                    "/vsock.sock");

  /* staged by hard link: the same inode */
  staged = g_build_filename (root, "disk-rootfs", NULL);
  ck_assert_int_eq (stat (staged, &a), 0);
  ck_assert_int_eq (stat (h.rootfs, &b), 0);
  ck_assert_uint_eq (a.st_ino, b.st_ino);
  /* the pid of record is the one the jailer wrote */
  {
    g_autofree char *pidfile = g_build_filename (root, "firecracker.pid", NULL);
    g_autofree char *pid = NULL;
    ck_assert (g_file_get_contents (pidfile, &pid, NULL, NULL));
    ck_assert_int_eq (atoi (pid), banger_vmm_get_pid (BANGER_VMM (v)));
  }
  cg = g_build_filename (j->cgroup_root, "firecracker", VM_ID, NULL);
  ck_assert (g_file_test (cg, G_FILE_TEST_IS_DIR));

  OK (banger_vmm_stop);
  ck_assert_str_eq (banger_vmm_firecracker_get_stop_method (v), "ctrl-alt-del");
  /* the jail and the cgroup are gone; the staged sources are not */
  ck_assert (!g_file_test (jail_dir, G_FILE_TEST_EXISTS));
  ck_assert (!g_file_test (cg, G_FILE_TEST_EXISTS));
  ck_assert (g_file_test (h.rootfs, G_FILE_TEST_IS_REGULAR));
  ck_assert (g_file_test (h.kernel, G_FILE_TEST_IS_REGULAR));
}
END_TEST

START_TEST (test_jailer_stale_chroot)
{
  g_autoptr (BangerFcJailerConfig) j = jailer_config (FALSE);
  g_autofree char *precious = g_build_filename (h.tmp, "precious", NULL);
  g_autofree char *precious_file = g_build_filename (precious, "keep", NULL);
  g_autofree char *root = g_build_filename (h.tmp, "jail", "firecracker", VM_ID, "root", NULL);
  g_autofree char *link = g_build_filename (root, "evil", NULL);
  g_autofree char *link2 = g_build_filename (root, "dev", "evil-dir", NULL);
  g_autofree char *tun = g_build_filename (root, "dev", "net", "tun", NULL);
  g_autofree char *tundir = g_path_get_dirname (tun);
  BangerVmmFirecracker *v;
  g_autoptr (GError) error = NULL;
  char *argv[] = { NULL, (char *) "--id", (char *) VM_ID, (char *) "--exec-file", h.bin,
                   (char *) "--uid", NULL, (char *) "--gid", NULL, (char *) "--chroot-base-dir",
                   NULL, NULL };
  g_autofree char *uid = g_strdup_printf ("%u", getuid ());
  g_autofree char *gid = g_strdup_printf ("%u", getgid ());
  g_autofree char *base = g_build_filename (h.tmp, "jail", NULL);
  g_autofree char *out = NULL, *err = NULL;
  int status;

  /* a stale jail: what a crashed run leaves, plus symlinks pointing out */
  g_mkdir_with_parents (tundir, 0755);
  write_file (tun, "", 0);
  g_mkdir (precious, 0755);
  write_file (precious_file, "keep me", 7);
  ck_assert_int_eq (symlink (precious, link), 0);
  ck_assert_int_eq (symlink (precious, link2), 0);

  /* the real (fake) jailer fails on it, as the real one does */
  argv[0] = h.jailer;
  argv[6] = uid;
  argv[8] = gid;
  argv[10] = base;
  ck_assert (g_spawn_sync (NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status,
                           NULL));
  ck_assert_msg (WIFEXITED (status) && WEXITSTATUS (status) == 1, "jailer wait status %d", status);
  ck_assert_ptr_nonnull (strstr (err, "File exists"));

  /* the driver removes it first (without following the links) and boots */
  v = make_vmm (make_config (VM_ID, "run", "bngtest0"));
  banger_vmm_firecracker_set_jailer (v, j);
  boot (v);
  ck_assert (!g_file_test (link, G_FILE_TEST_EXISTS));
  ck_assert (g_file_test (precious_file, G_FILE_TEST_IS_REGULAR));
  OK (banger_vmm_stop);
  ck_assert (g_file_test (precious_file, G_FILE_TEST_IS_REGULAR));
}
END_TEST

START_TEST (test_jailer_new_pid_ns)
{
  BangerVmmFirecracker *v = make_vmm (make_config (VM_ID, "run", "bngtest0"));
  g_autoptr (BangerFcJailerConfig) j = jailer_config (TRUE);
  g_autoptr (GPtrArray) argv = NULL;
  g_autofree char *jail_dir = g_build_filename (h.tmp, "jail", "firecracker", VM_ID, NULL);
  gboolean has_flag = FALSE;
  gint64 took;

  /* the orphaned "firecracker" is reparented to us, so we can reap it */
  prctl (PR_SET_CHILD_SUBREAPER, 1);
  /* PID 1 of a namespace ignores TERM; make Ctrl-Alt-Del fail too */
  g_setenv ("FAKE_FC_MODE", "ignore-ctrlaltdel", TRUE);
  banger_vmm_firecracker_set_jailer (v, j);
  banger_vmm_set_stop_timeout (BANGER_VMM (v), 1);
  boot (v);
  argv = read_jailer_argv ();
  for (guint i = 0; argv->pdata[i]; i++)
    has_flag |= g_str_equal (argv->pdata[i], "--new-pid-ns");
  ck_assert (has_flag);
  /* Firecracker is not the jailer process we spawned */
  {
    g_autoptr (JsonParser) p = json_parser_new ();
    g_autofree char *contents = NULL;
    g_auto (GStrv) lines = NULL;
    ck_assert (g_file_get_contents (h.jail_log, &contents, NULL, NULL));
    lines = g_strsplit (contents, "\n", 2);
    ck_assert (json_parser_load_from_data (p, lines[0], -1, NULL));
    ck_assert_int_ne (json_object_get_int_member (json_node_get_object (json_parser_get_root (p)),
                                                  "pid"),
                      banger_vmm_get_pid (BANGER_VMM (v)));
  }
  took = timed_stop (v);
  /* TERM skipped: Ctrl-Alt-Del wait (1 s), then KILL */
  ck_assert_str_eq (banger_vmm_firecracker_get_stop_method (v), "kill");
  ck_assert_int_lt (took, 2 * G_TIME_SPAN_SECOND);
  ck_assert (!g_file_test (jail_dir, G_FILE_TEST_EXISTS));
}
END_TEST

START_TEST (test_jailer_snapshot)
{
  /* Firecracker writes snapshots inside its jail; the driver moves them out,
   * and stages them into the next jail for a load */
  BangerVmmFirecracker *v = make_vmm (make_config (VM_ID, "run", "bngtest0"));
  g_autoptr (BangerFcJailerConfig) j = jailer_config (FALSE);
  g_autofree char *snap = g_build_filename (h.tmp, "vm.snap", NULL);
  g_autofree char *mem = g_build_filename (h.tmp, "vm.mem", NULL);
  g_autoptr (GMainContext) ctx = g_main_context_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) reqs = NULL;
  Wait w1 = { NULL }, w2 = { NULL };
  BangerVmmFirecracker *r;
  JsonObject *b;

  banger_vmm_firecracker_set_jailer (v, j);
  boot (v);
  OK (banger_vmm_pause);
  g_main_context_push_thread_default (ctx);
  banger_vmm_snapshot_create_async (BANGER_VMM (v), snap, mem, FALSE, NULL, got_result, &w1);
  ck_assert_msg (banger_vmm_snapshot_create_finish (BANGER_VMM (v), wait_result (&w1, ctx), &error), "%s",
                 error ? error->message : "");
  g_main_context_pop_thread_default (ctx);
  ck_assert (g_file_test (snap, G_FILE_TEST_IS_REGULAR));
  ck_assert (g_file_test (mem, G_FILE_TEST_IS_REGULAR));
  OK (banger_vmm_stop);

  r = make_vmm (make_config (VM_ID, "run2", "bngtest9"));
  banger_vmm_firecracker_set_jailer (r, j);
  ck_assert (banger_vmm_prepare (BANGER_VMM (r), &error));
  v = r;
  OK (banger_vmm_launch);
  g_main_context_push_thread_default (ctx);
  banger_vmm_snapshot_load_async (BANGER_VMM (r), snap, mem, FALSE, NULL, got_result, &w2);
  ck_assert_msg (banger_vmm_snapshot_load_finish (BANGER_VMM (r), wait_result (&w2, ctx), &error), "%s",
                 error ? error->message : "");
  g_main_context_pop_thread_default (ctx);
  ck_assert_int_eq (banger_vmm_get_state (BANGER_VMM (r)), BANGER_VMM_STATE_PAUSED);
  OK (banger_vmm_resume);

  /* a snapshot of the restored VM never writes over the memory file it was
   * loaded from (that file backs the guest's memory now) */
  {
    g_autofree char *snap2 = g_build_filename (h.tmp, "vm2.snap", NULL);
    g_autofree char *mem2 = g_build_filename (h.tmp, "vm2.mem", NULL);
    struct stat s1, s2;
    Wait w3 = { NULL };

    OK (banger_vmm_pause);
    g_main_context_push_thread_default (ctx);
    banger_vmm_snapshot_create_async (BANGER_VMM (r), snap2, mem2, FALSE, NULL, got_result, &w3);
    ck_assert_msg (banger_vmm_snapshot_create_finish (BANGER_VMM (r), wait_result (&w3, ctx), &error), "%s",
                   error ? error->message : "");
    g_main_context_pop_thread_default (ctx);
    g_object_unref (w3.res);
    ck_assert_int_eq (stat (mem, &s1), 0);
    ck_assert_int_eq (stat (mem2, &s2), 0);
    ck_assert (s1.st_ino != s2.st_ino);
    OK (banger_vmm_resume);
  }

  reqs = read_requests ();
  assert_all_accepted (reqs);
  b = find_body (reqs, "PUT", "/snapshot/create");
  ck_assert_str_eq (json_object_get_string_member (b, "snapshot_path"), "/snapshot.vmstate");
  ck_assert_str_eq (json_object_get_string_member (b, "mem_file_path"), "/snapshot.mem");
  b = find_body (reqs, "PUT", "/snapshot/load");
  ck_assert_str_eq (json_object_get_string_member (b, "snapshot_path"), "/restore.vmstate");
  {
    JsonArray *ov = json_object_get_array_member (b, "network_overrides");
    ck_assert_str_eq (json_object_get_string_member (json_array_get_object_element (ov, 0),
                                                     "host_dev_name"),
                      "bngtest9");
  }
  OK (banger_vmm_stop);
  g_object_unref (w1.res);
  g_object_unref (w2.res);
}
END_TEST

START_TEST (test_jail_stage_copy)
{
  /* across filesystems (/dev/shm is tmpfs): a sparse copy, not a link */
  g_autoptr (BangerFcJailerConfig) j = jailer_config (FALSE);
  g_autoptr (GError) error = NULL;
  g_autofree char *shm_dir = NULL;
  g_autofree char *src = NULL;
  g_autofree char *dst = NULL;
  g_autofree char *got = NULL;
  struct stat s1, s2;
  gsize len;
  int fd, root_fd;

  if (!g_file_test ("/dev/shm", G_FILE_TEST_IS_DIR)
      && banger_test_skip_part ("no /dev/shm (a second filesystem to copy across)"))
    return;
  shm_dir = g_strdup_printf ("/dev/shm/bfc-%d", getpid ());
  g_mkdir (shm_dir, 0700);
  src = g_build_filename (shm_dir, "disk.img", NULL);
  fd = open (src, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  ck_assert_int_ge (fd, 0);
  ck_assert_int_eq (pwrite (fd, "head", 4, 0), 4);
  ck_assert_int_eq (pwrite (fd, "tail", 4, 8 << 20), 4); /* a hole in between */
  close (fd);

  root_fd = banger_fc_jail_create (j, h.bin, VM_ID, &error);
  ck_assert_int_ge (root_fd, 0);
  ck_assert_msg (banger_fc_jail_stage (root_fd, src, "disk-x", TRUE, j, &error), "%s",
                 error ? error->message : "");
  dst = g_build_filename (h.tmp, "jail", "firecracker", VM_ID, "root", "disk-x", NULL);
  ck_assert_int_eq (stat (src, &s1), 0);
  ck_assert_int_eq (stat (dst, &s2), 0);
  ck_assert (s1.st_dev != s2.st_dev);
  ck_assert_int_eq (s2.st_size, (8 << 20) + 4);
  ck_assert_int_lt (s2.st_blocks * 512, 1 << 20); /* the hole stayed a hole */
  ck_assert (g_file_get_contents (dst, &got, &len, NULL));
  ck_assert_int_eq (memcmp (got, "head", 4), 0);
  ck_assert_int_eq (memcmp (got + (8 << 20), "tail", 4), 0);
  /* and a name with a slash is refused */
  ck_assert (!banger_fc_jail_stage (root_fd, src, "../x", FALSE, j, &error));
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  close (root_fd);
  unlink (src);
  rmdir (shm_dir);
  ck_assert (banger_fc_jail_remove (j, h.bin, VM_ID, NULL));
}
END_TEST

START_TEST (test_jail_link)
{
  /* into a jail the launcher made: hard links; across filesystems a copy
   * for read-only files only; never anything but a regular file */
  g_autoptr (BangerFcJailerConfig) j = jailer_config (FALSE);
  g_autoptr (GError) error = NULL;
  g_autofree char *same = g_build_filename (h.tmp, "disk.img", NULL);
  g_autofree char *fifo = g_build_filename (h.tmp, "a.fifo", NULL);
  g_autofree char *shm_dir = g_strdup_printf ("/dev/shm/bfcl-%d", getpid ());
  g_autofree char *other = g_build_filename (shm_dir, "disk.img", NULL);
  g_autofree char *root = NULL;
  struct stat s1, s2;
  int root_fd;

  if (!g_file_test ("/dev/shm", G_FILE_TEST_IS_DIR)
      && banger_test_skip_part ("no /dev/shm (a second filesystem to link across)"))
    return;
  ck_assert (g_file_set_contents (same, "disk", -1, NULL));
  ck_assert_int_eq (mkfifo (fifo, 0600), 0);
  g_mkdir (shm_dir, 0700);
  ck_assert (g_file_set_contents (other, "other", -1, NULL));
  root_fd = banger_fc_jail_create (j, h.bin, VM_ID, &error);
  ck_assert_int_ge (root_fd, 0);
  root = g_build_filename (h.tmp, "jail", "firecracker", VM_ID, "root", NULL);

  /* the same file: one inode, writable or not */
  ck_assert_msg (banger_fc_jail_link (root_fd, same, "disk-rootfs", TRUE, &error), "%s",
                 error ? error->message : "");
  {
    g_autofree char *in = g_build_filename (root, "disk-rootfs", NULL);
    ck_assert_int_eq (stat (same, &s1), 0);
    ck_assert_int_eq (stat (in, &s2), 0);
    ck_assert (s1.st_ino == s2.st_ino && s1.st_dev == s2.st_dev);
  }
  /* again: the old name replaced */
  ck_assert (banger_fc_jail_link (root_fd, same, "disk-rootfs", TRUE, &error));
  /* across filesystems: a writable disk is refused, nothing left ... */
  ck_assert (!banger_fc_jail_link (root_fd, other, "disk-work", TRUE, &error));
  banger_assert_error (error, BANGER_ERROR_UNSUPPORTED);
  g_clear_error (&error);
  {
    g_autofree char *in = g_build_filename (root, "disk-work", NULL);
    ck_assert (!g_file_test (in, G_FILE_TEST_EXISTS));
  }
  /* ... a read-only file copied */
  ck_assert_msg (banger_fc_jail_link (root_fd, other, "disk-seed", FALSE, &error), "%s",
                 error ? error->message : "");
  {
    g_autofree char *in = g_build_filename (root, "disk-seed", NULL);
    g_autofree char *text = NULL;
    ck_assert (g_file_get_contents (in, &text, NULL, NULL));
    ck_assert_str_eq (text, "other");
    ck_assert_int_eq (stat (other, &s1), 0);
    ck_assert_int_eq (stat (in, &s2), 0);
    ck_assert (s1.st_dev != s2.st_dev);
  }
  /* not a regular file, not a plain name */
  ck_assert (!banger_fc_jail_link (root_fd, fifo, "disk-x", FALSE, &error));
  banger_assert_error (error, BANGER_ERROR_UNSUPPORTED);
  g_clear_error (&error);
  ck_assert (!banger_fc_jail_link (root_fd, same, "../x", FALSE, &error));
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  close (root_fd);
  unlink (other);
  rmdir (shm_dir);
  ck_assert (banger_fc_jail_remove (j, h.bin, VM_ID, NULL));
}
END_TEST

START_TEST (test_snapshot_jailed_mismatch)
{
  /* a snapshot taken without a jail holds host paths (the snapshotted VM's
   * own disks): a jailed process refuses to load it, before any request */
  BangerVmmFirecracker *v = make_vmm (make_config (VM_ID, "run", "bngtest0"));
  g_autoptr (BangerFcJailerConfig) j = jailer_config (FALSE);
  g_autofree char *snap = g_build_filename (h.tmp, "vm.snap", NULL);
  g_autofree char *mem = g_build_filename (h.tmp, "vm.mem", NULL);
  g_autofree char *record = NULL, *text = NULL;
  g_autoptr (GMainContext) ctx = g_main_context_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) reqs = NULL;
  Wait w1 = { NULL }, w2 = { NULL };
  BangerVmmFirecracker *r;

  boot (v);
  OK (banger_vmm_pause);
  g_main_context_push_thread_default (ctx);
  banger_vmm_snapshot_create_async (BANGER_VMM (v), snap, mem, FALSE, NULL, got_result, &w1);
  ck_assert_msg (banger_vmm_snapshot_create_finish (BANGER_VMM (v), wait_result (&w1, ctx), &error),
                 "%s", error ? error->message : "");
  g_main_context_pop_thread_default (ctx);
  OK (banger_vmm_stop);
  record = banger_vmm_firecracker_snapshot_devices_path (snap);
  ck_assert (g_file_get_contents (record, &text, NULL, NULL));
  ck_assert_msg (strstr (text, "\"jailed\":false") != NULL, "%s", text);

  r = make_vmm (make_config (VM_ID, "run2", "bngtest9"));
  banger_vmm_firecracker_set_jailer (r, j);
  ck_assert (banger_vmm_prepare (BANGER_VMM (r), &error));
  v = r;
  OK (banger_vmm_launch);
  g_main_context_push_thread_default (ctx);
  banger_vmm_snapshot_load_async (BANGER_VMM (r), snap, mem, TRUE, NULL, got_result, &w2);
  ck_assert (!banger_vmm_snapshot_load_finish (BANGER_VMM (r), wait_result (&w2, ctx), &error));
  g_main_context_pop_thread_default (ctx);
  banger_assert_error (error, BANGER_ERROR_UNSUPPORTED);
  ck_assert_int_eq (banger_vmm_get_state (BANGER_VMM (r)), BANGER_VMM_STATE_LAUNCHED);
  reqs = read_requests ();
  for (guint i = 0; i < reqs->len; i++)
    ck_assert_str_ne (json_object_get_string_member (req (reqs, i), "path"), "/snapshot/load");
  OK (banger_vmm_stop);
  g_object_unref (w1.res);
  g_object_unref (w2.res);
}
END_TEST

/* --------------------------------------------------------------- helpers */

START_TEST (test_metrics_parse)
{
  g_autofree char *path = g_build_filename (h.tmp, "m", NULL);
  g_autoptr (BangerFcMetrics) m = NULL;
  g_autoptr (GError) error = NULL;
  const BangerFcMetricsTotals *t;
  BangerFcMetricsTotals one = { 0 };
  FILE *f;

  ck_assert (!banger_fc_metrics_parse_line ("[1]", 3, &one, &error));
  banger_assert_error (error, BANGER_ERROR_PROTOCOL);
  g_clear_error (&error);
  ck_assert (banger_fc_metrics_parse_line ("{}", 2, &one, &error));
  ck_assert_uint_eq (one.lines, 1);
  ck_assert_uint_eq (one.net_rx_bytes, 0);

  write_file (path, "", 0);
  m = banger_fc_metrics_open (path, &error);
  ck_assert_ptr_nonnull (m);
  f = fopen (path, "a");
  fputs ("{\"utc_timestamp_ms\":5,\"net\":{\"rx_bytes_count\":10,\"tx_bytes_count\":1},"
         "\"block\":{\"read_bytes\":7,\"write_bytes\":3}}\n",
         f);
  fputs ("not json\n", f);
  fputs ("{\"net\":{\"rx_bytes_count\":5}", f); /* half a line */
  fflush (f);
  ck_assert (banger_fc_metrics_update (m, &error));
  t = banger_fc_metrics_get_totals (m);
  ck_assert_uint_eq (t->lines, 1);
  ck_assert_uint_eq (t->net_rx_bytes, 10);
  ck_assert_uint_eq (t->block_write_bytes, 3);
  ck_assert_int_eq (t->last_timestamp_ms, 5);
  ck_assert_uint_eq (banger_fc_metrics_get_bad_lines (m), 1);
  fputs (",\"block\":{\"read_bytes\":1}}\n", f); /* the rest of it */
  fclose (f);
  ck_assert (banger_fc_metrics_update (m, &error));
  ck_assert_uint_eq (t->lines, 2);
  ck_assert_uint_eq (t->net_rx_bytes, 15);
  ck_assert_uint_eq (t->net_tx_bytes, 1);
  ck_assert_uint_eq (t->block_read_bytes, 8);
}
END_TEST

START_TEST (test_metrics_fifo)
{
  BangerVmmFirecracker *v = make_vmm (make_config (VM_ID, "run", "bngtest0"));
  BangerVmmStats st = { 0 };
  g_autoptr (GError) error = NULL;
  struct stat s;

  banger_vmm_firecracker_set_metrics_fifo (v, TRUE);
  boot (v);
  ck_assert_int_eq (stat (banger_vmm_firecracker_get_metrics_path (v), &s), 0);
  ck_assert (S_ISFIFO (s.st_mode));
  flush_metrics (v);
  ck_assert (banger_vmm_read_stats (BANGER_VMM (v), &st, &error));
  ck_assert_uint_eq (st.net_rx_bytes, 1000);
  OK (banger_vmm_stop);
}
END_TEST

START_TEST (test_log_fifo)
{
  BangerVmmFirecracker *v = make_vmm (make_config (VM_ID, "run", "bngtest0"));
  g_autoptr (GPtrArray) reqs = NULL;
  g_autofree char *log = NULL;
  const char *log_path;
  struct stat s;

  banger_vmm_firecracker_set_log_fifo (v, TRUE);
  boot (v);
  reqs = read_requests ();
  log_path = json_object_get_string_member (find_body (reqs, "PUT", "/logger"), "log_path");
  ck_assert (g_str_has_suffix (log_path, "/fc.log.fifo"));
  ck_assert_int_eq (stat (log_path, &s), 0);
  ck_assert (S_ISFIFO (s.st_mode));
  OK (banger_vmm_stop);
  /* what Firecracker logged went through the FIFO into the log file */
  ck_assert (g_str_has_suffix (banger_vmm_firecracker_get_log_path (v), "/run/fc.log"));
  ck_assert (g_file_get_contents (banger_vmm_firecracker_get_log_path (v), &log, NULL, NULL));
  ck_assert_msg (strstr (log, "Running Firecracker") != NULL, "log: '%s'", log);
}
END_TEST

START_TEST (test_log_fifo_jailed)
{
  BangerVmmFirecracker *v = make_vmm (make_config (VM_ID, "run", "bngtest0"));
  g_autoptr (BangerFcJailerConfig) j = jailer_config (FALSE);
  g_autoptr (GPtrArray) reqs = NULL;
  g_autofree char *log = NULL;

  banger_vmm_firecracker_set_log_fifo (v, TRUE);
  banger_vmm_firecracker_set_jailer (v, j);
  boot (v);
  reqs = read_requests ();
  ck_assert_str_eq (json_object_get_string_member (find_body (reqs, "PUT", "/logger"),
                                                   "log_path"),
                    "/fc.log.fifo");
  OK (banger_vmm_stop);
  ck_assert (g_file_get_contents (banger_vmm_firecracker_get_log_path (v), &log, NULL, NULL));
  ck_assert_ptr_nonnull (strstr (log, "Running Firecracker"));
}
END_TEST

START_TEST (test_fault_parse)
{
  const char *ok = "{\"fault_message\": \"The id from the path [a] does not match\"}";
  const char *ctl = "{\"fault_message\": \"a\\u0007b\"}";
  g_autofree char *a = banger_fc_parse_fault (ok, strlen (ok));
  g_autofree char *b = banger_fc_parse_fault ("{}", 2);
  g_autofree char *c = banger_fc_parse_fault ("garbage", 7);
  g_autofree char *d = banger_fc_parse_fault (ctl, strlen (ctl));

  ck_assert_str_eq (a, "The id from the path [a] does not match");
  ck_assert_ptr_null (b);
  ck_assert_ptr_null (c);
  ck_assert_str_eq (d, "a?b");
}
END_TEST

START_TEST (test_api_socket_choice)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *short_ = banger_fc_choose_api_socket ("/run/banger/vm1", &error);
  GString *longdir = g_string_new ("/var/lib/banger");
  g_autofree char *l1 = NULL, *l2 = NULL, *other = NULL;

  ck_assert_str_eq (short_, "/run/banger/vm1/api.sock");
  while (longdir->len < 120)
    g_string_append (longdir, "/very-long-directory-name");
  l1 = banger_fc_choose_api_socket (longdir->str, &error);
  l2 = banger_fc_choose_api_socket (longdir->str, &error);
  ck_assert_ptr_nonnull (l1);
  ck_assert_uint_lt (strlen (l1), 108);
  ck_assert_str_eq (l1, l2); /* stable */
  g_string_append (longdir, "x");
  other = banger_fc_choose_api_socket (longdir->str, &error);
  ck_assert_str_ne (l1, other);
  g_string_free (longdir, TRUE);
}
END_TEST

START_TEST (test_long_run_dir_boots)
{
  /* a run dir too long for sun_path still boots (hashed socket name) */
  GString *sub = g_string_new ("run");
  BangerVmmFirecracker *v;

  while (strlen (h.tmp) + sub->len < 130)
    g_string_append (sub, "/deeper-directory");
  v = make_vmm (make_config (VM_ID, sub->str, "bngtest0"));
  ((BangerVmmConfig *) banger_vmm_get_config (BANGER_VMM (v)))->vsock_cid = 0;
  boot (v);
  ck_assert_uint_lt (strlen (banger_vmm_get_api_socket (BANGER_VMM (v))), 108);
  OK (banger_vmm_stop);
  /* the socket outside the run dir does not outlive the VM */
  ck_assert (!g_file_test (banger_vmm_get_api_socket (BANGER_VMM (v)), G_FILE_TEST_EXISTS));
  g_string_free (sub, TRUE);
}
END_TEST

START_TEST (test_jailer_argv_minimal)
{
  g_autoptr (BangerFcJailerConfig) j = banger_fc_jailer_config_new ("/usr/bin/jailer", NULL, 123,
                                                                    100);
  g_auto (GStrv) argv = banger_firecracker_cmdline_build ("/usr/bin/firecracker", "vm1",
                                                          "/api.sock", j, NULL);
  const char *expected[] = { "/usr/bin/jailer", "--id", "vm1", "--exec-file",
                             "/usr/bin/firecracker", "--uid", "123", "--gid", "100",
                             "--cgroup-version", "2", "--chroot-base-dir", "/srv/jailer", "--",
                             "--api-sock", "/api.sock", NULL };
  g_autoptr (GError) error = NULL;
  g_autofree char *root = banger_fc_jail_root (j, "/usr/bin/firecracker", "vm1");

  ck_assert_uint_eq (g_strv_length (argv), G_N_ELEMENTS (expected) - 1);
  for (guint i = 0; expected[i]; i++)
    ck_assert_str_eq (argv[i], expected[i]);
  ck_assert_str_eq (root, "/srv/jailer/firecracker/vm1/root");
  ck_assert (banger_fc_jailer_config_validate (j, &error));
  /* --cgroup without knowing the cgroup2 mount cannot be cleaned up: refused */
  j->cgroups = g_strsplit ("cpu.weight=1", ",", -1);
  ck_assert (!banger_fc_jailer_config_validate (j, &error));
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  j->cgroup_root = g_strdup ("/sys/fs/cgroup");
  ck_assert (banger_fc_jailer_config_validate (j, &error));
  g_free (j->parent_cgroup);
  j->parent_cgroup = g_strdup ("../escape");
  ck_assert (!banger_fc_jailer_config_validate (j, &error));
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* the builder refuses what validate refuses */
  ck_assert_ptr_null (banger_firecracker_cmdline_build ("/usr/bin/firecracker", "vm1",
                                                        "/api.sock", j, &error));
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
}
END_TEST

/* Every option, in the order the one builder emits them, and direct mode. */
START_TEST (test_firecracker_cmdline_full)
{
  g_autoptr (BangerFcJailerConfig) j = banger_fc_jailer_config_new ("/usr/bin/jailer", "/j", 1,
                                                                    2);
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) argv = NULL;
  g_autofree char *joined = NULL;

  j->netns = g_strdup ("/run/netns/x");
  j->parent_cgroup = g_strdup ("banger.slice/banger-vm1.scope");
  j->cgroups = g_strsplit ("cpu.weight=1", ",", -1);
  j->cgroup_root = g_strdup ("/sys/fs/cgroup");
  j->fsize_limit = 1000;
  j->no_file_limit = 64;
  j->new_pid_ns = TRUE;
  argv = banger_firecracker_cmdline_build ("/usr/bin/firecracker", "vm1", "/fc.sock", j, &error);
  g_assert_no_error (error);
  joined = g_strjoinv (" ", argv);
  ck_assert_str_eq (joined, "/usr/bin/jailer --id vm1 --exec-file /usr/bin/firecracker --uid 1 "
                            "--gid 2 --cgroup-version 2 --chroot-base-dir /j --netns "
                            "/run/netns/x --parent-cgroup banger.slice/banger-vm1.scope "
                            "--cgroup cpu.weight=1 --resource-limit fsize=1000 "
                            "--resource-limit no-file=64 --new-pid-ns -- --api-sock /fc.sock");
  g_clear_pointer (&argv, g_strfreev);
  g_clear_pointer (&joined, g_free);
  argv = banger_firecracker_cmdline_build ("/usr/bin/firecracker", "vm1", "/run/fc.sock", NULL,
                                           &error);
  joined = g_strjoinv (" ", argv);
  ck_assert_str_eq (joined, "/usr/bin/firecracker --api-sock /run/fc.sock --id vm1");
  g_clear_pointer (&argv, g_strfreev);
  argv = banger_firecracker_cmdline_build ("firecracker", "vm1", "/run/fc.sock", NULL, &error);
  ck_assert_ptr_null (argv);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  argv = banger_firecracker_cmdline_build ("/usr/bin/firecracker", "--help", "/run/fc.sock", NULL,
                                           &error);
  ck_assert_ptr_null (argv);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
}
END_TEST

static Suite *
firecracker_suite (void)
{
  Suite *s = suite_create ("vmm-firecracker");
  TCase *tc = tcase_create ("driver");

  tcase_add_unchecked_fixture (tc, suite_setup, suite_teardown);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_boot_every_call);
  tcase_add_test (tc, test_boot_released_spec);
  tcase_add_test (tc, test_running_calls);
  tcase_add_test (tc, test_balloon_and_mmds);
  tcase_add_test (tc, test_finish_checks_its_tag);
  tcase_add_test (tc, test_fault_reaches_caller);
  tcase_add_test (tc, test_socket_never_appears);
  tcase_add_test (tc, test_dies_before_socket);
  tcase_add_test (tc, test_bad_binary);
  tcase_add_test (tc, test_unexecutable_binary);
  tcase_add_test (tc, test_dies_mid_boot);
  tcase_add_test (tc, test_call_timeout);
  tcase_add_test (tc, test_cancel);
  tcase_add_test (tc, test_fake_enforces_rules);
  tcase_add_test (tc, test_stop_ctrl_alt_del);
  tcase_add_test (tc, test_stop_term);
  tcase_add_test (tc, test_stop_kill);
  tcase_add_test (tc, test_stop_not_started);
  tcase_add_test (tc, test_snapshot_create_load);
  tcase_add_test (tc, test_snapshot_load_needs_fresh_process);
  tcase_add_test (tc, test_jailer_boot);
  tcase_add_test (tc, test_jailer_stale_chroot);
  tcase_add_test (tc, test_jailer_new_pid_ns);
  tcase_add_test (tc, test_jailer_snapshot);
  tcase_add_test (tc, test_jail_stage_copy);
  tcase_add_test (tc, test_jail_link);
  tcase_add_test (tc, test_snapshot_jailed_mismatch);
  tcase_add_test (tc, test_metrics_parse);
  tcase_add_test (tc, test_metrics_fifo);
  tcase_add_test (tc, test_log_fifo);
  tcase_add_test (tc, test_log_fifo_jailed);
  tcase_add_test (tc, test_fault_parse);
  tcase_add_test (tc, test_api_socket_choice);
  tcase_add_test (tc, test_long_run_dir_boots);
  tcase_add_test (tc, test_jailer_argv_minimal);
  tcase_add_test (tc, test_firecracker_cmdline_full);
  suite_add_tcase (s, tc);
  return s;
}

BANGER_TEST_MAIN (firecracker_suite)
