/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Unit tests of the privileged operations that need no privileges: name
 * derivation, the operation table, the refusals the executor and the
 * handlers make before touching anything (interface names, signals, pids),
 * the argv templates, and the dm-snapshot logic against a recording fake
 * backend (names, table, refuse-foreign-device, rollback). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger.h"
#include "banger-dm.h"
#include "banger-host-names.h"
#include "banger-kvm-probe.h"
#include "banger-priv-ops-private.h"
#include "banger-test.h"
#include "host-test-util.h"

/* ------------------------------------------------------------------ names */

START_TEST (test_tap_name)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *a = banger_host_tap_name ("web-1", &error);
  g_autofree char *b = banger_host_tap_name ("web-2", NULL);
  g_autofree char *sha = g_compute_checksum_for_string (G_CHECKSUM_SHA256, "web-1", -1);
  const char *bad[] = { "", "Web", "../x", "a b", "-a", "a_b",
                        "a234567890123456789012345678901234567890123456789012345678901234" };

  g_assert_no_error (error);
  ck_assert_uint_eq (strlen (a), 15);
  ck_assert (g_str_has_prefix (a, "bngt"));
  ck_assert (strncmp (a + 4, sha, 11) == 0);
  ck_assert (banger_validate_ifname (a, NULL));
  ck_assert_str_ne (a, b);
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) e = NULL;
      g_autofree char *n = banger_host_tap_name (bad[i], &e);
      ck_assert_msg (n == NULL, "'%s' must be refused", bad[i]);
      banger_assert_error (e, BANGER_ERROR_INVALID_ARGUMENT);
    }
}
END_TEST

START_TEST (test_other_names)
{
  g_autofree char *dm = banger_host_dm_name ("web-1", "rootfs", NULL);
  g_autofree char *uuid = banger_host_dm_uuid ("web-1", "rootfs", NULL);
  g_autofree char *tag = banger_host_loop_tag ("web-1", "base", NULL);
  g_autofree char *scope = banger_host_scope_name ("web-1", NULL);
  g_autofree char *longtag = banger_host_loop_tag (
      "a23456789012345678901234567890123456789012345678901234567890123", "base", NULL);
  const char *not_scopes[] = { "banger-.scope", "banger-Web.scope", "xbanger-a.scope",
                               "banger-a.scope.evil", "banger-a.scopex", "banger-a/b.scope",
                               "banger-a", "a.scope", "" };

  ck_assert_str_eq (dm, "banger-web-1-rootfs");
  ck_assert (g_str_has_prefix (uuid, "banger-web-1-rootfs-"));
  ck_assert_uint_eq (strlen (uuid), strlen ("banger-web-1-rootfs-") + 16);
  ck_assert (g_str_has_prefix (tag, "banger-") && g_str_has_suffix (tag, "-base"));
  ck_assert_uint_lt (strlen (longtag), 64); /* fits lo_file_name */
  ck_assert_str_eq (scope, "banger-web-1.scope");
  {
    g_autofree char *back = banger_host_scope_vm_id (scope);
    ck_assert_str_eq (back, "web-1");
  }
  for (gsize i = 0; i < G_N_ELEMENTS (not_scopes); i++)
    {
      g_autofree char *id = banger_host_scope_vm_id (not_scopes[i]);
      ck_assert_msg (id == NULL, "'%s' is not a VM scope", not_scopes[i]);
    }
}
END_TEST

START_TEST (test_param_validators)
{
  const char *ipv4_ok[] = { "10.0.0.1", "0.0.0.0", "255.255.255.255", "192.168.1.2" };
  const char *ipv4_bad[] = { "", "10.0.0", "10.0.0.1.2", "256.0.0.1", "10.0.0.1 ", " 10.0.0.1",
                             "10.0.0.1/24", "::1", "10.0.0.1;x", "a.b.c.d", "1e1.0.0.1" };
  const char *cidr_ok[] = { "10.0.0.1/24", "10.0.0.1/32", "10.0.0.1/1" };
  const char *cidr_bad[] = { "10.0.0.1", "10.0.0.1/0", "10.0.0.1/33", "10.0.0.1/", "10.0.0.1/2a",
                             "10.0.0.1/24/1", "/24", "10.0.0.1/ 24", "10.0.0.1/024" };
  const char *path_ok[] = { "/a", "/var/lib/banger/disk.ext4", "/a/b.c/d-e" };
  const char *path_bad[] = { "", "a", "a/b", "/", "/a/", "//a", "/a//b", "/a/./b", "/a/../b",
                             "/..", "/a/.." };

  for (gsize i = 0; i < G_N_ELEMENTS (ipv4_ok); i++)
    ck_assert_msg (banger_priv_validate_ipv4 (ipv4_ok[i], NULL), "%s", ipv4_ok[i]);
  for (gsize i = 0; i < G_N_ELEMENTS (ipv4_bad); i++)
    {
      g_autoptr (GError) e = NULL;
      ck_assert_msg (!banger_priv_validate_ipv4 (ipv4_bad[i], &e), "%s", ipv4_bad[i]);
      banger_assert_error (e, BANGER_ERROR_INVALID_ARGUMENT);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (cidr_ok); i++)
    ck_assert_msg (banger_priv_validate_ipv4_cidr (cidr_ok[i], NULL), "%s", cidr_ok[i]);
  for (gsize i = 0; i < G_N_ELEMENTS (cidr_bad); i++)
    {
      g_autoptr (GError) e = NULL;
      ck_assert_msg (!banger_priv_validate_ipv4_cidr (cidr_bad[i], &e), "%s", cidr_bad[i]);
      banger_assert_error (e, BANGER_ERROR_INVALID_ARGUMENT);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (path_ok); i++)
    ck_assert_msg (banger_priv_validate_abs_path (path_ok[i], NULL), "%s", path_ok[i]);
  for (gsize i = 0; i < G_N_ELEMENTS (path_bad); i++)
    {
      g_autoptr (GError) e = NULL;
      ck_assert_msg (!banger_priv_validate_abs_path (path_bad[i], &e), "%s", path_bad[i]);
      banger_assert_error (e, BANGER_ERROR_INVALID_ARGUMENT);
    }
  {
    g_autoptr (GError) e1 = NULL;
    g_autoptr (GError) e2 = NULL;
    g_autoptr (GError) e3 = NULL;
    ck_assert (!banger_priv_validate_ipv4 (NULL, &e1));
    banger_assert_error (e1, BANGER_ERROR_INVALID_ARGUMENT);
    ck_assert (!banger_priv_validate_ipv4_cidr (NULL, &e2));
    banger_assert_error (e2, BANGER_ERROR_INVALID_ARGUMENT);
    ck_assert (!banger_priv_validate_abs_path (NULL, &e3));
    banger_assert_error (e3, BANGER_ERROR_INVALID_ARGUMENT);
  }
}
END_TEST

/* ------------------------------------------------------------------ table */

START_TEST (test_table_shape)
{
  const char *expected[] = { "priv.status", "priv.create_tap", "priv.delete_tap",
                             "priv.create_bridge", "priv.delete_bridge", "priv.nat_enable",
                             "priv.nat_disable", "priv.dm_snapshot_create",
                             "priv.dm_snapshot_remove", "priv.mkfs_work_disk",
                             "priv.launch_vmm", "priv.signal_process", "priv.kill_process",
                             "priv.cleanup_vm", "priv.pool_tap_create", "priv.pool_tap_claim",
                             "priv.neigh_set",
                             "priv.pool_tap_return", "priv.pool_tap_delete",
                             "priv.list_host_objects", "priv.publish_set", "priv.publish_list",
                             "priv.egress_set", "priv.resolved_link" };
  const BangerPrivOp *t = banger_priv_ops_table ();
  guint n = 0;

  for (const BangerPrivOp *op = t; op->method; op++, n++)
    {
      ck_assert (g_str_has_prefix (op->method, "priv."));
      ck_assert_ptr_nonnull (op->handler);
      ck_assert_ptr_nonnull (op->params);
      ck_assert_ptr_eq (banger_priv_ops_lookup (op->method), op);
      for (const BangerParamSpec *p = op->params; p->name; p++)
        {
          ck_assert (p->type == BANGER_PARAM_STRING || p->type == BANGER_PARAM_INT
                     || p->type == BANGER_PARAM_BOOL);
          if (p->type == BANGER_PARAM_STRING)
            ck_assert_msg (p->max > 0, "%s.%s needs a length bound", op->method, p->name);
          if (p->type == BANGER_PARAM_INT)
            ck_assert_msg (p->min <= p->max, "%s.%s bounds", op->method, p->name);
          /* every vm_id goes through the VM name validator */
          if (g_str_equal (p->name, "vm_id"))
            ck_assert (p->validate == banger_validate_vm_name && p->required);
        }
    }
  ck_assert_uint_eq (n, G_N_ELEMENTS (expected));
  for (gsize i = 0; i < G_N_ELEMENTS (expected); i++)
    ck_assert_msg (banger_priv_ops_lookup (expected[i]) != NULL, "%s missing", expected[i]);
  ck_assert_ptr_null (banger_priv_ops_lookup ("priv.exec"));
}
END_TEST

START_TEST (test_unknown_param_refused)
{
  BangerPrivState *state = host_test_state_new (FALSE);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) r = host_test_call (state, "priv.delete_tap",
                                           "{\"vm_id\":\"a\",\"name\":\"eth0\"}", &error);
  ck_assert_ptr_null (r);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  host_test_state_free (state);
}
END_TEST

/* ------------------------------------------------- interface-name attacks */

static const char *const bad_ifnames[] = {
  "bng\"x", "bng*", "bng0123456789abc" /* 16 bytes */, "bng0123456789abcdef", "eth0", "lo",
  "bng x", "bng/x", "bng.x", "BNG0", "",
};

START_TEST (test_ifname_attacks)
{
  BangerPrivState *state = host_test_state_new (FALSE);

  for (gsize i = 0; i < G_N_ELEMENTS (bad_ifnames); i++)
    {
      const char *methods[] = { "priv.create_bridge", "priv.delete_bridge" };
      g_autofree char *q = g_strescape (bad_ifnames[i], NULL);
      g_autofree char *by_name = g_strdup_printf ("{\"name\":\"%s\"}", q);
      g_autofree char *by_bridge = g_strdup_printf ("{\"vm_id\":\"a\",\"bridge\":\"%s\"}", q);

      for (gsize m = 0; m < G_N_ELEMENTS (methods); m++)
        {
          g_autoptr (GError) e1 = NULL;
          g_autoptr (GError) e2 = NULL;
          g_autoptr (JsonNode) r = host_test_call (state, methods[m], by_name, &e1);
          ck_assert_msg (r == NULL, "%s accepted '%s'", methods[m], bad_ifnames[i]);
          banger_assert_error (e1, BANGER_ERROR_INVALID_ARGUMENT);
          /* the handler refuses on its own too */
          ck_assert (!host_test_call_handler (state, 0, methods[m], by_name, &e2));
          banger_assert_error (e2, BANGER_ERROR_INVALID_ARGUMENT);
        }
      {
        g_autoptr (GError) e1 = NULL;
        g_autoptr (GError) e2 = NULL;
        g_autoptr (JsonNode) r = host_test_call (state, "priv.create_tap", by_bridge, &e1);
        ck_assert_ptr_null (r);
        banger_assert_error (e1, BANGER_ERROR_INVALID_ARGUMENT);
        ck_assert (!host_test_call_handler (state, 0, "priv.create_tap", by_bridge, &e2));
        banger_assert_error (e2, BANGER_ERROR_INVALID_ARGUMENT);
      }
    }
  host_test_state_free (state);
}
END_TEST

/* ------------------------------------------------------- signal / pid attacks */

static pid_t
spawn_sleeper (void)
{
  pid_t pid = fork ();
  if (pid == 0)
    {
      execl ("/bin/sleep", "sleep", "30", (char *) NULL);
      _exit (127);
    }
  ck_assert_int_gt (pid, 0);
  return pid;
}

static gboolean
alive (pid_t pid)
{
  int status;
  return waitpid (pid, &status, WNOHANG) == 0;
}

START_TEST (test_signal_name_attacks)
{
  BangerPrivState *state = host_test_state_new (FALSE);
  pid_t victim = spawn_sleeper ();
  const char *bad[] = { "STOP", "9", "SIGKILL ", "RTMIN+1", "sigsigterm", "CONT", "SIGSTOP",
                        " KILL", "KILL\n", "", "0", "-9", "SIGRTMIN" };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *q = g_strescape (bad[i], NULL);
      g_autofree char *p = g_strdup_printf ("{\"pid\":%d,\"signal\":\"%s\"}", victim, q);
      g_autoptr (GError) e1 = NULL;
      g_autoptr (GError) e2 = NULL;
      g_autoptr (JsonNode) r = host_test_call (state, "priv.signal_process", p, &e1);

      ck_assert_msg (r == NULL, "signal '%s' accepted", bad[i]);
      banger_assert_error (e1, BANGER_ERROR_INVALID_ARGUMENT);
      ck_assert (!host_test_call_handler (state, 0, "priv.signal_process", p, &e2));
      banger_assert_error (e2, BANGER_ERROR_INVALID_ARGUMENT);
      ck_assert_msg (alive (victim), "victim died after signal '%s'", bad[i]);
    }
  kill (victim, SIGKILL);
  waitpid (victim, NULL, 0);
  host_test_state_free (state);
}
END_TEST

START_TEST (test_pid_attacks)
{
  BangerPrivState *state = host_test_state_new (FALSE);
  pid_t caller = spawn_sleeper ();
  pid_t stranger = spawn_sleeper ();
  struct
  {
    gint64 pid;
    int executor_code;  /* what the table check says */
  } cases[] = {
    { 0, BANGER_ERROR_INVALID_ARGUMENT },
    { 1, BANGER_ERROR_INVALID_ARGUMENT },
    { -1, BANGER_ERROR_INVALID_ARGUMENT },
    { getpid (), BANGER_ERROR_PERMISSION_DENIED },  /* the helper itself */
    { caller, BANGER_ERROR_PERMISSION_DENIED },     /* the calling process */
    { stranger, BANGER_ERROR_PERMISSION_DENIED },   /* not banger's */
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const char *methods[] = { "priv.signal_process", "priv.kill_process" };
      g_autofree char *p_sig = g_strdup_printf ("{\"pid\":%" G_GINT64_FORMAT ",\"signal\":\"KILL\"}",
                                                cases[i].pid);
      g_autofree char *p_kill = g_strdup_printf ("{\"pid\":%" G_GINT64_FORMAT "}", cases[i].pid);

      for (gsize m = 0; m < G_N_ELEMENTS (methods); m++)
        {
          const char *p = m == 0 ? p_sig : p_kill;
          g_autoptr (GError) e1 = NULL;
          g_autoptr (GError) e2 = NULL;
          g_autoptr (JsonNode) r = host_test_call_as (state, caller, methods[m], p, &e1);

          ck_assert_msg (r == NULL, "%s accepted pid %" G_GINT64_FORMAT, methods[m], cases[i].pid);
          banger_assert_error (e1, cases[i].executor_code);
          /* Behind the table, the handler refuses by itself. */
          ck_assert (!host_test_call_handler (state, caller, methods[m], p, &e2));
          banger_assert_error (e2, BANGER_ERROR_PERMISSION_DENIED);
        }
    }
  ck_assert (alive (caller));
  ck_assert (alive (stranger));
  kill (caller, SIGKILL);
  kill (stranger, SIGKILL);
  waitpid (caller, NULL, 0);
  waitpid (stranger, NULL, 0);
  host_test_state_free (state);
}
END_TEST

/* ------------------------------------------------------------ argv templates */

START_TEST (test_firecracker_argv)
{
  BangerPrivState *state = host_test_state_new (FALSE);
  g_autoptr (GError) error = NULL;
  g_autofree char *api = NULL;
  g_autofree char *joined = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *expected_api = NULL;
  g_auto (GStrv) argv = NULL;

  /* no binary configured */
  argv = banger_host_launch_firecracker_argv (state, "web-1", "/banger.slice/banger-web-1.scope", &api,
                                      &error);
  ck_assert_ptr_null (argv);
  banger_assert_error (error, BANGER_ERROR_UNSUPPORTED);
  g_clear_error (&error);

  state->firecracker_path = g_strdup ("/usr/bin/firecracker");
  argv = banger_host_launch_firecracker_argv (state, "web-1", "/banger.slice/banger-web-1.scope", &api,
                                      &error);
  g_assert_no_error (error);
  joined = g_strjoinv (" ", argv);
  expected_api = g_strdup_printf ("%s/vm/web-1/fc.sock", state->runtime_dir);
  expected = g_strdup_printf ("/usr/bin/firecracker --api-sock %s --id web-1", expected_api);
  ck_assert_str_eq (joined, expected);
  ck_assert_str_eq (api, expected_api);

  /* a bad VM id never reaches the template */
  g_clear_pointer (&argv, g_strfreev);
  argv = banger_host_launch_firecracker_argv (state, "--help", "/x", &api, &error);
  ck_assert_ptr_null (argv);
  banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  host_test_state_free (state);
}
END_TEST

START_TEST (test_jailer_argv)
{
  BangerPrivState *state = host_test_state_new (FALSE);
  g_autoptr (GError) error = NULL;
  g_autofree char *api = NULL;
  g_autofree char *joined = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *expected_api = NULL;
  g_auto (GStrv) argv = NULL;

  state->firecracker_path = g_strdup ("/usr/libexec/banger/firecracker");
  state->jailer_path = g_strdup ("/usr/libexec/banger/jailer");
  argv = banger_host_launch_firecracker_argv (state, "web-1", "/banger.slice/banger-web-1.scope", &api,
                                      &error);
  g_assert_no_error (error);
  joined = g_strjoinv (" ", argv);
  expected = g_strdup_printf (
      "/usr/libexec/banger/jailer --id web-1 --exec-file /usr/libexec/banger/firecracker "
      "--uid 65534 --gid 65534 --cgroup-version 2 --chroot-base-dir %s/jail "
      "--parent-cgroup banger.slice/banger-web-1.scope -- --api-sock /fc.sock",
      state->runtime_dir);
  ck_assert_str_eq (joined, expected);
  expected_api = g_strdup_printf ("%s/jail/firecracker/web-1/root/fc.sock", state->runtime_dir);
  ck_assert_str_eq (api, expected_api);
  host_test_state_free (state);
}
END_TEST

static JsonObject *
json_params (const char *json)
{
  g_autoptr (JsonParser) parser = json_parser_new ();

  g_assert (json_parser_load_from_data (parser, json, -1, NULL));
  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

START_TEST (test_qemu_argv)
{
  BangerPrivState *state = host_test_state_new (FALSE);
  g_autofree char *json = NULL;
  g_autofree char *qmp = NULL;
  g_autofree char *console = NULL;
  g_autofree char *joined = NULL;
  g_autofree char *drive = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) p = NULL;
  g_auto (GStrv) argv = NULL;

  json = g_strdup_printf ("{\"kernel\":\"%1$s/vmlinuz\",\"rootfs\":\"%1$s/x,file.driver=raw\","
                          "\"rootfs_read_only\":true,\"work_disk\":\"%1$s/work.ext4\","
                          "\"boot_args\":\"console=ttyS0\",\"mac\":\"02:00:00:00:00:01\","
                          "\"accel\":\"tcg\",\"mem_mib\":256,\"vcpus\":2}",
                          state->state_dir);
  p = json_params (json);
  state->qemu_path = g_strdup ("/usr/bin/qemu-system-x86_64");
  argv = banger_host_launch_qemu_argv (state, "web-1", p, "bngt0123456789a", &qmp, &console,
                                       &error);
  g_assert_no_error (error);
  joined = g_strjoinv (" ", argv);
  ck_assert_msg (g_str_has_prefix (joined, "/usr/bin/qemu-system-x86_64 -M microvm -accel tcg "
                                           "-name web-1,debug-threads=on -m 256 -smp 2 "
                                           "-nodefaults -no-user-config -display none "
                                           "-no-reboot -S -serial file:"),
                 "%s", joined);
  ck_assert (strstr (joined, "-netdev tap,id=net0,fd=3") != NULL);
  ck_assert (strstr (joined, "-device virtio-net-device,netdev=net0,mac=02:00:00:00:00:01") != NULL);
  ck_assert (strstr (joined, "-append console=ttyS0") != NULL);
  /* ',' in a file name is doubled, so it cannot add an option; read-only */
  drive = g_strdup_printf ("-drive if=none,id=rootfs,file=%s/x,,file.driver=raw,format=raw,"
                           "readonly=on -device virtio-blk-device,drive=rootfs -drive "
                           "if=none,id=work,file=%s/work.ext4,format=raw -device",
                           state->state_dir, state->state_dir);
  ck_assert_msg (strstr (joined, drive) != NULL, "%s", joined);
  ck_assert (g_str_has_suffix (qmp, "/vm/web-1/qmp.sock"));
  ck_assert (g_str_has_suffix (console, "/vm/web-1/console.log"));
  /* no restore asked: no -incoming */
  ck_assert (strstr (joined, "-incoming") == NULL);
  ck_assert (strstr (joined, "announce-rounds") == NULL);

  /* a restore: -incoming defer, last */
  {
    g_autofree char *q = NULL;
    g_autofree char *c = NULL;
    g_autofree char *j = NULL;
    g_auto (GStrv) a = NULL;

    json_object_set_boolean_member (p, "incoming", TRUE);
    a = banger_host_launch_qemu_argv (state, "web-1", p, NULL, &q, &c, &error);
    g_assert_no_error (error);
    j = g_strjoinv (" ", a);
    ck_assert_msg (g_str_has_suffix (j, " -incoming defer"), "%s", j);
    /* and no self-announce with the snapshotted guest's MAC */
    ck_assert_msg (strstr (j, " -global migration.announce-rounds=0 ") != NULL, "%s", j);
    json_object_set_boolean_member (p, "incoming", FALSE);
    g_strfreev (a);
    g_clear_pointer (&q, g_free);
    g_clear_pointer (&c, g_free);
    a = banger_host_launch_qemu_argv (state, "web-1", p, NULL, &q, &c, &error);
    g_assert_no_error (error);
    g_free (j);
    j = g_strjoinv (" ", a);
    ck_assert (strstr (j, "-incoming") == NULL);
  }

  /* refusals, each with its code */
  {
    struct
    {
      const char *json;
      int code;
    } bad[] = {
      { "{\"kernel\":\"/etc/shadow\",\"rootfs\":\"@S@/r\"}", BANGER_ERROR_PERMISSION_DENIED },
      { "{\"kernel\":\"@S@/k\"}", BANGER_ERROR_INVALID_ARGUMENT },
      { "{\"kernel\":\"@S@/k\",\"rootfs\":\"@S@/../r\"}", BANGER_ERROR_INVALID_ARGUMENT },
      { "{\"kernel\":\"@S@/k\",\"rootfs\":\"@S@/r\",\"boot_args\":\"a\\nb\"}",
        BANGER_ERROR_INVALID_ARGUMENT },
      { "{\"kernel\":\"@S@/k\",\"rootfs\":\"@S@/r\",\"accel\":\"hvf\"}",
        BANGER_ERROR_INVALID_ARGUMENT },
      { "{\"kernel\":\"@S@/k\",\"rootfs\":\"@S@/r\",\"mac\":\"02:00:00:00:00:0G\"}",
        BANGER_ERROR_INVALID_ARGUMENT },
      { "{\"kernel\":\"@S@/k\",\"rootfs\":\"@S@/r\",\"vcpus\":33}",
        BANGER_ERROR_INVALID_ARGUMENT },
      { "{\"kernel\":\"@S@/k\",\"rootfs\":\"@S@/r\",\"mem_mib\":262145}",
        BANGER_ERROR_INVALID_ARGUMENT },
    };
    for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        g_autoptr (GError) e = NULL;
        g_autofree char *q = NULL;
        g_autofree char *c = NULL;
        g_auto (GStrv) parts = g_strsplit (bad[i].json, "@S@", -1);
        g_autofree char *j = g_strjoinv (state->state_dir, parts);
        g_autoptr (JsonObject) bp = json_params (j);
        g_auto (GStrv) a = banger_host_launch_qemu_argv (state, "web-1", bp, NULL, &q, &c, &e);
        ck_assert_msg (a == NULL, "qemu case %zu accepted", i);
        banger_assert_error (e, bad[i].code);
      }
  }
  host_test_state_free (state);
}
END_TEST

START_TEST (test_launch_refuses_client_flags)
{
  BangerPrivState *state = host_test_state_new (FALSE);
  const char *params[] = {
    "{\"vm_id\":\"a\",\"vmm\":\"firecracker\",\"boot_args\":\"x\"}",
    "{\"vm_id\":\"a\",\"vmm\":\"firecracker\",\"argv\":[\"--seccomp-level\",\"0\"]}",
    "{\"vm_id\":\"a\",\"vmm\":\"/bin/sh\"}",
    "{\"vm_id\":\"--help\",\"vmm\":\"firecracker\"}",
    "{\"vm_id\":\"a\",\"vmm\":\"firecracker\",\"rootfs_read_only\":true}",
    /* the table: types and the one place for limits (banger-vm-limits.h) */
    "{\"vm_id\":\"a\",\"vmm\":\"qemu\",\"rootfs_read_only\":\"yes\"}",
    "{\"vm_id\":\"a\",\"vmm\":\"qemu\",\"vcpus\":33}",
    "{\"vm_id\":\"a\",\"vmm\":\"qemu\",\"vcpus\":0}",
    "{\"vm_id\":\"a\",\"vmm\":\"qemu\",\"mem_mib\":63}",
    "{\"vm_id\":\"a\",\"vmm\":\"qemu\",\"mem_mib\":262145}",
    "{\"vm_id\":\"a\",\"vmm\":\"qemu\",\"mac\":\"02:00:00:00:00:0G\"}",
    "{\"vm_id\":\"a\",\"vmm\":\"qemu\",\"argv\":[\"-S\"]}",
    /* incoming (a snapshot restore): a boolean, and QEMU's only */
    "{\"vm_id\":\"a\",\"vmm\":\"qemu\",\"incoming\":\"defer\"}",
    "{\"vm_id\":\"a\",\"vmm\":\"qemu\",\"incoming\":1}",
    "{\"vm_id\":\"a\",\"vmm\":\"firecracker\",\"incoming\":true}",
    /* the jail's files: Firecracker's only, paths absolute, flags booleans */
    "{\"vm_id\":\"a\",\"vmm\":\"qemu\",\"jail_kernel\":\"/s/vmlinux\"}",
    "{\"vm_id\":\"a\",\"vmm\":\"qemu\",\"jail_disk_rootfs_rw\":true}",
    "{\"vm_id\":\"a\",\"vmm\":\"firecracker\",\"jail_disk_rootfs\":\"rel/disk\"}",
    "{\"vm_id\":\"a\",\"vmm\":\"firecracker\",\"jail_disk_work_rw\":\"yes\"}",
    "{\"vm_id\":\"a\",\"vmm\":\"firecracker\",\"jail_disk_other\":\"/s/d\"}",
  };

  state->firecracker_path = g_strdup ("/bin/false");
  for (gsize i = 0; i < G_N_ELEMENTS (params); i++)
    {
      g_autoptr (GError) e = NULL;
      g_autoptr (JsonNode) r = host_test_call (state, "priv.launch_vmm", params[i], &e);
      ck_assert_msg (r == NULL, "accepted %s", params[i]);
      banger_assert_error (e, BANGER_ERROR_INVALID_ARGUMENT);
    }
  host_test_state_free (state);
}
END_TEST

/* ---------------------------------------------------- dm against a fake */

typedef struct
{
  BangerHostBackend parent;
  GPtrArray *calls;        /* "attach <tag> ro|rw", "detach <dev> <tag>", "create …", "remove …" */
  GHashTable *dm;          /* name -> uuid */
  GHashTable *loops;       /* dev -> tag */
  int next_loop;
  const char *fail;        /* "attach-cow", "create", … */
  gboolean available;
  /* With node_dir, create also makes a real block node node_dir/dm-0 of
   * FAKE_DM_MAJOR:0 and dm_device_node names it; node_trick makes the hook
   * name something else instead: "symlink" (to dm-0), "fifo", "major" (a
   * loop device's 7:0), "minor" (FAKE_DM_MAJOR:1, another dm device). */
  char *node_dir;
  const char *node_trick;
} FakeBackend;

#define FAKE_DM_MAJOR 250

static gboolean
fake_available (BangerHostBackend *b, GError **error)
{
  if (((FakeBackend *) b)->available)
    return TRUE;
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_UNSUPPORTED, "fake: no device-mapper");
  return FALSE;
}

static char *
fake_attach (BangerHostBackend *b, int fd, const char *tag, gboolean ro, GError **error)
{
  FakeBackend *f = (FakeBackend *) b;
  struct stat st;
  char *dev;

  ck_assert (fstat (fd, &st) == 0 && S_ISREG (st.st_mode));
  g_ptr_array_add (f->calls, g_strdup_printf ("attach %s %s", tag, ro ? "ro" : "rw"));
  if (f->fail && g_str_equal (f->fail, ro ? "attach-base" : "attach-cow"))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_BUSY, "fake: attach fails");
      return NULL;
    }
  dev = g_strdup_printf ("/dev/loop%d", f->next_loop++);
  g_hash_table_insert (f->loops, g_strdup (dev), g_strdup (tag));
  return dev;
}

static GStrv
fake_find (BangerHostBackend *b, const char *tag, GError **error)
{
  FakeBackend *f = (FakeBackend *) b;
  g_autoptr (GStrvBuilder) sb = g_strv_builder_new ();
  GHashTableIter it;
  gpointer k, v;

  g_hash_table_iter_init (&it, f->loops);
  while (g_hash_table_iter_next (&it, &k, &v))
    if (g_str_equal (v, tag))
      g_strv_builder_add (sb, k);
  return g_strv_builder_end (sb);
}

static gboolean
fake_detach (BangerHostBackend *b, const char *dev, const char *tag, GError **error)
{
  FakeBackend *f = (FakeBackend *) b;
  const char *t = g_hash_table_lookup (f->loops, dev);

  g_ptr_array_add (f->calls, g_strdup_printf ("detach %s %s", dev, tag));
  if (t == NULL)
    return TRUE;
  if (!g_str_equal (t, tag))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_PERMISSION_DENIED, "fake: foreign loop");
      return FALSE;
    }
  g_hash_table_remove (f->loops, dev);
  return TRUE;
}

static gboolean
fake_create (BangerHostBackend *b, const char *name, const char *uuid, const char *table,
             GError **error)
{
  FakeBackend *f = (FakeBackend *) b;

  g_ptr_array_add (f->calls, g_strdup_printf ("create %s %s %s", name, uuid, table));
  if (f->fail && g_str_equal (f->fail, "create"))
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "fake: create fails");
      return FALSE;
    }
  g_hash_table_insert (f->dm, g_strdup (name), g_strdup (uuid));
  if (f->node_dir != NULL)
    {
      g_autofree char *dm0 = g_build_filename (f->node_dir, "dm-0", NULL);
      /* the kernel's node: root's, 0660 */
      ck_assert (mknod (dm0, S_IFBLK | 0660, makedev (FAKE_DM_MAJOR, 0)) == 0);
      ck_assert (chmod (dm0, 0660) == 0);
    }
  return TRUE;
}

static char *
fake_get_uuid (BangerHostBackend *b, const char *name, GError **error)
{
  FakeBackend *f = (FakeBackend *) b;
  const char *u = g_hash_table_lookup (f->dm, name);

  if (u == NULL)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_NOT_FOUND, "fake: no %s", name);
      return NULL;
    }
  return g_strdup (u);
}

static gboolean
fake_remove (BangerHostBackend *b, const char *name, GError **error)
{
  FakeBackend *f = (FakeBackend *) b;

  g_ptr_array_add (f->calls, g_strdup_printf ("remove %s", name));
  g_hash_table_remove (f->dm, name);
  return TRUE;
}

static char *
fake_device_node (BangerHostBackend *b, const char *name, dev_t *out_rdev, GError **error)
{
  FakeBackend *f = (FakeBackend *) b;
  g_autofree char *dm0 = g_build_filename (f->node_dir, "dm-0", NULL);
  const char *trick = f->node_trick ? f->node_trick : "";
  char *node;

  ck_assert_ptr_nonnull (g_hash_table_lookup (f->dm, name));
  *out_rdev = makedev (FAKE_DM_MAJOR, 0);
  if (g_str_equal (trick, ""))
    return g_steal_pointer (&dm0);
  node = g_build_filename (f->node_dir, trick, NULL);
  if (g_str_equal (trick, "symlink"))
    ck_assert (symlink (dm0, node) == 0);
  else if (g_str_equal (trick, "fifo"))
    ck_assert (mkfifo (node, 0660) == 0);
  else if (g_str_equal (trick, "major"))
    ck_assert (mknod (node, S_IFBLK | 0660, makedev (7, 0)) == 0);
  else
    ck_assert (mknod (node, S_IFBLK | 0660, makedev (FAKE_DM_MAJOR, 1)) == 0);
  if (!g_str_equal (trick, "symlink"))
    ck_assert (chmod (node, 0660) == 0);
  return node;
}

static FakeBackend *
fake_new (void)
{
  FakeBackend *f = g_new0 (FakeBackend, 1);
  f->parent = (BangerHostBackend){ fake_available, fake_attach, fake_find, fake_detach,
                                   fake_create, fake_get_uuid, fake_remove, NULL };
  f->calls = g_ptr_array_new_with_free_func (g_free);
  f->dm = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  f->loops = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  f->available = TRUE;
  return f;
}

static void
fake_free (FakeBackend *f)
{
  if (f->node_dir != NULL)
    {
      const char *names[] = { "dm-0", "symlink", "fifo", "major", "minor" };
      for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
        {
          g_autofree char *p = g_build_filename (f->node_dir, names[i], NULL);
          unlink (p);
        }
      g_rmdir (f->node_dir);
      g_free (f->node_dir);
    }
  g_ptr_array_unref (f->calls);
  g_hash_table_unref (f->dm);
  g_hash_table_unref (f->loops);
  g_free (f);
}

static char *
calls_of (FakeBackend *f)
{
  g_ptr_array_add (f->calls, NULL);
  {
    char *s = g_strjoinv ("\n", (char **) f->calls->pdata);
    g_ptr_array_remove_index (f->calls, f->calls->len - 1);
    return s;
  }
}

/* A state with the fake, owner = us, and base/cow files in the state dir. */
static BangerPrivState *
dm_state (FakeBackend *f, char **params_out)
{
  BangerPrivState *state = host_test_state_new (FALSE);
  g_autofree char *base = g_build_filename (state->state_dir, "base.ext4", NULL);
  g_autofree char *cow = g_build_filename (state->state_dir, "web-1.cow", NULL);
  int fd;

  state->owner_uid = getuid ();
  state->owner_gid = getgid ();
  state->backend = &f->parent;
  fd = open (base, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  ck_assert (fd >= 0 && ftruncate (fd, 1024 * 1024) == 0);
  close (fd);
  fd = open (cow, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
  ck_assert (fd >= 0 && ftruncate (fd, 512 * 1024) == 0);
  close (fd);
  *params_out = g_strdup_printf ("{\"vm_id\":\"web-1\",\"base\":\"%s\",\"cow\":\"%s\"}", base, cow);
  return state;
}

START_TEST (test_dm_create_remove)
{
  FakeBackend *f = fake_new ();
  g_autofree char *params = NULL;
  BangerPrivState *state = dm_state (f, &params);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) r = host_test_call (state, "priv.dm_snapshot_create", params, &error);
  g_autofree char *uuid = banger_host_dm_uuid ("web-1", "rootfs", NULL);
  g_autofree char *btag = banger_host_loop_tag ("web-1", "base", NULL);
  g_autofree char *ctag = banger_host_loop_tag ("web-1", "cow", NULL);
  g_autofree char *calls = NULL;
  g_autofree char *expected = NULL;

  g_assert_no_error (error);
  ck_assert_str_eq (json_object_get_string_member (json_node_get_object (r), "device"),
                    "/dev/mapper/banger-web-1-rootfs");
  calls = calls_of (f);
  /* 1 MiB base = 2048 sectors; base read-only, COW read-write, persistent store */
  expected = g_strdup_printf ("attach %s ro\nattach %s rw\ncreate banger-web-1-rootfs %s "
                              "0 2048 snapshot /dev/loop0 /dev/loop1 P 8",
                              btag, ctag, uuid);
  ck_assert_str_eq (calls, expected);

  /* a second create is refused without attaching anything */
  g_ptr_array_set_size (f->calls, 0);
  {
    g_autoptr (GError) e = NULL;
    g_autoptr (JsonNode) r2 = host_test_call (state, "priv.dm_snapshot_create", params, &e);
    ck_assert_ptr_null (r2);
    banger_assert_error (e, BANGER_ERROR_ALREADY_EXISTS);
    ck_assert_uint_eq (f->calls->len, 0);
  }

  /* remove: dm first, then the loops it held */
  {
    g_autoptr (GError) e = NULL;
    g_autoptr (JsonNode) r3 = host_test_call (state, "priv.dm_snapshot_remove",
                                              "{\"vm_id\":\"web-1\"}", &e);
    g_autofree char *c = NULL;
    g_autofree char *exp = NULL;
    g_assert_no_error (e);
    ck_assert_int_eq (json_object_get_int_member (json_node_get_object (r3), "removed"), 3);
    c = calls_of (f);
    exp = g_strdup_printf ("remove banger-web-1-rootfs\ndetach /dev/loop1 %s\ndetach /dev/loop0 %s",
                           ctag, btag);
    ck_assert_str_eq (c, exp);
    ck_assert_uint_eq (g_hash_table_size (f->dm), 0);
    ck_assert_uint_eq (g_hash_table_size (f->loops), 0);
  }
  /* idempotent */
  {
    g_autoptr (GError) e = NULL;
    g_autoptr (JsonNode) r4 = host_test_call (state, "priv.dm_snapshot_remove",
                                              "{\"vm_id\":\"web-1\"}", &e);
    g_assert_no_error (e);
    ck_assert_int_eq (json_object_get_int_member (json_node_get_object (r4), "removed"), 0);
  }
  host_test_state_free (state);
  fake_free (f);
}
END_TEST

START_TEST (test_dm_rollback)
{
  const char *fail_at[] = { "attach-base", "attach-cow", "create" };
  /* the failing step's own error reaches the caller (the fake's codes) */
  const BangerError fail_code[] = { BANGER_ERROR_BUSY, BANGER_ERROR_BUSY,
                                        BANGER_ERROR_FAILED };

  for (gsize i = 0; i < G_N_ELEMENTS (fail_at); i++)
    {
      FakeBackend *f = fake_new ();
      g_autofree char *params = NULL;
      BangerPrivState *state = dm_state (f, &params);
      g_autoptr (GError) e = NULL;
      g_autoptr (JsonNode) r = NULL;
      g_autofree char *calls = NULL;

      f->fail = fail_at[i];
      r = host_test_call (state, "priv.dm_snapshot_create", params, &e);
      ck_assert_ptr_null (r);
      banger_assert_error (e, fail_code[i]);
      /* nothing left behind, whatever step failed */
      ck_assert_msg (g_hash_table_size (f->loops) == 0, "loops leaked when %s failed", fail_at[i]);
      ck_assert_uint_eq (g_hash_table_size (f->dm), 0);
      calls = calls_of (f);
      {
        g_autofree char *b = banger_host_loop_tag ("web-1", "base", NULL);
        g_autofree char *c = banger_host_loop_tag ("web-1", "cow", NULL);
        g_autofree char *u = banger_host_dm_uuid ("web-1", "rootfs", NULL);
        g_autofree char *exp = NULL;
        if (i == 0)
          exp = g_strdup_printf ("attach %s ro", b);
        else if (i == 1)
          exp = g_strdup_printf ("attach %s ro\nattach %s rw\ndetach /dev/loop0 %s", b, c, b);
        else
          exp = g_strdup_printf ("attach %s ro\nattach %s rw\ncreate banger-web-1-rootfs %s 0 2048 "
                                 "snapshot /dev/loop0 /dev/loop1 P 8\ndetach /dev/loop1 %s\n"
                                 "detach /dev/loop0 %s", b, c, u, c, b);
        ck_assert_str_eq (calls, exp);
      }
      host_test_state_free (state);
      fake_free (f);
    }
}
END_TEST

START_TEST (test_dm_refuses_foreign)
{
  FakeBackend *f = fake_new ();
  g_autofree char *params = NULL;
  BangerPrivState *state = dm_state (f, &params);
  g_autoptr (GError) e = NULL;
  g_autoptr (JsonNode) r = NULL;

  /* someone else's device under banger's name, and a loop with another tag */
  g_hash_table_insert (f->dm, g_strdup ("banger-web-1-rootfs"), g_strdup ("LVM-abcdef"));
  g_hash_table_insert (f->loops, g_strdup ("/dev/loop7"), g_strdup ("/var/lib/other.img"));
  r = host_test_call (state, "priv.dm_snapshot_remove", "{\"vm_id\":\"web-1\"}", &e);
  ck_assert_ptr_null (r);
  banger_assert_error (e, BANGER_ERROR_PERMISSION_DENIED);
  ck_assert_uint_eq (f->calls->len, 0); /* nothing removed, nothing detached */
  ck_assert_str_eq (g_hash_table_lookup (f->dm, "banger-web-1-rootfs"), "LVM-abcdef");
  ck_assert_ptr_nonnull (g_hash_table_lookup (f->loops, "/dev/loop7"));
  host_test_state_free (state);
  fake_free (f);
}
END_TEST

START_TEST (test_dm_files_checked)
{
  FakeBackend *f = fake_new ();
  g_autofree char *params = NULL;
  BangerPrivState *state = dm_state (f, &params);
  g_autofree char *link = g_build_filename (state->state_dir, "link.cow", NULL);
  g_autofree char *p1 = g_strdup_printf ("{\"vm_id\":\"web-1\",\"base\":\"/etc/passwd\",\"cow\":\"%s/web-1.cow\"}",
                                         state->state_dir);
  g_autofree char *p2 = g_strdup_printf ("{\"vm_id\":\"web-1\",\"base\":\"%s/base.ext4\",\"cow\":\"%s\"}",
                                         state->state_dir, link);
  g_autofree char *p3 = g_strdup_printf ("{\"vm_id\":\"web-1\",\"base\":\"%s/../etc/passwd\",\"cow\":\"%s/web-1.cow\"}",
                                         state->state_dir, state->state_dir);
  const char *ps[] = { p1, p2, p3 };
  /* outside the state dir, a symlink, a '..' component */
  const BangerError codes[] = { BANGER_ERROR_PERMISSION_DENIED,
                                    BANGER_ERROR_PERMISSION_DENIED,
                                    BANGER_ERROR_INVALID_ARGUMENT };

  ck_assert (symlink ("/etc/passwd", link) == 0);
  for (gsize i = 0; i < G_N_ELEMENTS (ps); i++)
    {
      g_autoptr (GError) e = NULL;
      g_autoptr (JsonNode) r = host_test_call (state, "priv.dm_snapshot_create", ps[i], &e);
      ck_assert_msg (r == NULL, "accepted %s", ps[i]);
      ck_assert_msg (e != NULL && e->code == (int) codes[i], "%s: code %d: %s", ps[i],
                     e ? e->code : -1, e ? e->message : "");
    }
  ck_assert_uint_eq (f->calls->len, 0);
  host_test_state_free (state);
  fake_free (f);
}
END_TEST

START_TEST (test_dm_unsupported)
{
  FakeBackend *f = fake_new ();
  g_autofree char *params = NULL;
  BangerPrivState *state = dm_state (f, &params);
  g_autoptr (GError) e = NULL;
  g_autoptr (JsonNode) r = NULL;

  f->available = FALSE;
  r = host_test_call (state, "priv.dm_snapshot_create", params, &e);
  ck_assert_ptr_null (r);
  banger_assert_error (e, BANGER_ERROR_UNSUPPORTED);
  ck_assert_uint_eq (f->calls->len, 0);

  /* and the real backend on a kernel without device-mapper says so clearly */
  if (!g_file_test ("/dev/mapper/control", G_FILE_TEST_EXISTS))
    {
      g_autoptr (GError) e2 = NULL;
      g_autoptr (JsonNode) r2 = NULL;
      state->backend = NULL;
      r2 = host_test_call (state, "priv.dm_snapshot_create", params, &e2);
      ck_assert_ptr_null (r2);
      banger_assert_error (e2, BANGER_ERROR_UNSUPPORTED);
      ck_assert (strstr (e2->message, "device-mapper") != NULL);
    }
  host_test_state_free (state);
  fake_free (f);
}
END_TEST

/* The fake with real device nodes, and an owner that is not us (the files
 * handed over to it), so the helper's chown is really seen. */
static BangerPrivState *
dm_node_state (FakeBackend *f, char **params_out)
{
  BangerPrivState *state = dm_state (f, params_out);
  g_autofree char *base = g_build_filename (state->state_dir, "base.ext4", NULL);
  g_autofree char *cow = g_build_filename (state->state_dir, "web-1.cow", NULL);
  g_autoptr (GError) error = NULL;

  ck_assert (chown (base, HOST_TEST_OWNER_UID, HOST_TEST_OWNER_GID) == 0);
  ck_assert (chown (cow, HOST_TEST_OWNER_UID, HOST_TEST_OWNER_GID) == 0);
  state->owner_uid = HOST_TEST_OWNER_UID;
  state->owner_gid = HOST_TEST_OWNER_GID;
  f->parent.dm_device_node = fake_device_node;
  f->node_dir = g_dir_make_tmp ("banger-dmnode-XXXXXX", &error);
  g_assert_no_error (error);
  return state;
}

static void
assert_node (const char *path, uid_t uid, mode_t mode)
{
  struct stat st;

  ck_assert_msg (lstat (path, &st) == 0, "%s: %s", path, g_strerror (errno));
  ck_assert_msg (st.st_uid == uid && (st.st_mode & 07777) == mode, "%s: uid %u mode %o", path,
                 (guint) st.st_uid, (guint) (st.st_mode & 07777));
}

START_TEST (test_dm_node_given_to_owner)
{
  FakeBackend *f = fake_new ();
  g_autofree char *params = NULL;
  BangerPrivState *state = dm_node_state (f, &params);
  g_autofree char *dm0 = g_build_filename (f->node_dir, "dm-0", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) r = host_test_call (state, "priv.dm_snapshot_create", params, &error);
  struct stat st;

  g_assert_no_error (error);
  ck_assert_ptr_nonnull (r);
  /* exactly the device made: the owner's, 0600, still the same block device */
  ck_assert (stat (dm0, &st) == 0 && S_ISBLK (st.st_mode));
  ck_assert (st.st_rdev == makedev (FAKE_DM_MAJOR, 0));
  ck_assert_uint_eq (st.st_uid, HOST_TEST_OWNER_UID);
  ck_assert_uint_eq (st.st_gid, HOST_TEST_OWNER_GID);
  ck_assert_uint_eq (st.st_mode & 07777, 0600);
  host_test_state_free (state);
  fake_free (f);
}
END_TEST

START_TEST (test_dm_node_refusals)
{
  const char *tricks[] = { "symlink", "fifo", "major", "minor" };

  for (gsize i = 0; i < G_N_ELEMENTS (tricks); i++)
    {
      FakeBackend *f = fake_new ();
      g_autofree char *params = NULL;
      BangerPrivState *state = dm_node_state (f, &params);
      g_autofree char *dm0 = g_build_filename (f->node_dir, "dm-0", NULL);
      g_autofree char *named = g_build_filename (f->node_dir, tricks[i], NULL);
      g_autoptr (GError) e = NULL;
      g_autoptr (JsonNode) r = NULL;

      f->node_trick = tricks[i];
      r = host_test_call (state, "priv.dm_snapshot_create", params, &e);
      ck_assert_msg (r == NULL, "%s accepted", tricks[i]);
      ck_assert_msg (e != NULL && e->code == BANGER_ERROR_PERMISSION_DENIED, "%s: %s", tricks[i],
                     e ? e->message : "");
      /* nothing handed over: neither what the hook named nor the real node
       * (a symlink's target included), and the snapshot is gone again */
      assert_node (named, 0, g_str_equal (tricks[i], "symlink") ? 0777 : 0660);
      assert_node (dm0, 0, 0660);
      ck_assert_uint_eq (g_hash_table_size (f->dm), 0);
      ck_assert_uint_eq (g_hash_table_size (f->loops), 0);
      host_test_state_free (state);
      fake_free (f);
    }
}
END_TEST

START_TEST (test_dm_node_refuses_foreign_uuid)
{
  FakeBackend *f = fake_new ();
  g_autofree char *params = NULL;
  BangerPrivState *state = dm_node_state (f, &params);
  g_autofree char *dm0 = g_build_filename (f->node_dir, "dm-0", NULL);
  g_autoptr (GError) e = NULL;

  /* a dm device under banger's name but not banger's UUID is never handed over */
  g_hash_table_insert (f->dm, g_strdup ("banger-web-1-rootfs"), g_strdup ("LVM-abcdef"));
  ck_assert (mknod (dm0, S_IFBLK | 0660, makedev (FAKE_DM_MAJOR, 0)) == 0);
  ck_assert (chmod (dm0, 0660) == 0);
  ck_assert (!banger_dm_node_give (&f->parent, "banger-web-1-rootfs", "BANGER-web-1", 4242, 4242,
                                   &e));
  banger_assert_error (e, BANGER_ERROR_PERMISSION_DENIED);
  assert_node (dm0, 0, 0660);
  host_test_state_free (state);
  fake_free (f);
}
END_TEST

/* A fake QEMU for the KVM boot probe: $FAKE_QEMU_PROBE=boots writes a
 * kernel banner to the -serial file, anything else stays silent; either
 * way it then waits to be killed. */
static const char fake_probe_qemu[] =
  "#!/bin/sh\n"
  "serial=\n"
  "while [ $# -gt 0 ]; do\n"
  "  if [ \"$1\" = -serial ]; then serial=\"${2#file:}\"; fi\n"
  "  shift\n"
  "done\n"
  "if [ \"$FAKE_QEMU_PROBE\" = boots ]; then echo 'Linux version 6.1' > \"$serial\"; fi\n"
  "exec sleep 30\n";

static JsonObject *
status_kvm (BangerPrivState *state, JsonNode **out_node, gint64 *out_us)
{
  g_autoptr (GError) error = NULL;
  gint64 t0 = g_get_monotonic_time ();

  *out_node = host_test_call (state, "priv.status", "{}", &error);
  *out_us = g_get_monotonic_time () - t0;
  ck_assert_msg (*out_node != NULL, "%s", error ? error->message : "?");
  return json_node_get_object (*out_node);
}

/* priv.status reports the one KVM answer (launch/banger-kvm-probe.c) from
 * the cache only: with a kernel to probe with and nothing cached it still
 * answers within 100 ms (no 5 s boot probe on root's main thread), saying
 * no probe has run yet; once a probe (a launch, doctor) has cached its
 * answer, the same state and sentence the probe gave. */
START_TEST (test_status_kvm_is_the_cached_answer)
{
  g_autofree char *dir = g_dir_make_tmp ("banger-kvm-status-XXXXXX", NULL);
  g_autofree char *cache = g_build_filename (dir, "cache", NULL);
  g_autofree char *kernel = g_build_filename (dir, "vmlinuz", NULL);
  g_autofree char *qemu = g_build_filename (dir, "qemu-system-x86_64", NULL);
  g_autofree char *cache_file = g_build_filename (cache, "kvm-probe", NULL);
  BangerPrivState *state = host_test_state_new (FALSE);
  const char *behaviours[] = { "hangs", "boots" };
  const BangerKvmState states[] = { BANGER_KVM_UNUSABLE, BANGER_KVM_USABLE };
  g_autoptr (JsonNode) r = NULL;
  JsonObject *o;
  gint64 us;

  ck_assert (g_file_set_contents (kernel, "not really a kernel", -1, NULL));
  ck_assert (g_file_set_contents (qemu, fake_probe_qemu, -1, NULL));
  ck_assert_int_eq (chmod (qemu, 0755), 0);
  g_free (state->qemu_path);
  state->qemu_path = g_strdup (qemu);
  g_setenv (BANGER_KVM_CACHE_DIR_ENV, cache, TRUE);
  g_setenv (BANGER_KVM_PROBE_KERNEL_ENV, kernel, TRUE);
  g_setenv (BANGER_KVM_DEVICE_ENV, "/dev/null", TRUE); /* opens */
  g_setenv ("FAKE_QEMU_PROBE", "hangs", TRUE);

  /* nothing cached, a kernel and a QEMU to probe with: no probe here */
  o = status_kvm (state, &r, &us);
  ck_assert_msg (us < 100 * 1000, "priv.status took %" G_GINT64_FORMAT " us", us);
  ck_assert_str_eq (json_object_get_string_member (o, "kvm_state"), "untested");
  ck_assert (!json_object_get_boolean_member (o, "kvm"));
  ck_assert_msg (strstr (json_object_get_string_member (o, "kvm_detail"),
                         "no boot probe has run yet") != NULL,
                 "%s", json_object_get_string_member (o, "kvm_detail"));
  ck_assert (!g_file_test (cache_file, G_FILE_TEST_EXISTS));
  g_clear_pointer (&r, json_node_unref);

  /* a probe (as doctor runs it) caches its answer; status reports it */
  for (guint i = 0; i < G_N_ELEMENTS (behaviours); i++)
    {
      const BangerKvmHost host = { .qemu_binary = qemu, .timeout_ms = 300 };
      g_autoptr (GError) error = NULL;
      g_autoptr (BangerKvmAnswer) want = NULL;

      g_setenv ("FAKE_QEMU_PROBE", behaviours[i], TRUE);
      ck_assert (banger_kvm_probe_forget (cache));
      want = banger_kvm_probe (&host, NULL, &error);
      ck_assert_ptr_nonnull (want);
      ck_assert_int_eq (want->state, states[i]);
      ck_assert (!want->cached);
      o = status_kvm (state, &r, &us);
      ck_assert_msg (us < 100 * 1000, "priv.status took %" G_GINT64_FORMAT " us", us);
      ck_assert_str_eq (json_object_get_string_member (o, "kvm_state"),
                        banger_kvm_state_to_string (states[i]));
      ck_assert_str_eq (json_object_get_string_member (o, "kvm_detail"), want->detail);
      ck_assert (json_object_get_boolean_member (o, "kvm") == (states[i] == BANGER_KVM_USABLE));
      g_clear_pointer (&r, json_node_unref);
    }

  g_unsetenv (BANGER_KVM_CACHE_DIR_ENV);
  g_unsetenv (BANGER_KVM_PROBE_KERNEL_ENV);
  g_unsetenv (BANGER_KVM_DEVICE_ENV);
  g_unsetenv ("FAKE_QEMU_PROBE");
  ck_assert (banger_kvm_probe_forget (cache));
  g_rmdir (cache);
  g_unlink (qemu);
  g_unlink (kernel);
  g_rmdir (dir);
  host_test_state_free (state);
}
END_TEST

static Suite *
host_ops_suite (void)
{
  Suite *s = suite_create ("host-ops");
  TCase *tc = tcase_create ("core");

  tcase_add_test (tc, test_tap_name);
  tcase_add_test (tc, test_other_names);
  tcase_add_test (tc, test_param_validators);
  tcase_add_test (tc, test_table_shape);
  tcase_add_test (tc, test_unknown_param_refused);
  tcase_add_test (tc, test_ifname_attacks);
  tcase_add_test (tc, test_signal_name_attacks);
  tcase_add_test (tc, test_pid_attacks);
  tcase_add_test (tc, test_firecracker_argv);
  tcase_add_test (tc, test_jailer_argv);
  tcase_add_test (tc, test_qemu_argv);
  tcase_add_test (tc, test_launch_refuses_client_flags);
  tcase_add_test (tc, test_dm_create_remove);
  tcase_add_test (tc, test_dm_rollback);
  tcase_add_test (tc, test_dm_refuses_foreign);
  tcase_add_test (tc, test_dm_files_checked);
  tcase_add_test (tc, test_dm_unsupported);
  tcase_add_test (tc, test_dm_node_given_to_owner);
  tcase_add_test (tc, test_dm_node_refusals);
  tcase_add_test (tc, test_dm_node_refuses_foreign_uuid);
  tcase_add_test (tc, test_status_kvm_is_the_cached_answer);
  suite_add_tcase (s, tc);
  return s;
}

BANGER_TEST_MAIN (host_ops_suite)
