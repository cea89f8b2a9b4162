/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The one IPv4 parser (libbanger/core/banger-ipv4.c) the install config and
 * the store share. */
#include "config.h"

#include "banger-ipv4.h"
#include "banger-test.h"

START_TEST (test_cidr)
{
  static const struct
  {
    const char *text;
    gboolean ok;
    guint32 addr;
    guint prefix;
  } cases[] = {
    { "172.30.0.0/16", TRUE, 0xac1e0000u, 16 },
    { "0.0.0.0/0", TRUE, 0, 0 },
    { "255.255.255.255/32", TRUE, 0xffffffffu, 32 },
    { "10.0.0.1/33", FALSE, 0, 0 },
    { "10.0.0.1/08", FALSE, 0, 0 },
    { "010.0.0.1/8", FALSE, 0, 0 },
    { "10.0.0/8", FALSE, 0, 0 },
    { "10.0.0.256/8", FALSE, 0, 0 },
    { "10.0.0.1", FALSE, 0, 0 },
    { "10.0.0.1/", FALSE, 0, 0 },
    { "10.0.0.1/8 ", FALSE, 0, 0 },
    { " 10.0.0.1/8", FALSE, 0, 0 },
    { "10.0.0.1/-8", FALSE, 0, 0 },
    { "10.0.0.1/+8", FALSE, 0, 0 },
    { "1000.0.0.1/8", FALSE, 0, 0 },
    { "", FALSE, 0, 0 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      guint32 addr = 7;
      guint prefix = 7;
      gboolean ok = banger_ipv4_parse_cidr (cases[i].text, &addr, &prefix);

      ck_assert_msg (ok == cases[i].ok, "'%s'", cases[i].text);
      if (ok)
        {
          ck_assert_uint_eq (addr, cases[i].addr);
          ck_assert_uint_eq (prefix, cases[i].prefix);
        }
    }
  ck_assert (!banger_ipv4_parse_cidr (NULL, NULL, NULL));
}
END_TEST

START_TEST (test_address)
{
  guint32 a = 0;

  ck_assert (banger_ipv4_parse_address ("192.168.1.2", &a));
  ck_assert_uint_eq (a, 0xc0a80102u);
  ck_assert (!banger_ipv4_parse_address ("192.168.1.2/24", &a));
  ck_assert (!banger_ipv4_parse_address ("192.168.01.2", &a));
  ck_assert (!banger_ipv4_parse_address ("192.168.1", &a));
  ck_assert (!banger_ipv4_parse_address (NULL, &a));
}
END_TEST

static Suite *
ipv4_suite (void)
{
  Suite *s = suite_create ("ipv4");
  TCase *tc = tcase_create ("parse");

  tcase_add_test (tc, test_cidr);
  tcase_add_test (tc, test_address);
  suite_add_tcase (s, tc);
  return s;
}

BANGER_TEST_MAIN (ipv4_suite)
