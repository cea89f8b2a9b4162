/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What doctor says about host resolution (libbanger/engine/banger-dns-advice.c). */
#include "config.h"

#include <string.h>

#include "banger-dns-advice.h"
#include "banger-test.h"

static char *
advise (const char *resolv, gboolean resolved, gboolean dnsmasq, gboolean unbound,
        BangerDnsHostResolver want, gboolean want_ok)
{
  BangerDnsHostFacts f = { resolv, resolved, dnsmasq, unbound };
  gboolean ok = !want_ok;
  char *advice = NULL;
  BangerDnsHostResolver r = banger_dns_host_advice (&f, "banger.internal", "172.30.1.1",
                                                    "1.30.172.in-addr.arpa", &ok, &advice);

  ck_assert_int_eq (r, want);
  ck_assert_int_eq (ok, want_ok);
  ck_assert_ptr_nonnull (advice);
  return advice;
}

START_TEST (test_advice)
{
  g_autofree char *a = advise ("nameserver 127.0.0.53\noptions edns0\n", TRUE, FALSE, FALSE,
                               BANGER_DNS_HOST_RESOLVED, TRUE);
  /* resolved runs but resolv.conf bypasses its stub: not routed */
  g_autofree char *b
      = advise ("nameserver 192.0.2.1\n", TRUE, FALSE, FALSE, BANGER_DNS_HOST_PLAIN, FALSE);
  g_autofree char *c
      = advise ("nameserver 127.0.0.1\n", FALSE, TRUE, FALSE, BANGER_DNS_HOST_DNSMASQ, FALSE);
  g_autofree char *d
      = advise ("nameserver 127.0.0.1\n", FALSE, FALSE, TRUE, BANGER_DNS_HOST_UNBOUND, FALSE);
  g_autofree char *e = advise ("# banger\nnameserver   172.30.1.1\nnameserver 192.0.2.1\n", FALSE,
                               FALSE, FALSE, BANGER_DNS_HOST_PLAIN, TRUE);
  g_autofree char *f = advise (NULL, FALSE, FALSE, FALSE, BANGER_DNS_HOST_PLAIN, FALSE);
  /* a commented-out line does not count */
  g_autofree char *g
      = advise ("#nameserver 172.30.1.1\n", FALSE, FALSE, FALSE, BANGER_DNS_HOST_PLAIN, FALSE);

  ck_assert (strstr (a, "resolvectl domain bngbr0 '~banger.internal' '~1.30.172.in-addr.arpa'"));
  ck_assert (strstr (b, "nameserver 172.30.1.1"));
  ck_assert (
      strstr (c, "server=/banger.internal/172.30.1.1\n  server=/1.30.172.in-addr.arpa/172.30.1.1"));
  ck_assert (strstr (d, "stub-zone:\n    name: \"banger.internal\"\n    stub-addr: 172.30.1.1"));
  ck_assert (strstr (d, "local-zone: \"1.30.172.in-addr.arpa.\" nodefault"));
  ck_assert (strstr (e, "lists 172.30.1.1"));
  ck_assert (strstr (f, "banger never edits"));
  ck_assert (strstr (g, "banger never edits"));
}
END_TEST

static Suite *
advice_suite (void)
{
  Suite *s = suite_create ("dns-advice");
  TCase *tc = tcase_create ("advice");

  tcase_add_test (tc, test_advice);
  suite_add_tcase (s, tc);
  return s;
}

BANGER_TEST_MAIN (advice_suite)
