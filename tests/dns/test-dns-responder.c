/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The responder's sockets on loopback (no privileges: port 0): UDP and TCP
 * answers, dropped datagrams that do not stop the next answer, TCP framing
 * limits, and the bind errors. */
#include "config.h"

#include "banger-dns-message.h"
#include "banger-dns-responder.h"
#include "banger-error.h"
#include "banger-test.h"
#include "dns-test-query.h"

static BangerDnsTable *
make_table (void)
{
  g_autoptr (BangerDnsTable) t = banger_dns_table_new (NULL, NULL);
  g_autoptr (GInetAddress) a = g_inet_address_new_from_string ("10.0.0.2");

  ck_assert (banger_dns_table_set (t, "web", a, NULL));
  return g_steal_pointer (&t);
}

static BangerDnsResponder *
make_responder (BangerDnsTable *t)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  BangerDnsResponder *r = banger_dns_responder_new (t, G_INET_SOCKET_ADDRESS (any), &error);

  ck_assert_msg (r != NULL, "%s", error ? error->message : "");
  ck_assert_uint_ne (g_inet_socket_address_get_port (banger_dns_responder_get_address (r)), 0);
  return r;
}

/* Run the main context until @sock is readable or @ms pass; TRUE if readable. */
static gboolean
wait_readable (GSocket *sock, guint ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64)ms * 1000;

  while (!g_socket_condition_check (sock, G_IO_IN | G_IO_HUP))
    {
      if (g_get_monotonic_time () > deadline)
        return FALSE;
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  return TRUE;
}

static GSocket *
udp_client (BangerDnsResponder *r)
{
  g_autoptr (GSocket) c
      = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, NULL);

  ck_assert (
      g_socket_connect (c, G_SOCKET_ADDRESS (banger_dns_responder_get_address (r)), NULL, NULL));
  g_socket_set_blocking (c, FALSE);
  return g_steal_pointer (&c);
}

static GBytes *
udp_exchange (GSocket *c, const guint8 *data, gsize len)
{
  guint8 buf[2048];
  gssize n;

  ck_assert_int_eq (g_socket_send (c, (const char *)data, len, NULL, NULL), (gssize)len);
  if (!wait_readable (c, 2000))
    return NULL;
  n = g_socket_receive (c, (char *)buf, sizeof buf, NULL, NULL);
  ck_assert_int_gt (n, 0);
  return g_bytes_new (buf, (gsize)n);
}

START_TEST (test_udp)
{
  g_autoptr (BangerDnsTable) t = make_table ();
  g_autoptr (BangerDnsResponder) r = make_responder (t);
  g_autoptr (GSocket) c = udp_client (r);
  g_autoptr (GByteArray) q = dq_query (0x4242, "WEB.banger.internal", 1, TRUE);
  g_autoptr (GByteArray) nx = dq_query (0x4343, "gone.banger.internal", 1, FALSE);
  g_autoptr (GBytes) a = udp_exchange (c, q->data, q->len);
  g_autoptr (GBytes) b = NULL;
  g_autoptr (GInetAddress) a9 = g_inet_address_new_from_string ("10.0.0.9");

  ck_assert_ptr_nonnull (a);
  ck_assert_uint_eq (dr_id (a), 0x4242);
  ck_assert_uint_eq (dr_rcode (a), BANGER_DNS_RCODE_NOERROR);
  ck_assert_uint_eq (dr_an (a), 1);
  b = udp_exchange (c, nx->data, nx->len);
  ck_assert_uint_eq (dr_rcode (b), BANGER_DNS_RCODE_NXDOMAIN);
  /* updated at run time: the next answer sees it */
  ck_assert (banger_dns_table_set (t, "gone", a9, NULL));
  g_clear_pointer (&b, g_bytes_unref);
  b = udp_exchange (c, nx->data, nx->len);
  ck_assert_uint_eq (dr_rcode (b), BANGER_DNS_RCODE_NOERROR);
  ck_assert_uint_eq (banger_dns_responder_get_received (r), 3);
  ck_assert_uint_eq (banger_dns_responder_get_answered (r), 3);
}
END_TEST

START_TEST (test_udp_dropped_then_answered)
{
  g_autoptr (BangerDnsTable) t = make_table ();
  g_autoptr (BangerDnsResponder) r = make_responder (t);
  g_autoptr (GSocket) c = udp_client (r);
  g_autoptr (GByteArray) q = dq_query (1, "web.banger.internal", 1, FALSE);
  g_autoptr (GByteArray) big = dq_query (2, "web.banger.internal", 1, FALSE);
  g_autoptr (GBytes) none = NULL;
  g_autoptr (GBytes) none2 = NULL;
  g_autoptr (GBytes) a = NULL;

  /* oversized (one byte over), and shorter than a header: no answer */
  g_byte_array_set_size (big, BANGER_DNS_MAX_QUERY + 1);
  none = udp_exchange (c, big->data, big->len);
  ck_assert_ptr_null (none);
  none2 = udp_exchange (c, q->data, 5);
  ck_assert_ptr_null (none2);
  a = udp_exchange (c, q->data, q->len);
  ck_assert_ptr_nonnull (a);
  ck_assert_uint_eq (dr_id (a), 1);
  ck_assert_uint_eq (banger_dns_responder_get_received (r), 3);
  ck_assert_uint_eq (banger_dns_responder_get_answered (r), 1);
}
END_TEST

static GSocket *
tcp_client (BangerDnsResponder *r)
{
  g_autoptr (GSocket) c
      = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);

  ck_assert (
      g_socket_connect (c, G_SOCKET_ADDRESS (banger_dns_responder_get_address (r)), NULL, NULL));
  g_socket_set_blocking (c, FALSE);
  return g_steal_pointer (&c);
}

/* Read exactly @len bytes (running the context); FALSE on EOF/timeout. */
static gboolean
tcp_read (GSocket *c, guint8 *buf, gsize len)
{
  gsize got = 0;

  while (got < len)
    {
      gssize n;

      if (!wait_readable (c, 2000))
        return FALSE;
      n = g_socket_receive (c, (char *)buf + got, len - got, NULL, NULL);
      if (n <= 0)
        return FALSE;
      got += (gsize)n;
    }
  return TRUE;
}

static GBytes *
tcp_exchange (GSocket *c, GByteArray *q)
{
  guint8 len[2] = { (guint8)(q->len >> 8), (guint8)q->len };
  guint8 buf[2048];
  gsize n;

  ck_assert_int_eq (g_socket_send (c, (const char *)len, 2, NULL, NULL), 2);
  ck_assert_int_eq (g_socket_send (c, (const char *)q->data, q->len, NULL, NULL), q->len);
  if (!tcp_read (c, len, 2))
    return NULL;
  n = ((gsize)len[0] << 8) | len[1];
  ck_assert_uint_le (n, sizeof buf);
  ck_assert (tcp_read (c, buf, n));
  return g_bytes_new (buf, n);
}

START_TEST (test_tcp)
{
  g_autoptr (BangerDnsTable) t = make_table ();
  g_autoptr (BangerDnsResponder) r = make_responder (t);
  g_autoptr (GSocket) c = tcp_client (r);
  g_autoptr (GByteArray) q = dq_query (0x0101, "web.banger.internal", 1, FALSE);
  g_autoptr (GByteArray) q2 = dq_query (0x0202, "2.0.0.10.in-addr.arpa", 12, FALSE);
  g_autoptr (GBytes) a = NULL;
  g_autoptr (GBytes) b = NULL;

  /* two queries on one connection */
  a = tcp_exchange (c, q);
  ck_assert_ptr_nonnull (a);
  ck_assert_uint_eq (dr_id (a), 0x0101);
  ck_assert_uint_eq (dr_an (a), 1);
  b = tcp_exchange (c, q2);
  ck_assert_ptr_nonnull (b);
  ck_assert_uint_eq (dr_id (b), 0x0202);
  ck_assert_uint_eq (dr_an (b), 1);
  /* (answered counts after the write completes, maybe after the read) */
  ck_assert_uint_eq (banger_dns_responder_get_received (r), 2);
}
END_TEST

START_TEST (test_tcp_oversized_closes)
{
  g_autoptr (BangerDnsTable) t = make_table ();
  g_autoptr (BangerDnsResponder) r = make_responder (t);
  g_autoptr (GSocket) c = tcp_client (r);
  guint8 len[2] = { (BANGER_DNS_MAX_QUERY + 1) >> 8, (BANGER_DNS_MAX_QUERY + 1) & 0xFF };
  guint8 buf[2];

  ck_assert_int_eq (g_socket_send (c, (const char *)len, 2, NULL, NULL), 2);
  /* the responder closes without reading a byte more: EOF */
  ck_assert (wait_readable (c, 2000));
  ck_assert_int_eq (g_socket_receive (c, (char *)buf, sizeof buf, NULL, NULL), 0);
  ck_assert_uint_eq (banger_dns_responder_get_received (r), 0);
}
END_TEST

START_TEST (test_tcp_connection_limit)
{
  g_autoptr (BangerDnsTable) t = make_table ();
  g_autoptr (BangerDnsResponder) r = make_responder (t);
  GSocket *held[BANGER_DNS_TCP_MAX_CONNECTIONS];
  g_autoptr (GSocket) extra = NULL;
  guint8 buf[2];

  for (guint i = 0; i < G_N_ELEMENTS (held); i++)
    {
      held[i] = tcp_client (r);
      g_main_context_iteration (NULL, FALSE);
    }
  /* let the responder accept them all */
  for (guint i = 0; i < 50; i++)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  extra = tcp_client (r);
  ck_assert (wait_readable (extra, 2000));
  ck_assert_int_le (g_socket_receive (extra, (char *)buf, sizeof buf, NULL, NULL), 0);
  /* the held ones still work */
  {
    g_autoptr (GByteArray) q = dq_query (9, "web.banger.internal", 1, FALSE);
    g_autoptr (GBytes) a = tcp_exchange (held[0], q);

    ck_assert_ptr_nonnull (a);
    ck_assert_uint_eq (dr_an (a), 1);
  }
  for (guint i = 0; i < G_N_ELEMENTS (held); i++)
    g_object_unref (held[i]);
}
END_TEST

START_TEST (test_bind_busy)
{
  g_autoptr (BangerDnsTable) t = make_table ();
  g_autoptr (BangerDnsResponder) r = make_responder (t);
  g_autoptr (GError) error = NULL;
  g_autoptr (BangerDnsResponder) r2
      = banger_dns_responder_new (t, banger_dns_responder_get_address (r), &error);

  ck_assert_ptr_null (r2);
  banger_assert_error (error, BANGER_ERROR_BUSY);
}
END_TEST

START_TEST (test_bind_not_local)
{
  g_autoptr (BangerDnsTable) t = make_table ();
  g_autoptr (GError) error = NULL;
  /* TEST-NET-3: not an address of this host */
  g_autoptr (GInetAddress) a = g_inet_address_new_from_string ("203.0.113.77");
  g_autoptr (GSocketAddress) sa = g_inet_socket_address_new (a, 0);
  g_autoptr (BangerDnsResponder) r
      = banger_dns_responder_new (t, G_INET_SOCKET_ADDRESS (sa), &error);

  ck_assert_ptr_null (r);
  banger_assert_error (error, BANGER_ERROR_FAILED);
}
END_TEST

static void
drain_context (void)
{
  for (guint i = 0; i < 20; i++)
    g_main_context_iteration (NULL, FALSE);
}

static void
teardown (void)
{
  /* cancelled TCP connections finish on the context */
  drain_context ();
}

static Suite *
dns_responder_suite (void)
{
  Suite *s = suite_create ("dns-responder");
  TCase *tc = tcase_create ("loopback");

  tcase_add_checked_fixture (tc, NULL, teardown);
  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_udp);
  tcase_add_test (tc, test_udp_dropped_then_answered);
  tcase_add_test (tc, test_tcp);
  tcase_add_test (tc, test_tcp_oversized_closes);
  tcase_add_test (tc, test_tcp_connection_limit);
  tcase_add_test (tc, test_bind_busy);
  tcase_add_test (tc, test_bind_not_local);
  suite_add_tcase (s, tc);
  return s;
}

BANGER_TEST_MAIN (dns_responder_suite)
