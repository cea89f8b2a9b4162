/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The VM lifecycle end to end, through the CLI only: a bangerd (as root,
 * the in-process executor) in a network namespace this test makes, the
 * real test guest under QEMU (TCG):
 *   kernel add → image import → vm create → vm exec uname -r → a file
 *   written → vm stop → vm start → the file is still there → vm rm →
 *   nothing left: no tap, no NAT set element, no VM cgroup, no disk, no
 *   QEMU process, no store row.
 * Also: a failing create (Firecracker not configured) is undone step by
 * step and recorded as failed at its step; the same name created twice at
 * once: exactly one wins; typed errors reach the CLI's --json; bangerd
 * killed -9 and restarted adopts a running VM, cleans up one whose VMM died
 * meanwhile, and removes an adopted one completely.  And the
 * split deployment: bangerd as an unprivileged owner with a real
 * bangerd-root (the guest kit's).  Root only. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "banger-e2e-cleanup.h"
#include "banger-e2e-test.h"

#ifndef BANGER_CLI_PATH
#error "BANGER_CLI_PATH must name the banger this build makes"
#endif
#ifndef FAKE_FIRECRACKER
#error "FAKE_FIRECRACKER must name tests/fakes/firecracker/fake-firecracker.py"
#endif

typedef BangerE2eEnv Env;

/* the kit's helpers under the names the cases use */
#define cli banger_e2e_cli
#define run_ok banger_e2e_run_ok
#define parse_json banger_e2e_parse_json
#define error_code_of banger_e2e_error_code_of
#define count_taps banger_e2e_count_taps
#define count_subdirs banger_e2e_count_subdirs
#define crash_and_restart_daemon banger_e2e_test_crash_and_restart

/* taps that are not the daemon's (the kit's own, in the split deployment) */
static guint base_taps;

/* bangerd as an unprivileged owner (uid 65534) talking to a real
 * bangerd-root (the kit's, with its install config) over its socket. */
static Env *
env_new_with_helper (void)
{
  const BangerE2eOptions options = {
    .prefix = "banger-lch",
    .deploy = BANGER_E2E_DEPLOY_HELPER,
    .subnet = "172.30.5.0/24",
  };
  Env *env = banger_e2e_test_env_new (&options, FALSE);

  /* (after the daemon's reconcile, which runs before it listens: the kit
   * made its own tap through the same helper for a VM id the daemon has
   * no record of, and the daemon removes such orphans) */
  base_taps = count_taps (env);
  return env;
}

static Env *
env_new_with (const char *extra_conf)
{
  const BangerE2eOptions options = {
    .prefix = "banger-lc",
    .deploy = BANGER_E2E_DEPLOY_ROOT,
    .subnet = "10.77.0.0/24",
    .extra_conf = extra_conf,
  };

  base_taps = 0;
  return banger_e2e_test_env_new (&options, FALSE);
}

static Env *
env_new (void)
{
  return env_new_with ("");
}

/* Elements of banger's NAT set in the namespace (0 when no table). */
static guint
count_nat_elements (Env *env)
{
  g_autofree char *out = NULL;
  const char *argv[] = { "ip",   "netns", "exec", env->ns,  "nft",         "-j",
                         "list", "set",   "ip",   "banger", "nat_sources", NULL };
  g_autoptr (JsonNode) root = NULL;
  JsonArray *items;
  guint n = 0;

  if (!banger_kit_run (argv, &out, NULL))
    return 0;
  root = parse_json (out);
  items = json_object_get_array_member (json_node_get_object (root), "nftables");
  for (guint i = 0; i < json_array_get_length (items); i++)
    {
      JsonObject *o = json_array_get_object_element (items, i);
      if (json_object_has_member (o, "set"))
        {
          JsonObject *set = json_object_get_object_member (o, "set");
          if (json_object_has_member (set, "elem"))
            n += json_array_get_length (json_object_get_array_member (set, "elem"));
        }
    }
  return n;
}

static void
assert_nothing_left (Env *env, int old_pid)
{
  g_autofree char *vms_dir = g_build_filename (env->state_dir, "vms", NULL);
  g_autofree char *proc = old_pid > 0 ? g_strdup_printf ("/proc/%d", old_pid) : NULL;

  ck_assert_uint_eq (count_taps (env), base_taps);
  ck_assert_uint_eq (count_nat_elements (env), 0);
  ck_assert_uint_eq (count_subdirs (env->cgroup_root), 0);
  ck_assert_uint_eq (count_subdirs (vms_dir), 0);
  if (proc != NULL)
    {
      for (int i = 0; i < 200 && g_file_test (proc, G_FILE_TEST_EXISTS); i++)
        g_usleep (10 * 1000);
      ck_assert_msg (!g_file_test (proc, G_FILE_TEST_EXISTS), "QEMU pid %d is still there",
                     old_pid);
    }
}

static JsonObject *
show (Env *env, const char *name, JsonNode **keep)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int rc = cli (env, &out, &err, "--json", "vm", "show", name, NULL);

  ck_assert_msg (rc == 0, "vm show %s: %d: %s", name, rc, err);
  *keep = parse_json (out);
  return json_node_get_object (*keep);
}

START_TEST (test_lifecycle)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *guest = banger_kit_build_guest (&error);
  g_autofree char *kernel = NULL, *initrd = NULL, *rootfs = NULL;
  g_autofree char *release = NULL;
  g_autofree char *out = NULL, *err = NULL;
  g_autofree char *token = g_uuid_string_random ();
  g_autofree char *write_cmd = g_strdup_printf ("echo %s > /root/persist && sync", token);
  g_autoptr (JsonNode) shown = NULL;
  JsonObject *vm;
  Env *env;
  int rc, pid;

  ck_assert_msg (guest != NULL, "guest: %s", error ? error->message : "?");
  banger_e2e_guest_files (guest, &kernel, &initrd, &rootfs);
  release = banger_e2e_guest_release (guest, NULL);
  ck_assert (release != NULL);
  env = env_new ();

  banger_e2e_test_import_guest (env, kernel, initrd, rootfs);

  /* create → running */
  rc = cli (env, &out, &err, "vm", "create", "web-1", "--image", "guest", "--kernel", "k", NULL);
  ck_assert_msg (rc == 0, "vm create: %d: %s", rc, err);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  vm = show (env, "web-1", &shown);
  ck_assert_str_eq (json_object_get_string_member (vm, "state"), "running");
  ck_assert_str_eq (json_object_get_string_member (vm, "vmm"), "qemu");
  ck_assert_str_eq (json_object_get_string_member (vm, "ip"), "10.77.0.2");
  ck_assert_str_eq (json_object_get_string_member (vm, "rootfs_cow"), "sparse-copy");
  ck_assert_int_eq (json_object_get_int_member (vm, "vcpus"), 1);
  ck_assert_int_eq (json_object_get_int_member (vm, "memory_mib"), 256);
  ck_assert (json_object_get_string_member (vm, "tap") != NULL);
  ck_assert (json_object_get_string_member (vm, "created_at") != NULL);
  pid = (int)json_object_get_int_member (vm, "pid");
  ck_assert_int_gt (pid, 1);
  ck_assert_uint_eq (count_taps (env), 1);
  ck_assert_uint_eq (count_nat_elements (env), 1);
  ck_assert_uint_eq (count_subdirs (env->cgroup_root), 1);

  /* the same name again: typed already-exists */
  rc = cli (env, &out, &err, "--json", "vm", "create", "web-1", "--image", "guest", "--kernel", "k",
            NULL);
  ck_assert_int_eq (rc, 1);
  {
    g_autofree char *code = error_code_of (out);
    ck_assert_str_eq (code, "already-exists");
  }
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* exec: output and exit status */
  rc = cli (env, &out, &err, "vm", "exec", "web-1", "--", "uname", "-r", NULL);
  ck_assert_msg (rc == 0, "exec: %d: %s", rc, err);
  g_strstrip (out);
  ck_assert_str_eq (out, release);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  rc = cli (env, NULL, NULL, "vm", "exec", "web-1", "--", "sh", "-c", "exit 7", NULL);
  ck_assert_int_eq (rc, 7);
  rc = cli (env, NULL, &err, "vm", "exec", "web-1", "--", "sh", "-c", write_cmd, NULL);
  ck_assert_msg (rc == 0, "write: %s", err);
  g_clear_pointer (&err, g_free);

  /* stop keeps the disks, drops the tap, NAT rule, cgroup and process */
  rc = cli (env, NULL, &err, "vm", "stop", "web-1", NULL);
  ck_assert_msg (rc == 0, "stop: %s", err);
  g_clear_pointer (&err, g_free);
  g_clear_pointer (&shown, json_node_unref);
  vm = show (env, "web-1", &shown);
  ck_assert_str_eq (json_object_get_string_member (vm, "state"), "stopped");
  ck_assert_int_eq (json_object_get_int_member (vm, "pid"), 0);
  ck_assert_uint_eq (count_taps (env), 0);
  ck_assert_uint_eq (count_nat_elements (env), 0);
  ck_assert_uint_eq (count_subdirs (env->cgroup_root), 0);
  /* exec on a stopped VM: busy */
  rc = cli (env, &out, NULL, "--json", "vm", "exec", "web-1", "--", "true", NULL);
  ck_assert_int_eq (rc, 1);
  {
    g_autofree char *code = error_code_of (out);
    ck_assert_str_eq (code, "busy");
  }
  g_clear_pointer (&out, g_free);

  /* set on a stopped VM, then start: the file is still there */
  rc = cli (env, NULL, &err, "vm", "set", "web-1", "--memory", "192", NULL);
  ck_assert_msg (rc == 0, "set: %s", err);
  g_clear_pointer (&err, g_free);
  rc = cli (env, NULL, &err, "vm", "start", "web-1", NULL);
  ck_assert_msg (rc == 0, "start: %s", err);
  g_clear_pointer (&err, g_free);
  rc = cli (env, &out, &err, "vm", "exec", "web-1", "--", "cat", "/root/persist", NULL);
  ck_assert_msg (rc == 0, "cat: %s", err);
  g_strstrip (out);
  ck_assert_str_eq (out, token);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_clear_pointer (&shown, json_node_unref);
  vm = show (env, "web-1", &shown);
  ck_assert_int_eq (json_object_get_int_member (vm, "memory_mib"), 192);
  pid = (int)json_object_get_int_member (vm, "pid");

  /* crash: bangerd killed -9 and restarted; the running VM is adopted */
  crash_and_restart_daemon (env);
  g_clear_pointer (&shown, json_node_unref);
  vm = show (env, "web-1", &shown);
  ck_assert_str_eq (json_object_get_string_member (vm, "state"), "running");
  ck_assert_int_eq (json_object_get_int_member (vm, "pid"), pid);
  rc = cli (env, &out, &err, "vm", "exec", "web-1", "--", "cat", "/root/persist", NULL);
  ck_assert_msg (rc == 0, "cat after restart: %s", err);
  g_strstrip (out);
  ck_assert_str_eq (out, token);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* its VMM dies while bangerd is down: the restart cleans up, stopped */
  banger_e2e_env_kill_daemon (env);
  ck_assert_int_eq (kill (pid, SIGKILL), 0);
  {
    g_autofree char *proc = g_strdup_printf ("/proc/%d", pid);
    for (int i = 0; i < 500 && g_file_test (proc, G_FILE_TEST_EXISTS); i++)
      g_usleep (10 * 1000);
  }
  banger_e2e_test_start_daemon (env);
  g_clear_pointer (&shown, json_node_unref);
  vm = show (env, "web-1", &shown);
  ck_assert_str_eq (json_object_get_string_member (vm, "state"), "stopped");
  ck_assert_uint_eq (count_taps (env), base_taps);
  ck_assert_uint_eq (count_nat_elements (env), 0);
  ck_assert_uint_eq (count_subdirs (env->cgroup_root), 0);
  rc = cli (env, NULL, &err, "vm", "start", "web-1", NULL);
  ck_assert_msg (rc == 0, "start after reconcile: %s", err);
  g_clear_pointer (&err, g_free);
  g_clear_pointer (&shown, json_node_unref);
  vm = show (env, "web-1", &shown);
  pid = (int)json_object_get_int_member (vm, "pid");

  /* ls: a table for people, JSON for programs */
  rc = cli (env, &out, NULL, "vm", "ls", NULL);
  ck_assert_int_eq (rc, 0);
  ck_assert (g_str_has_prefix (out, "NAME "));
  ck_assert (strstr (out, "web-1") != NULL && strstr (out, "running") != NULL);
  g_clear_pointer (&out, g_free);

  /* rm of an adopted VM (after one more crash): its VMM is killed through
   * a pidfd checked against the recorded start time; nothing left */
  crash_and_restart_daemon (env);
  rc = cli (env, NULL, &err, "vm", "rm", "web-1", NULL);
  ck_assert_msg (rc == 0, "rm: %s", err);
  g_clear_pointer (&err, g_free);
  assert_nothing_left (env, pid);
  rc = cli (env, &out, NULL, "--json", "vm", "ls", NULL);
  ck_assert_int_eq (rc, 0);
  g_strstrip (out);
  ck_assert_str_eq (out, "[]");
  g_clear_pointer (&out, g_free);
  rc = cli (env, &out, NULL, "--json", "vm", "show", "web-1", NULL);
  ck_assert_int_eq (rc, 1);
  {
    g_autofree char *code = error_code_of (out);
    ck_assert_str_eq (code, "not-found");
  }
  g_clear_pointer (&out, g_free);

  /* a create failing at its launch step is undone and recorded */
  rc = cli (env, &out, NULL, "--json", "vm", "create", "fc-1", "--image", "guest", "--kernel", "k",
            "--vmm", "firecracker", NULL);
  ck_assert_int_eq (rc, 1);
  {
    g_autofree char *code = error_code_of (out);
    ck_assert_str_eq (code, "unsupported");
  }
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&shown, json_node_unref);
  vm = show (env, "fc-1", &shown);
  ck_assert_str_eq (json_object_get_string_member (vm, "state"), "failed");
  ck_assert_str_eq (json_object_get_string_member (vm, "failed_step"), "launch");
  ck_assert (json_object_get_string_member (vm, "ip") == NULL);
  assert_nothing_left (env, 0);
  rc = cli (env, NULL, &err, "vm", "rm", "fc-1", NULL);
  ck_assert_msg (rc == 0, "rm fc-1: %s", err);
  g_clear_pointer (&err, g_free);

  /* the same name twice at once: exactly one wins */
  {
    const char *argv[]
        = { BANGER_CLI_PATH, "--json", "--socket", env->socket, "vm",         "create", "dup",
            "--image",       "guest",  "--kernel", "k",         "--no-start", NULL };
    g_autoptr (GSubprocess) a = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE, NULL);
    g_autoptr (GSubprocess) b = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE, NULL);
    g_autofree char *out_a = NULL, *out_b = NULL;
    int ea, eb;

    ck_assert (a != NULL && b != NULL);
    ck_assert (g_subprocess_communicate_utf8 (a, NULL, NULL, &out_a, NULL, NULL));
    ck_assert (g_subprocess_communicate_utf8 (b, NULL, NULL, &out_b, NULL, NULL));
    ea = g_subprocess_get_exit_status (a);
    eb = g_subprocess_get_exit_status (b);
    ck_assert_msg ((ea == 0) != (eb == 0), "exit statuses %d and %d", ea, eb);
    {
      g_autofree char *code = error_code_of (ea == 0 ? out_b : out_a);
      ck_assert_str_eq (code, "already-exists");
    }
  }
  g_clear_pointer (&shown, json_node_unref);
  vm = show (env, "dup", &shown);
  ck_assert_str_eq (json_object_get_string_member (vm, "state"), "stopped");
  rc = cli (env, NULL, &err, "vm", "rm", "dup", NULL);
  ck_assert_msg (rc == 0, "rm dup: %s", err);
  g_clear_pointer (&err, g_free);
  assert_nothing_left (env, 0);

  rc = cli (env, NULL, &err, "image", "rm", "guest", NULL);
  ck_assert_msg (rc == 0, "image rm: %s", err);
  g_clear_pointer (&err, g_free);
  rc = cli (env, NULL, &err, "kernel", "rm", "k", NULL);
  ck_assert_msg (rc == 0, "kernel rm: %s", err);
  g_clear_pointer (&err, g_free);

  banger_e2e_env_free (env);
}
END_TEST

/* The split deployment: the same create → exec → rm with bangerd as an
 * unprivileged user and every privileged step through bangerd-root. */
START_TEST (test_with_helper)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *guest = banger_kit_build_guest (&error);
  g_autofree char *kernel = NULL, *initrd = NULL, *rootfs = NULL;
  g_autofree char *release = NULL;
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (JsonNode) shown = NULL;
  JsonObject *vm;
  Env *env;
  int rc, pid;

  ck_assert_msg (guest != NULL, "guest: %s", error ? error->message : "?");
  release = banger_e2e_guest_release (guest, NULL);
  ck_assert (release != NULL);
  env = env_new_with_helper ();
  /* the owner must read what it imports */
  ck_assert_msg (banger_e2e_env_stage_guest (env, guest, &kernel, &initrd, &rootfs, &error),
                 "stage: %s", error ? error->message : "?");
  banger_e2e_test_import_guest (env, kernel, initrd, rootfs);
  rc = cli (env, &out, &err, "vm", "create", "split-1", "--image", "guest", "--kernel", "k", NULL);
  ck_assert_msg (rc == 0, "vm create: %d: %s", rc, err);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  vm = show (env, "split-1", &shown);
  ck_assert_str_eq (json_object_get_string_member (vm, "state"), "running");
  ck_assert_str_eq (json_object_get_string_member (vm, "ip"), "172.30.5.2");
  pid = (int)json_object_get_int_member (vm, "pid");
  {
    /* QEMU runs as the owner, launched by the helper */
    g_autofree char *status_path = g_strdup_printf ("/proc/%d/status", pid);
    g_autofree char *status = NULL;
    ck_assert (g_file_get_contents (status_path, &status, NULL, NULL));
    ck_assert_msg (strstr (status, "\nUid:\t65534\t") != NULL, "QEMU's uid: %s", status);
  }
  ck_assert_uint_eq (count_taps (env), base_taps + 1);
  rc = cli (env, &out, &err, "vm", "exec", "split-1", "--", "uname", "-r", NULL);
  ck_assert_msg (rc == 0, "exec: %d: %s", rc, err);
  g_strstrip (out);
  ck_assert_str_eq (out, release);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  rc = cli (env, NULL, &err, "vm", "rm", "split-1", NULL);
  ck_assert_msg (rc == 0, "rm: %s", err);
  g_clear_pointer (&err, g_free);
  assert_nothing_left (env, pid);
  banger_e2e_env_free (env);
}
END_TEST

/* --vmm firecracker against the spec-validating fake Firecracker: the
 * driver configures it over its API and starts it; no guest ever answers
 * SSH, so the create fails at its last step and every step is undone.
 * While that create runs, `vm ls` answers at once (requests run in worker
 * threads, concurrently). */
START_TEST (test_firecracker_fake)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *guest = banger_kit_build_guest (&error);
  g_autofree char *kernel = NULL, *initrd = NULL, *rootfs = NULL, *extra = NULL;
  g_autofree char *out = NULL, *err = NULL;
  /* the config takes a normalised absolute path */
  g_autofree char *fake = g_canonicalize_filename (FAKE_FIRECRACKER, NULL);
  g_autoptr (JsonNode) shown = NULL;
  JsonObject *vm;
  Env *env;
  int rc;

  ck_assert_msg (guest != NULL, "guest: %s", error ? error->message : "?");
  banger_e2e_guest_files (guest, &kernel, &initrd, &rootfs);
  extra = g_strdup_printf ("[vmm]\nfirecracker=%s\n[guest]\nssh-timeout-ms=4000\n", fake);
  env = env_new_with (extra);
  banger_e2e_test_import_guest (env, kernel, initrd, rootfs);
  {
    const char *argv[]
        = { BANGER_CLI_PATH, "--json", "--socket", env->socket, "vm",    "create",      "fc-1",
            "--image",       "guest",  "--kernel", "k",         "--vmm", "firecracker", NULL };
    g_autoptr (GSubprocess) create = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE, NULL);
    g_autofree char *create_out = NULL;
    gboolean seen = FALSE;

    ck_assert (create != NULL);
    /* while it runs: vm ls answers, and shows it being created */
    for (int i = 0; i < 300 && !seen; i++)
      {
        gint64 t0 = g_get_monotonic_time ();
        rc = cli (env, &out, NULL, "--json", "vm", "ls", NULL);
        ck_assert_int_eq (rc, 0);
        ck_assert_msg (g_get_monotonic_time () - t0 < 2 * G_USEC_PER_SEC,
                       "vm ls took %.1f s during a create", (g_get_monotonic_time () - t0) / 1e6);
        seen = strstr (out, "\"creating\"") != NULL;
        g_clear_pointer (&out, g_free);
        if (!seen)
          g_usleep (20 * 1000);
      }
    ck_assert_msg (seen, "vm ls never showed fc-1 creating");
    ck_assert (g_subprocess_communicate_utf8 (create, NULL, NULL, &create_out, NULL, NULL));
    ck_assert_int_eq (g_subprocess_get_exit_status (create), 1);
    {
      g_autofree char *code = error_code_of (create_out);
      ck_assert_msg (g_str_equal (code, "timed-out"), "create: %s", create_out);
    }
  }
  vm = show (env, "fc-1", &shown);
  ck_assert_str_eq (json_object_get_string_member (vm, "vmm"), "firecracker");
  ck_assert_str_eq (json_object_get_string_member (vm, "state"), "failed");
  ck_assert_str_eq (json_object_get_string_member (vm, "failed_step"), "ssh");
  assert_nothing_left (env, 0);
  {
    /* no fake Firecracker left behind */
    const char *argv[] = { "pgrep", "-f", fake, NULL };
    ck_assert (!banger_kit_run (argv, NULL, NULL));
  }
  rc = cli (env, NULL, &err, "vm", "rm", "fc-1", NULL);
  ck_assert_msg (rc == 0, "rm: %s", err);
  g_clear_pointer (&err, g_free);
  banger_e2e_env_free (env);
}
END_TEST

/* ------------------------------------------- tap pool, NAT, crash (issue 9) */

/* Links of the namespace whose name starts with "bngp" (pool taps). */
static guint
count_pool_taps (Env *env)
{
  return banger_e2e_count_links (env, "bngp");
}

/* Waits (up to 30 s) until the pool holds @n taps; then they stay @n. */
static void
wait_pool (Env *env, guint n)
{
  guint have = 0;
  for (int i = 0; i < 1500 && (have = count_pool_taps (env)) != n; i++)
    g_usleep (20 * 1000);
  if (have != n)
    {
      g_autofree char *out = NULL;
      const char *argv[] = { "ip", "-n", env->ns, "-d", "-o", "link", "show", NULL };
      banger_kit_run (argv, &out, NULL);
      ck_assert_msg (have == n, "%u pool taps, wanted %u: %s", have, n, out);
    }
  g_usleep (200 * 1000);
  ck_assert_uint_eq (count_pool_taps (env), n);
}

/* Processes whose command line names @vm_id (QEMU's -name <id>,…). */
static guint
count_procs_naming (const char *vm_id)
{
  g_autoptr (GDir) d = g_dir_open ("/proc", 0, NULL);
  const char *name;
  guint n = 0;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_strdup_printf ("/proc/%s/cmdline", name);
      g_autofree char *cmd = NULL;
      gsize len = 0;

      if (!g_ascii_isdigit (name[0]) || !g_file_get_contents (path, &cmd, &len, NULL))
        continue;
      for (gsize i = 0; i + 1 < len; i++)
        if (cmd[i] == '\0')
          cmd[i] = ' ';
      if (strstr (cmd, vm_id) != NULL && strstr (cmd, "qemu") != NULL)
        n++;
    }
  return n;
}

static void
import_guest (Env *env, const char *guest)
{
  g_autofree char *kernel = NULL, *initrd = NULL, *rootfs = NULL;

  banger_e2e_guest_files (guest, &kernel, &initrd, &rootfs);
  banger_e2e_test_import_guest (env, kernel, initrd, rootfs);
}

/* A second namespace ("the outside"), reached from the daemon's namespace
 * over a veth pair: 192.168.250.1 there, 192.168.250.2 outside, and no
 * route back to the VM subnet from outside, so a guest's packet gets an
 * answer only when the NAT rule rewrote its source. */
static char *
outside_new (Env *env)
{
  char *peer = g_strdup_printf ("banger-lco-%d", (int)getpid ());
  g_autoptr (GError) error = NULL;
  const char *del[] = { "ip", "netns", "del", peer, NULL };
  const char *add[] = { "ip", "netns", "add", peer, NULL };
  const char *veth[] = { "ip", "-n", env->ns, "link", "add", "vout0", "type", "veth",
                         "peer", "name", "vin0", "netns", peer, NULL };
  const char *a1[] = { "ip", "-n", env->ns, "addr", "add", "192.168.250.1/30", "dev", "vout0", NULL };
  const char *a2[] = { "ip", "-n", peer, "addr", "add", "192.168.250.2/30", "dev", "vin0", NULL };
  const char *u1[] = { "ip", "-n", env->ns, "link", "set", "vout0", "up", NULL };
  const char *u2[] = { "ip", "-n", peer, "link", "set", "vin0", "up", NULL };
  const char *fwd[] = { "ip", "netns", "exec", env->ns, "sysctl", "-qw", "net.ipv4.ip_forward=1",
                        NULL };

  banger_kit_run (del, NULL, NULL);
  /* the kit's cleanup removes it too, should the test fail */
  ck_assert_msg (banger_e2e_cleanup_note_netns (peer, &error), "%s", error ? error->message : "?");
  run_ok (add);
  run_ok (veth);
  run_ok (a1);
  run_ok (a2);
  run_ok (u1);
  run_ok (u2);
  run_ok (fwd);
  {
    /* outside has no way back to the VMs but through the NAT */
    const char *get[] = { "ip", "-n", peer, "route", "get", "10.77.0.2", NULL };
    ck_assert (!banger_kit_run (get, NULL, NULL));
  }
  return peer;
}

static void
outside_free (char *peer)
{
  const char *del[] = { "ip", "netns", "del", peer, NULL };
  banger_kit_run (del, NULL, NULL);
  g_free (peer);
}

/* [pool] taps=2 on the real guest: the daemon fills the pool; a create
 * takes a pool tap (the VM's tap appears and no new tap is made for it:
 * the pool's count drops and is refilled); the guest reaches an address
 * outside only through the NAT rule; stop and rm leave the pool full and
 * nothing of the VM. */
START_TEST (test_pool_and_nat)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *guest = banger_kit_build_guest (&error);
  g_autofree char *out = NULL, *err = NULL, *log = NULL, *log_path = NULL, *id = NULL;
  g_autofree char *taken = NULL;
  g_autoptr (JsonNode) shown = NULL;
  char *peer;
  JsonObject *vm;
  Env *env;
  int rc, pid;

  ck_assert_msg (guest != NULL, "guest: %s", error ? error->message : "?");
  env = env_new_with ("[pool]\ntaps=2\n");
  wait_pool (env, 2);
  import_guest (env, guest);
  peer = outside_new (env);

  rc = cli (env, &out, &err, "vm", "create", "web-p", "--image", "guest", "--kernel", "k", NULL);
  ck_assert_msg (rc == 0, "vm create: %d: %s", rc, err);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  vm = show (env, "web-p", &shown);
  ck_assert_str_eq (json_object_get_string_member (vm, "state"), "running");
  id = g_strdup (json_object_get_string_member (vm, "id"));
  pid = (int)json_object_get_int_member (vm, "pid");
  ck_assert_uint_eq (count_taps (env), 1);
  /* the tap came from the pool (the daemon says which), and the pool is
   * full again */
  log_path = g_build_filename (env->dir, "bangerd.log", NULL);
  ck_assert (g_file_get_contents (log_path, &log, NULL, NULL));
  taken = g_strdup_printf ("tap pool: %s gets '%s'", id,
                           json_object_get_string_member (vm, "tap"));
  ck_assert_msg (strstr (log, taken) != NULL, "no '%s' in the daemon's log", taken);
  wait_pool (env, 2);

  /* through the NAT to the outside */
  rc = cli (env, &out, &err, "vm", "exec", "web-p", "--", "ping", "-c", "1", "-W", "5",
            "192.168.250.2", NULL);
  ck_assert_msg (rc == 0, "ping through NAT: %d: %s %s", rc, out, err);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  /* … and only through it: without the VM's NAT element no answer */
  {
    const char *flush[] = { "ip", "netns", "exec", env->ns, "nft", "flush", "set", "ip",
                            "banger", "nat_sources", NULL };
    run_ok (flush);
    rc = cli (env, &out, &err, "vm", "exec", "web-p", "--", "ping", "-c", "1", "-W", "2",
              "192.168.250.2", NULL);
    ck_assert_int_ne (rc, 0);
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }

  rc = cli (env, NULL, &err, "vm", "stop", "web-p", NULL);
  ck_assert_msg (rc == 0, "stop: %s", err);
  g_clear_pointer (&err, g_free);
  ck_assert_uint_eq (count_taps (env), 0);
  wait_pool (env, 2);
  rc = cli (env, NULL, &err, "vm", "rm", "web-p", NULL);
  ck_assert_msg (rc == 0, "rm: %s", err);
  g_clear_pointer (&err, g_free);
  assert_nothing_left (env, pid);
  ck_assert_uint_eq (count_procs_naming (id), 0);
  wait_pool (env, 2);
  outside_free (peer);
  banger_e2e_env_free (env);
}
END_TEST

/* kill -9 of bangerd in the middle of a create, at several of its steps;
 * the restart leaves a running VM or nothing: no VM tap, NAT element,
 * cgroup, QEMU process, disk directory or lease (and the pool is whole). */
START_TEST (test_crash_during_create)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *guest = banger_kit_build_guest (&error);
  g_autofree char *log_path = NULL;
  g_autofree char *vms_dir = NULL;
  /* the log line after which bangerd dies */
  const char *const points[][2] = {
    { "c-rec", "vm.create c-rec:" },          /* the record, before any step */
    { "c-root", "c-root: step rootfs done" }, /* disk made */
    { "c-tap", "c-tap: step tap done" },      /* lease + a pool tap taken */
    { "c-nat", "c-nat: step nat done" },      /* NAT element added */
    { "c-run", "c-run: step launch done" },   /* QEMU running */
    { "c-boot", "c-boot: step start done" },  /* the guest booting */
  };
  Env *env;

  ck_assert_msg (guest != NULL, "guest: %s", error ? error->message : "?");
  env = env_new_with ("[pool]\ntaps=2\n");
  import_guest (env, guest);
  wait_pool (env, 2);
  log_path = g_build_filename (env->dir, "bangerd.log", NULL);
  vms_dir = g_build_filename (env->state_dir, "vms", NULL);

  for (guint p = 0; p < G_N_ELEMENTS (points); p++)
    {
      const char *name = points[p][0];
      const char *argv[] = { BANGER_CLI_PATH, "--socket", env->socket, "vm",     "create",
                             name,            "--image",  "guest",     "--kernel", "k",
                             NULL };
      g_autoptr (GSubprocess) create = g_subprocess_newv (
          argv, G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, NULL);
      g_autoptr (JsonNode) shown = NULL;
      g_autofree char *id = NULL;
      gboolean seen = FALSE;
      JsonObject *vm;

      ck_assert (create != NULL);
      for (int i = 0; i < 3000 && !seen; i++)
        {
          g_autofree char *log = NULL;
          if (g_file_get_contents (log_path, &log, NULL, NULL))
            seen = strstr (log, points[p][1]) != NULL;
          if (!seen)
            g_usleep (5 * 1000);
        }
      ck_assert_msg (seen, "never saw '%s'", points[p][1]);
      /* kill -9, then a fresh daemon on the same state */
      crash_and_restart_daemon (env);
      ck_assert (g_subprocess_wait (create, NULL, NULL));

      vm = show (env, name, &shown);
      id = g_strdup (json_object_get_string_member (vm, "id"));
      if (g_str_equal (json_object_get_string_member (vm, "state"), "running"))
        {
          /* it finished before the kill: a whole VM */
          ck_assert_uint_eq (count_taps (env), 1);
          ck_assert_uint_eq (count_procs_naming (id), 1);
        }
      else
        {
          /* undone: nothing of it on the host, no lease */
          ck_assert_str_eq (json_object_get_string_member (vm, "state"), "failed");
          ck_assert_str_eq (json_object_get_string_member (vm, "failed_step"), "interrupted");
          ck_assert (json_object_get_null_member (vm, "ip"));
          ck_assert_uint_eq (count_taps (env), 0);
          ck_assert_uint_eq (count_nat_elements (env), 0);
          ck_assert_uint_eq (count_subdirs (env->cgroup_root), 0);
          ck_assert_uint_eq (count_subdirs (vms_dir), 0);
          for (int i = 0; i < 200 && count_procs_naming (id) > 0; i++)
            g_usleep (10 * 1000);
          ck_assert_uint_eq (count_procs_naming (id), 0);
        }
      wait_pool (env, 2);
      {
        g_autofree char *err = NULL;
        int rc = cli (env, NULL, &err, "vm", "rm", name, NULL);
        ck_assert_msg (rc == 0, "rm %s: %s", name, err);
      }
      assert_nothing_left (env, 0);
      ck_assert_uint_eq (count_procs_naming (id), 0);
    }
  banger_e2e_env_free (env);
}
END_TEST

/* ns_run: argv run inside the namespace (ip netns exec); its stdout. */
static char *
ns_run (Env *env, const char *const *cmd, gboolean *out_ok)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *out = NULL;
  gboolean ok;

  g_ptr_array_add (argv, (char *)"ip");
  g_ptr_array_add (argv, (char *)"netns");
  g_ptr_array_add (argv, (char *)"exec");
  g_ptr_array_add (argv, env->ns);
  for (guint i = 0; cmd[i] != NULL; i++)
    g_ptr_array_add (argv, (char *)cmd[i]);
  g_ptr_array_add (argv, NULL);
  ok = banger_kit_run ((const char *const *)argv->pdata, &out, NULL);
  if (out_ok != NULL)
    *out_ok = ok;
  return out != NULL ? g_strstrip (g_steal_pointer (&out)) : g_strdup ("");
}

/* What the published port 10.77.0.1:8080 answers first, from the host
 * side (tried for up to ~10 s). */
static char *
get_published (Env *env)
{
  const char *get[] = { "python3", "-c",
                        "import socket,time\n"
                        "for i in range(50):\n"
                        "  try:\n"
                        "    c=socket.create_connection(('10.77.0.1', 8080), timeout=2)\n"
                        "    d=c.recv(100)\n"
                        "    if d: print(d.decode().strip()); break\n"
                        "  except OSError: pass\n"
                        "  time.sleep(0.2)\n",
                        NULL };

  return ns_run (env, get, NULL);
}

/* Issue 12's proof on the real guest: dig @bridge <vm>.banger.internal, a
 * guest resolving another VM by name (its resolver is the bridge, from ip=),
 * a published port reaching a listener in the guest from the host side, and
 * --egress none blocking a host-side listener outside the VM link that NAT
 * reaches.  Also a host port held by a running VM refused (busy). */
START_TEST (test_reach)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *guest = banger_kit_build_guest (&error);
  g_autofree char *kernel = NULL, *initrd = NULL, *rootfs = NULL;
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (JsonNode) s1 = NULL;
  g_autoptr (JsonNode) s2 = NULL;
  g_autoptr (GSubprocess) server = NULL;
  const char *ip1, *ip2;
  Env *env;
  int rc;

  ck_assert_msg (guest != NULL, "guest: %s", error ? error->message : "?");
  banger_e2e_guest_files (guest, &kernel, &initrd, &rootfs);
  env = env_new ();
  banger_e2e_test_import_guest (env, kernel, initrd, rootfs);

  /* a host-side listener outside the VM link: 10.99.0.1:7000 (on lo) */
  {
    const char *addr[] = { "ip", "-n", env->ns, "addr", "add", "10.99.0.1/32", "dev", "lo", NULL };
    const char *argv[]
        = { "ip",
            "netns",
            "exec",
            env->ns,
            "python3",
            "-c",
            "import socket\n"
            "s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
            "s.bind(('10.99.0.1', 7000)); s.listen(8)\n"
            "while True:\n"
            "  c,_=s.accept(); c.sendall(b'outside-ok\\n'); c.close()\n",
            NULL };
    run_ok (addr);
    server = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_NONE, &error);
    ck_assert_msg (server != NULL, "server: %s", error ? error->message : "?");
  }

  rc = cli (env, &out, &err, "vm", "create", "web1", "--image", "guest", "--kernel", "k",
            "--publish", "8080:80", "--egress", "none", NULL);
  ck_assert_msg (rc == 0, "vm create web1: %d: %s", rc, err);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  rc = cli (env, &out, &err, "vm", "create", "web2", "--image", "guest", "--kernel", "k", NULL);
  ck_assert_msg (rc == 0, "vm create web2: %d: %s", rc, err);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  ip1 = json_object_get_string_member (show (env, "web1", &s1), "ip");
  ip2 = json_object_get_string_member (show (env, "web2", &s2), "ip");
  ck_assert_str_eq (json_object_get_string_member (json_node_get_object (s1), "publish"),
                    "0.0.0.0:8080:80/tcp");
  ck_assert_str_eq (json_object_get_string_member (json_node_get_object (s1), "egress"), "none");

  /* dig @bridge: A and PTR */
  {
    const char *a[]
        = { "dig", "+short", "+time=2", "+tries=2", "@10.77.0.1", "web1.banger.internal", NULL };
    g_autofree char *ptr_name = g_strdup_printf ("%s", ip2);
    const char *ptr[]
        = { "dig", "+short", "+time=2", "+tries=2", "@10.77.0.1", "-x", ptr_name, NULL };
    const char *nx[]
        = { "dig", "+time=2", "+tries=2", "@10.77.0.1", "nosuch.banger.internal", NULL };
    g_autofree char *ra = ns_run (env, a, NULL);
    g_autofree char *rp = ns_run (env, ptr, NULL);
    g_autofree char *rn = ns_run (env, nx, NULL);
    ck_assert_str_eq (ra, ip1);
    ck_assert_str_eq (rp, "web2.banger.internal.");
    ck_assert_msg (strstr (rn, "status: NXDOMAIN") != NULL, "%s", rn);
  }
  /* the guest resolves another VM by name: its resolver is the bridge */
  rc = cli (env, &out, &err, "vm", "exec", "web2", "--", "cat", "/etc/resolv.conf", NULL);
  ck_assert_msg (rc == 0, "exec: %s", err);
  ck_assert_msg (strstr (out, "nameserver 10.77.0.1") != NULL, "resolv.conf: %s", out);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  rc = cli (env, &out, &err, "vm", "exec", "web2", "--", "nslookup", "web1.banger.internal", NULL);
  ck_assert_msg (rc == 0, "nslookup: %d: %s %s", rc, out, err);
  ck_assert_msg (strstr (out, ip1) != NULL, "nslookup: %s", out);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* the published port reaches a listener in the guest from the host side */
  rc = cli (env, &out, &err, "vm", "exec", "web1", "--", "sh", "-c",
            "printf '#!/bin/sh\\necho hello-from-guest\\n' >/root/hello && chmod +x /root/hello"
            " && (nc -ll -p 80 -e /root/hello </dev/null >/dev/null 2>&1 &)",
            NULL);
  ck_assert_msg (rc == 0, "listener: %d: %s", rc, err);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  {
    g_autofree char *got = get_published (env);
    ck_assert_str_eq (got, "hello-from-guest");
  }
  /* found again after a crash: web1's rules flushed by hand (lost), then
   * bangerd killed -9 and restarted: it adopts the VMs, answers their names
   * and re-applies the publish (and egress) rules */
  {
    const char *flush[] = { "nft", "flush", "chain", "ip", "banger", "publish", NULL };
    const char *a[]
        = { "dig", "+short", "+time=2", "+tries=2", "@10.77.0.1", "web1.banger.internal", NULL };
    const char *rules[] = { "nft", "list", "chain", "ip", "banger", "publish", NULL };
    gboolean ok = FALSE;
    g_autofree char *flushed = NULL;
    g_autofree char *ra = NULL;
    g_autofree char *rr = NULL;

    flushed = ns_run (env, flush, &ok);
    ck_assert (ok);
    crash_and_restart_daemon (env);
    ra = ns_run (env, a, NULL);
    ck_assert_str_eq (ra, ip1);
    rr = ns_run (env, rules, NULL);
    ck_assert_msg (strstr (rr, "publish 0.0.0.0:8080:80/tcp") != NULL, "not re-applied: %s", rr);
  }
  {
    g_autofree char *got = get_published (env);
    ck_assert_str_eq (got, "hello-from-guest");
  }

  rc = cli (env, &out, &err, "vm", "port", "web1", NULL);
  ck_assert_msg (rc == 0, "vm port: %s", err);
  ck_assert_msg (strstr (out, "80/tcp -> 0.0.0.0:8080\n") != NULL, "vm port: %s", out);
  ck_assert_msg (strstr (out, "egress: none") != NULL, "vm port: %s", out);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* egress: web2 (nat) reaches the outside listener, web1 (none) does not */
  rc = cli (env, &out, &err, "vm", "exec", "web2", "--", "nc", "-w", "3", "10.99.0.1", "7000",
            NULL);
  ck_assert_msg (rc == 0 && strstr (out, "outside-ok") != NULL, "web2 -> outside: %d: %s %s", rc,
                 out, err);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  rc = cli (env, &out, &err, "vm", "exec", "web1", "--", "nc", "-w", "3", "10.99.0.1", "7000",
            NULL);
  ck_assert_msg (strstr (out, "outside-ok") == NULL, "web1 (egress none) reached outside: %s", out);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* a host port a running VM holds: busy, and nothing is created */
  rc = cli (env, &out, &err, "--json", "vm", "create", "web3", "--image", "guest", "--kernel", "k",
            "--publish", "8080:81", NULL);
  ck_assert_int_eq (rc, 1);
  {
    g_autofree char *code = error_code_of (out);
    ck_assert_str_eq (code, "busy");
  }
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  rc = cli (env, &out, NULL, "--json", "vm", "show", "web3", NULL);
  ck_assert_int_eq (rc, 1);
  g_clear_pointer (&out, g_free);

  /* rm: the name goes from DNS, the rules from the table */
  rc = cli (env, NULL, &err, "vm", "rm", "web1", NULL);
  ck_assert_msg (rc == 0, "rm: %s", err);
  g_clear_pointer (&err, g_free);
  {
    const char *nx[] = { "dig", "+time=2", "+tries=2", "@10.77.0.1", "web1.banger.internal", NULL };
    const char *rules[] = { "nft", "list", "chain", "ip", "banger", "publish", NULL };
    g_autofree char *rn = ns_run (env, nx, NULL);
    g_autofree char *rr = ns_run (env, rules, NULL);
    ck_assert_msg (strstr (rn, "status: NXDOMAIN") != NULL, "%s", rn);
    ck_assert_msg (strstr (rr, "banger-vm:") == NULL, "rules left: %s", rr);
  }
  rc = cli (env, NULL, &err, "vm", "rm", "web2", NULL);
  ck_assert_msg (rc == 0, "rm: %s", err);
  g_clear_pointer (&err, g_free);
  g_subprocess_force_exit (server);
  g_subprocess_wait (server, NULL, NULL);
  banger_e2e_env_free (env);
}
END_TEST

static Suite *
lifecycle_suite (void)
{
  Suite *s = suite_create ("e2e-lifecycle");
  TCase *tc = tcase_create ("cli");

  tcase_set_timeout (tc, 600);
  banger_e2e_tcase_add_cleanup (tc);
  tcase_add_test (tc, test_lifecycle);
  tcase_add_test (tc, test_with_helper);
  tcase_add_test (tc, test_firecracker_fake);
  suite_add_tcase (s, tc);
  tc = tcase_create ("host");
  tcase_set_timeout (tc, 600);
  banger_e2e_tcase_add_cleanup (tc);
  tcase_add_test (tc, test_pool_and_nat);
  tcase_add_test (tc, test_crash_during_create);
  suite_add_tcase (s, tc);
  tc = tcase_create ("reach");
  tcase_set_timeout (tc, 600);
  banger_e2e_tcase_add_cleanup (tc);
  tcase_add_test (tc, test_reach);
  suite_add_tcase (s, tc);
  return s;
}

/* no fork: a failed assertion longjmps back to the runner, and the kit's
 * cleanup after each test kills and removes what it left (netns, daemon,
 * VMs, dirs) */
BANGER_E2E_TEST_MAIN (lifecycle_suite, CK_NOFORK, "network namespace, taps, QEMU")
