/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The engine's DNS service (libbanger/engine/banger-engine-dns.c): the
 * responder in its own thread answers names the VM service sets and stops
 * answering those it removes; start is idempotent on one address and
 * refuses another; a port another socket holds is BUSY; freeing it joins
 * the thread cleanly (the suite runs with fatal criticals).  Unprivileged:
 * loopback and a high port. */
#include "config.h"

#include <gio/gio.h>

#include "../dns/dns-test-query.h"
#include "banger-engine-dns.h"
#include "banger-error.h"
#include "banger-test.h"

/* One UDP query for @name A to 127.0.0.1:@port; the rcode and (when one
 * A record came back) its address in @out_addr. */
static guint
ask (guint port, const char *name, guint32 *out_addr)
{
  g_autoptr (GSocket) s
      = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, NULL);
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) to = g_inet_socket_address_new (lo, (guint16)port);
  g_autoptr (GByteArray) q = dq_query (0x1234, name, 1, FALSE);
  g_autoptr (GBytes) r = NULL;
  guint8 buf[1024];
  gssize n;

  ck_assert_ptr_nonnull (s);
  g_socket_set_timeout (s, 3);
  ck_assert_int_eq (g_socket_send_to (s, to, (const char *)q->data, q->len, NULL, NULL), q->len);
  n = g_socket_receive (s, (char *)buf, sizeof buf, NULL, NULL);
  ck_assert_int_gt (n, 12);
  r = g_bytes_new (buf, n);
  ck_assert_uint_eq (dr_id (r), 0x1234);
  if (dr_rcode (r) == 0 && dr_an (r) == 1 && out_addr != NULL)
    *out_addr = ((guint32)buf[n - 4] << 24) | ((guint32)buf[n - 3] << 16)
                | ((guint32)buf[n - 2] << 8) | buf[n - 1];
  return dr_rcode (r);
}

static guint
free_port (void)
{
  g_autoptr (GSocket) s
      = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, NULL);
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) a = g_inet_socket_address_new (lo, 0);
  g_autoptr (GSocketAddress) bound = NULL;

  ck_assert (g_socket_bind (s, a, FALSE, NULL));
  bound = g_socket_get_local_address (s, NULL);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

START_TEST (test_engine_dns)
{
  guint port = free_port ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) e2 = NULL;
  BangerEngineDns *dns = banger_engine_dns_new ("test.internal", port, &error);
  guint32 addr = 0;

  ck_assert_msg (dns != NULL, "%s", error ? error->message : "");
  ck_assert_str_eq (banger_engine_dns_get_domain (dns), "test.internal");
  ck_assert (!banger_engine_dns_is_running (dns));
  ck_assert_uint_eq (banger_engine_dns_get_bound_port (dns), 0);
  /* names set before the responder runs are answered once it does */
  banger_engine_dns_set (dns, "web1", "127.0.0.9");
  ck_assert_msg (banger_engine_dns_start (dns, "127.0.0.1", 0x7f000000u, 8, &error), "%s",
                 error ? error->message : "");
  ck_assert_uint_eq (banger_engine_dns_get_bound_port (dns), port);
  ck_assert (banger_engine_dns_start (dns, "127.0.0.1", 0x7f000000u, 8, NULL));
  ck_assert (!banger_engine_dns_start (dns, "127.0.0.2", 0x7f000000u, 8, &e2));
  banger_assert_error (e2, BANGER_ERROR_BUSY);

  ck_assert_uint_eq (ask (port, "web1.test.internal", &addr), 0);
  ck_assert_uint_eq (addr, 0x7f000009u);
  banger_engine_dns_set (dns, "web2", "127.0.0.10");
  ck_assert_uint_eq (ask (port, "web2.test.internal", &addr), 0);
  ck_assert_uint_eq (addr, 0x7f00000au);
  banger_engine_dns_remove (dns, "web1");
  ck_assert_uint_eq (ask (port, "web1.test.internal", NULL), 3); /* NXDOMAIN */
  ck_assert_uint_eq (ask (port, "example.com", NULL), 5);        /* REFUSED */
  banger_engine_dns_free (dns);
}
END_TEST

START_TEST (test_engine_dns_refusals)
{
  g_autoptr (GError) e1 = NULL;
  g_autoptr (GError) e2 = NULL;
  g_autoptr (GError) e3 = NULL;
  g_autoptr (GSocket) holder
      = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, NULL);
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) a = g_inet_socket_address_new (lo, 0);
  g_autoptr (GSocketAddress) bound = NULL;
  BangerEngineDns *dns;
  BangerEngineDns *off;
  guint port;

  ck_assert_ptr_null (banger_engine_dns_new ("Bad_Domain", 53, &e1));
  banger_assert_error (e1, BANGER_ERROR_INVALID_ARGUMENT);
  /* a port a socket holds: BUSY, and a later start can still succeed elsewhere */
  ck_assert (g_socket_bind (holder, a, FALSE, NULL));
  bound = g_socket_get_local_address (holder, NULL);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  dns = banger_engine_dns_new (NULL, port, NULL);
  ck_assert (!banger_engine_dns_start (dns, "127.0.0.1", 0x7f000000u, 8, &e2));
  banger_assert_error (e2, BANGER_ERROR_BUSY);
  ck_assert (!banger_engine_dns_is_running (dns));
  banger_engine_dns_free (dns);
  /* port 0: no responder at all */
  off = banger_engine_dns_new (NULL, 0, NULL);
  ck_assert (!banger_engine_dns_start (off, "127.0.0.1", 0x7f000000u, 8, &e3));
  banger_assert_error (e3, BANGER_ERROR_UNSUPPORTED);
  banger_engine_dns_free (off);
}
END_TEST

static Suite *
engine_dns_suite (void)
{
  Suite *s = suite_create ("engine-dns");
  TCase *tc = tcase_create ("dns");

  tcase_add_test (tc, test_engine_dns);
  tcase_add_test (tc, test_engine_dns_refusals);
  suite_add_tcase (s, tc);
  return s;
}

BANGER_TEST_MAIN (engine_dns_suite)
