/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The tap pool's operations for real, as root, inside a network namespace
 * the test makes: a pool tap is made, claimed (renamed to the VM's tap and
 * re-marked), returned and deleted; and what they refuse, with nothing
 * changed (the link list compared before and after): a name that is not a
 * pool tap name, a foreign tap of a pool tap's name (the owner's own tun
 * without banger's marker, root's tun), a claim whose VM tap name is taken,
 * a return while the VM's scope still has a process, a delete of a
 * non-banger link.  And priv.list_host_objects: owners, consistency, the
 * VM ids with objects. */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "banger-error.h"
#include "banger-host-names.h"
#include "banger-netlink.h"
#include "banger-priv-ops-private.h"
#include "banger-pool-tap-names.h"
#include "banger-tap.h"
#include "banger-test.h"
#include "host-test-util.h"

static char *
links (void)
{
  const char *argv[] = { "ip", "-o", "link", "show", NULL };
  char *out = host_test_run (argv, NULL);
  ck_assert_ptr_nonnull (out);
  return out;
}

static JsonObject *
ok_call (BangerPrivState *state, const char *method, const char *params, JsonNode **keep)
{
  g_autoptr (GError) error = NULL;
  *keep = host_test_call (state, method, params, &error);
  ck_assert_msg (*keep != NULL, "%s %s: %s", method, params, error ? error->message : "");
  return json_node_get_object (*keep);
}

/* @method with @params fails with @code and changes no link. */
static void
refused (BangerPrivState *state, const char *method, const char *params, BangerError code)
{
  g_autofree char *before = links ();
  g_autofree char *after = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) n = host_test_call (state, method, params, &error);

  ck_assert_msg (n == NULL, "%s %s succeeded", method, params);
  ck_assert_msg (g_error_matches (error, BANGER_ERROR, code), "%s %s: %s (%d, wanted %d)", method,
                 params, error->message, error->code, code);
  after = links ();
  ck_assert_str_eq (before, after);
}

static char *
alias_of (const char *name)
{
  g_auto (BangerLinkInfo) info = { 0 };
  ck_assert (banger_netlink_get_link (name, &info, NULL));
  return g_strdup (info.alias);
}

START_TEST (test_pool_cycle)
{
  BangerPrivState *state = host_test_state_new (FALSE);
  const char *pool = "bngp0123456789a";
  const char *pool2 = "bngpfedcba98765";
  g_autofree char *vm_tap = banger_host_tap_name ("web-1", NULL);
  g_autofree char *p = NULL;
  g_autoptr (JsonNode) n1 = NULL, n2 = NULL, n3 = NULL, n4 = NULL, n5 = NULL, n6 = NULL;
  JsonObject *o;

  host_test_netns_enter ();
  ok_call (state, "priv.create_bridge", "{\"name\":\"bngbr0\"}", &n1);
  o = ok_call (state, "priv.pool_tap_create",
               "{\"tap\":\"bngp0123456789a\",\"bridge\":\"bngbr0\"}", &n2);
  ck_assert (json_object_get_boolean_member (o, "created"));
  {
    g_autofree char *a = alias_of (pool);
    ck_assert_str_eq (a, "banger:-:tap:pool-0123456789a");
  }
  /* claim: the VM's tap name, its marker, still on the bridge, up */
  o = ok_call (state, "priv.pool_tap_claim", "{\"tap\":\"bngp0123456789a\",\"vm_id\":\"web-1\"}",
               &n3);
  ck_assert_str_eq (json_object_get_string_member (o, "name"), vm_tap);
  {
    g_auto (BangerLinkInfo) t = { 0 };
    g_auto (BangerLinkInfo) br = { 0 };
    g_autofree char *want = banger_host_tap_marker (NULL, "web-1");
    ck_assert (banger_netlink_get_link (vm_tap, &t, NULL));
    ck_assert (banger_netlink_get_link ("bngbr0", &br, NULL));
    ck_assert_str_eq (t.alias, want);
    ck_assert_int_eq (t.master, br.ifindex);
    ck_assert (t.up);
    ck_assert_int_eq (t.tun_owner, HOST_TEST_OWNER_UID);
  }
  ck_assert (!banger_netlink_get_link (pool, &(BangerLinkInfo){ 0 }, NULL));
  /* the same pool tap again: it is gone */
  refused (state, "priv.pool_tap_claim", "{\"tap\":\"bngp0123456789a\",\"vm_id\":\"web-2\"}",
           BANGER_ERROR_NOT_FOUND);
  /* list: the VM's tap with its owner, consistent */
  {
    g_autoptr (JsonNode) n = NULL;
    JsonArray *taps, *vms;
    o = ok_call (state, "priv.list_host_objects", "{}", &n);
    taps = json_object_get_array_member (o, "taps");
    vms = json_object_get_array_member (o, "vms");
    ck_assert_uint_eq (json_array_get_length (taps), 1);
    ck_assert_str_eq (json_object_get_string_member (json_array_get_object_element (taps, 0),
                                                     "owner"),
                      "web-1");
    ck_assert (json_object_get_boolean_member (json_array_get_object_element (taps, 0),
                                               "consistent"));
    ck_assert_uint_eq (json_array_get_length (vms), 1);
    ck_assert_str_eq (json_object_get_string_member (json_array_get_object_element (vms, 0),
                                                     "kinds"),
                      "tap");
  }
  /* return under a new pool name */
  o = ok_call (state, "priv.pool_tap_return", "{\"vm_id\":\"web-1\",\"tap\":\"bngpfedcba98765\"}",
               &n4);
  ck_assert_str_eq (json_object_get_string_member (o, "name"), pool2);
  {
    g_autofree char *a = alias_of (pool2);
    ck_assert_str_eq (a, "banger:-:tap:pool-fedcba98765");
  }
  ck_assert (!banger_netlink_get_link (vm_tap, &(BangerLinkInfo){ 0 }, NULL));
  /* returning again: the VM has no tap */
  refused (state, "priv.pool_tap_return", "{\"vm_id\":\"web-1\",\"tap\":\"bngp0123456789a\"}",
           BANGER_ERROR_NOT_FOUND);
  o = ok_call (state, "priv.pool_tap_delete", "{\"tap\":\"bngpfedcba98765\"}", &n5);
  ck_assert (json_object_get_boolean_member (o, "deleted"));
  o = ok_call (state, "priv.pool_tap_delete", "{\"tap\":\"bngpfedcba98765\"}", &n6);
  ck_assert (!json_object_get_boolean_member (o, "deleted"));
  (void) p;
  host_test_state_free (state);
}
END_TEST

START_TEST (test_pool_refusals)
{
  BangerPrivState *state = host_test_state_new (TRUE);
  g_autofree char *vm_tap = banger_host_tap_name ("web-1", NULL);
  g_autoptr (JsonNode) n1 = NULL, n2 = NULL, n3 = NULL, n4 = NULL;

  host_test_netns_enter ();
  /* not pool tap names */
  refused (state, "priv.pool_tap_create", "{\"tap\":\"bngt0123456789a\"}",
           BANGER_ERROR_INVALID_ARGUMENT);
  refused (state, "priv.pool_tap_create", "{\"tap\":\"bngp0123456789A\"}",
           BANGER_ERROR_INVALID_ARGUMENT);
  refused (state, "priv.pool_tap_create", "{\"tap\":\"eth0\"}", BANGER_ERROR_INVALID_ARGUMENT);
  refused (state, "priv.pool_tap_claim", "{\"tap\":\"bngp0123456789a\",\"vm_id\":\"pool-0123\"}",
           BANGER_ERROR_INVALID_ARGUMENT);
  refused (state, "priv.pool_tap_delete", "{\"tap\":\"lo\"}", BANGER_ERROR_INVALID_ARGUMENT);

  /* a tun of a pool tap's name without banger's marker: the owner's and
   * root's alike are left alone */
  ck_assert (banger_tap_create ("bngp11111111111", HOST_TEST_OWNER_UID, NULL));
  ck_assert (banger_tap_create ("bngp22222222222", 0, NULL));
  refused (state, "priv.pool_tap_create", "{\"tap\":\"bngp11111111111\"}",
           BANGER_ERROR_PERMISSION_DENIED);
  refused (state, "priv.pool_tap_claim", "{\"tap\":\"bngp11111111111\",\"vm_id\":\"web-1\"}",
           BANGER_ERROR_PERMISSION_DENIED);
  refused (state, "priv.pool_tap_claim", "{\"tap\":\"bngp22222222222\",\"vm_id\":\"web-1\"}",
           BANGER_ERROR_PERMISSION_DENIED);
  refused (state, "priv.pool_tap_delete", "{\"tap\":\"bngp11111111111\"}",
           BANGER_ERROR_PERMISSION_DENIED);
  refused (state, "priv.pool_tap_delete", "{\"tap\":\"bngp22222222222\"}",
           BANGER_ERROR_PERMISSION_DENIED);
  /* a bridge is not a tap */
  ok_call (state, "priv.create_bridge", "{\"name\":\"bngbr7\"}", &n1);
  refused (state, "priv.pool_tap_delete", "{\"tap\":\"bngbr7\"}", BANGER_ERROR_PERMISSION_DENIED);

  /* the VM's tap name is taken: the claim leaves both alone */
  ok_call (state, "priv.pool_tap_create", "{\"tap\":\"bngp0123456789a\"}", &n2);
  ok_call (state, "priv.create_tap", "{\"vm_id\":\"web-1\"}", &n3);
  refused (state, "priv.pool_tap_claim", "{\"tap\":\"bngp0123456789a\",\"vm_id\":\"web-1\"}",
           BANGER_ERROR_ALREADY_EXISTS);
  {
    g_autofree char *a = alias_of ("bngp0123456789a");
    ck_assert_str_eq (a, "banger:-:tap:pool-0123456789a");
  }
  /* a return while a process of the VM is in its scope: busy */
  {
    g_autofree char *root = banger_priv_state_cgroup_root (state, NULL);
    g_autofree char *scope = g_build_filename (root, "banger-web-1.scope", NULL);
    g_autofree char *procs = g_build_filename (scope, "cgroup.procs", NULL);
    const char *argv[] = { "sleep", "600", NULL };
    g_autofree char *pid_text = NULL;
    GPid pid;
    int fd;

    ck_assert (g_mkdir_with_parents (scope, 0755) == 0);
    ck_assert (g_spawn_async (NULL, (char **)argv, NULL,
                              G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid,
                              NULL));
    pid_text = g_strdup_printf ("%d", (int)pid);
    fd = open (procs, O_WRONLY | O_CLOEXEC);
    ck_assert (fd >= 0);
    ck_assert_int_eq (write (fd, pid_text, strlen (pid_text)), (gssize)strlen (pid_text));
    close (fd);
    refused (state, "priv.pool_tap_return",
             "{\"vm_id\":\"web-1\",\"tap\":\"bngpfedcba98765\"}", BANGER_ERROR_BUSY);
    {
      g_autofree char *p = g_strdup_printf ("{\"tap\":\"%s\"}", vm_tap);
      refused (state, "priv.pool_tap_delete", p, BANGER_ERROR_BUSY);
    }
    kill (pid, SIGKILL);
    waitpid (pid, NULL, 0);
    ck_assert (g_rmdir (scope) == 0);
  }
  /* now it may */
  ok_call (state, "priv.pool_tap_return", "{\"vm_id\":\"web-1\",\"tap\":\"bngpfedcba98765\"}",
           &n4);
  {
    const char *del[] = { "ip", "link", "del", "bngp11111111111", NULL };
    const char *del2[] = { "ip", "link", "del", "bngp22222222222", NULL };
    g_free (host_test_run (del, NULL));
    g_free (host_test_run (del2, NULL));
  }
  host_test_state_free (state);
}
END_TEST

static Suite *
pool_suite (void)
{
  Suite *s = suite_create ("host-pool");
  TCase *tc = tcase_create ("pool");

  tcase_add_unchecked_fixture (tc, host_test_vmm_fixture_setup, host_test_vmm_fixture_teardown);
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_pool_cycle);
  tcase_add_test (tc, test_pool_refusals);
  suite_add_tcase (s, tc);
  return s;
}

BANGER_TEST_MAIN_ROOT (pool_suite, "needs root (netns, taps)")
