/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Pause, snapshots, restore, stats and the balloon end to end, through the
 * CLI only: a bangerd (root, in-process executor) in a network namespace
 * this test makes, the real test guest under QEMU (TCG):
 *   vm create src → a file on its disk and a counter in its tmpfs (memory
 *   only) → vm stats (CPU, RSS against /proc/<pid>/status) → vm pause: the
 *   counter stops, exec is refused (busy) → vm resume: it goes on →
 *   vm set --balloon → vm snapshot → a disk write in src after the
 *   snapshot → two vm restore of the one snapshot at once, src still
 *   running: each restored VM answers exec at its own new address (the
 *   guest re-addressed itself from its seed disk, doc/guest.md) with its
 *   own hostname, has the file but not the later write, and its counter
 *   went on from the snapshot; src still answers at its address →
 *   snapshot ls/rm → vm rm of all: no tap, no NAT element, no cgroup, no
 *   VM dir, no snapshot dir left.  Root only. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "banger-e2e-test.h"

typedef BangerE2eEnv Env;

/* the kit's helpers under the names the cases use */
#define cli banger_e2e_cli
#define parse_json banger_e2e_parse_json
#define error_code_of banger_e2e_error_code_of
#define count_taps banger_e2e_count_taps
#define count_subdirs banger_e2e_count_subdirs

static Env *
env_new (void)
{
  return banger_e2e_test_env_root ("banger-sn", "10.78.0.0/24");
}

/* The CLI started, not waited for. */
static GSubprocess *
cli_start (Env *env, ...)
{
  g_autoptr (GPtrArray) argv = NULL;
  g_autoptr (GError) error = NULL;
  GSubprocess *p;
  va_list ap;

  va_start (ap, env);
  argv = banger_e2e_cli_argv_va (env, ap);
  va_end (ap);
  p = g_subprocess_newv ((const char *const *)argv->pdata,
                         G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  ck_assert_msg (p != NULL, "spawn: %s", error ? error->message : "?");
  return p;
}

static JsonObject *
cli_json (Env *env, JsonNode **keep, const char *what, ...)
{
  g_autoptr (GPtrArray) argv = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL, *err = NULL;
  int status = -1;
  va_list ap;

  va_start (ap, what);
  argv = banger_e2e_cli_argv_va (env, ap);
  va_end (ap);
  ck_assert (g_spawn_sync (NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out,
                           &err, &status, &error));
  ck_assert_msg (WIFEXITED (status) && WEXITSTATUS (status) == 0, "%s: %s%s", what, out, err);
  *keep = parse_json (out);
  return json_node_get_object (*keep);
}

/* `vm exec NAME -- sh -c CMD`: its stdout, stripped; asserts status 0. */
static char *
sh (Env *env, const char *vm, const char *cmd)
{
  g_autofree char *err = NULL;
  char *out = NULL;
  int rc = cli (env, &out, &err, "vm", "exec", vm, "--", "sh", "-c", cmd, NULL);

  ck_assert_msg (rc == 0, "exec %s '%s': %d: %s", vm, cmd, rc, err);
  return g_strstrip (out);
}

static guint64
counter (Env *env, const char *vm)
{
  g_autofree char *v = sh (env, vm, "cat /run/counter");
  return g_ascii_strtoull (v, NULL, 10);
}

/* VmRSS of @pid in bytes (the independent reading). */
static guint64
proc_rss (int pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/status", pid);
  g_autofree char *text = NULL;
  const char *p;

  ck_assert (g_file_get_contents (path, &text, NULL, NULL));
  p = strstr (text, "VmRSS:");
  ck_assert (p != NULL);
  return g_ascii_strtoull (p + 6, NULL, 10) * 1024;
}

START_TEST (test_snapshot_restore)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *guest = banger_kit_build_guest (&error);
  g_autofree char *kernel = NULL, *initrd = NULL, *rootfs = NULL;
  g_autofree char *out = NULL, *err = NULL;
  g_autofree char *token = g_uuid_string_random ();
  g_autofree char *write_cmd = NULL;
  g_autoptr (JsonNode) keep = NULL;
  g_autofree char *src_ip = NULL;
  g_autofree char *snap_dir = NULL, *vms_dir = NULL;
  const char *restored[] = { "clone-a", "clone-b" };
  char *restored_ip[2] = { NULL, NULL };
  JsonObject *o;
  Env *env;
  int rc, pid;
  guint64 c1, c2, c3, c_snap;
  gint64 t1, t2;

  if (geteuid () != 0
      && banger_test_skip_part ("needs root (netns, taps, the in-process executor)"))
    return;
  ck_assert_msg (guest != NULL, "guest: %s", error ? error->message : "?");
  kernel = g_build_filename (guest, "vmlinuz", NULL);
  initrd = g_build_filename (guest, "initrd.img", NULL);
  rootfs = g_build_filename (guest, "rootfs.ext4", NULL);
  env = env_new ();
  snap_dir = g_build_filename (env->state_dir, "snapshots", NULL);
  vms_dir = g_build_filename (env->state_dir, "vms", NULL);

  rc = cli (env, NULL, &err, "kernel", "add", "k", "--kernel", kernel, "--initrd", initrd, NULL);
  ck_assert_msg (rc == 0, "kernel add: %s", err);
  g_clear_pointer (&err, g_free);
  rc = cli (env, NULL, &err, "image", "import", "guest", "--rootfs", rootfs, NULL);
  ck_assert_msg (rc == 0, "image import: %s", err);
  g_clear_pointer (&err, g_free);
  o = cli_json (env, &keep, "vm create", "--json", "vm", "create", "src", "--image", "guest",
                "--kernel", "k", NULL);
  ck_assert_str_eq (json_object_get_string_member (o, "state"), "running");
  src_ip = g_strdup (json_object_get_string_member (o, "ip"));
  pid = (int)json_object_get_int_member (o, "pid");

  /* a file on the disk, a counter in the tmpfs (memory only) */
  write_cmd = g_strdup_printf ("echo %s > /root/file && sync", token);
  g_free (sh (env, "src", write_cmd));
  g_free (sh (env, "src",
              "setsid sh -c 'i=0; while :; do i=$((i+1)); echo $i > /run/counter; "
              "sleep 0.2; done' </dev/null >/dev/null 2>&1 &"));
  g_usleep (G_USEC_PER_SEC);
  ck_assert_uint_gt (counter (env, "src"), 0);

  /* stats: CPU and RSS, against /proc/<pid>/status */
  g_clear_pointer (&keep, json_node_unref);
  o = cli_json (env, &keep, "vm stats", "--json", "vm", "stats", "src", NULL);
  ck_assert_str_eq (json_object_get_string_member (o, "state"), "running");
  ck_assert_int_gt (json_object_get_int_member (o, "cpu_user_us")
                        + json_object_get_int_member (o, "cpu_system_us"),
                    0);
  {
    guint64 rss = (guint64)json_object_get_int_member (o, "rss_bytes");
    guint64 now = proc_rss (pid);
    ck_assert_uint_gt (rss, 16 * 1024 * 1024);
    /* the same process, read a moment apart: within 25 % */
    ck_assert_msg (rss > now * 3 / 4 && rss < now * 5 / 4,
                   "rss %" G_GUINT64_FORMAT " vs /proc %" G_GUINT64_FORMAT, rss, now);
  }
  ck_assert_int_gt (json_object_get_int_member (o, "block_read_bytes"), 0);
  ck_assert_int_gt (json_object_get_int_member (o, "net_rx_bytes"), 0);
  ck_assert_int_eq (json_object_get_int_member (o, "memory_mib"), 256);
  /* a known write of 8 MiB shows up in the block bytes (QMP blockstats) */
  {
    gint64 w0 = json_object_get_int_member (o, "block_write_bytes");
    gint64 w1;
    g_free (sh (env, "src", "dd if=/dev/zero of=/root/blob bs=1M count=8 conv=fsync 2>/dev/null"));
    g_clear_pointer (&keep, json_node_unref);
    o = cli_json (env, &keep, "vm stats", "--json", "vm", "stats", "src", NULL);
    w1 = json_object_get_int_member (o, "block_write_bytes");
    ck_assert_msg (w1 - w0 >= 8 * 1024 * 1024, "block writes went %" G_GINT64_FORMAT
                   " -> %" G_GINT64_FORMAT " for an 8 MiB write", w0, w1);
    g_free (sh (env, "src", "rm /root/blob && sync"));
  }

  /* pause: the counter stops, exec is refused; resume: it goes on */
  c1 = counter (env, "src");
  t1 = g_get_monotonic_time ();
  rc = cli (env, NULL, &err, "vm", "pause", "src", NULL);
  ck_assert_msg (rc == 0, "pause: %s", err);
  g_clear_pointer (&err, g_free);
  g_clear_pointer (&keep, json_node_unref);
  o = cli_json (env, &keep, "vm show", "--json", "vm", "show", "src", NULL);
  ck_assert_str_eq (json_object_get_string_member (o, "state"), "paused");
  rc = cli (env, &out, NULL, "--json", "vm", "exec", "src", "--", "true", NULL);
  ck_assert_int_eq (rc, 1);
  {
    g_autofree char *code = error_code_of (out);
    ck_assert_str_eq (code, "busy");
  }
  g_clear_pointer (&out, g_free);
  rc = cli (env, &out, NULL, "--json", "vm", "pause", "src", NULL);
  ck_assert_int_eq (rc, 1);
  {
    g_autofree char *code = error_code_of (out);
    ck_assert_str_eq (code, "busy");
  }
  g_clear_pointer (&out, g_free);
  g_usleep (4 * G_USEC_PER_SEC);
  rc = cli (env, NULL, &err, "vm", "resume", "src", NULL);
  ck_assert_msg (rc == 0, "resume: %s", err);
  g_clear_pointer (&err, g_free);
  c2 = counter (env, "src");
  t2 = g_get_monotonic_time ();
  /* 5 ticks a second while running; the 4 s paused add none */
  ck_assert_msg (c2 - c1 <= (guint64)((t2 - t1) / 1e6 - 4.0 + 1.0) * 5,
                 "counter went %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT " in %.1f s with 4 s "
                 "paused",
                 c1, c2, (t2 - t1) / 1e6);
  g_usleep (2 * G_USEC_PER_SEC);
  c3 = counter (env, "src");
  ck_assert_msg (c3 > c2, "counter stuck at %" G_GUINT64_FORMAT " after resume", c3);

  /* balloon: 32 MiB taken back (the guest's virtio_balloon answers) */
  rc = cli (env, NULL, &err, "vm", "set", "src", "--balloon", "32", NULL);
  ck_assert_msg (rc == 0, "balloon: %s", err);
  g_clear_pointer (&err, g_free);
  {
    gint64 actual = -1;
    for (int i = 0; i < 100 && actual != 32; i++)
      {
        g_clear_pointer (&keep, json_node_unref);
        o = cli_json (env, &keep, "vm stats", "--json", "vm", "stats", "src", NULL);
        actual = json_object_get_int_member (o, "balloon_actual_mib");
        if (actual != 32)
          g_usleep (200 * 1000);
      }
    ck_assert_int_eq (actual, 32);
  }
  rc = cli (env, NULL, &err, "vm", "set", "src", "--balloon", "0", NULL);
  ck_assert_msg (rc == 0, "balloon 0: %s", err);
  g_clear_pointer (&err, g_free);
  rc = cli (env, &out, NULL, "--json", "vm", "set", "src", "--balloon", "256", NULL);
  ck_assert_int_eq (rc, 1);
  {
    g_autofree char *code = error_code_of (out);
    ck_assert_str_eq (code, "invalid-argument");
  }
  g_clear_pointer (&out, g_free);

  /* snapshot; then a disk write in src that the restores must not see */
  g_clear_pointer (&keep, json_node_unref);
  o = cli_json (env, &keep, "vm snapshot", "--json", "vm", "snapshot", "src", "--name", "snap1",
                NULL);
  ck_assert_str_eq (json_object_get_string_member (o, "name"), "snap1");
  ck_assert_str_eq (json_object_get_string_member (o, "vm"), "src");
  ck_assert_str_eq (json_object_get_string_member (o, "guest_ip"), src_ip);
  ck_assert_int_gt (json_object_get_int_member (o, "size_bytes"), 1024 * 1024);
  c_snap = counter (env, "src");
  g_free (sh (env, "src", "echo later > /root/after-snapshot && sync"));
  rc = cli (env, &out, NULL, "--json", "vm", "snapshot", "src", "--name", "snap1", NULL);
  ck_assert_int_eq (rc, 1);
  {
    g_autofree char *code = error_code_of (out);
    ck_assert_str_eq (code, "already-exists");
  }
  g_clear_pointer (&out, g_free);
  rc = cli (env, &out, NULL, "--json", "vm", "snapshot", "src", "--diff", NULL);
  ck_assert_int_eq (rc, 1);
  {
    g_autofree char *code = error_code_of (out);
    ck_assert_str_eq (code, "unsupported");
  }
  g_clear_pointer (&out, g_free);
  /* without --json, stderr not a terminal: a start line and an end line */
  g_clear_pointer (&err, g_free);
  rc = cli (env, NULL, &err, "vm", "snapshot", "src", "--name", "snap2", NULL);
  ck_assert_msg (rc == 0, "snapshot snap2: %s", err);
  ck_assert_msg (g_str_has_prefix (err, "Snapshotting src\nSnapshotting src: snap2 ("), "%s", err);
  g_clear_pointer (&err, g_free);
  rc = cli (env, NULL, &err, "snapshot", "rm", "snap2", NULL);
  ck_assert_msg (rc == 0, "snapshot rm snap2: %s", err);
  g_clear_pointer (&err, g_free);

  /* two restores of the one snapshot at once, src still running */
  {
    g_autoptr (GSubprocess) a = NULL, b = NULL;
    GSubprocess *procs[2];
    gint64 t0 = g_get_monotonic_time ();

    a = cli_start (env, "--json", "vm", "restore", "snap1", "--name", restored[0], NULL);
    b = cli_start (env, "--json", "vm", "restore", "snap1", "--name", restored[1], NULL);
    procs[0] = a;
    procs[1] = b;
    for (int i = 0; i < 2; i++)
      {
        g_autofree char *pout = NULL, *perr = NULL;
        g_autoptr (JsonNode) n = NULL;
        ck_assert (g_subprocess_communicate_utf8 (procs[i], NULL, NULL, &pout, &perr, NULL));
        ck_assert_msg (g_subprocess_get_if_exited (procs[i])
                           && g_subprocess_get_exit_status (procs[i]) == 0,
                       "restore %s: %s %s", restored[i], pout, perr);
        n = parse_json (pout);
        o = json_node_get_object (n);
        ck_assert_str_eq (json_object_get_string_member (o, "state"), "running");
        restored_ip[i] = g_strdup (json_object_get_string_member (o, "ip"));
        ck_assert_str_ne (restored_ip[i], src_ip);
      }
    ck_assert_str_ne (restored_ip[0], restored_ip[1]);
    g_print ("# two restores at once -> both answer SSH: %.2f s\n",
             (g_get_monotonic_time () - t0) / 1e6);
  }
  for (int i = 0; i < 2; i++)
    {
      g_autofree char *addr = sh (env, restored[i], "ip -4 -o addr show dev eth0");
      g_autofree char *want = g_strdup_printf (" %s/", restored_ip[i]);
      g_autofree char *host = sh (env, restored[i], "hostname");
      g_autofree char *file = sh (env, restored[i], "cat /root/file");
      g_autofree char *after
          = sh (env, restored[i], "test -e /root/after-snapshot && echo yes || echo no");
      guint64 r1, r2;

      ck_assert_msg (strstr (addr, want) != NULL, "%s: %s, wanted %s", restored[i], addr,
                     restored_ip[i]);
      ck_assert_str_eq (host, restored[i]);
      ck_assert_str_eq (file, token);
      ck_assert_str_eq (after, "no");
      /* the counter process came along in memory and goes on */
      r1 = counter (env, restored[i]);
      ck_assert_msg (r1 + 5 >= c_snap, "%s: counter %" G_GUINT64_FORMAT " < %" G_GUINT64_FORMAT,
                     restored[i], r1, c_snap);
      g_usleep (G_USEC_PER_SEC);
      r2 = counter (env, restored[i]);
      ck_assert_msg (r2 > r1, "%s: counter stuck at %" G_GUINT64_FORMAT, restored[i], r2);
    }
  /* src is still itself at its own address */
  {
    g_autofree char *host = sh (env, "src", "hostname");
    g_autofree char *after = sh (env, "src", "cat /root/after-snapshot");
    g_autofree char *addr = sh (env, "src", "ip -4 -o addr show dev eth0");
    g_autofree char *want = g_strdup_printf (" %s/", src_ip);
    ck_assert_str_eq (host, "src");
    ck_assert_str_eq (after, "later");
    ck_assert (strstr (addr, want) != NULL);
  }
  ck_assert_uint_eq (count_taps (env), 3);

  /* snapshot ls / rm; the restored VMs do not need it any more */
  rc = cli (env, &out, &err, "--json", "snapshot", "ls", NULL);
  ck_assert_msg (rc == 0, "snapshot ls: %s", err);
  {
    g_autoptr (JsonNode) n = parse_json (out);
    JsonArray *a = json_node_get_array (n);
    ck_assert_uint_eq (json_array_get_length (a), 1);
    ck_assert_str_eq (json_object_get_string_member (json_array_get_object_element (a, 0), "name"),
                      "snap1");
  }
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  ck_assert_uint_eq (count_subdirs (snap_dir), 1);
  rc = cli (env, NULL, &err, "snapshot", "rm", "snap1", NULL);
  ck_assert_msg (rc == 0, "snapshot rm: %s", err);
  g_clear_pointer (&err, g_free);
  ck_assert_uint_eq (count_subdirs (snap_dir), 0);
  g_free (sh (env, restored[0], "true"));

  /* everything goes */
  for (int i = 0; i < 2; i++)
    {
      rc = cli (env, NULL, &err, "vm", "rm", restored[i], NULL);
      ck_assert_msg (rc == 0, "rm %s: %s", restored[i], err);
      g_clear_pointer (&err, g_free);
    }
  rc = cli (env, NULL, &err, "vm", "rm", "src", NULL);
  ck_assert_msg (rc == 0, "rm src: %s", err);
  g_clear_pointer (&err, g_free);
  ck_assert_uint_eq (count_taps (env), 0);
  ck_assert_uint_eq (count_subdirs (vms_dir), 0);
  ck_assert_uint_eq (count_subdirs (env->cgroup_root), 0);
  for (int i = 0; i < 2; i++)
    g_free (restored_ip[i]);
  banger_e2e_env_free (env);
}
END_TEST

static Suite *
e2e_suite (void)
{
  Suite *s = suite_create ("e2e-snapshot");
  TCase *tc = tcase_create ("snapshot");

  tcase_set_timeout (tc, 900);
  banger_e2e_tcase_add_cleanup (tc);
  tcase_add_test (tc, test_snapshot_restore);
  suite_add_tcase (s, tc);
  return s;
}

BANGER_E2E_TEST_MAIN (e2e_suite, CK_FORK_GETENV, "network namespace, taps, QEMU")
