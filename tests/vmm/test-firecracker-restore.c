/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Firecracker restore, complete: the driver against the fake Firecracker,
 * which follows the real server on what a snapshot does not hold (logger,
 * metrics, the MMDS data store), the payload limits and their non-JSON
 * refusal, network_overrides against the snapshot's ifaces, the vsock
 * socket it leaves behind. */
#include "config.h"

#include <signal.h>
#include <sys/prctl.h>

#include "fc-test-harness.h"

#define V(x) BANGER_VMM (x)

#define KILL(x)                                                                                \
  do                                                                                           \
    {                                                                                          \
      g_autoptr (GError) kerr_ = NULL;                                                         \
      ck_assert_msg (banger_vmm_kill (V (x), &kerr_), "kill: %s",                              \
                     kerr_ ? kerr_->message : "?");                                            \
    }                                                                                          \
  while (0)

/* (a macro: @error is read after @ok is evaluated) */
#define must(ok, error, what)                                                                  \
  do                                                                                           \
    {                                                                                          \
      gboolean ok_ = (ok);                                                                     \
      ck_assert_msg (ok_, "%s: %s", what, (error) ? (error)->message : "?");                   \
    }                                                                                          \
  while (0)

/* A fresh process for a restore: prepared and launched, not configured. */
static BangerVmmFirecracker *
fresh (BangerVmmConfig *c)
{
  BangerVmmFirecracker *r = make_vmm (c);
  g_autoptr (GError) error = NULL;

  must (banger_vmm_prepare (V (r), &error), error, "prepare");
  must (banger_vmm_launch (V (r), NULL, &error), error, "launch");
  return r;
}

/* Boot a VM, pause it, take a Full and a Diff snapshot, stop it. */
static void
snapshot_vm (const char *snap, const char *mem, const char *dsnap, const char *dmem)
{
  BangerVmmFirecracker *v = make_vmm (make_config (VM_ID, "run", "bngtest0"));
  g_autoptr (GError) error = NULL;

  banger_vmm_firecracker_set_track_dirty_pages (v, TRUE);
  boot (v);
  OK (banger_vmm_pause);
  must (banger_vmm_snapshot_create (V (v), snap, mem, FALSE, NULL, &error), error, "Full");
  if (dsnap != NULL)
    must (banger_vmm_snapshot_create (V (v), dsnap, dmem, TRUE, NULL, &error), error, "Diff");
  OK (banger_vmm_stop);
}

/* Index of the first @method @path in @reqs, or -1. */
static int
find_req (GPtrArray *reqs, const char *method, const char *path)
{
  for (guint i = 0; i < reqs->len; i++)
    {
      JsonObject *r = req (reqs, i);
      if (g_str_equal (json_object_get_string_member (r, "method"), method)
          && g_str_equal (json_object_get_string_member (r, "path"), path))
        return (int) i;
    }
  return -1;
}

static char *
tmp_path (const char *name)
{
  return g_build_filename (h.tmp, name, NULL);
}

static gboolean
exists (const char *path)
{
  struct stat st;
  return lstat (path, &st) == 0;
}

/* --------------------------------------------------------- full restore */

static JsonNode *
big_mmds (gsize n)
{
  g_autofree char *s = g_strnfill (n, 'x');
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "blob");
  json_builder_add_string_value (b, s);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}


START_TEST (test_restore_complete)
{
  g_autofree char *snap = tmp_path ("vm.snap");
  g_autofree char *mem = tmp_path ("vm.mem");
  g_autofree char *dsnap = tmp_path ("vm.diff.snap");
  g_autofree char *dmem = tmp_path ("vm.diff.mem");
  g_autofree char *record = banger_vmm_firecracker_snapshot_devices_path (snap);
  g_autofree char *drecord = banger_vmm_firecracker_snapshot_devices_path (dsnap);
  g_autofree char *log = NULL;
  g_autofree char *vsock2 = g_build_filename (h.tmp, "run2", "vsock.sock", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) reqs = NULL;
  g_autoptr (JsonParser) p = json_parser_new ();
  BangerVmmConfig *c = make_config (VM_ID, "run2", "bngtest9");
  BangerVmmFirecracker *r, *v;
  BangerVmmStats st = { 0 };
  JsonObject *b;
  JsonArray *ov;
  int load;

  snapshot_vm (snap, mem, dsnap, dmem);
  /* the device record next to each snapshot */
  ck_assert (g_file_test (record, G_FILE_TEST_IS_REGULAR));
  ck_assert (g_file_test (drecord, G_FILE_TEST_IS_REGULAR));
  ck_assert (json_parser_load_from_file (p, record, NULL));
  b = json_node_get_object (json_parser_get_root (p));
  ck_assert_uint_eq (json_array_get_length (json_object_get_array_member (b, "ifaces")), 1);
  ck_assert_str_eq (json_array_get_string_element (json_object_get_array_member (b, "ifaces"), 0),
                    "eth0");
  ck_assert (json_object_get_boolean_member (b, "vsock"));
  g_remove (h.req_log);

  /* restore on a pooled tap, in another run dir */
  r = fresh (c);
  banger_vmm_firecracker_set_clock_realtime (r, TRUE);
  must (banger_vmm_snapshot_load (V (r), snap, mem, TRUE, NULL, &error), error, "load");
  ck_assert_int_eq (banger_vmm_get_state (V (r)), BANGER_VMM_STATE_RUNNING);

  /* the restored VM has a log and live metrics */
  ck_assert (g_file_get_contents (banger_vmm_firecracker_get_log_path (r), &log, NULL, NULL));
  ck_assert_ptr_nonnull (strstr (log, "Running Firecracker"));
  flush_metrics (r);
  must (banger_vmm_read_stats (V (r), &st, &error), error, "stats");
  ck_assert_uint_eq (st.net_rx_bytes, 1000);
  ck_assert_uint_eq (st.block_read_bytes, 4096);
  /* ... and its MMDS data store is back (a merge-patch needs one) */
  {
    g_autoptr (GMainContext) ctx = g_main_context_new ();
    g_autoptr (JsonNode) patch = big_mmds (10);
    Wait w = { NULL };
    g_main_context_push_thread_default (ctx);
    banger_vmm_firecracker_patch_mmds_async (r, patch, NULL, got_result, &w);
    must (banger_vmm_firecracker_patch_mmds_finish (r, wait_result (&w, ctx), &error), error,
          "PATCH /mmds");
    g_main_context_pop_thread_default (ctx);
    g_object_unref (w.res);
  }

  reqs = read_requests ();
  assert_all_accepted (reqs);
  {
    /* the order the spec and the real server accept: logger and metrics
     * (the only calls before a load), the load, the MMDS data store (not
     * persisted), then resume */
    const char *const order[] = { "GET /",         "PUT /logger", "PUT /metrics",
                                  "PUT /snapshot/load", "PUT /mmds",  "PATCH /vm", NULL };
    assert_sequence (reqs, 0, order);
  }
  load = find_req (reqs, "PUT", "/snapshot/load");
  b = find_body (reqs, "PUT", "/snapshot/load");
  ck_assert (!json_object_get_boolean_member (b, "resume_vm"));
  ck_assert (json_object_get_boolean_member (b, "clock_realtime"));
  ov = json_object_get_array_member (b, "network_overrides");
  ck_assert_uint_eq (json_array_get_length (ov), 1);
  ck_assert_str_eq (json_object_get_string_member (json_array_get_object_element (ov, 0),
                                                   "iface_id"),
                    "eth0");
  ck_assert_str_eq (json_object_get_string_member (json_array_get_object_element (ov, 0),
                                                   "host_dev_name"),
                    "bngtest9");
  ck_assert_str_eq (json_object_get_string_member (json_object_get_object_member (b,
                                                                                  "vsock_override"),
                                                   "uds_path"),
                    vsock2);
  ck_assert_int_gt (load, 0);
  b = find_body (reqs, "PUT", "/mmds");
  ck_assert_str_eq (json_object_get_string_member (json_object_get_object_member (b, "banger"),
                                                   "vm"),
                    VM_ID);
  ck_assert_str_eq (json_object_get_string_member (find_body (reqs, "PATCH", "/vm"), "state"),
                    "Resumed");


  v = r;
  OK (banger_vmm_stop);
  ck_assert (!exists (vsock2));
}
END_TEST

START_TEST (test_restore_paused_released_spec)
{
  /* against the v1.16.1 release's spec; not resumed: no PATCH /vm, and the
   * clock option left out when not asked for */
  g_autofree char *spec = g_build_filename (FAKE_FC_DIR, "firecracker-api-v1.16.1.yaml", NULL);
  g_autofree char *snap = tmp_path ("vm.snap");
  g_autofree char *mem = tmp_path ("vm.mem");
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) reqs = NULL;
  BangerVmmFirecracker *r, *v;
  JsonObject *b;

  g_setenv ("FAKE_FC_SPEC", spec, TRUE);
  snapshot_vm (snap, mem, NULL, NULL);
  g_remove (h.req_log);
  r = fresh (make_config (VM_ID, "run2", "bngtest9"));
  must (banger_vmm_snapshot_load (V (r), snap, mem, FALSE, NULL, &error), error, "load");
  ck_assert_int_eq (banger_vmm_get_state (V (r)), BANGER_VMM_STATE_PAUSED);
  reqs = read_requests ();
  assert_all_accepted (reqs);
  {
    const char *const order[] = { "GET /", "PUT /logger", "PUT /metrics", "PUT /snapshot/load",
                                  "PUT /mmds", NULL };
    assert_sequence (reqs, 0, order);
  }
  ck_assert_uint_eq (reqs->len, 5);
  b = find_body (reqs, "PUT", "/snapshot/load");
  ck_assert (!json_object_has_member (b, "clock_realtime"));
  v = r;
  OK (banger_vmm_resume);
  OK (banger_vmm_stop);
}
END_TEST

/* ------------------------------------------------ overrides vs snapshot */

START_TEST (test_overrides_checked)
{
  g_autofree char *snap = tmp_path ("vm.snap");
  g_autofree char *mem = tmp_path ("vm.mem");
  g_autofree char *record = banger_vmm_firecracker_snapshot_devices_path (snap);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) reqs = NULL;
  BangerVmmConfig *c;
  BangerVmmFirecracker *r;

  snapshot_vm (snap, mem, NULL, NULL);
  g_remove (h.req_log);

  /* an iface the snapshot does not have: refused before any request */
  c = make_config (VM_ID, "run2", "bngtest9");
  banger_vmm_config_add_nic (c, "eth1", "bngtest8", NULL);
  r = fresh (c);
  ck_assert (!banger_vmm_snapshot_load (V (r), snap, mem, TRUE, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  ck_assert_ptr_nonnull (strstr (error->message, "eth1"));
  g_clear_error (&error);
  reqs = read_requests ();
  ck_assert_uint_eq (reqs->len, 1); /* the launch's GET / only */
  ck_assert_int_eq (find_req (reqs, "PUT", "/snapshot/load"), -1);
  /* the process is untouched: still fresh */
  ck_assert_int_eq (banger_vmm_get_state (V (r)), BANGER_VMM_STATE_LAUNCHED);
  ck_assert (!banger_vmm_has_exited (V (r)));
  KILL (r);

  /* no record next to the snapshot: the ifaces are unknown */
  ck_assert (g_remove (record) == 0);
  r = fresh (make_config (VM_ID, "run3", "bngtest7"));
  ck_assert (!banger_vmm_snapshot_load (V (r), snap, mem, TRUE, NULL, &error));
  banger_assert_error (error, BANGER_ERROR_NOT_FOUND);
  KILL (r);
}
END_TEST

/* ------------------------------------------------------------ MMDS size */

START_TEST (test_mmds_over_default_limit)
{
  BangerVmmConfig *c = make_config (VM_ID, "run", "bngtest0");
  BangerVmmFirecracker *v;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) reqs = NULL;

  json_node_unref (c->mmds);
  c->mmds = big_mmds (60000);
  v = make_vmm (c);
  ck_assert_uint_eq (banger_vmm_firecracker_get_mmds_limit (v), 51200);
  must (banger_vmm_prepare (V (v), &error), error, "prepare");
  OK (banger_vmm_launch);
  ck_assert (!banger_vmm_configure (V (v), NULL, &error));
  banger_assert_error (error, BANGER_ERROR_LIMIT_EXCEEDED);
  ck_assert_ptr_nonnull (strstr (error->message, "51200"));
  reqs = read_requests ();
  ck_assert_uint_eq (reqs->len, 1); /* nothing sent past the launch probe */
  ck_assert_int_eq (banger_vmm_get_state (V (v)), BANGER_VMM_STATE_LAUNCHED);
  KILL (v);
}
END_TEST

START_TEST (test_mmds_configured_limits)
{
  BangerVmmConfig *c = make_config (VM_ID, "run", "bngtest0");
  BangerVmmFirecracker *v;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) reqs = NULL;
  g_autoptr (GMainContext) ctx = g_main_context_new ();
  g_autoptr (JsonNode) patch = NULL;
  const char *const *argv;
  gboolean saw_payload = FALSE, saw_mmds = FALSE;
  Wait w = { NULL };

  json_node_unref (c->mmds);
  c->mmds = big_mmds (60000);
  v = make_vmm (c);
  banger_vmm_firecracker_set_api_payload_limit (v, 200000);
  banger_vmm_firecracker_set_mmds_size_limit (v, 100000);
  ck_assert_uint_eq (banger_vmm_firecracker_get_mmds_limit (v), 100000);
  boot (v);
  argv = banger_vmm_firecracker_get_argv (v);
  for (guint i = 0; argv[i] != NULL; i++)
    {
      saw_payload = saw_payload
                    || (g_str_equal (argv[i], "--http-api-max-payload-size")
                        && g_strcmp0 (argv[i + 1], "200000") == 0);
      saw_mmds = saw_mmds
                 || (g_str_equal (argv[i], "--mmds-size-limit")
                     && g_strcmp0 (argv[i + 1], "100000") == 0);
    }
  ck_assert (saw_payload);
  ck_assert (saw_mmds);
  reqs = read_requests ();
  assert_all_accepted (reqs);
  ck_assert_int_ge (find_req (reqs, "PUT", "/mmds"), 0);

  /* a patch over the MMDS limit is refused before it is sent */
  patch = big_mmds (150000);
  g_main_context_push_thread_default (ctx);
  banger_vmm_firecracker_patch_mmds_async (v, patch, NULL, got_result, &w);
  ck_assert (!banger_vmm_firecracker_patch_mmds_finish (v, wait_result (&w, ctx), &error));
  g_main_context_pop_thread_default (ctx);
  g_object_unref (w.res);
  banger_assert_error (error, BANGER_ERROR_LIMIT_EXCEEDED);
  g_ptr_array_unref (reqs);
  reqs = read_requests ();
  ck_assert_int_eq (find_req (reqs, "PATCH", "/mmds"), -1);
  OK (banger_vmm_stop);
}
END_TEST

START_TEST (test_non_json_refusal_keeps_reason)
{
  /* a server with a smaller limit than the driver knows of: the HTTP
   * layer's 400 is not JSON; its words reach the caller */
  BangerVmmConfig *c = make_config (VM_ID, "run", "bngtest0");
  BangerVmmFirecracker *v;
  g_autoptr (GError) error = NULL;

  g_setenv ("FAKE_FC_MODE", "payload-limit=1000", TRUE);
  json_node_unref (c->mmds);
  c->mmds = big_mmds (2000);
  v = make_vmm (c);
  must (banger_vmm_prepare (V (v), &error), error, "prepare");
  OK (banger_vmm_launch);
  ck_assert (!banger_vmm_configure (V (v), NULL, &error));
  banger_assert_error (error, BANGER_ERROR_VMM);
  ck_assert_ptr_nonnull (strstr (error->message, "PUT /mmds"));
  ck_assert_ptr_nonnull (strstr (error->message, "HTTP 400"));
  ck_assert_msg (strstr (error->message, "larger than the limit of 1000") != NULL, "%s",
                 error->message);
  KILL (v);
}
END_TEST

/* ---------------------------------------------------------------- vsock */

START_TEST (test_vsock_socket_removed)
{
  BangerVmmFirecracker *v = make_vmm (make_config (VM_ID, "run", "bngtest0"));
  g_autofree char *vsock = g_build_filename (h.tmp, "run", "vsock.sock", NULL);
  g_autofree char *vsock2 = g_build_filename (h.tmp, "run2", "vsock.sock", NULL);

  boot (v);
  ck_assert (exists (vsock)); /* Firecracker bound it */
  OK (banger_vmm_stop);
  ck_assert (!exists (vsock));

  v = make_vmm (make_config (VM_ID, "run2", "bngtest1"));
  boot (v);
  ck_assert (exists (vsock2));
  KILL (v);
  ck_assert (!exists (vsock2));
}
END_TEST

static Suite *
restore_suite (void)
{
  Suite *s = suite_create ("vmm-firecracker-restore");
  TCase *tc = tcase_create ("restore");

  tcase_add_unchecked_fixture (tc, suite_setup, suite_teardown);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_restore_complete);
  tcase_add_test (tc, test_restore_paused_released_spec);
  tcase_add_test (tc, test_overrides_checked);
  tcase_add_test (tc, test_mmds_over_default_limit);
  tcase_add_test (tc, test_mmds_configured_limits);
  tcase_add_test (tc, test_non_json_refusal_keeps_reason);
  tcase_add_test (tc, test_vsock_socket_removed);
  suite_add_tcase (s, tc);
  return s;
}

BANGER_TEST_MAIN (restore_suite)
