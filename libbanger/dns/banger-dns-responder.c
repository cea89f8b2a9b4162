/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The DNS responder's sockets: see banger-dns-responder.h.  UDP: one
 * non-blocking socket, drained (up to a batch) each time its source fires.
 * TCP (RFC 7766): a listening socket; each connection reads a two-byte
 * length and the message, answers, and waits for the next, closed when
 * idle for BANGER_DNS_TCP_IDLE_MS, on a malformed frame, or on a query the
 * parser drops. */
#include "config.h"

#include "banger-dns-responder.h"

#include <string.h>

#include "banger-dns-message.h"
#include "banger-error.h"

/* Datagrams handled per wake-up before going back to the main loop. */
#define UDP_BATCH 64

typedef struct _Conn Conn;

struct _BangerDnsResponder
{
  BangerDnsTable *table;
  GMainContext *context;
  GSocket *udp;
  GSocket *tcp;
  GSource *udp_source;
  GSource *tcp_source;
  GInetSocketAddress *address;
  GHashTable *conns; /* Conn * set */
  guint64 received;
  guint64 answered;
  guint8 buf[BANGER_DNS_MAX_QUERY + 1]; /* +1: an oversized datagram shows */
};

struct _Conn
{
  BangerDnsResponder *responder; /* NULL once the responder is gone */
  BangerDnsTable *table;
  GSocketConnection *conn;
  GCancellable *cancellable;
  GSource *idle;
  guint8 len[2];
  guint8 query[BANGER_DNS_MAX_QUERY];
  guint8 *out;
};

static void
set_bind_error (GError **error, GError *io_error, GInetSocketAddress *address, const char *proto)
{
  g_autofree char *addr = g_socket_connectable_to_string (G_SOCKET_CONNECTABLE (address));
  int code = BANGER_ERROR_FAILED;

  if (g_error_matches (io_error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE))
    code = BANGER_ERROR_BUSY;
  else if (g_error_matches (io_error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED))
    code = BANGER_ERROR_PERMISSION_DENIED;
  g_set_error (error, BANGER_ERROR, code, "Cannot bind the DNS responder to %s (%s): %s", addr,
               proto, io_error->message);
}

static GSocket *
bind_socket (GInetSocketAddress *address, GSocketType type, GSocketProtocol protocol,
             GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (GSocket) sock = NULL;
  const char *proto = type == G_SOCKET_TYPE_DATAGRAM ? "udp" : "tcp";

  sock = g_socket_new (g_socket_address_get_family (G_SOCKET_ADDRESS (address)), type, protocol,
                       &local);
  if (sock != NULL)
    g_socket_set_listen_backlog (sock, BANGER_DNS_TCP_MAX_CONNECTIONS * 2);
  /* reuse only for TCP (TIME_WAIT); for UDP GLib would set SO_REUSEPORT,
   * letting another socket share the port */
  if (sock == NULL
      || !g_socket_bind (sock, G_SOCKET_ADDRESS (address), type == G_SOCKET_TYPE_STREAM, &local)
      || (type == G_SOCKET_TYPE_STREAM && !g_socket_listen (sock, &local)))
    {
      set_bind_error (error, local, address, proto);
      return NULL;
    }
  g_socket_set_blocking (sock, FALSE);
  return g_steal_pointer (&sock);
}

/* ------------------------------------------------------------ UDP */

static gboolean
on_udp (GSocket *sock, GIOCondition condition, gpointer user_data)
{
  BangerDnsResponder *r = user_data;

  (void)condition;
  for (guint i = 0; i < UDP_BATCH; i++)
    {
      g_autoptr (GSocketAddress) from = NULL;
      g_autoptr (GBytes) response = NULL;
      g_autoptr (GError) error = NULL;
      gssize n = g_socket_receive_from (sock, &from, (char *)r->buf, sizeof r->buf, NULL, &error);

      if (n < 0)
        {
          if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            break;
          continue; /* e.g. an ICMP error queued by an earlier send */
        }
      r->received++;
      response = banger_dns_answer (r->table, r->buf, (gsize)n, BANGER_DNS_TRANSPORT_UDP);
      if (response == NULL)
        continue;
      /* a full socket buffer loses this response, as UDP may */
      if (g_socket_send_to (sock, from, g_bytes_get_data (response, NULL),
                            g_bytes_get_size (response), NULL, NULL)
          > 0)
        r->answered++;
    }
  return G_SOURCE_CONTINUE;
}

/* ------------------------------------------------------------ TCP */

static void conn_read_length (Conn *c);

static void
conn_close (Conn *c)
{
  if (c->responder != NULL)
    g_hash_table_remove (c->responder->conns, c);
  if (c->idle != NULL)
    {
      g_source_destroy (c->idle);
      g_source_unref (c->idle);
    }
  (void)g_io_stream_close (G_IO_STREAM (c->conn), NULL, NULL);
  g_object_unref (c->conn);
  g_object_unref (c->cancellable);
  banger_dns_table_unref (c->table);
  g_free (c->out);
  g_free (c);
}

static gboolean
on_idle_timeout (gpointer user_data)
{
  Conn *c = user_data;

  g_cancellable_cancel (c->cancellable);
  return G_SOURCE_CONTINUE; /* destroyed by conn_close */
}

static void
conn_arm_idle (Conn *c, GMainContext *context)
{
  if (c->idle != NULL)
    {
      g_source_destroy (c->idle);
      g_source_unref (c->idle);
    }
  c->idle = g_timeout_source_new (BANGER_DNS_TCP_IDLE_MS);
  g_source_set_callback (c->idle, on_idle_timeout, c, NULL);
  g_source_attach (c->idle, context);
}

static void
on_written (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Conn *c = user_data;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, NULL)
      || c->responder == NULL)
    {
      conn_close (c);
      return;
    }
  c->responder->answered++;
  g_clear_pointer (&c->out, g_free);
  conn_arm_idle (c, c->responder->context);
  conn_read_length (c);
}

static void
on_query (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Conn *c = user_data;
  gsize want = ((gsize)c->len[0] << 8) | c->len[1], got = 0, size;
  g_autoptr (GBytes) response = NULL;

  if (!g_input_stream_read_all_finish (G_INPUT_STREAM (source), result, &got, NULL) || got != want
      || c->responder == NULL)
    {
      conn_close (c);
      return;
    }
  c->responder->received++;
  response = banger_dns_answer (c->table, c->query, got, BANGER_DNS_TRANSPORT_TCP);
  if (response == NULL)
    {
      conn_close (c);
      return;
    }
  size = g_bytes_get_size (response);
  c->out = g_malloc (size + 2);
  c->out[0] = (guint8)(size >> 8);
  c->out[1] = (guint8)size;
  memcpy (c->out + 2, g_bytes_get_data (response, NULL), size);
  g_output_stream_write_all_async (g_io_stream_get_output_stream (G_IO_STREAM (c->conn)), c->out,
                                   size + 2, G_PRIORITY_DEFAULT, c->cancellable, on_written, c);
}

static void
on_length (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Conn *c = user_data;
  gsize got = 0, want;

  if (!g_input_stream_read_all_finish (G_INPUT_STREAM (source), result, &got, NULL)
      || got != sizeof c->len || c->responder == NULL)
    {
      conn_close (c); /* EOF, error, idle timeout or shutdown */
      return;
    }
  want = ((gsize)c->len[0] << 8) | c->len[1];
  if (want > sizeof c->query)
    {
      conn_close (c); /* oversized: dropped, as over UDP */
      return;
    }
  g_input_stream_read_all_async (G_INPUT_STREAM (source), c->query, want, G_PRIORITY_DEFAULT,
                                 c->cancellable, on_query, c);
}

static void
conn_read_length (Conn *c)
{
  g_input_stream_read_all_async (g_io_stream_get_input_stream (G_IO_STREAM (c->conn)), c->len,
                                 sizeof c->len, G_PRIORITY_DEFAULT, c->cancellable, on_length, c);
}

static gboolean
on_accept (GSocket *sock, GIOCondition condition, gpointer user_data)
{
  BangerDnsResponder *r = user_data;

  (void)condition;
  for (guint i = 0; i < UDP_BATCH; i++)
    {
      g_autoptr (GSocket) client = g_socket_accept (sock, NULL, NULL);
      Conn *c;

      if (client == NULL)
        break;
      if (g_hash_table_size (r->conns) >= BANGER_DNS_TCP_MAX_CONNECTIONS)
        {
          (void)g_socket_close (client, NULL);
          continue;
        }
      g_socket_set_blocking (client, FALSE);
      c = g_new0 (Conn, 1);
      c->responder = r;
      c->table = banger_dns_table_ref (r->table);
      c->conn = g_socket_connection_factory_create_connection (client);
      c->cancellable = g_cancellable_new ();
      g_hash_table_add (r->conns, c);
      conn_arm_idle (c, r->context);
      conn_read_length (c);
    }
  return G_SOURCE_CONTINUE;
}

/* ------------------------------------------------------------ life */

BangerDnsResponder *
banger_dns_responder_new (BangerDnsTable *table, GInetSocketAddress *address, GError **error)
{
  g_autoptr (BangerDnsResponder) r = NULL;
  g_autoptr (GSocketAddress) bound = NULL;
  g_autoptr (GError) local = NULL;
  g_autoptr (GSocketAddress) tcp_address = NULL;

  g_return_val_if_fail (table != NULL, NULL);
  g_return_val_if_fail (G_IS_INET_SOCKET_ADDRESS (address), NULL);

  r = g_new0 (BangerDnsResponder, 1);
  r->table = banger_dns_table_ref (table);
  r->context = g_main_context_ref_thread_default ();
  r->conns = g_hash_table_new (g_direct_hash, g_direct_equal);
  /* Port 0 asks the kernel for a UDP port; TCP then binds the same number,
   * which another socket may already hold (an ephemeral TCP port is not
   * reserved for UDP's sake): try a few UDP ports before giving up. A
   * given port is tried once. */
  for (guint attempt = 0;; attempt++)
    {
      g_autoptr (GError) tcp_error = NULL;

      g_clear_object (&r->udp);
      g_clear_object (&r->address);
      r->udp = bind_socket (address, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, error);
      if (r->udp == NULL)
        return NULL;
      bound = g_socket_get_local_address (r->udp, &local);
      if (bound == NULL)
        {
          set_bind_error (error, local, address, "udp");
          return NULL;
        }
      r->address = G_INET_SOCKET_ADDRESS (g_steal_pointer (&bound));
      /* TCP on the port UDP got (the same when one was given) */
      r->tcp = bind_socket (r->address, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &tcp_error);
      if (r->tcp != NULL)
        break;
      if (g_inet_socket_address_get_port (address) != 0 || attempt >= 16
          || !g_error_matches (tcp_error, BANGER_ERROR, BANGER_ERROR_BUSY))
        {
          g_propagate_error (error, g_steal_pointer (&tcp_error));
          return NULL;
        }
    }

  r->udp_source = g_socket_create_source (r->udp, G_IO_IN, NULL);
  g_source_set_callback (r->udp_source, G_SOURCE_FUNC (on_udp), r, NULL);
  g_source_attach (r->udp_source, r->context);
  r->tcp_source = g_socket_create_source (r->tcp, G_IO_IN, NULL);
  g_source_set_callback (r->tcp_source, G_SOURCE_FUNC (on_accept), r, NULL);
  g_source_attach (r->tcp_source, r->context);
  return g_steal_pointer (&r);
}

GInetSocketAddress *
banger_dns_responder_get_address (BangerDnsResponder *responder)
{
  g_return_val_if_fail (responder != NULL, NULL);
  return responder->address;
}

guint64
banger_dns_responder_get_received (BangerDnsResponder *responder)
{
  g_return_val_if_fail (responder != NULL, 0);
  return responder->received;
}

guint64
banger_dns_responder_get_answered (BangerDnsResponder *responder)
{
  g_return_val_if_fail (responder != NULL, 0);
  return responder->answered;
}

void
banger_dns_responder_free (BangerDnsResponder *responder)
{
  GHashTableIter iter;
  gpointer key;

  if (responder == NULL)
    return;
  /* connections finish (cancelled) on the next iterations of the context */
  g_hash_table_iter_init (&iter, responder->conns);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      Conn *c = key;

      c->responder = NULL;
      g_cancellable_cancel (c->cancellable);
    }
  g_hash_table_unref (responder->conns);
  if (responder->udp_source != NULL)
    {
      g_source_destroy (responder->udp_source);
      g_source_unref (responder->udp_source);
    }
  if (responder->tcp_source != NULL)
    {
      g_source_destroy (responder->tcp_source);
      g_source_unref (responder->tcp_source);
    }
  if (responder->udp != NULL)
    (void)g_socket_close (responder->udp, NULL);
  if (responder->tcp != NULL)
    (void)g_socket_close (responder->tcp, NULL);
  g_clear_object (&responder->udp);
  g_clear_object (&responder->tcp);
  g_clear_object (&responder->address);
  g_main_context_unref (responder->context);
  banger_dns_table_unref (responder->table);
  g_free (responder);
}
