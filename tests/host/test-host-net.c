/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Taps, bridges and NAT for real, as root, inside a network namespace the
 * test makes (ip netns add, in the parent) and removes.  Each refusal also
 * checks that nothing changed: the link list and `nft list ruleset` are
 * compared before and after. */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "banger.h"
#include "banger-host-names.h"
#include "banger-netlink.h"
#include "banger-nft.h"
#include "banger-test.h"
#include "banger-vm-mac.h"
#include "host-test-util.h"

static char *
links (void)
{
  const char *argv[] = { "ip", "-o", "link", "show", NULL };
  char *out = host_test_run (argv, NULL);
  ck_assert_ptr_nonnull (out);
  return out;
}

static char *
ruleset (void)
{
  const char *argv[] = { "nft", "list", "ruleset", NULL };
  char *out = host_test_run (argv, NULL);
  ck_assert_ptr_nonnull (out);
  return out;
}

static char *
addrs (const char *dev)
{
  const char *argv[] = { "ip", "-o", "-4", "addr", "show", "dev", dev, NULL };
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

START_TEST (test_tap_bridge)
{
  BangerPrivState *state = host_test_state_new (FALSE);
  g_autofree char *tap = banger_host_tap_name ("web-1", NULL);
  g_autoptr (JsonNode) n1 = NULL, n2 = NULL, n3 = NULL, n4 = NULL, n5 = NULL, n6 = NULL;
  g_auto (BangerLinkInfo) br = { 0 };
  g_auto (BangerLinkInfo) ti = { 0 };
  JsonObject *o;

  host_test_netns_enter ();
  o = ok_call (state, "priv.create_bridge", "{\"name\":\"bngbr0\",\"address\":\"10.77.0.1/24\",\"mtu\":1400}", &n1);
  ck_assert (json_object_get_boolean_member (o, "created"));
  o = ok_call (state, "priv.create_tap",
               "{\"vm_id\":\"web-1\",\"bridge\":\"bngbr0\",\"mtu\":1400}", &n2);
  ck_assert_str_eq (json_object_get_string_member (o, "name"), tap);
  ck_assert (json_object_get_boolean_member (o, "created"));

  ck_assert (banger_netlink_get_link ("bngbr0", &br, NULL));
  ck_assert_str_eq (br.kind, "bridge");
  ck_assert (banger_netlink_get_link (tap, &ti, NULL));
  ck_assert_str_eq (ti.kind, "tun");
  ck_assert_int_eq (ti.master, br.ifindex);
  ck_assert_uint_eq (ti.mtu, 1400);
  ck_assert (ti.up);
  {
    g_autofree char *a = addrs ("bngbr0");
    ck_assert_msg (strstr (a, "10.77.0.1/24") != NULL, "bridge address: %s", a);
  }
  /* tun flags and owner, as the kernel reports them (sysfs of this netns
   * is not mounted here, so ask ip -d) */
  {
    const char *argv[] = { "ip", "-d", "link", "show", "dev", tap, NULL };
    g_autofree char *d = host_test_run (argv, NULL);
    ck_assert_ptr_nonnull (d);
    ck_assert_msg (strstr (d, "tap") && strstr (d, "vnet_hdr") && strstr (d, "persist")
                   && (strstr (d, "user 65534") || strstr (d, "user nobody")), "tap details: %s", d);
  }

  /* again: idempotent, reconfigures */
  o = ok_call (state, "priv.create_tap", "{\"vm_id\":\"web-1\",\"address\":\"10.78.0.1/30\"}", &n3);
  ck_assert (!json_object_get_boolean_member (o, "created"));
  {
    g_autofree char *a = addrs (tap);
    ck_assert (strstr (a, "10.78.0.1/30") != NULL);
  }

  o = ok_call (state, "priv.delete_tap", "{\"vm_id\":\"web-1\"}", &n4);
  ck_assert (json_object_get_boolean_member (o, "deleted"));
  {
    g_autoptr (GError) gone = NULL;
    ck_assert (!banger_netlink_get_link (tap, &ti, &gone));
    banger_assert_error (gone, BANGER_ERROR_NOT_FOUND);
  }
  o = ok_call (state, "priv.delete_tap", "{\"vm_id\":\"web-1\"}", &n5);
  ck_assert (!json_object_get_boolean_member (o, "deleted"));
  o = ok_call (state, "priv.delete_bridge", "{\"name\":\"bngbr0\"}", &n6);
  ck_assert (json_object_get_boolean_member (o, "deleted"));
  host_test_state_free (state);
}
END_TEST

START_TEST (test_ifname_attacks_no_side_effect)
{
  BangerPrivState *state = host_test_state_new (FALSE);
  const char *names[] = { "bng\\\"x", "bng*", "bng0123456789abc", "eth0", "lo", "bngx y" };
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;

  host_test_netns_enter ();
  /* an eth0 to be protected, besides lo */
  {
    const char *argv[] = { "ip", "link", "add", "eth0", "type", "veth", "peer", "name", "eth1", NULL };
    g_autofree char *out = host_test_run (argv, NULL);
    ck_assert_ptr_nonnull (out);
  }
  before = links ();
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      const char *methods[] = { "priv.create_bridge", "priv.delete_bridge" };
      g_autofree char *p = g_strdup_printf ("{\"name\":\"%s\"}", names[i]);
      g_autofree char *pt = g_strdup_printf ("{\"vm_id\":\"a\",\"bridge\":\"%s\"}", names[i]);
      for (gsize m = 0; m < 2; m++)
        {
          g_autoptr (GError) e = NULL;
          g_autoptr (GError) e2 = NULL;
          g_autoptr (JsonNode) r = host_test_call (state, methods[m], p, &e);
          ck_assert_msg (r == NULL, "%s %s accepted", methods[m], p);
          banger_assert_error (e, BANGER_ERROR_INVALID_ARGUMENT);
          ck_assert (!host_test_call_handler (state, 0, methods[m], p, &e2));
          banger_assert_error (e2, BANGER_ERROR_INVALID_ARGUMENT);
        }
      {
        g_autoptr (GError) e = NULL;
        g_autoptr (JsonNode) r = host_test_call (state, "priv.create_tap", pt, &e);
        ck_assert_ptr_null (r);
        banger_assert_error (e, BANGER_ERROR_INVALID_ARGUMENT);
      }
    }
  after = links ();
  ck_assert_str_eq (before, after);
  host_test_state_free (state);
}
END_TEST

START_TEST (test_refuse_non_tap_and_non_bridge)
{
  BangerPrivState *state = host_test_state_new (FALSE);
  g_autofree char *tap = banger_host_tap_name ("web-2", NULL);
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_auto (BangerLinkInfo) li = { 0 };

  host_test_netns_enter ();
  /* a bridge that happens to carry the name banger derives for web-2's tap,
   * and a banger-looking name that is a tap, not a bridge */
  {
    const char *a1[] = { "ip", "link", "add", tap, "type", "bridge", NULL };
    const char *a2[] = { "ip", "tuntap", "add", "dev", "bngfake0", "mode", "tap", NULL };
    g_autofree char *o1 = host_test_run (a1, NULL);
    g_autofree char *o2 = host_test_run (a2, NULL);
    ck_assert (o1 != NULL && o2 != NULL);
  }
  before = links ();
  {
    g_autoptr (GError) e = NULL;
    g_autoptr (JsonNode) r = host_test_call (state, "priv.delete_tap", "{\"vm_id\":\"web-2\"}", &e);
    ck_assert_ptr_null (r);
    banger_assert_error (e, BANGER_ERROR_PERMISSION_DENIED);
  }
  {
    g_autoptr (GError) e = NULL;
    g_autoptr (JsonNode) r = host_test_call (state, "priv.create_tap", "{\"vm_id\":\"web-2\"}", &e);
    ck_assert_ptr_null (r);
    banger_assert_error (e, BANGER_ERROR_PERMISSION_DENIED);
  }
  {
    g_autoptr (GError) e = NULL;
    g_autoptr (JsonNode) r = host_test_call (state, "priv.delete_bridge", "{\"name\":\"bngfake0\"}", &e);
    ck_assert_ptr_null (r);
    banger_assert_error (e, BANGER_ERROR_PERMISSION_DENIED);
  }
  {
    g_autoptr (GError) e = NULL;
    g_autoptr (JsonNode) r = host_test_call (state, "priv.create_tap",
                                             "{\"vm_id\":\"web-3\",\"bridge\":\"bngfake0\"}", &e);
    g_autofree char *t3 = banger_host_tap_name ("web-3", NULL);
    ck_assert_ptr_null (r);
    banger_assert_error (e, BANGER_ERROR_INVALID_ARGUMENT);
    /* the half-made tap was removed again */
    {
      g_autoptr (GError) gone = NULL;
      ck_assert (!banger_netlink_get_link (t3, &li, &gone));
      banger_assert_error (gone, BANGER_ERROR_NOT_FOUND);
    }
  }
  after = links ();
  ck_assert_str_eq (before, after);
  host_test_state_free (state);
}
END_TEST

START_TEST (test_nat)
{
  BangerPrivState *state = host_test_state_new (FALSE);
  g_autofree char *foreign = NULL;
  g_autofree char *rs = NULL;
  g_autoptr (JsonNode) n1 = NULL, n2 = NULL, n3 = NULL, n4 = NULL, n5 = NULL;
  JsonObject *o;

  host_test_netns_enter ();
  /* someone else's table, which must come out byte-for-byte the same */
  {
    const char *argv[] = { "nft", "add table inet other; add chain inet other input { type filter hook input priority 0; policy accept; }; add rule inet other input tcp dport 22 accept; add table ip banger_not", NULL };
    g_autofree char *out = host_test_run (argv, NULL);
    ck_assert_ptr_nonnull (out);
  }
  foreign = ruleset ();

  ok_call (state, "priv.nat_enable", "{\"vm_id\":\"web-1\",\"guest_ip\":\"10.77.0.2\"}", &n1);
  ok_call (state, "priv.nat_enable", "{\"vm_id\":\"web-2\",\"guest_ip\":\"10.77.0.6\"}", &n2);
  /* idempotent: enabling again adds no rule and no element */
  ok_call (state, "priv.nat_enable", "{\"vm_id\":\"web-1\",\"guest_ip\":\"10.77.0.2\"}", &n3);
  rs = ruleset ();
  {
    g_autofree char *banger = NULL;
    const char *argv[] = { "nft", "list", "table", "ip", "banger", NULL };
    banger = host_test_run (argv, NULL);
    ck_assert_ptr_nonnull (banger);
    ck_assert (strstr (banger, "10.77.0.2 comment \"banger-vm:web-1\""));
    ck_assert (strstr (banger, "10.77.0.6 comment \"banger-vm:web-2\""));
    ck_assert (strstr (banger, "masquerade"));
    /* exactly one masquerade rule after three enables */
    ck_assert (strstr (strstr (banger, "masquerade") + 1, "masquerade") == NULL);
  }
  /* the foreign tables are untouched: the ruleset starts with them unchanged */
  {
    const char *argv[] = { "nft", "list", "table", "inet", "other", NULL };
    g_autofree char *other = host_test_run (argv, NULL);
    ck_assert (strstr (foreign, other) != NULL);
  }

  o = ok_call (state, "priv.nat_disable", "{\"vm_id\":\"web-1\"}", &n4);
  ck_assert_int_eq (json_object_get_int_member (o, "removed"), 1);
  {
    g_auto (GStrv) left1 = banger_nft_list_vm ("banger", "web-1", NULL);
    g_auto (GStrv) left2 = banger_nft_list_vm ("banger", "web-2", NULL);
    ck_assert_uint_eq (g_strv_length (left1), 0);
    ck_assert_uint_eq (g_strv_length (left2), 1);
  }
  o = ok_call (state, "priv.nat_disable", "{\"vm_id\":\"web-1\"}", &n5);
  ck_assert_int_eq (json_object_get_int_member (o, "removed"), 0);

  /* remove banger's table by hand: what is left is exactly the foreign ruleset */
  {
    const char *argv[] = { "nft", "delete", "table", "ip", "banger", NULL };
    g_autofree char *after = NULL;
    g_free (host_test_run (argv, NULL));
    after = ruleset ();
    ck_assert_str_eq (after, foreign);
  }
  host_test_state_free (state);
}
END_TEST

START_TEST (test_nat_refusals)
{
  BangerPrivState *state = host_test_state_new (FALSE);
  const char *bad[] = {
    "{\"vm_id\":\"web-1\",\"guest_ip\":\"10.0.0.1; flush ruleset\"}",
    "{\"vm_id\":\"web-1\",\"guest_ip\":\"10.0.0.0/8\"}",
    "{\"vm_id\":\"web-1\",\"guest_ip\":\"::1\"}",
    "{\"vm_id\":\"web-1\\\"\",\"guest_ip\":\"10.0.0.1\"}",
    "{\"vm_id\":\"web-1\",\"guest_ip\":\"10.0.0.1\",\"table\":\"filter\"}",
  };
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;

  host_test_netns_enter ();
  before = ruleset ();
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) e = NULL;
      g_autoptr (JsonNode) r = host_test_call (state, "priv.nat_enable", bad[i], &e);
      ck_assert_msg (r == NULL, "accepted %s", bad[i]);
      banger_assert_error (e, BANGER_ERROR_INVALID_ARGUMENT);
    }
  /* a bad table name in the config is refused too */
  g_free (state->nft_table);
  state->nft_table = g_strdup ("filter; flush ruleset");
  {
    g_autoptr (GError) e = NULL;
    g_autoptr (JsonNode) r = host_test_call (state, "priv.nat_enable",
                                             "{\"vm_id\":\"web-1\",\"guest_ip\":\"10.0.0.1\"}", &e);
    ck_assert_ptr_null (r);
    banger_assert_error (e, BANGER_ERROR_INVALID_ARGUMENT);
  }
  after = ruleset ();
  ck_assert_str_eq (before, after);
  host_test_state_free (state);
}
END_TEST

static char *
neighs (void)
{
  const char *argv[] = { "ip", "-o", "-4", "neigh", "show", NULL };
  char *out = host_test_run (argv, NULL);
  ck_assert_ptr_nonnull (out);
  return out;
}

static void
neigh_refused (BangerPrivState *state, const char *params, BangerError code)
{
  g_autoptr (GError) e = NULL;
  g_autoptr (JsonNode) r = NULL;
  g_autofree char *before = neighs ();
  g_autofree char *after = NULL;

  r = host_test_call (state, "priv.neigh_set", params, &e);
  ck_assert_msg (r == NULL, "accepted %s", params);
  ck_assert_msg (g_error_matches (e, BANGER_ERROR, code), "%s: %s (code %d, meant %d)", params,
                 e->message, e->code, code);
  after = neighs ();
  ck_assert_str_eq (before, after);
}

/* priv.neigh_set: the guest address on banger's bridge -> the MAC derived
 * from the vm_id, and nothing else; cleanup_vm removes only that VM's. */
START_TEST (test_neigh)
{
  BangerPrivState *state = host_test_state_new (FALSE);
  g_autoptr (JsonNode) n1 = NULL, n2 = NULL, n3 = NULL, n4 = NULL, n5 = NULL;
  g_autofree char *mac1 = banger_vm_mac_for ("nb-1", 0);
  g_autofree char *mac2 = banger_vm_mac_for ("nb-2", 0);
  g_autofree char *want1 = g_strdup_printf ("10.77.0.2 dev bngbr0 lladdr %s PERMANENT", mac1);
  g_autofree char *want2 = g_strdup_printf ("10.77.0.3 dev bngbr0 lladdr %s PERMANENT", mac2);
  JsonObject *o;

  host_test_netns_enter ();
  ok_call (state, "priv.create_bridge", "{\"name\":\"bngbr0\",\"address\":\"10.77.0.1/24\"}", &n1);
  {
    const char *a1[] = { "ip", "link", "add", "bngother0", "type", "bridge", NULL };
    const char *a2[] = { "ip", "link", "add", "bngveth0", "type", "veth", "peer", "name", "bngveth1", NULL };
    const char *a3[] = { "ip", "link", "set", "bngother0", "up", NULL };
    /* someone else's permanent entry on banger's bridge, another MAC: it
     * must survive the cleanup of a VM */
    const char *a4[] = { "ip", "neigh", "replace", "10.77.0.9", "lladdr", "02:aa:bb:cc:dd:ee",
                         "nud", "permanent", "dev", "bngbr0", NULL };
    g_autofree char *o1 = host_test_run (a1, NULL);
    g_autofree char *o2 = host_test_run (a2, NULL);
    g_autofree char *o3 = host_test_run (a3, NULL);
    g_autofree char *o4 = host_test_run (a4, NULL);
    ck_assert (o1 && o2 && o3 && o4);
  }

  o = ok_call (state, "priv.neigh_set",
               "{\"vm_id\":\"nb-1\",\"bridge\":\"bngbr0\",\"guest_ip\":\"10.77.0.2\"}", &n2);
  ck_assert_str_eq (json_object_get_string_member (o, "mac"), mac1);
  ok_call (state, "priv.neigh_set",
           "{\"vm_id\":\"nb-2\",\"bridge\":\"bngbr0\",\"guest_ip\":\"10.77.0.3\"}", &n3);
  {
    g_autofree char *t = neighs ();
    ck_assert_msg (strstr (t, want1) && strstr (t, want2), "neighbours: %s", t);
  }

  /* outside the VM network, its network/broadcast address, the host's own
   * address on the bridge: no entry */
  neigh_refused (state, "{\"vm_id\":\"nb-1\",\"bridge\":\"bngbr0\",\"guest_ip\":\"192.168.1.5\"}",
                 BANGER_ERROR_PERMISSION_DENIED);
  neigh_refused (state, "{\"vm_id\":\"nb-1\",\"bridge\":\"bngbr0\",\"guest_ip\":\"10.64.0.0\"}",
                 BANGER_ERROR_PERMISSION_DENIED);
  neigh_refused (state, "{\"vm_id\":\"nb-1\",\"bridge\":\"bngbr0\",\"guest_ip\":\"10.127.255.255\"}",
                 BANGER_ERROR_PERMISSION_DENIED);
  neigh_refused (state, "{\"vm_id\":\"nb-1\",\"bridge\":\"bngbr0\",\"guest_ip\":\"10.77.0.1\"}",
                 BANGER_ERROR_PERMISSION_DENIED);
  /* a bridge not made by this install, a link that is no bridge, none */
  neigh_refused (state, "{\"vm_id\":\"nb-1\",\"bridge\":\"bngother0\",\"guest_ip\":\"10.77.0.2\"}",
                 BANGER_ERROR_PERMISSION_DENIED);
  neigh_refused (state, "{\"vm_id\":\"nb-1\",\"bridge\":\"bngveth0\",\"guest_ip\":\"10.77.0.2\"}",
                 BANGER_ERROR_PERMISSION_DENIED);
  neigh_refused (state, "{\"vm_id\":\"nb-1\",\"bridge\":\"bngbr9\",\"guest_ip\":\"10.77.0.2\"}",
                 BANGER_ERROR_NOT_FOUND);
  /* the client cannot choose the MAC, nor smuggle text */
  neigh_refused (state,
                 "{\"vm_id\":\"nb-1\",\"bridge\":\"bngbr0\",\"guest_ip\":\"10.77.0.2\","
                 "\"mac\":\"02:aa:bb:cc:dd:ee\"}",
                 BANGER_ERROR_INVALID_ARGUMENT);
  neigh_refused (state, "{\"vm_id\":\"nb-1\",\"bridge\":\"bngbr0\",\"guest_ip\":\"10.77.0.2/24\"}",
                 BANGER_ERROR_INVALID_ARGUMENT);
  neigh_refused (state, "{\"vm_id\":\"nb-1\",\"bridge\":\"bngbr0\",\"guest_ip\":\"::1\"}",
                 BANGER_ERROR_INVALID_ARGUMENT);
  neigh_refused (state, "{\"vm_id\":\"nb-1\",\"bridge\":\"bngbr0 x\",\"guest_ip\":\"10.77.0.2\"}",
                 BANGER_ERROR_INVALID_ARGUMENT);
  neigh_refused (state, "{\"vm_id\":\"../x\",\"bridge\":\"bngbr0\",\"guest_ip\":\"10.77.0.2\"}",
                 BANGER_ERROR_INVALID_ARGUMENT);

  /* the same address for another VM: replaced (the lease moved) */
  ok_call (state, "priv.neigh_set",
           "{\"vm_id\":\"nb-2\",\"bridge\":\"bngbr0\",\"guest_ip\":\"10.77.0.2\"}", &n4);
  {
    g_autofree char *t = neighs ();
    g_autofree char *moved = g_strdup_printf ("10.77.0.2 dev bngbr0 lladdr %s PERMANENT", mac2);
    ck_assert_msg (strstr (t, moved) && !strstr (t, mac1), "neighbours: %s", t);
  }
  /* cleanup of nb-2 removes both of its entries and nothing else */
  o = ok_call (state, "priv.cleanup_vm", "{\"vm_id\":\"nb-2\"}", &n5);
  {
    JsonArray *removed = json_object_get_array_member (o, "removed");
    g_autofree char *t = neighs ();
    gboolean seen = FALSE;
    for (guint i = 0; i < json_array_get_length (removed); i++)
      seen = seen || g_str_equal (json_array_get_string_element (removed, i), "neigh");
    ck_assert (seen);
    ck_assert_msg (strstr (t, mac2) == NULL, "neighbours: %s", t);
    ck_assert_msg (strstr (t, "10.77.0.9 dev bngbr0 lladdr 02:aa:bb:cc:dd:ee PERMANENT") != NULL,
                   "neighbours: %s", t);
  }
  host_test_state_free (state);
}
END_TEST

static void
setup (void)
{
  host_test_netns_add ();
}

static void
teardown (void)
{
  host_test_netns_del ();
}

static Suite *
net_suite (void)
{
  Suite *s = suite_create ("host-net");
  TCase *tc = tcase_create ("netns");

  tcase_add_unchecked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_tap_bridge);
  tcase_add_test (tc, test_ifname_attacks_no_side_effect);
  tcase_add_test (tc, test_refuse_non_tap_and_non_bridge);
  tcase_add_test (tc, test_nat);
  tcase_add_test (tc, test_nat_refusals);
  tcase_add_test (tc, test_neigh);
  suite_add_tcase (s, tc);
  return s;
}

BANGER_TEST_MAIN_ROOT (net_suite, "network namespaces, taps, nftables")
