/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The responder's name table: see banger-dns-table.h. */
#include "config.h"

#include "banger-dns-table.h"

#include <string.h>

#include "banger-error.h"
#include "banger-names.h"
#include "banger-quote.h"

struct _BangerDnsTable
{
  gatomicrefcount ref;
  char *domain;
  GMutex lock;
  GHashTable *by_name; /* char * name -> guint32 * addr (network order) */
  GHashTable *by_addr; /* GUINT_TO_POINTER (addr) -> char * name (owned by by_name) */
  gboolean has_reverse;
  guint32 reverse_net;  /* host byte order */
  guint32 reverse_mask; /* host byte order */
};

/* A hostname label: letters, digits, '-', not at either end, 1..63 bytes. */
static gboolean
label_ok (const char *s, gsize len)
{
  if (len == 0 || len > 63 || s[0] == '-' || s[len - 1] == '-')
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isalnum (s[i]) && s[i] != '-')
      return FALSE;
  return TRUE;
}

static gboolean
domain_ok (const char *domain)
{
  const char *p = domain;

  if (*p == '\0' || strlen (domain) > BANGER_DNS_DOMAIN_MAX)
    return FALSE;
  for (;;)
    {
      const char *dot = strchr (p, '.');
      gsize len = dot != NULL ? (gsize)(dot - p) : strlen (p);

      if (!label_ok (p, len))
        return FALSE;
      if (dot == NULL)
        return TRUE;
      p = dot + 1;
    }
}

BangerDnsTable *
banger_dns_table_new (const char *domain, GError **error)
{
  g_autofree char *d = NULL;
  BangerDnsTable *table;
  gsize len;

  if (domain == NULL)
    domain = BANGER_DNS_DEFAULT_DOMAIN;
  d = g_ascii_strdown (domain, -1);
  len = strlen (d);
  if (len > 0 && d[len - 1] == '.')
    d[len - 1] = '\0';
  if (!domain_ok (d))
    {
      g_autofree char *q = banger_quote (domain);

      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "DNS domain %s is not a hostname (dot-separated labels of letters, digits "
                   "and '-', at most %d bytes)",
                   q, BANGER_DNS_DOMAIN_MAX);
      return NULL;
    }
  table = g_new0 (BangerDnsTable, 1);
  g_atomic_ref_count_init (&table->ref);
  table->domain = g_steal_pointer (&d);
  g_mutex_init (&table->lock);
  table->by_name = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  table->by_addr = g_hash_table_new (g_direct_hash, g_direct_equal);
  return table;
}

BangerDnsTable *
banger_dns_table_ref (BangerDnsTable *table)
{
  g_return_val_if_fail (table != NULL, NULL);
  g_atomic_ref_count_inc (&table->ref);
  return table;
}

void
banger_dns_table_unref (BangerDnsTable *table)
{
  g_return_if_fail (table != NULL);
  if (!g_atomic_ref_count_dec (&table->ref))
    return;
  g_hash_table_unref (table->by_addr);
  g_hash_table_unref (table->by_name);
  g_mutex_clear (&table->lock);
  g_free (table->domain);
  g_free (table);
}

const char *
banger_dns_table_get_domain (BangerDnsTable *table)
{
  g_return_val_if_fail (table != NULL, NULL);
  return table->domain;
}

static gboolean
ipv4_of (GInetAddress *address, guint32 *out_addr, GError **error)
{
  if (address == NULL || g_inet_address_get_family (address) != G_SOCKET_FAMILY_IPV4)
    {
      g_autofree char *s = address != NULL ? g_inet_address_to_string (address) : NULL;

      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "Address '%s' is not an IPv4 address", s != NULL ? s : "(none)");
      return FALSE;
    }
  memcpy (out_addr, g_inet_address_to_bytes (address), 4);
  return TRUE;
}

gboolean
banger_dns_table_set_reverse_network (BangerDnsTable *table, GInetAddress *network,
                                      guint prefix_len, GError **error)
{
  guint32 addr;

  g_return_val_if_fail (table != NULL, FALSE);
  if (!ipv4_of (network, &addr, error))
    return FALSE;
  if (prefix_len > 32)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "IPv4 prefix length %u is out of range (0..32)", prefix_len);
      return FALSE;
    }
  g_mutex_lock (&table->lock);
  table->has_reverse = TRUE;
  table->reverse_mask = prefix_len == 0 ? 0 : ~(guint32)0 << (32 - prefix_len);
  table->reverse_net = g_ntohl (addr) & table->reverse_mask;
  g_mutex_unlock (&table->lock);
  return TRUE;
}

gboolean
banger_dns_table_set (BangerDnsTable *table, const char *name, GInetAddress *address,
                      GError **error)
{
  g_autofree guint32 *value = g_new (guint32, 1);
  g_autofree char *key = NULL;
  guint32 *old;
  const char *holder;

  g_return_val_if_fail (table != NULL, FALSE);
  g_return_val_if_fail (name != NULL, FALSE);
  if (!banger_validate_vm_name (name, error) || !ipv4_of (address, value, error))
    return FALSE;
  key = g_strdup (name);

  g_mutex_lock (&table->lock);
  if (g_hash_table_size (table->by_name) >= BANGER_DNS_TABLE_MAX
      && !g_hash_table_contains (table->by_name, name))
    {
      g_mutex_unlock (&table->lock);
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_LIMIT_EXCEEDED,
                   "The DNS table is full (%d names)", BANGER_DNS_TABLE_MAX);
      return FALSE;
    }
  /* the address's previous holder loses it; the name's previous address
   * is freed */
  holder = g_hash_table_lookup (table->by_addr, GUINT_TO_POINTER (*value));
  if (holder != NULL && strcmp (holder, name) != 0)
    g_hash_table_remove (table->by_name, holder);
  old = g_hash_table_lookup (table->by_name, name);
  if (old != NULL)
    g_hash_table_remove (table->by_addr, GUINT_TO_POINTER (*old));
  g_hash_table_insert (table->by_addr, GUINT_TO_POINTER (*value), key);
  /* replace: by_addr points at the new key, the old one is freed */
  g_hash_table_replace (table->by_name, g_steal_pointer (&key), g_steal_pointer (&value));
  g_mutex_unlock (&table->lock);
  return TRUE;
}

gboolean
banger_dns_table_remove (BangerDnsTable *table, const char *name)
{
  guint32 *addr;
  gboolean found = FALSE;

  g_return_val_if_fail (table != NULL, FALSE);
  g_return_val_if_fail (name != NULL, FALSE);
  g_mutex_lock (&table->lock);
  addr = g_hash_table_lookup (table->by_name, name);
  if (addr != NULL)
    {
      g_hash_table_remove (table->by_addr, GUINT_TO_POINTER (*addr));
      g_hash_table_remove (table->by_name, name);
      found = TRUE;
    }
  g_mutex_unlock (&table->lock);
  return found;
}

guint
banger_dns_table_size (BangerDnsTable *table)
{
  guint n;

  g_return_val_if_fail (table != NULL, 0);
  g_mutex_lock (&table->lock);
  n = g_hash_table_size (table->by_name);
  g_mutex_unlock (&table->lock);
  return n;
}

gboolean
banger_dns_table_lookup_name (BangerDnsTable *table, const char *name, guint32 *out_addr)
{
  guint32 *addr;

  g_mutex_lock (&table->lock);
  addr = g_hash_table_lookup (table->by_name, name);
  if (addr != NULL)
    *out_addr = *addr;
  g_mutex_unlock (&table->lock);
  return addr != NULL;
}

char *
banger_dns_table_lookup_addr (BangerDnsTable *table, guint32 addr)
{
  char *name;

  g_mutex_lock (&table->lock);
  name = g_strdup (g_hash_table_lookup (table->by_addr, GUINT_TO_POINTER (addr)));
  g_mutex_unlock (&table->lock);
  return name;
}

gboolean
banger_dns_table_in_reverse_network (BangerDnsTable *table, guint32 addr)
{
  gboolean in;

  g_mutex_lock (&table->lock);
  in = table->has_reverse && (g_ntohl (addr) & table->reverse_mask) == table->reverse_net;
  g_mutex_unlock (&table->lock);
  return in;
}
