/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The DNS query handling (banger_dns_answer) and its name table: answers
 * (A, PTR, case, EDNS0), negative answers (NXDOMAIN, NODATA, REFUSED), and
 * every kind of malformed query with the one outcome doc/dns.md promises
 * for it (FORMERR, NOTIMP, or dropped). */
#include "config.h"

#include <arpa/inet.h>

#include "banger-dns-message.h"
#include "banger-error.h"
#include "banger-test.h"
#include "dns-test-query.h"

static BangerDnsTable *
make_table (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerDnsTable) t = banger_dns_table_new (NULL, &error);
  g_autoptr (GInetAddress) a = g_inet_address_new_from_string ("10.0.0.2");
  g_autoptr (GInetAddress) b = g_inet_address_new_from_string ("10.0.0.3");
  g_autoptr (GInetAddress) net = g_inet_address_new_from_string ("10.0.0.0");

  ck_assert_msg (t != NULL, "%s", error ? error->message : "");
  ck_assert (banger_dns_table_set (t, "web", a, &error));
  ck_assert (banger_dns_table_set (t, "db-1", b, &error));
  ck_assert (banger_dns_table_set_reverse_network (t, net, 24, &error));
  return g_steal_pointer (&t);
}

static GBytes *
ask (BangerDnsTable *t, GByteArray *q)
{
  return banger_dns_answer (t, q->data, q->len, BANGER_DNS_TRANSPORT_UDP);
}

/* The response to @q, which must exist, with @rcode. */
static GBytes *
ask_rcode (BangerDnsTable *t, GByteArray *q, guint rcode)
{
  GBytes *r = ask (t, q);

  ck_assert_msg (r != NULL, "query dropped, expected rcode %u", rcode);
  ck_assert_uint_eq (dr_id (r), (guint)((q->data[0] << 8) | q->data[1]));
  ck_assert (dr_flags (r) & DR_QR);
  ck_assert_uint_eq (dr_rcode (r), rcode);
  return r;
}

START_TEST (test_a_answer)
{
  g_autoptr (BangerDnsTable) t = make_table ();
  g_autoptr (GByteArray) q = dq_query (0x1234, "web.banger.internal", 1, FALSE);
  g_autoptr (GBytes) r = ask_rcode (t, q, BANGER_DNS_RCODE_NOERROR);
  gsize len, qend = q->len;
  const guint8 *p = g_bytes_get_data (r, &len);

  ck_assert (dr_flags (r) & DR_AA);
  ck_assert (dr_flags (r) & DR_RD);
  ck_assert (!(dr_flags (r) & DR_RA));
  ck_assert_uint_eq (dr_qd (r), 1);
  ck_assert_uint_eq (dr_an (r), 1);
  ck_assert_uint_eq (dr_ar (r), 0);
  /* the question, byte for byte, then the answer: pointer, A, IN, TTL, 4 */
  ck_assert_mem_eq (p + 12, q->data + 12, qend - 12);
  ck_assert_uint_eq (len, qend + 16);
  ck_assert_uint_eq (dr_u16 (r, qend), 0xC00C);
  ck_assert_uint_eq (dr_u16 (r, qend + 2), 1);
  ck_assert_uint_eq (dr_u16 (r, qend + 4), 1);
  ck_assert_uint_eq ((dr_u16 (r, qend + 6) << 16) | dr_u16 (r, qend + 8), BANGER_DNS_TTL);
  ck_assert_uint_eq (dr_u16 (r, qend + 10), 4);
  ck_assert_mem_eq (p + qend + 12, "\x0a\x00\x00\x02", 4);
}
END_TEST

START_TEST (test_a_case_insensitive)
{
  g_autoptr (BangerDnsTable) t = make_table ();
  g_autoptr (GByteArray) q = dq_query (7, "DB-1.Banger.INTERNAL", 1, FALSE);
  g_autoptr (GBytes) r = ask_rcode (t, q, BANGER_DNS_RCODE_NOERROR);
  const guint8 *p = g_bytes_get_data (r, NULL);

  ck_assert_uint_eq (dr_an (r), 1);
  /* the question's case is kept (0x20 randomisation checks it) */
  ck_assert_mem_eq (p + 12, q->data + 12, q->len - 12);
  ck_assert_mem_eq (p + q->len + 12, "\x0a\x00\x00\x03", 4);
}
END_TEST

START_TEST (test_any_answers_a)
{
  g_autoptr (BangerDnsTable) t = make_table ();
  g_autoptr (GByteArray) q = dq_query (7, "web.banger.internal", BANGER_DNS_TYPE_ANY, FALSE);
  g_autoptr (GBytes) r = ask_rcode (t, q, BANGER_DNS_RCODE_NOERROR);

  ck_assert_uint_eq (dr_an (r), 1);
  ck_assert_uint_eq (dr_u16 (r, q->len + 2), BANGER_DNS_TYPE_A);
}
END_TEST

START_TEST (test_custom_domain)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerDnsTable) t = banger_dns_table_new ("Lab.Example.", &error);
  g_autoptr (GInetAddress) a = g_inet_address_new_from_string ("192.168.7.9");
  g_autoptr (GByteArray) q = dq_query (1, "web.lab.example", 1, FALSE);
  g_autoptr (GByteArray) q2 = dq_query (2, "web.banger.internal", 1, FALSE);
  g_autoptr (GBytes) r = NULL;
  g_autoptr (GBytes) r2 = NULL;

  ck_assert (t != NULL);
  ck_assert_str_eq (banger_dns_table_get_domain (t), "lab.example");
  ck_assert (banger_dns_table_set (t, "web", a, &error));
  r = ask_rcode (t, q, BANGER_DNS_RCODE_NOERROR);
  ck_assert_uint_eq (dr_an (r), 1);
  r2 = ask_rcode (t, q2, BANGER_DNS_RCODE_REFUSED);
}
END_TEST

START_TEST (test_nxdomain)
{
  g_autoptr (BangerDnsTable) t = make_table ();
  const char *names[]
      = { "nope.banger.internal", "x.web.banger.internal", "we\\b.banger.internal" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autoptr (GByteArray) q = dq_query (3, names[i], 1, FALSE);
      g_autoptr (GBytes) r = ask_rcode (t, q, BANGER_DNS_RCODE_NXDOMAIN);

      ck_assert (dr_flags (r) & DR_AA);
      ck_assert_uint_eq (dr_an (r), 0);
      ck_assert_uint_eq (dr_qd (r), 1);
    }
}
END_TEST

/* A label holding a '.' byte or a NUL is not "web" + "banger"... */
START_TEST (test_label_bytes_do_not_split)
{
  g_autoptr (BangerDnsTable) t = make_table ();
  g_autoptr (GByteArray) q = dq_header (3, 1, 1, 0, 0, 0);
  g_autoptr (GByteArray) q2 = dq_header (3, 1, 1, 0, 0, 0);
  g_autoptr (GBytes) r = NULL;
  g_autoptr (GBytes) r2 = NULL;

  /* one label "web.banger" then "internal": outside the domain */
  dq_u8 (q, 10);
  g_byte_array_append (q, (const guint8 *)"web.banger", 10);
  dq_name (q, "internal");
  dq_u16 (q, 1);
  dq_u16 (q, 1);
  r = ask_rcode (t, q, BANGER_DNS_RCODE_REFUSED);
  /* "web\0" under the domain: not the VM "web" */
  dq_u8 (q2, 4);
  g_byte_array_append (q2, (const guint8 *)"web\0", 4);
  dq_name (q2, "banger.internal");
  dq_u16 (q2, 1);
  dq_u16 (q2, 1);
  r2 = ask_rcode (t, q2, BANGER_DNS_RCODE_NXDOMAIN);
}
END_TEST

START_TEST (test_nodata)
{
  g_autoptr (BangerDnsTable) t = make_table ();
  struct
  {
    const char *name;
    guint type;
  } cases[] = {
    { "web.banger.internal", BANGER_DNS_TYPE_AAAA },
    { "web.banger.internal", BANGER_DNS_TYPE_PTR },
    { "banger.internal", BANGER_DNS_TYPE_A },
    { "2.0.0.10.in-addr.arpa", BANGER_DNS_TYPE_A },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GByteArray) q = dq_query (3, cases[i].name, cases[i].type, FALSE);
      g_autoptr (GBytes) r = ask_rcode (t, q, BANGER_DNS_RCODE_NOERROR);

      ck_assert_msg (dr_an (r) == 0, "%s type %u", cases[i].name, cases[i].type);
      ck_assert (dr_flags (r) & DR_AA);
    }
}
END_TEST

START_TEST (test_refused)
{
  g_autoptr (BangerDnsTable) t = make_table ();
  struct
  {
    const char *name;
    guint type;
    guint qclass;
  } cases[] = {
    { "example.com", 1, 1 },
    { "web.banger.internal.com", 1, 1 },
    { "internal", 1, 1 },
    { "", 1, 1 },
    { "web.banger.internal", 1, 3 },   /* CHAOS */
    { "web.banger.internal", 1, 255 }, /* class ANY */
    { "banger.internal", BANGER_DNS_TYPE_AXFR, 1 },
    { "banger.internal", BANGER_DNS_TYPE_IXFR, 1 },
    { "9.9.9.9.in-addr.arpa", 12, 1 },   /* outside the reverse network */
    { "02.0.0.10.in-addr.arpa", 12, 1 }, /* leading zero */
    { "256.0.0.10.in-addr.arpa", 12, 1 },
    { "0.0.10.in-addr.arpa", 12, 1 }, /* not a whole address */
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GByteArray) q = dq_header (9, 1, 1, 0, 0, 0);
      g_autoptr (GBytes) r = NULL;

      dq_name (q, cases[i].name);
      dq_u16 (q, cases[i].type);
      dq_u16 (q, cases[i].qclass);
      r = ask (t, q);
      ck_assert_msg (r != NULL && dr_rcode (r) == BANGER_DNS_RCODE_REFUSED,
                     "'%s' type %u class %u: expected REFUSED", cases[i].name, cases[i].type,
                     cases[i].qclass);
      ck_assert (!(dr_flags (r) & DR_AA));
      ck_assert_uint_eq (dr_an (r), 0);
    }
}
END_TEST

START_TEST (test_ptr)
{
  g_autoptr (BangerDnsTable) t = make_table ();
  g_autoptr (GByteArray) q = dq_query (5, "3.0.0.10.IN-ADDR.ARPA", BANGER_DNS_TYPE_PTR, FALSE);
  g_autoptr (GBytes) r = ask_rcode (t, q, BANGER_DNS_RCODE_NOERROR);
  gsize len;
  const guint8 *p = g_bytes_get_data (r, &len);
  static const guint8 target[] = "\x04"
                                 "db-1"
                                 "\x06"
                                 "banger"
                                 "\x08"
                                 "internal";

  ck_assert (dr_flags (r) & DR_AA);
  ck_assert_uint_eq (dr_an (r), 1);
  ck_assert_uint_eq (dr_u16 (r, q->len + 2), BANGER_DNS_TYPE_PTR);
  ck_assert_uint_eq (dr_u16 (r, q->len + 10), sizeof target);
  ck_assert_uint_eq (len, q->len + 12 + sizeof target);
  ck_assert_mem_eq (p + q->len + 12, target, sizeof target);
}
END_TEST

START_TEST (test_ptr_nxdomain_in_network)
{
  g_autoptr (BangerDnsTable) t = make_table ();
  g_autoptr (GByteArray) q = dq_query (5, "77.0.0.10.in-addr.arpa", BANGER_DNS_TYPE_PTR, FALSE);
  g_autoptr (GBytes) r = ask_rcode (t, q, BANGER_DNS_RCODE_NXDOMAIN);

  ck_assert (dr_flags (r) & DR_AA);
}
END_TEST

START_TEST (test_edns)
{
  g_autoptr (BangerDnsTable) t = make_table ();
  g_autoptr (GByteArray) q = dq_header (11, 1, 1, 0, 0, 1);
  g_autoptr (GBytes) r = NULL;
  /* a client cookie (option 10) and padding (option 12): ignored, not an error */
  static const guint8 opts[] = { 0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0, 12, 0, 2, 0, 0 };
  gsize len;
  const guint8 *p;

  dq_name (q, "web.banger.internal");
  dq_u16 (q, 1);
  dq_u16 (q, 1);
  dq_opt (q, 4096, 0, opts, sizeof opts);
  r = ask_rcode (t, q, BANGER_DNS_RCODE_NOERROR);
  p = g_bytes_get_data (r, &len);
  ck_assert_uint_eq (dr_an (r), 1);
  ck_assert_uint_eq (dr_ar (r), 1);
  /* the OPT last: root, type 41, our payload size, version 0, no options */
  ck_assert_uint_eq (p[len - 11], 0);
  ck_assert_uint_eq (dr_u16 (r, len - 10), BANGER_DNS_TYPE_OPT);
  ck_assert_uint_eq (dr_u16 (r, len - 8), BANGER_DNS_EDNS_UDP_MAX);
  ck_assert_uint_eq (dr_u16 (r, len - 6), 0);
  ck_assert_uint_eq (dr_u16 (r, len - 2), 0);
}
END_TEST

START_TEST (test_edns_badvers)
{
  g_autoptr (BangerDnsTable) t = make_table ();
  g_autoptr (GByteArray) q = dq_header (11, 1, 1, 0, 0, 1);
  g_autoptr (GBytes) r = NULL;
  gsize len;
  const guint8 *p;

  dq_name (q, "web.banger.internal");
  dq_u16 (q, 1);
  dq_u16 (q, 1);
  dq_opt (q, 1232, 1, NULL, 0);
  r = ask_rcode (t, q, 0); /* BADVERS = 16: low bits 0 in the header */
  p = g_bytes_get_data (r, &len);
  ck_assert_uint_eq (dr_an (r), 0);
  ck_assert_uint_eq (dr_ar (r), 1);
  ck_assert_uint_eq (p[len - 6], BANGER_DNS_RCODE_BADVERS >> 4); /* extended rcode */
  ck_assert_uint_eq (p[len - 5], 0);                             /* version */
}
END_TEST

/* Responses are at most ~320 bytes by construction, so the truncation rule
 * shows as: a payload size below 512 counts as 512 (RFC 6891 6.2.5), and
 * the answer is whole, TC clear. */
START_TEST (test_udp_small_payload)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *label = g_strnfill (63, 'a');
  g_autofree char *domain = g_strdup_printf ("%.60s.%.60s.%.60s", label, label, label);
  g_autoptr (BangerDnsTable) t = banger_dns_table_new (domain, &error);
  g_autoptr (GInetAddress) a = g_inet_address_new_from_string ("10.1.2.3");
  g_autoptr (GByteArray) q = dq_header (1, 1, 1, 0, 0, 1);
  g_autoptr (GBytes) r = NULL;

  ck_assert_msg (t != NULL, "%s", error ? error->message : "");
  ck_assert (banger_dns_table_set (t, label, a, &error));
  dq_name (q, "3.2.1.10.in-addr.arpa");
  dq_u16 (q, BANGER_DNS_TYPE_PTR);
  dq_u16 (q, 1);
  dq_opt (q, 100, 0, NULL, 0);
  r = ask_rcode (t, q, BANGER_DNS_RCODE_NOERROR);
  ck_assert (!(dr_flags (r) & DR_TC));
  ck_assert_uint_eq (dr_an (r), 1);
  ck_assert_uint_gt (g_bytes_get_size (r), 300);
  ck_assert_uint_le (g_bytes_get_size (r), BANGER_DNS_UDP_PLAIN_MAX);
}
END_TEST

/* ---------------------------------------------------------- malformed */

START_TEST (test_dropped)
{
  g_autoptr (BangerDnsTable) t = make_table ();
  g_autoptr (GByteArray) ok = dq_query (1, "web.banger.internal", 1, FALSE);
  g_autoptr (GByteArray) response = dq_query (1, "web.banger.internal", 1, FALSE);
  g_autoptr (GByteArray) big = dq_query (1, "web.banger.internal", 1, FALSE);
  guint8 zero[12] = { 0 };

  /* shorter than a header */
  ck_assert_ptr_null (banger_dns_answer (t, ok->data, 11, BANGER_DNS_TRANSPORT_UDP));
  ck_assert_ptr_null (banger_dns_answer (t, ok->data, 0, BANGER_DNS_TRANSPORT_TCP));
  /* a response (QR set) */
  response->data[2] |= 0x80;
  ck_assert_ptr_null (ask (t, response));
  /* oversized, on both transports */
  g_byte_array_set_size (big, BANGER_DNS_MAX_QUERY + 1);
  ck_assert_ptr_null (banger_dns_answer (t, big->data, big->len, BANGER_DNS_TRANSPORT_UDP));
  ck_assert_ptr_null (banger_dns_answer (t, big->data, big->len, BANGER_DNS_TRANSPORT_TCP));
  /* (a bare zero header is a query with QDCOUNT 0: FORMERR, not dropped) */
  {
    g_autoptr (GBytes) r = banger_dns_answer (t, zero, sizeof zero, BANGER_DNS_TRANSPORT_UDP);

    ck_assert_ptr_nonnull (r);
    ck_assert_uint_eq (dr_rcode (r), BANGER_DNS_RCODE_FORMERR);
  }
}
END_TEST

/* Each malformed query: FORMERR, header only (QDCOUNT 0), same id. */
static void
assert_formerr (BangerDnsTable *t, GByteArray *q, const char *what)
{
  g_autoptr (GBytes) r = ask (t, q);

  ck_assert_msg (r != NULL, "%s: dropped, expected FORMERR", what);
  ck_assert_msg (dr_rcode (r) == BANGER_DNS_RCODE_FORMERR, "%s: rcode %u, expected FORMERR", what,
                 dr_rcode (r));
  ck_assert_uint_eq (dr_id (r), (guint)((q->data[0] << 8) | q->data[1]));
  ck_assert_uint_eq (dr_qd (r), 0);
  ck_assert_uint_eq (g_bytes_get_size (r), 12);
}

START_TEST (test_formerr_counts)
{
  g_autoptr (BangerDnsTable) t = make_table ();
  guint counts[][3] = { { 0, 0, 0 }, { 2, 0, 0 }, { 1, 1, 0 }, { 1, 0, 1 }, { 65535, 0, 0 } };

  for (guint i = 0; i < G_N_ELEMENTS (counts); i++)
    {
      g_autoptr (GByteArray) q = dq_header (42, 1, counts[i][0], counts[i][1], counts[i][2], 0);
      g_autofree char *what
          = g_strdup_printf ("QD %u AN %u NS %u", counts[i][0], counts[i][1], counts[i][2]);

      dq_name (q, "web.banger.internal");
      dq_u16 (q, 1);
      dq_u16 (q, 1);
      if (counts[i][0] == 2)
        {
          dq_name (q, "db-1.banger.internal");
          dq_u16 (q, 1);
          dq_u16 (q, 1);
        }
      assert_formerr (t, q, what);
    }
}
END_TEST

START_TEST (test_formerr_truncated)
{
  g_autoptr (BangerDnsTable) t = make_table ();
  g_autoptr (GByteArray) full = dq_query (42, "web.banger.internal", 1, TRUE);

  /* every cut between the header and the end is malformed */
  for (guint len = 12; len < full->len; len++)
    {
      g_autoptr (GByteArray) q = g_byte_array_new ();
      g_autofree char *what = g_strdup_printf ("cut at %u of %u", len, full->len);

      g_byte_array_append (q, full->data, len);
      assert_formerr (t, q, what);
    }
}
END_TEST

START_TEST (test_formerr_labels)
{
  g_autoptr (BangerDnsTable) t = make_table ();
  guint8 bad[] = { 0x40, 0x80, 0x41, 0xBF };

  /* extended and reserved label types (0x40, 0x80 prefixes) */
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GByteArray) q = dq_header (42, 1, 1, 0, 0, 0);

      dq_u8 (q, bad[i]);
      dq_name (q, "banger.internal");
      dq_u16 (q, 1);
      dq_u16 (q, 1);
      assert_formerr (t, q, "label type");
    }
  /* a label length past the end of the message */
  {
    g_autoptr (GByteArray) q = dq_header (42, 1, 1, 0, 0, 0);

    dq_u8 (q, 63);
    g_byte_array_append (q, (const guint8 *)"web", 3);
    dq_u16 (q, 1);
    dq_u16 (q, 1);
    assert_formerr (t, q, "label past the end");
  }
  /* a name over 255 octets (5 labels of 63) */
  {
    g_autoptr (GByteArray) q = dq_header (42, 1, 1, 0, 0, 0);
    g_autofree char *l = g_strnfill (63, 'x');
    g_autofree char *name = g_strjoin (".", l, l, l, l, NULL);

    dq_name (q, name);
    q->data[q->len - 1] = 1; /* a fifth label instead of the root */
    dq_u8 (q, 'x');
    dq_u8 (q, 0);
    dq_u16 (q, 1);
    dq_u16 (q, 1);
    assert_formerr (t, q, "name over 255 octets");
  }
}
END_TEST

START_TEST (test_formerr_compression)
{
  g_autoptr (BangerDnsTable) t = make_table ();

  /* a question pointing at itself (a loop), into the header, forwards */
  guint targets[] = { 12, 0, 2, 20 };

  for (guint i = 0; i < G_N_ELEMENTS (targets); i++)
    {
      g_autoptr (GByteArray) q = dq_header (42, 1, 1, 0, 0, 0);

      dq_u16 (q, 0xC000 | targets[i]);
      dq_u16 (q, 1);
      dq_u16 (q, 1);
      dq_name (q, "web.banger.internal");
      assert_formerr (t, q, "pointer in the question");
    }
  /* an additional record whose name loops: A -> B -> A */
  {
    g_autoptr (GByteArray) q = dq_header (42, 1, 1, 0, 0, 1);
    guint a;

    dq_name (q, "web.banger.internal");
    dq_u16 (q, 1);
    dq_u16 (q, 1);
    a = q->len;
    dq_u8 (q, 1);
    dq_u8 (q, 'x');
    dq_u16 (q, 0xC000 | (a + 4)); /* forwards to the pointer back */
    dq_u16 (q, 0xC000 | a);
    dq_u16 (q, 1);
    dq_u16 (q, 1);
    dq_u32 (q, 0);
    dq_u16 (q, 0);
    assert_formerr (t, q, "pointer loop in additional");
  }
  /* ...while a backwards pointer there is fine (to the question name) */
  {
    g_autoptr (GByteArray) q = dq_header (42, 1, 1, 0, 0, 1);
    g_autoptr (GBytes) r = NULL;

    dq_name (q, "web.banger.internal");
    dq_u16 (q, 1);
    dq_u16 (q, 1);
    dq_u16 (q, 0xC00C);
    dq_u16 (q, 1);
    dq_u16 (q, 1);
    dq_u32 (q, 0);
    dq_u16 (q, 4);
    dq_u32 (q, 0x01020304);
    r = ask_rcode (t, q, BANGER_DNS_RCODE_NOERROR);
    ck_assert_uint_eq (dr_an (r), 1);
  }
}
END_TEST

START_TEST (test_formerr_opt)
{
  g_autoptr (BangerDnsTable) t = make_table ();
  static const guint8 short_opt[] = { 0, 10, 0, 9, 1, 2, 3 };

  /* two OPT records */
  {
    g_autoptr (GByteArray) q = dq_header (42, 1, 1, 0, 0, 2);

    dq_name (q, "web.banger.internal");
    dq_u16 (q, 1);
    dq_u16 (q, 1);
    dq_opt (q, 1232, 0, NULL, 0);
    dq_opt (q, 1232, 0, NULL, 0);
    assert_formerr (t, q, "two OPT records");
  }
  /* an option longer than the RDATA */
  {
    g_autoptr (GByteArray) q = dq_header (42, 1, 1, 0, 0, 1);

    dq_name (q, "web.banger.internal");
    dq_u16 (q, 1);
    dq_u16 (q, 1);
    dq_opt (q, 1232, 0, short_opt, sizeof short_opt);
    assert_formerr (t, q, "option past its RDATA");
  }
  /* an OPT not owned by the root */
  {
    g_autoptr (GByteArray) q = dq_header (42, 1, 1, 0, 0, 1);

    dq_name (q, "web.banger.internal");
    dq_u16 (q, 1);
    dq_u16 (q, 1);
    dq_name (q, "x");
    dq_u16 (q, 41);
    dq_u16 (q, 1232);
    dq_u32 (q, 0);
    dq_u16 (q, 0);
    assert_formerr (t, q, "OPT owned by a name");
  }
  /* OPT as the question type; bytes after the last record */
  {
    g_autoptr (GByteArray) q = dq_query (42, "web.banger.internal", BANGER_DNS_TYPE_OPT, FALSE);
    g_autoptr (GByteArray) q2 = dq_query (42, "web.banger.internal", 1, TRUE);

    assert_formerr (t, q, "OPT question");
    dq_u8 (q2, 0);
    assert_formerr (t, q2, "trailing byte");
  }
}
END_TEST

START_TEST (test_notimp)
{
  g_autoptr (BangerDnsTable) t = make_table ();

  for (guint opcode = 1; opcode < 16; opcode++)
    {
      g_autoptr (GByteArray) q = dq_query (8, "web.banger.internal", 1, FALSE);
      g_autoptr (GBytes) r = NULL;

      q->data[2] = (guint8)(opcode << 3);
      r = ask_rcode (t, q, BANGER_DNS_RCODE_NOTIMP);
      ck_assert_uint_eq ((dr_flags (r) >> 11) & 0x0F, opcode);
      ck_assert_uint_eq (g_bytes_get_size (r), 12);
    }
}
END_TEST

/* --------------------------------------------------------------- table */

START_TEST (test_table_updates)
{
  g_autoptr (BangerDnsTable) t = make_table ();
  g_autoptr (GInetAddress) a2 = g_inet_address_new_from_string ("10.0.0.2");
  g_autoptr (GInetAddress) a9 = g_inet_address_new_from_string ("10.0.0.9");
  g_autoptr (GError) error = NULL;
  guint32 addr = 0;
  g_autofree char *n9 = NULL;
  g_autofree char *n2 = NULL;

  /* move web to .9: the old address is gone from the reverse side */
  ck_assert (banger_dns_table_set (t, "web", a9, &error));
  ck_assert (banger_dns_table_lookup_name (t, "web", &addr));
  ck_assert_uint_eq (g_ntohl (addr), 0x0a000009);
  ck_assert_ptr_null (banger_dns_table_lookup_addr (t, g_htonl (0x0a000002)));
  n9 = banger_dns_table_lookup_addr (t, g_htonl (0x0a000009));
  ck_assert_str_eq (n9, "web");
  /* give .9 to a new name: web loses it (one address, one name) */
  ck_assert (banger_dns_table_set (t, "api", a9, &error));
  ck_assert (!banger_dns_table_lookup_name (t, "web", &addr));
  ck_assert_uint_eq (banger_dns_table_size (t), 2);
  ck_assert (banger_dns_table_set (t, "web", a2, &error));
  n2 = banger_dns_table_lookup_addr (t, g_htonl (0x0a000002));
  ck_assert_str_eq (n2, "web");
  ck_assert (banger_dns_table_remove (t, "web"));
  ck_assert (!banger_dns_table_remove (t, "web"));
  ck_assert_ptr_null (banger_dns_table_lookup_addr (t, g_htonl (0x0a000002)));
  ck_assert_uint_eq (banger_dns_table_size (t), 2);
}
END_TEST

START_TEST (test_table_refusals)
{
  g_autoptr (BangerDnsTable) t = make_table ();
  g_autoptr (GInetAddress) v6 = g_inet_address_new_from_string ("fd00::1");
  g_autoptr (GInetAddress) v4 = g_inet_address_new_from_string ("10.0.0.5");
  const char *bad_domains[] = { "", ".", "a..b", "-a.b", "a_b.c", "a b", "x.", NULL };

  {
    g_autoptr (GError) error = NULL;

    ck_assert (!banger_dns_table_set (t, "Bad_Name", v4, &error));
    banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  }
  {
    g_autoptr (GError) error = NULL;

    ck_assert (!banger_dns_table_set (t, "web", v6, &error));
    banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  }
  {
    g_autoptr (GError) error = NULL;

    ck_assert (!banger_dns_table_set_reverse_network (t, v4, 33, &error));
    banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  }
  for (guint i = 0; bad_domains[i] != NULL; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (BangerDnsTable) bad = banger_dns_table_new (bad_domains[i], &error);

      /* ("x." is "x": one label is a valid domain) */
      if (g_str_equal (bad_domains[i], "x."))
        {
          ck_assert_ptr_nonnull (bad);
          continue;
        }
      ck_assert_msg (bad == NULL, "domain '%s' accepted", bad_domains[i]);
      banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
    }
  {
    g_autoptr (GError) error = NULL;
    g_autofree char *longd = g_strnfill (BANGER_DNS_DOMAIN_MAX + 1, 'a');
    g_autoptr (BangerDnsTable) bad = NULL;

    for (guint i = 60; i < BANGER_DNS_DOMAIN_MAX; i += 61)
      longd[i] = '.';
    bad = banger_dns_table_new (longd, &error);
    ck_assert_ptr_null (bad);
    banger_assert_error (error, BANGER_ERROR_INVALID_ARGUMENT);
  }
}
END_TEST

START_TEST (test_table_limit)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerDnsTable) t = banger_dns_table_new (NULL, &error);

  for (guint i = 0; i < BANGER_DNS_TABLE_MAX; i++)
    {
      g_autofree char *name = g_strdup_printf ("vm%u", i);
      g_autoptr (GInetAddress) a = g_inet_address_new_from_bytes (
          (const guint8[]){ 10, (guint8)(i >> 16), (guint8)(i >> 8), (guint8)i },
          G_SOCKET_FAMILY_IPV4);

      ck_assert (banger_dns_table_set (t, name, a, &error));
    }
  {
    g_autoptr (GInetAddress) a = g_inet_address_new_from_string ("10.200.0.1");
    g_autoptr (GInetAddress) b = g_inet_address_new_from_string ("10.200.0.2");

    ck_assert (!banger_dns_table_set (t, "one-more", a, &error));
    banger_assert_error (error, BANGER_ERROR_LIMIT_EXCEEDED);
    g_clear_error (&error);
    /* replacing an existing name is not growth */
    ck_assert (banger_dns_table_set (t, "vm0", b, &error));
  }
}
END_TEST

/* The table updated from another thread while queries are answered. */
static gpointer
churn (gpointer data)
{
  BangerDnsTable *t = data;

  for (guint i = 0; i < 20000; i++)
    {
      g_autoptr (GInetAddress) a = g_inet_address_new_from_bytes (
          (const guint8[]){ 10, 0, 1, (guint8)(i % 200) }, G_SOCKET_FAMILY_IPV4);

      g_assert (banger_dns_table_set (t, i % 2 ? "web" : "other", a, NULL));
      if (i % 7 == 0)
        banger_dns_table_remove (t, "web");
    }
  return NULL;
}

START_TEST (test_table_threads)
{
  g_autoptr (BangerDnsTable) t = make_table ();
  GThread *thread = g_thread_new ("churn", churn, t);
  guint answered = 0;

  for (guint i = 0; i < 20000; i++)
    {
      g_autoptr (GByteArray) q = i % 2 ? dq_query (1, "web.banger.internal", 1, FALSE)
                                       : dq_query (1, "5.1.0.10.in-addr.arpa", 12, FALSE);
      g_autoptr (GBytes) r = ask (t, q);

      ck_assert_ptr_nonnull (r);
      answered += dr_an (r);
    }
  g_thread_join (thread);
  ck_assert_uint_le (answered, 20000);
}
END_TEST

static Suite *
dns_message_suite (void)
{
  Suite *s = suite_create ("dns-message");
  TCase *tc = tcase_create ("answers");

  tcase_add_test (tc, test_a_answer);
  tcase_add_test (tc, test_a_case_insensitive);
  tcase_add_test (tc, test_any_answers_a);
  tcase_add_test (tc, test_custom_domain);
  tcase_add_test (tc, test_nxdomain);
  tcase_add_test (tc, test_label_bytes_do_not_split);
  tcase_add_test (tc, test_nodata);
  tcase_add_test (tc, test_refused);
  tcase_add_test (tc, test_ptr);
  tcase_add_test (tc, test_ptr_nxdomain_in_network);
  tcase_add_test (tc, test_edns);
  tcase_add_test (tc, test_edns_badvers);
  tcase_add_test (tc, test_udp_small_payload);
  suite_add_tcase (s, tc);
  tc = tcase_create ("malformed");
  tcase_add_test (tc, test_dropped);
  tcase_add_test (tc, test_formerr_counts);
  tcase_add_test (tc, test_formerr_truncated);
  tcase_add_test (tc, test_formerr_labels);
  tcase_add_test (tc, test_formerr_compression);
  tcase_add_test (tc, test_formerr_opt);
  tcase_add_test (tc, test_notimp);
  suite_add_tcase (s, tc);
  tc = tcase_create ("table");
  tcase_add_test (tc, test_table_updates);
  tcase_add_test (tc, test_table_refusals);
  tcase_add_test (tc, test_table_limit);
  tcase_add_test (tc, test_table_threads);
  tcase_set_timeout (tc, 60);
  suite_add_tcase (s, tc);
  return s;
}

BANGER_TEST_MAIN (dns_message_suite)
