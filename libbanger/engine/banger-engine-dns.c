/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The engine's DNS service (see banger-engine-dns.h). */
#include "config.h"

#include "banger-dns-responder.h"
#include "banger-dns-table.h"
#include "banger-engine-dns.h"
#include "banger-error.h"

struct _BangerEngineDns
{
  BangerDnsTable *table;
  guint port;
  GMutex lock;
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  BangerDnsResponder *responder; /* owned by the thread */
  char *address;
  guint bound_port;
};

typedef struct
{
  BangerEngineDns *dns;
  GInetSocketAddress *bind;
  GMutex lock;
  GCond cond;
  gboolean done;
  GError *error;
} StartData;

static gpointer
dns_thread (gpointer data)
{
  StartData *s = data;
  BangerEngineDns *dns = s->dns;
  BangerDnsResponder *r;

  g_main_context_push_thread_default (dns->context);
  r = banger_dns_responder_new (dns->table, s->bind, &s->error);
  if (r != NULL)
    {
      GInetSocketAddress *bound = banger_dns_responder_get_address (r); /* borrowed */
      dns->responder = r;
      dns->bound_port = g_inet_socket_address_get_port (bound);
    }
  g_mutex_lock (&s->lock);
  s->done = TRUE;
  g_cond_signal (&s->cond);
  g_mutex_unlock (&s->lock);
  if (r != NULL)
    {
      g_main_loop_run (dns->loop);
      banger_dns_responder_free (r);
      /* let cancelled TCP connections finish on this context */
      while (g_main_context_iteration (dns->context, FALSE))
        ;
    }
  g_main_context_pop_thread_default (dns->context);
  return NULL;
}

BangerEngineDns *
banger_engine_dns_new (const char *domain, guint port, GError **error)
{
  g_autoptr (BangerDnsTable) table = banger_dns_table_new (domain, error);
  BangerEngineDns *dns;

  if (table == NULL)
    return NULL;
  dns = g_new0 (BangerEngineDns, 1);
  dns->table = g_steal_pointer (&table);
  dns->port = port;
  g_mutex_init (&dns->lock);
  return dns;
}

void
banger_engine_dns_free (BangerEngineDns *dns)
{
  if (dns == NULL)
    return;
  if (dns->thread != NULL)
    {
      g_main_loop_quit (dns->loop);
      g_thread_join (dns->thread);
    }
  g_clear_pointer (&dns->loop, g_main_loop_unref);
  g_clear_pointer (&dns->context, g_main_context_unref);
  banger_dns_table_unref (dns->table);
  g_free (dns->address);
  g_mutex_clear (&dns->lock);
  g_free (dns);
}

const char *
banger_engine_dns_get_domain (BangerEngineDns *dns)
{
  return banger_dns_table_get_domain (dns->table);
}

gboolean
banger_engine_dns_start (BangerEngineDns *dns, const char *address, guint32 network, guint prefix,
                         GError **error)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&dns->lock);
  g_autoptr (GInetAddress) ia = NULL;
  g_autoptr (GInetAddress) net = NULL;
  StartData s = { 0 };
  guint8 b[4] = { network >> 24, (network >> 16) & 0xff, (network >> 8) & 0xff, network & 0xff };

  if (dns->port == 0)
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_UNSUPPORTED,
                           "The DNS responder is off ([network] dns-port=0)");
      return FALSE;
    }
  if (dns->thread != NULL)
    {
      if (g_strcmp0 (dns->address, address) == 0)
        return TRUE;
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_BUSY,
                   "The DNS responder already answers on %s", dns->address);
      return FALSE;
    }
  ia = g_inet_address_new_from_string (address);
  if (ia == NULL || g_inet_address_get_family (ia) != G_SOCKET_FAMILY_IPV4)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "'%s' is not an IPv4 address", address);
      return FALSE;
    }
  net = g_inet_address_new_from_bytes (b, G_SOCKET_FAMILY_IPV4);
  if (!banger_dns_table_set_reverse_network (dns->table, net, prefix, error))
    return FALSE;
  s.dns = dns;
  s.bind = G_INET_SOCKET_ADDRESS (g_inet_socket_address_new (ia, (guint16)dns->port));
  g_mutex_init (&s.lock);
  g_cond_init (&s.cond);
  dns->context = g_main_context_new ();
  dns->loop = g_main_loop_new (dns->context, FALSE);
  dns->thread = g_thread_new ("banger-dns", dns_thread, &s);
  g_mutex_lock (&s.lock);
  while (!s.done)
    g_cond_wait (&s.cond, &s.lock);
  g_mutex_unlock (&s.lock);
  g_mutex_clear (&s.lock);
  g_cond_clear (&s.cond);
  g_object_unref (s.bind);
  if (s.error != NULL)
    {
      g_thread_join (dns->thread);
      dns->thread = NULL;
      g_clear_pointer (&dns->loop, g_main_loop_unref);
      g_clear_pointer (&dns->context, g_main_context_unref);
      g_propagate_prefixed_error (error, s.error, "DNS responder on %s port %u: ", address,
                                  dns->port);
      return FALSE;
    }
  dns->address = g_strdup (address);
  return TRUE;
}

gboolean
banger_engine_dns_is_running (BangerEngineDns *dns)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&dns->lock);
  return dns->thread != NULL;
}

guint
banger_engine_dns_get_bound_port (BangerEngineDns *dns)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&dns->lock);
  return dns->thread != NULL ? dns->bound_port : 0;
}

void
banger_engine_dns_set (BangerEngineDns *dns, const char *name, const char *ip)
{
  g_autoptr (GInetAddress) a = ip ? g_inet_address_new_from_string (ip) : NULL;

  if (a != NULL)
    banger_dns_table_set (dns->table, name, a, NULL);
}

void
banger_engine_dns_remove (BangerEngineDns *dns, const char *name)
{
  banger_dns_table_remove (dns->table, name);
}
