/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * libFuzzer harness: the DNS responder's query handling
 * (banger_dns_answer), the entry point every datagram and TCP message from
 * the VM network reaches.  Checks what every response must satisfy: a
 * response header with the query's id, within the transport's size limit. */
#include "config.h"

#include "banger-dns-message.h"
#include "fuzz-common.h"

static BangerDnsTable *
table_get (void)
{
  static BangerDnsTable *table;

  if (table == NULL)
    {
      g_autoptr (GInetAddress) a = g_inet_address_new_from_string ("10.0.0.2");
      g_autoptr (GInetAddress) b = g_inet_address_new_from_string ("10.0.0.3");
      g_autoptr (GInetAddress) net = g_inet_address_new_from_string ("10.0.0.0");

      table = banger_dns_table_new (NULL, NULL);
      FUZZ_ASSERT (table != NULL);
      FUZZ_ASSERT (banger_dns_table_set (table, "web", a, NULL));
      FUZZ_ASSERT (banger_dns_table_set (table, "db-1", b, NULL));
      FUZZ_ASSERT (banger_dns_table_set_reverse_network (table, net, 24, NULL));
    }
  return table;
}

static void
check (const uint8_t *data, size_t size, BangerDnsTransport transport)
{
  g_autoptr (GBytes) r = banger_dns_answer (table_get (), data, size, transport);
  const guint8 *p;
  gsize len;

  if (r == NULL)
    {
      /* only these are dropped */
      FUZZ_ASSERT (size < 12 || (data[2] & 0x80) != 0 || size > BANGER_DNS_MAX_QUERY);
      return;
    }
  p = g_bytes_get_data (r, &len);
  FUZZ_ASSERT (size >= 12 && size <= BANGER_DNS_MAX_QUERY);
  FUZZ_ASSERT (len >= 12);
  FUZZ_ASSERT (p[0] == data[0] && p[1] == data[1]);
  FUZZ_ASSERT ((p[2] & 0x80) != 0);
  FUZZ_ASSERT ((p[3] & 0x80) == 0); /* never RA */
  if (transport == BANGER_DNS_TRANSPORT_UDP)
    FUZZ_ASSERT (len <= BANGER_DNS_EDNS_UDP_MAX);
  /* a question is echoed only when there was exactly one */
  FUZZ_ASSERT (p[4] == 0 && p[5] <= 1);
  if (p[5] == 1)
    FUZZ_ASSERT (data[4] == 0 && data[5] == 1 && len > 12);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  check (data, size, BANGER_DNS_TRANSPORT_UDP);
  check (data, size, BANGER_DNS_TRANSPORT_TCP);
  return 0;
}
