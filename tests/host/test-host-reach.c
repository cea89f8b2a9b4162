/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Port publishes, egress policies and the systemd-resolved link settings,
 * for real, as root, inside network namespaces the test makes:
 *
 *   test netns ("host"): banger's bridge bngbr0 10.77.0.1/24, and
 *                        vo0 10.200.0.1/24 towards "out"
 *   guest netns:         vg1 10.77.0.2/24 (its peer vg0 on the bridge),
 *                        default via 10.77.0.1 — stands in for the VM
 *   out netns:           vo1 10.200.0.2/24 and 10.201.0.2/24, default via
 *                        10.200.0.1 — a client / a server "outside"
 *
 * Sockets are made inside a namespace by a thread that setns()s alone, so
 * everything runs in this process.  Every refusal also checks that the
 * ruleset did not change. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "banger.h"
#include "banger-netlink.h"
#include "banger-nft-reach.h"
#include "banger-resolved.h"
#include "banger-test.h"
#include "host-test-util.h"

static char guest_ns[64];
static char out_ns[64];

static char *
ruleset (void)
{
  const char *argv[] = { "nft", "list", "ruleset", NULL };
  char *out = host_test_run (argv, NULL);
  ck_assert_ptr_nonnull (out);
  return out;
}

static void
run_ok (const char *cmd)
{
  g_auto (GStrv) argv = g_strsplit (cmd, " ", -1);
  int status = -1;
  g_autofree char *out = host_test_run ((const char *const *)argv, &status);
  ck_assert_msg (out != NULL && status == 0, "'%s' failed", cmd);
}

static void
run_in (const char *ns, const char *cmd)
{
  g_autofree char *full = g_strdup_printf ("ip netns exec %s %s", ns, cmd);
  run_ok (full);
}

static JsonObject *
ok_call (BangerPrivState *state, const char *method, const char *params, JsonNode **keep)
{
  g_autoptr (GError) error = NULL;
  *keep = host_test_call (state, method, params, &error);
  ck_assert_msg (*keep != NULL, "%s %s: %s", method, params, error ? error->message : "");
  return json_node_get_object (*keep);
}

static void
refused (BangerPrivState *state, const char *method, const char *params, int code)
{
  g_autoptr (GError) e = NULL;
  g_autofree char *before = ruleset ();
  g_autofree char *after = NULL;
  g_autoptr (JsonNode) r = host_test_call (state, method, params, &e);

  ck_assert_msg (r == NULL, "%s accepted %s", method, params);
  ck_assert_msg (e->domain == BANGER_ERROR && e->code == code, "%s %s: code %d (%s), want %d",
                 method, params, e->code, e->message, code);
  after = ruleset ();
  ck_assert_str_eq (before, after);
}

/* The topology above. */
static void
make_topology (BangerPrivState *state)
{
  g_autoptr (JsonNode) n = NULL;

  host_test_netns_enter ();
  run_ok ("ip link set lo up");
  run_ok ("sysctl -q -w net.ipv4.ip_forward=1");
  ok_call (state, "priv.create_bridge", "{\"name\":\"bngbr0\",\"address\":\"10.77.0.1/24\"}", &n);
  run_ok ("ip link set bngbr0 up");
  {
    g_autofree char *a = g_strdup_printf ("ip netns add %s", guest_ns);
    g_autofree char *b = g_strdup_printf ("ip netns add %s", out_ns);
    g_autofree char *c
        = g_strdup_printf ("ip link add vg0 type veth peer name vg1 netns %s", guest_ns);
    g_autofree char *d
        = g_strdup_printf ("ip link add vo0 type veth peer name vo1 netns %s", out_ns);
    run_ok (a);
    run_ok (b);
    run_ok (c);
    run_ok (d);
  }
  run_ok ("ip link set vg0 master bngbr0 up");
  run_ok ("ip addr add 10.200.0.1/24 dev vo0");
  run_ok ("ip link set vo0 up");
  run_in (guest_ns, "ip link set lo up");
  run_in (guest_ns, "ip addr add 10.77.0.2/24 dev vg1");
  run_in (guest_ns, "ip link set vg1 up");
  run_in (guest_ns, "ip route add default via 10.77.0.1");
  run_in (out_ns, "ip link set lo up");
  run_in (out_ns, "ip addr add 10.200.0.2/24 dev vo1");
  run_in (out_ns, "ip addr add 10.201.0.2/24 dev vo1");
  run_in (out_ns, "ip link set vo1 up");
  run_in (out_ns, "ip route add default via 10.200.0.1");
  run_ok ("ip route add 10.201.0.0/24 via 10.200.0.2");
}

/* ------------------------------------------------ sockets in a namespace */

typedef struct
{
  const char *ns; /* NULL: this (the test's) namespace */
  int type;
  const char *bind_ip; /* nullable */
  guint16 bind_port;
  gboolean listen;
  int fd;
} SockReq;

static gpointer
sock_thread (gpointer data)
{
  SockReq *r = data;
  struct sockaddr_in sa = { .sin_family = AF_INET };
  int one = 1;

  if (r->ns != NULL)
    {
      g_autofree char *path = g_strdup_printf ("/run/netns/%s", r->ns);
      int nsfd = open (path, O_RDONLY | O_CLOEXEC);
      if (nsfd < 0 || setns (nsfd, CLONE_NEWNET) != 0)
        return NULL;
      close (nsfd);
    }
  r->fd = socket (AF_INET, r->type | SOCK_CLOEXEC, 0);
  if (r->fd < 0)
    return NULL;
  setsockopt (r->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (r->bind_ip != NULL)
    {
      inet_pton (AF_INET, r->bind_ip, &sa.sin_addr);
      sa.sin_port = htons (r->bind_port);
      if (bind (r->fd, (struct sockaddr *)&sa, sizeof sa) != 0
          || (r->listen && listen (r->fd, 8) != 0))
        {
          close (r->fd);
          r->fd = -1;
        }
    }
  return NULL;
}

/* A socket made in @ns (bound, listening when asked). */
static int
sock_in (const char *ns, int type, const char *ip, guint16 port, gboolean do_listen)
{
  SockReq r = { ns, type, ip, port, do_listen, -1 };
  GThread *t = g_thread_new ("ns-socket", sock_thread, &r);

  g_thread_join (t);
  ck_assert_msg (r.fd >= 0, "socket in %s on %s:%u: %s", ns ? ns : "test", ip ? ip : "-", port,
                 g_strerror (errno));
  return r.fd;
}

/* Connect @fd to ip:port within @timeout_ms; TRUE when it connected. */
static gboolean
connect_within (int fd, const char *ip, guint16 port, int timeout_ms)
{
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons (port) };
  struct pollfd pfd = { .fd = fd, .events = POLLOUT };
  int err = 0;
  socklen_t len = sizeof err;

  inet_pton (AF_INET, ip, &sa.sin_addr);
  fcntl (fd, F_SETFL, fcntl (fd, F_GETFL) | O_NONBLOCK);
  if (connect (fd, (struct sockaddr *)&sa, sizeof sa) == 0)
    return TRUE;
  if (errno != EINPROGRESS)
    return FALSE;
  if (poll (&pfd, 1, timeout_ms) != 1)
    return FALSE;
  getsockopt (fd, SOL_SOCKET, SO_ERROR, &err, &len);
  return err == 0;
}

/* Accept on @listener within @timeout_ms; the peer's address in @peer. */
static int
accept_within (int listener, int timeout_ms, char peer[INET_ADDRSTRLEN])
{
  struct pollfd pfd = { .fd = listener, .events = POLLIN };
  struct sockaddr_in sa;
  socklen_t len = sizeof sa;
  int fd;

  if (poll (&pfd, 1, timeout_ms) != 1)
    return -1;
  fd = accept4 (listener, (struct sockaddr *)&sa, &len, SOCK_CLOEXEC);
  if (fd >= 0)
    inet_ntop (AF_INET, &sa.sin_addr, peer, INET_ADDRSTRLEN);
  return fd;
}

/* From @client_ns connect to ip:port, expecting (or not) the connection to
 * arrive at @listener; returns the peer address the listener saw. */
static char *
tcp_reaches (const char *client_ns, const char *ip, guint16 port, int listener, gboolean expect)
{
  int c = sock_in (client_ns, SOCK_STREAM, NULL, 0, FALSE);
  gboolean connected = connect_within (c, ip, port, expect ? 3000 : 700);
  char peer[INET_ADDRSTRLEN] = "";
  int a = connected ? accept_within (listener, 2000, peer) : -1;
  char *out = NULL;

  if (expect)
    {
      ck_assert_msg (connected, "%s -> %s:%u did not connect", client_ns ? client_ns : "host", ip,
                     port);
      ck_assert_msg (a >= 0, "%s -> %s:%u did not arrive", client_ns ? client_ns : "host", ip,
                     port);
      ck_assert_int_eq (write (c, "ping", 4), 4);
      {
        char buf[8] = "";
        struct pollfd pfd = { .fd = a, .events = POLLIN };
        ck_assert_int_eq (poll (&pfd, 1, 2000), 1);
        ck_assert_int_eq (read (a, buf, sizeof buf), 4);
        ck_assert (memcmp (buf, "ping", 4) == 0);
      }
      out = g_strdup (peer);
    }
  else
    ck_assert_msg (!connected || a < 0, "%s -> %s:%u connected; it must not",
                   client_ns ? client_ns : "host", ip, port);
  if (a >= 0)
    close (a);
  close (c);
  return out;
}

/* --------------------------------------------------------------- publish */

START_TEST (test_publish_traffic)
{
  BangerPrivState *state = host_test_state_new (FALSE);
  g_autoptr (JsonNode) n1 = NULL, n2 = NULL, n3 = NULL, n4 = NULL;
  int tcp_listener, udp_guest, other_listener;
  JsonObject *o;

  make_topology (state);
  tcp_listener = sock_in (guest_ns, SOCK_STREAM, "0.0.0.0", 80, TRUE);
  udp_guest = sock_in (guest_ns, SOCK_DGRAM, "0.0.0.0", 53, FALSE);

  o = ok_call (state, "priv.publish_set",
               "{\"vm_id\":\"web-1\",\"guest_ip\":\"10.77.0.2\","
               "\"publish\":\"0.0.0.0:8080:80/tcp,10.200.0.1:5353:53/udp\"}",
               &n1);
  ck_assert_str_eq (json_object_get_string_member (o, "publish"),
                    "0.0.0.0:8080:80/tcp,10.200.0.1:5353:53/udp");

  /* from outside (prerouting): the guest sees the real client address */
  {
    g_autofree char *peer = tcp_reaches (out_ns, "10.200.0.1", 8080, tcp_listener, TRUE);
    ck_assert_str_eq (peer, "10.200.0.2");
  }
  /* from the host itself (output chain), to one of its addresses */
  g_free (tcp_reaches (NULL, "10.200.0.1", 8080, tcp_listener, TRUE));
  /* UDP from outside to the host address the publish names */
  {
    int u = sock_in (out_ns, SOCK_DGRAM, NULL, 0, FALSE);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons (5353) };
    struct pollfd pfd = { .fd = udp_guest, .events = POLLIN };
    char buf[8] = "";

    inet_pton (AF_INET, "10.200.0.1", &sa.sin_addr);
    ck_assert_int_eq (sendto (u, "dns?", 4, 0, (struct sockaddr *)&sa, sizeof sa), 4);
    ck_assert_int_eq (poll (&pfd, 1, 3000), 1);
    ck_assert_int_eq (recv (udp_guest, buf, sizeof buf, 0), 4);
    close (u);
  }

  /* listed, as the table holds it; found by the library too */
  o = ok_call (state, "priv.publish_list", "{\"vm_id\":\"web-1\"}", &n2);
  ck_assert_str_eq (json_object_get_string_member (o, "publish"),
                    "0.0.0.0:8080:80/tcp,10.200.0.1:5353:53/udp");

  /* taken by another VM: BUSY, including overlap through 0.0.0.0 */
  refused (
      state, "priv.publish_set",
      "{\"vm_id\":\"web-2\",\"guest_ip\":\"10.77.0.3\",\"publish\":\"10.200.0.1:8080:81/tcp\"}",
      BANGER_ERROR_BUSY);
  refused (state, "priv.publish_set",
           "{\"vm_id\":\"web-2\",\"guest_ip\":\"10.77.0.3\",\"publish\":\"0.0.0.0:5353:53/udp\"}",
           BANGER_ERROR_BUSY);
  /* the other protocol on the same port is free */
  ok_call (state, "priv.publish_set",
           "{\"vm_id\":\"web-2\",\"guest_ip\":\"10.77.0.3\",\"publish\":\"0.0.0.0:8080:80/udp\"}",
           &n3);
  /* a socket bound on the host: BUSY */
  other_listener = sock_in (NULL, SOCK_STREAM, "10.200.0.1", 9090, TRUE);
  refused (state, "priv.publish_set",
           "{\"vm_id\":\"web-2\",\"guest_ip\":\"10.77.0.3\",\"publish\":\"0.0.0.0:9090:80/tcp\"}",
           BANGER_ERROR_BUSY);
  close (other_listener);
  /* re-applying its own publishes (reconcile) is fine and idempotent */
  ok_call (state, "priv.publish_set",
           "{\"vm_id\":\"web-1\",\"guest_ip\":\"10.77.0.2\","
           "\"publish\":\"0.0.0.0:8080:80/tcp,10.200.0.1:5353:53/udp\"}",
           &n4);
  {
    g_autofree char *all = banger_nft_publish_list ("banger", NULL, NULL, NULL);
    /* (web-1's rules were replaced last, so they come last) */
    ck_assert_str_eq (all, "web-2 0.0.0.0:8080:80/udp\nweb-1 0.0.0.0:8080:80/tcp\n"
                           "web-1 10.200.0.1:5353:53/udp\n");
  }

  /* removed with the VM (priv.cleanup_vm): the port no longer reaches it */
  {
    g_autoptr (JsonNode) c = NULL;
    g_autofree char *left = NULL;
    ok_call (state, "priv.cleanup_vm", "{\"vm_id\":\"web-1\"}", &c);
    left = banger_nft_publish_list ("banger", NULL, "web-1", NULL);
    ck_assert_str_eq (left, "");
  }
  g_free (tcp_reaches (out_ns, "10.200.0.1", 8080, tcp_listener, FALSE));
  close (tcp_listener);
  close (udp_guest);
  host_test_state_free (state);
}
END_TEST

START_TEST (test_publish_refusals)
{
  BangerPrivState *state = host_test_state_new (FALSE);
  struct
  {
    const char *params;
    int code;
  } bad[] = {
    /* the table check (executor) and the parser */
    { "{\"vm_id\":\"web-1\",\"guest_ip\":\"10.77.0.2\",\"publish\":\"0:80\"}",
      BANGER_ERROR_INVALID_ARGUMENT },
    { "{\"vm_id\":\"web-1\",\"guest_ip\":\"10.77.0.2\",\"publish\":\"70000:80\"}",
      BANGER_ERROR_INVALID_ARGUMENT },
    { "{\"vm_id\":\"web-1\",\"guest_ip\":\"10.77.0.2\",\"publish\":\"8080:0\"}",
      BANGER_ERROR_INVALID_ARGUMENT },
    { "{\"vm_id\":\"web-1\",\"guest_ip\":\"10.77.0.2\",\"publish\":\"08080:80\"}",
      BANGER_ERROR_INVALID_ARGUMENT },
    { "{\"vm_id\":\"web-1\",\"guest_ip\":\"10.77.0.2\",\"publish\":\"-1:80\"}",
      BANGER_ERROR_INVALID_ARGUMENT },
    { "{\"vm_id\":\"web-1\",\"guest_ip\":\"10.77.0.2\",\"publish\":\"8080:80/sctp\"}",
      BANGER_ERROR_INVALID_ARGUMENT },
    { "{\"vm_id\":\"web-1\",\"guest_ip\":\"10.77.0.2\",\"publish\":\"8080:80/tcp; flush ruleset\"}",
      BANGER_ERROR_INVALID_ARGUMENT },
    { "{\"vm_id\":\"web-1\",\"guest_ip\":\"10.77.0.2\",\"publish\":\"8080:80 comment \\\"x\\\"\"}",
      BANGER_ERROR_INVALID_ARGUMENT },
    { "{\"vm_id\":\"web-1\",\"guest_ip\":\"10.77.0.2\",\"publish\":\"1.2.3:8080:80\"}",
      BANGER_ERROR_INVALID_ARGUMENT },
    { "{\"vm_id\":\"web-1\",\"guest_ip\":\"10.77.0.2\",\"publish\":\"224.0.0.1:8080:80\"}",
      BANGER_ERROR_INVALID_ARGUMENT },
    { "{\"vm_id\":\"web-1\",\"guest_ip\":\"10.77.0.2\",\"publish\":\"8080:80,,9090:90\"}",
      BANGER_ERROR_INVALID_ARGUMENT },
    /* overlap inside one request: 0.0.0.0 covers every address */
    { "{\"vm_id\":\"web-1\",\"guest_ip\":\"10.77.0.2\",\"publish\":\"8080:80,10.200.0.1:8080:81\"}",
      BANGER_ERROR_INVALID_ARGUMENT },
    { "{\"vm_id\":\"web-1\",\"guest_ip\":\"10.77.0.2\",\"publish\":\"8080:80/udp,8080:81/udp\"}",
      BANGER_ERROR_INVALID_ARGUMENT },
    /* a host address this host does not have, or loopback */
    { "{\"vm_id\":\"web-1\",\"guest_ip\":\"10.77.0.2\",\"publish\":\"192.0.2.77:8080:80\"}",
      BANGER_ERROR_INVALID_ARGUMENT },
    { "{\"vm_id\":\"web-1\",\"guest_ip\":\"10.77.0.2\",\"publish\":\"127.0.0.1:8080:80\"}",
      BANGER_ERROR_INVALID_ARGUMENT },
    /* the guest address must be inside the VM network */
    { "{\"vm_id\":\"web-1\",\"guest_ip\":\"10.200.0.2\",\"publish\":\"8080:80\"}",
      BANGER_ERROR_PERMISSION_DENIED },
    { "{\"vm_id\":\"web-1\",\"guest_ip\":\"10.64.0.0\",\"publish\":\"8080:80\"}",
      BANGER_ERROR_PERMISSION_DENIED },
    { "{\"vm_id\":\"web-1\",\"guest_ip\":\"10.77.0.2/32\",\"publish\":\"8080:80\"}",
      BANGER_ERROR_INVALID_ARGUMENT },
    /* names and unknown keys */
    { "{\"vm_id\":\"Web_1\",\"guest_ip\":\"10.77.0.2\",\"publish\":\"8080:80\"}",
      BANGER_ERROR_INVALID_ARGUMENT },
    { "{\"vm_id\":\"web-1\",\"guest_ip\":\"10.77.0.2\",\"publish\":\"8080:80\",\"table\":"
      "\"filter\"}",
      BANGER_ERROR_INVALID_ARGUMENT },
    { "{\"vm_id\":\"web-1\",\"guest_ip\":\"10.77.0.2\",\"publish\":8080}",
      BANGER_ERROR_INVALID_ARGUMENT },
    { "{\"vm_id\":\"web-1\",\"guest_ip\":\"10.77.0.2\"}", BANGER_ERROR_INVALID_ARGUMENT },
  };

  make_topology (state);
  /* clearing a VM that has nothing makes nothing (no table, no chains) */
  {
    g_autofree char *before = ruleset ();
    g_autofree char *after = NULL;
    g_autoptr (JsonNode) n = NULL;
    ok_call (state, "priv.publish_set",
             "{\"vm_id\":\"web-1\",\"guest_ip\":\"10.77.0.2\",\"publish\":\"\"}", &n);
    after = ruleset ();
    ck_assert_str_eq (before, after);
  }
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    refused (state, "priv.publish_set", bad[i].params, bad[i].code);
  /* more than BANGER_PUBLISH_MAX in one request */
  {
    g_autoptr (GString) p
        = g_string_new ("{\"vm_id\":\"web-1\",\"guest_ip\":\"10.77.0.2\",\"publish\":\"");
    for (int i = 0; i <= BANGER_PUBLISH_MAX; i++)
      g_string_append_printf (p, "%s%d:80", i ? "," : "", 20000 + i);
    g_string_append (p, "\"}");
    refused (state, "priv.publish_set", p->str, BANGER_ERROR_INVALID_ARGUMENT);
  }
  /* the handler checks again on its own, whatever the table let through */
  {
    g_autoptr (GError) e = NULL;
    ck_assert (!host_test_call_handler (
        state, 0, "priv.publish_set",
        "{\"vm_id\":\"web-1\",\"guest_ip\":\"10.77.0.2\",\"publish\":\"8080:80;drop\"}", &e));
    banger_assert_error (e, BANGER_ERROR_INVALID_ARGUMENT);
  }
  /* somebody else's table of banger's name is left alone */
  {
    g_autoptr (JsonNode) r = NULL;
    g_autoptr (GError) e = NULL;
    run_ok ("nft add table ip banger");
    r = host_test_call (state, "priv.publish_set",
                        "{\"vm_id\":\"web-1\",\"guest_ip\":\"10.77.0.2\",\"publish\":\"8080:80\"}",
                        &e);
    ck_assert_ptr_null (r);
    banger_assert_error (e, BANGER_ERROR_PERMISSION_DENIED);
    run_ok ("nft delete table ip banger");
  }
  host_test_state_free (state);
}
END_TEST

/* ---------------------------------------------------------------- egress */

START_TEST (test_egress_traffic)
{
  BangerPrivState *state = host_test_state_new (FALSE);
  g_autoptr (JsonNode) n1 = NULL, n2 = NULL, n3 = NULL, n4 = NULL, n5 = NULL;
  int outside, outside2, host_other, gateway;
  JsonObject *o;

  make_topology (state);
  ok_call (state, "priv.nat_enable", "{\"vm_id\":\"web-1\",\"guest_ip\":\"10.77.0.2\"}", &n1);
  outside = sock_in (out_ns, SOCK_STREAM, "10.200.0.2", 7000, TRUE);
  outside2 = sock_in (out_ns, SOCK_STREAM, "10.201.0.2", 7000, TRUE);
  host_other = sock_in (NULL, SOCK_STREAM, "10.200.0.1", 7001, TRUE);
  gateway = sock_in (NULL, SOCK_STREAM, "10.77.0.1", 7002, TRUE);

  /* nat (the default): everything; masqueraded on the way out */
  {
    g_autofree char *peer = tcp_reaches (guest_ns, "10.200.0.2", 7000, outside, TRUE);
    ck_assert_str_eq (peer, "10.200.0.1");
  }
  g_free (tcp_reaches (guest_ns, "10.201.0.2", 7000, outside2, TRUE));
  g_free (tcp_reaches (guest_ns, "10.200.0.1", 7001, host_other, TRUE));

  /* none: the host side of its link only */
  o = ok_call (state, "priv.egress_set",
               "{\"vm_id\":\"web-1\",\"guest_ip\":\"10.77.0.2\",\"gateway\":\"10.77.0.1\","
               "\"egress\":\"none\"}",
               &n2);
  ck_assert_str_eq (json_object_get_string_member (o, "egress"), "none");
  g_free (tcp_reaches (guest_ns, "10.200.0.2", 7000, outside, FALSE));
  g_free (tcp_reaches (guest_ns, "10.201.0.2", 7000, outside2, FALSE));
  g_free (tcp_reaches (guest_ns, "10.200.0.1", 7001, host_other, FALSE));
  g_free (tcp_reaches (guest_ns, "10.77.0.1", 7002, gateway, TRUE));
  /* the host still reaches the guest (replies are let through) */
  {
    int l = sock_in (guest_ns, SOCK_STREAM, "0.0.0.0", 22, TRUE);
    g_free (tcp_reaches (NULL, "10.77.0.2", 22, l, TRUE));
    g_free (tcp_reaches (out_ns, "10.77.0.2", 22, l, TRUE));
    close (l);
  }

  /* a CIDR list: those networks (and the gateway), nothing else */
  o = ok_call (state, "priv.egress_set",
               "{\"vm_id\":\"web-1\",\"guest_ip\":\"10.77.0.2\",\"gateway\":\"10.77.0.1\","
               "\"egress\":\"10.200.0.9/24\"}",
               &n3);
  ck_assert (g_str_has_prefix (json_object_get_string_member (o, "egress"), "cidrs:"));
  {
    g_autofree char *tag = banger_nft_egress_tag ("10.200.0.0/24", NULL);
    ck_assert_str_eq (json_object_get_string_member (o, "egress"), tag);
  }
  g_free (tcp_reaches (guest_ns, "10.200.0.2", 7000, outside, TRUE));
  g_free (tcp_reaches (guest_ns, "10.201.0.2", 7000, outside2, FALSE));
  g_free (tcp_reaches (guest_ns, "10.77.0.1", 7002, gateway, TRUE));

  /* back to nat: the rules go, the traffic flows */
  o = ok_call (state, "priv.egress_set",
               "{\"vm_id\":\"web-1\",\"guest_ip\":\"10.77.0.2\",\"gateway\":\"10.77.0.1\","
               "\"egress\":\"nat\"}",
               &n4);
  ck_assert_str_eq (json_object_get_string_member (o, "egress"), "nat");
  g_free (tcp_reaches (guest_ns, "10.201.0.2", 7000, outside2, TRUE));

  /* cleanup_vm removes a policy too */
  ok_call (state, "priv.egress_set",
           "{\"vm_id\":\"web-1\",\"guest_ip\":\"10.77.0.2\",\"gateway\":\"10.77.0.1\","
           "\"egress\":\"none\"}",
           &n5);
  {
    g_autoptr (JsonNode) c = NULL;
    g_autofree char *tag = NULL;
    ok_call (state, "priv.cleanup_vm", "{\"vm_id\":\"web-1\"}", &c);
    tag = banger_nft_egress_get ("banger", NULL, "web-1", NULL);
    ck_assert_str_eq (tag, "nat");
  }
  close (outside);
  close (outside2);
  close (host_other);
  close (gateway);
  host_test_state_free (state);
}
END_TEST

START_TEST (test_egress_refusals)
{
  BangerPrivState *state = host_test_state_new (FALSE);
  struct
  {
    const char *params;
    int code;
  } bad[] = {
#define EG(g, gw, e)                                                                               \
  "{\"vm_id\":\"web-1\",\"guest_ip\":\"" g "\",\"gateway\":\"" gw "\",\"egress\":\"" e "\"}"
    { EG ("10.77.0.2", "10.77.0.1", "all"), BANGER_ERROR_INVALID_ARGUMENT },
    { EG ("10.77.0.2", "10.77.0.1", "10.0.0.0/33"), BANGER_ERROR_INVALID_ARGUMENT },
    { EG ("10.77.0.2", "10.77.0.1", "10.0.0.0"), BANGER_ERROR_INVALID_ARGUMENT },
    { EG ("10.77.0.2", "10.77.0.1", "10.0.0.0/8,"), BANGER_ERROR_INVALID_ARGUMENT },
    { EG ("10.77.0.2", "10.77.0.1", "10.0.0.0/8 } accept; drop {"), BANGER_ERROR_INVALID_ARGUMENT },
    { EG ("10.77.0.2", "10.77.0.1", "10.0.0.0/8,10.1.0.0/8"), BANGER_ERROR_INVALID_ARGUMENT },
    { EG ("10.77.0.2", "10.77.0.1", "none,10.0.0.0/8"), BANGER_ERROR_INVALID_ARGUMENT },
    { EG ("10.200.0.2", "10.77.0.1", "none"), BANGER_ERROR_PERMISSION_DENIED },
    { EG ("10.77.0.2", "8.8.8.8", "none"), BANGER_ERROR_PERMISSION_DENIED },
    { EG ("10.77.0.2", "10.77.0.2", "none"), BANGER_ERROR_INVALID_ARGUMENT },
    { EG ("10.77.0.2", "10.77.0.1 ", "none"), BANGER_ERROR_INVALID_ARGUMENT },
#undef EG
  };

  make_topology (state);
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    refused (state, "priv.egress_set", bad[i].params, bad[i].code);
  host_test_state_free (state);
}
END_TEST

/* --------------------------------------------------------------- resolved */

/* A stand-in for systemd-resolved: org.freedesktop.resolve1 on a private
 * bus (GTestDBus), recording each call as "Method <args>". */
static const char resolve1_xml[] = "<node><interface name='org.freedesktop.resolve1.Manager'>"
                                   "<method name='SetLinkDNS'><arg type='i' direction='in'/><arg "
                                   "type='a(iay)' direction='in'/></method>"
                                   "<method name='SetLinkDomains'><arg type='i' "
                                   "direction='in'/><arg type='a(sb)' direction='in'/></method>"
                                   "<method name='SetLinkDefaultRoute'><arg type='i' "
                                   "direction='in'/><arg type='b' direction='in'/></method>"
                                   "</interface></node>";

typedef struct
{
  const char *address;
  GMainContext *ctx;
  GMainLoop *loop;
  GPtrArray *calls;
  GMutex lock;
  gboolean ready;
  GCond cond;
} FakeResolved;

static void
fake_method (GDBusConnection *c, const char *sender, const char *path, const char *iface,
             const char *method, GVariant *params, GDBusMethodInvocation *inv, gpointer data)
{
  FakeResolved *f = data;
  g_autofree char *args = g_variant_print (params, FALSE);

  g_mutex_lock (&f->lock);
  g_ptr_array_add (f->calls, g_strdup_printf ("%s %s", method, args));
  g_mutex_unlock (&f->lock);
  g_dbus_method_invocation_return_value (inv, NULL);
}

static gpointer
fake_thread (gpointer data)
{
  FakeResolved *f = data;
  static const GDBusInterfaceVTable vtable = { fake_method, NULL, NULL, { 0 } };
  g_autoptr (GDBusNodeInfo) node = g_dbus_node_info_new_for_xml (resolve1_xml, NULL);
  g_autoptr (GDBusConnection) c = NULL;
  g_autoptr (GVariant) r = NULL;

  g_main_context_push_thread_default (f->ctx);
  c = g_dbus_connection_new_for_address_sync (f->address,
                                              G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
                                                  | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                              NULL, NULL, NULL);
  g_assert (c != NULL);
  g_dbus_connection_register_object (c, "/org/freedesktop/resolve1", node->interfaces[0], &vtable,
                                     f, NULL, NULL);
  r = g_dbus_connection_call_sync (c, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                   "org.freedesktop.DBus", "RequestName",
                                   g_variant_new ("(su)", "org.freedesktop.resolve1", 0), NULL,
                                   G_DBUS_CALL_FLAGS_NONE, 5000, NULL, NULL);
  g_assert (r != NULL);
  g_mutex_lock (&f->lock);
  f->ready = TRUE;
  g_cond_signal (&f->cond);
  g_mutex_unlock (&f->lock);
  g_main_loop_run (f->loop);
  g_main_context_pop_thread_default (f->ctx);
  return NULL;
}

START_TEST (test_resolved_link)
{
  BangerPrivState *state = host_test_state_new (FALSE);
  g_autoptr (GTestDBus) bus = g_test_dbus_new (G_TEST_DBUS_NONE);
  FakeResolved f = { 0 };
  GThread *t;
  g_autoptr (JsonNode) n = NULL;
  g_autoptr (JsonNode) nb = NULL;
  g_auto (BangerLinkInfo) info = { 0 };
  JsonObject *o;

  host_test_netns_enter ();
  ok_call (state, "priv.create_bridge", "{\"name\":\"bngbr0\",\"address\":\"10.77.0.1/24\"}", &nb);
  ck_assert (banger_netlink_get_link ("bngbr0", &info, NULL));
  g_test_dbus_up (bus);
  banger_resolved_set_bus_address_for_testing (g_test_dbus_get_bus_address (bus));

  /* nobody owns the name yet: resolved is "not running" */
  refused (state, "priv.resolved_link",
           "{\"bridge\":\"bngbr0\",\"address\":\"10.77.0.1/24\",\"domain\":\"banger.internal\"}",
           BANGER_ERROR_UNSUPPORTED);

  f.address = g_test_dbus_get_bus_address (bus);
  f.ctx = g_main_context_new ();
  f.loop = g_main_loop_new (f.ctx, FALSE);
  f.calls = g_ptr_array_new_with_free_func (g_free);
  g_mutex_init (&f.lock);
  g_cond_init (&f.cond);
  t = g_thread_new ("fake-resolved", fake_thread, &f);
  g_mutex_lock (&f.lock);
  while (!f.ready)
    g_cond_wait (&f.cond, &f.lock);
  g_mutex_unlock (&f.lock);

  o = ok_call (
      state, "priv.resolved_link",
      "{\"bridge\":\"bngbr0\",\"address\":\"10.77.0.1/24\",\"domain\":\"banger.internal\"}", &n);
  ck_assert_int_eq (json_object_get_int_member (o, "ifindex"), info.ifindex);
  g_mutex_lock (&f.lock);
  ck_assert_uint_eq (f.calls->len, 3);
  {
    g_autofree char *dns
        = g_strdup_printf ("SetLinkDNS (%d, [(2, [0x0a, 0x4d, 0x00, 0x01])])", info.ifindex);
    g_autofree char *dom = g_strdup_printf (
        "SetLinkDomains (%d, [('banger.internal', true), ('0.77.10.in-addr.arpa', true)])",
        info.ifindex);
    g_autofree char *def = g_strdup_printf ("SetLinkDefaultRoute (%d, false)", info.ifindex);
    ck_assert_str_eq (f.calls->pdata[0], dns);
    ck_assert_str_eq (f.calls->pdata[1], dom);
    ck_assert_str_eq (f.calls->pdata[2], def);
  }
  g_mutex_unlock (&f.lock);

  /* refusals: not banger's bridge, an address not on it, bad domains */
  run_ok ("ip link add bngbr9 type bridge");
  run_ok ("ip addr add 10.78.0.1/24 dev bngbr9");
  refused (state, "priv.resolved_link",
           "{\"bridge\":\"bngbr9\",\"address\":\"10.78.0.1/24\",\"domain\":\"banger.internal\"}",
           BANGER_ERROR_PERMISSION_DENIED);
  refused (state, "priv.resolved_link",
           "{\"bridge\":\"bngbr0\",\"address\":\"10.78.0.1/24\",\"domain\":\"banger.internal\"}",
           BANGER_ERROR_ALREADY_EXISTS);
  refused (state, "priv.resolved_link",
           "{\"bridge\":\"bngbr0\",\"address\":\"10.77.0.9/24\",\"domain\":\"banger.internal\"}",
           BANGER_ERROR_PERMISSION_DENIED);
  refused (state, "priv.resolved_link",
           "{\"bridge\":\"eth0\",\"address\":\"10.77.0.1/24\",\"domain\":\"banger.internal\"}",
           BANGER_ERROR_INVALID_ARGUMENT);
  refused (state, "priv.resolved_link",
           "{\"bridge\":\"bngbr0\",\"address\":\"10.77.0.1/24\",\"domain\":\"Banger.internal\"}",
           BANGER_ERROR_INVALID_ARGUMENT);
  refused (state, "priv.resolved_link",
           "{\"bridge\":\"bngbr0\",\"address\":\"10.77.0.1/24\",\"domain\":\"banger.internal.\"}",
           BANGER_ERROR_INVALID_ARGUMENT);
  refused (state, "priv.resolved_link",
           "{\"bridge\":\"bngbr0\",\"address\":\"10.77.0.1/24\",\"domain\":\"a..b\"}",
           BANGER_ERROR_INVALID_ARGUMENT);
  refused (state, "priv.resolved_link",
           "{\"bridge\":\"bngbr0\",\"address\":\"8.8.8.8/24\",\"domain\":\"banger.internal\"}",
           BANGER_ERROR_PERMISSION_DENIED);
  g_mutex_lock (&f.lock);
  ck_assert_uint_eq (f.calls->len, 3); /* none of those reached resolved */
  g_mutex_unlock (&f.lock);

  g_main_loop_quit (f.loop);
  g_thread_join (t);
  g_main_loop_unref (f.loop);
  g_main_context_unref (f.ctx);
  g_ptr_array_unref (f.calls);
  banger_resolved_set_bus_address_for_testing (NULL);
  g_test_dbus_down (bus);
  host_test_state_free (state);
}
END_TEST

static void
netns_cmd (const char *verb, const char *name)
{
  const char *argv[] = { "ip", "netns", verb, name, NULL };
  g_free (host_test_run (argv, NULL));
}

/* In the parent (unchecked): the test netns named from its pid. */
static void
setup (void)
{
  host_test_netns_add ();
}

static void
teardown (void)
{
  host_test_netns_del ();
  netns_cmd ("delete", guest_ns);
  netns_cmd ("delete", out_ns);
}

/* In each test's child (checked): all three namespaces afresh, so every
 * test starts from an empty host (the names stay the parent's, so the
 * unchecked teardown removes what a failed test left). */
static void
per_test_setup (void)
{
  g_autofree char *main_ns = g_strdup_printf ("banger-test-%d", (int)getppid ());

  netns_cmd ("delete", main_ns);
  netns_cmd ("add", main_ns);
  netns_cmd ("delete", guest_ns);
  netns_cmd ("delete", out_ns);
}

static Suite *
reach_suite (void)
{
  Suite *s = suite_create ("host-reach");
  TCase *tc = tcase_create ("netns");

  g_snprintf (guest_ns, sizeof guest_ns, "banger-test-g%d", (int)getpid ());
  g_snprintf (out_ns, sizeof out_ns, "banger-test-o%d", (int)getpid ());
  tcase_add_unchecked_fixture (tc, setup, teardown);
  tcase_add_checked_fixture (tc, per_test_setup, NULL);
  tcase_set_timeout (tc, 90);
  tcase_add_test (tc, test_publish_traffic);
  tcase_add_test (tc, test_publish_refusals);
  tcase_add_test (tc, test_egress_traffic);
  tcase_add_test (tc, test_egress_refusals);
  tcase_add_test (tc, test_resolved_link);
  suite_add_tcase (s, tc);
  return s;
}

BANGER_TEST_MAIN_ROOT (reach_suite, "needs root for network namespaces and nftables")
