/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The publish / egress / domain texts (libbanger/core/banger-reach.c) the
 * CLI, the engine and the root helper share. */
#include "config.h"

#include "banger-error.h"
#include "banger-reach.h"
#include "banger-test.h"

START_TEST (test_publish_parse)
{
  static const struct
  {
    const char *text;
    const char *canon; /* NULL: refused */
  } cases[] = {
    { "8080:80", "0.0.0.0:8080:80/tcp" },
    { "8080:80/udp", "0.0.0.0:8080:80/udp" },
    { "10.0.0.1:8080:80/tcp", "10.0.0.1:8080:80/tcp" },
    { "0.0.0.0:1:65535", "0.0.0.0:1:65535/tcp" },
    { "65535:1", "0.0.0.0:65535:1/tcp" },
    { "0:80", NULL },
    { "70000:80", NULL },
    { "8080:65536", NULL },
    { "8080:0", NULL },
    { "08080:80", NULL },
    { "+8080:80", NULL },
    { "-1:80", NULL },
    { " 8080:80", NULL },
    { "8080:80 ", NULL },
    { "8080", NULL },
    { "8080:80:90:100", NULL },
    { "8080:80/", NULL },
    { "8080:80/TCP", NULL },
    { "8080:80/sctp", NULL },
    { "8080:80/tcp/udp", NULL },
    { "localhost:8080:80", NULL },
    { "10.0.0:8080:80", NULL },
    { "010.0.0.1:8080:80", NULL },
    { "224.0.0.1:8080:80", NULL },
    { "255.255.255.255:8080:80", NULL },
    { "0.1.2.3:8080:80", NULL },
    { ":8080:80", NULL },
    { "", NULL },
    { "8080:80\n", NULL },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      BangerPublish p;
      g_autoptr (GError) e = NULL;
      gboolean ok = banger_publish_parse (cases[i].text, &p, &e);

      if (cases[i].canon == NULL)
        {
          ck_assert_msg (!ok, "accepted '%s'", cases[i].text);
          banger_assert_error (e, BANGER_ERROR_INVALID_ARGUMENT);
        }
      else
        {
          g_autofree char *c = NULL;
          ck_assert_msg (ok, "refused '%s': %s", cases[i].text, e ? e->message : "");
          c = banger_publish_to_string (&p);
          ck_assert_str_eq (c, cases[i].canon);
        }
    }
  ck_assert (!banger_publish_parse (NULL, &(BangerPublish){ 0 }, NULL));
}
END_TEST

START_TEST (test_publish_list)
{
  const char *ok[] = { "8080:80", "10.0.0.1:8081:80", "8080:80/udp", NULL };
  const char *overlap1[] = { "8080:80", "10.0.0.1:8080:81", NULL };
  const char *overlap2[] = { "10.0.0.1:8080:80", "10.0.0.1:8080:81", NULL };
  const char *distinct[] = { "10.0.0.1:8080:80", "10.0.0.2:8080:81", NULL };
  g_autoptr (GArray) l = banger_publish_parse_list (ok, NULL);
  g_autoptr (GArray) d = banger_publish_parse_list (distinct, NULL);
  g_autofree char *joined = NULL;
  g_autoptr (GError) e1 = NULL;
  g_autoptr (GError) e2 = NULL;
  g_autoptr (GError) e3 = NULL;
  g_autoptr (GArray) back = NULL;
  g_autoptr (GPtrArray) many = g_ptr_array_new_with_free_func (g_free);

  ck_assert_ptr_nonnull (l);
  ck_assert_uint_eq (l->len, 3);
  ck_assert_ptr_nonnull (d);
  joined = banger_publish_list_join (l);
  ck_assert_str_eq (joined, "0.0.0.0:8080:80/tcp,10.0.0.1:8081:80/tcp,0.0.0.0:8080:80/udp");
  back = banger_publish_list_split (joined, NULL);
  ck_assert_uint_eq (back->len, 3);
  ck_assert_ptr_null (banger_publish_parse_list (overlap1, &e1));
  banger_assert_error (e1, BANGER_ERROR_INVALID_ARGUMENT);
  ck_assert_ptr_null (banger_publish_parse_list (overlap2, &e2));
  banger_assert_error (e2, BANGER_ERROR_INVALID_ARGUMENT);
  for (int i = 0; i <= BANGER_PUBLISH_MAX; i++)
    g_ptr_array_add (many, g_strdup_printf ("%d:80", 10000 + i));
  g_ptr_array_add (many, NULL);
  ck_assert_ptr_null (banger_publish_parse_list ((const char *const *)many->pdata, &e3));
  banger_assert_error (e3, BANGER_ERROR_INVALID_ARGUMENT);
  {
    g_autoptr (GArray) empty = banger_publish_list_split ("", NULL);
    ck_assert_uint_eq (empty->len, 0);
  }
}
END_TEST

START_TEST (test_egress_parse)
{
  static const struct
  {
    const char *text;
    const char *canon;
    BangerEgressMode mode;
  } cases[] = {
    { NULL, "nat", BANGER_EGRESS_NAT },
    { "", "nat", BANGER_EGRESS_NAT },
    { "nat", "nat", BANGER_EGRESS_NAT },
    { "none", "none", BANGER_EGRESS_NONE },
    { "10.1.2.3/8", "10.0.0.0/8", BANGER_EGRESS_CIDRS },
    { "192.168.1.0/24,10.0.0.0/8", "192.168.1.0/24,10.0.0.0/8", BANGER_EGRESS_CIDRS },
    { "1.2.3.4/32", "1.2.3.4/32", BANGER_EGRESS_CIDRS },
    { "NAT", NULL, 0 },
    { "none,10.0.0.0/8", NULL, 0 },
    { "10.0.0.0", NULL, 0 },
    { "10.0.0.0/33", NULL, 0 },
    { "10.0.0.0/8,", NULL, 0 },
    { ",10.0.0.0/8", NULL, 0 },
    { "10.0.0.0/8, 11.0.0.0/8", NULL, 0 },
    { "10.0.0.0/8,10.1.0.0/8", NULL, 0 },
    { "10.0.0.0/8 } accept", NULL, 0 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) e = NULL;
      g_autoptr (GPtrArray) cidrs = NULL;
      BangerEgressMode mode = 99;
      g_autofree char *canon = banger_egress_parse (cases[i].text, &mode, &cidrs, &e);

      if (cases[i].canon == NULL)
        {
          ck_assert_msg (canon == NULL, "accepted '%s'", cases[i].text);
          banger_assert_error (e, BANGER_ERROR_INVALID_ARGUMENT);
          ck_assert_int_eq (mode, 99);
        }
      else
        {
          ck_assert_msg (canon != NULL, "refused '%s'", cases[i].text);
          ck_assert_str_eq (canon, cases[i].canon);
          ck_assert_int_eq (mode, cases[i].mode);
        }
    }
  {
    g_autoptr (GString) s = g_string_new (NULL);
    g_autoptr (GError) e = NULL;
    g_autofree char *canon = NULL;
    for (int i = 0; i <= BANGER_EGRESS_MAX_CIDRS; i++)
      g_string_append_printf (s, "%s10.%d.0.0/16", i ? "," : "", i);
    canon = banger_egress_parse (s->str, NULL, NULL, &e);
    ck_assert_ptr_null (canon);
    banger_assert_error (e, BANGER_ERROR_INVALID_ARGUMENT);
  }
}
END_TEST

START_TEST (test_domain)
{
  const char *good[] = { "banger.internal", "a", "a-b.c1", "x.y.z.internal", NULL };
  const char *bad[] = { "",
                        "Banger.internal",
                        "banger.internal.",
                        ".banger",
                        "a..b",
                        "-a.b",
                        "a-.b",
                        "a_b.c",
                        "a b",
                        "bänger.internal",
                        NULL };

  for (int i = 0; good[i]; i++)
    ck_assert_msg (banger_validate_dns_domain (good[i], NULL), "refused %s", good[i]);
  for (int i = 0; bad[i]; i++)
    {
      g_autoptr (GError) e = NULL;
      ck_assert_msg (!banger_validate_dns_domain (bad[i], &e), "accepted %s", bad[i]);
      banger_assert_error (e, BANGER_ERROR_INVALID_ARGUMENT);
    }
  ck_assert (!banger_validate_dns_domain (NULL, NULL));
  {
    g_autofree char *label = g_strnfill (64, 'a');
    ck_assert (!banger_validate_dns_domain (label, NULL));
  }
  {
    g_autofree char *z24 = banger_reverse_zone (0xac1e0101u, 24);
    g_autofree char *z16 = banger_reverse_zone (0xac1e0101u, 20);
    g_autofree char *z8 = banger_reverse_zone (0x0a000001u, 10);
    ck_assert_str_eq (z24, "1.30.172.in-addr.arpa");
    ck_assert_str_eq (z16, "30.172.in-addr.arpa");
    ck_assert_str_eq (z8, "10.in-addr.arpa");
    ck_assert_ptr_null (banger_reverse_zone (0x0a000001u, 4));
  }
}
END_TEST

static Suite *
reach_suite (void)
{
  Suite *s = suite_create ("reach");
  TCase *tc = tcase_create ("texts");

  tcase_add_test (tc, test_publish_parse);
  tcase_add_test (tc, test_publish_list);
  tcase_add_test (tc, test_egress_parse);
  tcase_add_test (tc, test_domain);
  suite_add_tcase (s, tc);
  return s;
}

BANGER_TEST_MAIN (reach_suite)
