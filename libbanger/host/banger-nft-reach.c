/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Publishes and egress in banger's nftables table (see banger-nft-reach.h). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <json-glib/json-glib.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "banger-error.h"
#include "banger-host-names.h"
#include "banger-names.h"
#include "banger-nft-private.h"
#include "banger-nft-reach.h"
#include "banger-nft.h"
#include "banger-priv-ops-private.h"

#define CHAIN_PUBLISH "publish"
#define CHAIN_EGRESS "egress"

typedef struct
{
  gint64 handle;
  char *vm_id; /* from the comment "banger-vm:<id> <kind> <value>" */
  char *kind;  /* "publish" or "egress" */
  char *value;
} Rule;

static void
rule_free (Rule *r)
{
  g_free (r->vm_id);
  g_free (r->kind);
  g_free (r->value);
  g_free (r);
}

/* "banger-vm:<id> <kind> <value>" → its parts; FALSE for anything else
 * (a rule banger did not make: ignored, never deleted). */
static gboolean
parse_comment (const char *comment, Rule *r)
{
  g_auto (GStrv) parts = NULL;

  if (comment == NULL || !g_str_has_prefix (comment, "banger-vm:"))
    return FALSE;
  parts = g_strsplit (comment + strlen ("banger-vm:"), " ", -1);
  if (g_strv_length (parts) != 3 || !banger_validate_vm_name (parts[0], NULL))
    return FALSE;
  r->vm_id = g_strdup (parts[0]);
  r->kind = g_strdup (parts[1]);
  r->value = g_strdup (parts[2]);
  return TRUE;
}

/* The rules of banger's @chain with a banger comment (GPtrArray of Rule);
 * an absent chain has none. */
static GPtrArray *
list_rules (const char *table, const char *chain, GError **error)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify)rule_free);
  g_autoptr (BangerNftCtx) ctx = banger_nft_ctx_new (TRUE);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree char *cmd = NULL;
  JsonNode *root;
  JsonArray *arr;

  if (ctx == NULL)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_UNSUPPORTED,
                   "Cannot create an nftables context");
      return NULL;
    }
  nft_ctx_output_set_flags (ctx, NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE);
  cmd = g_strdup_printf ("list chain ip %s %s", table, chain);
  if (nft_run_cmd_from_buffer (ctx, cmd) != 0)
    return g_steal_pointer (&out); /* banger's table without the chain */
  if (!json_parser_load_from_data (parser, nft_ctx_get_output_buffer (ctx), -1, error))
    return NULL;
  root = json_parser_get_root (parser);
  arr = JSON_NODE_HOLDS_OBJECT (root)
            ? json_object_get_array_member (json_node_get_object (root), "nftables")
            : NULL;
  for (guint i = 0; arr != NULL && i < json_array_get_length (arr); i++)
    {
      JsonObject *o = json_array_get_object_element (arr, i);
      JsonObject *rule = o && json_object_has_member (o, "rule")
                             ? json_object_get_object_member (o, "rule")
                             : NULL;
      Rule r = { 0 };

      if (rule == NULL || !json_object_has_member (rule, "handle")
          || !parse_comment (json_object_get_string_member_with_default (rule, "comment", NULL),
                             &r))
        continue;
      r.handle = json_object_get_int_member (rule, "handle");
      g_ptr_array_add (out, g_memdup2 (&r, sizeof r));
    }
  return g_steal_pointer (&out);
}

static gboolean
prepare_table (const char *table, const char *install_id, gboolean *out_exists, GError **error)
{
  g_autofree char *marker = banger_host_marker (install_id, "nat");

  return banger_nft_validate_table (table, error)
         && banger_nft_check_table (table, marker, out_exists, error);
}

/* The batch lines that make the table (when absent) and the chains of
 * @what ("publish" / "egress") with their jumps, re-stated idempotently. */
static void
append_skeleton (GString *cmds, const char *table, const char *install_id, gboolean exists,
                 const char *what)
{
  if (!exists)
    {
      g_autofree char *marker = banger_host_marker (install_id, "nat");
      g_string_append_printf (cmds, "create table ip %s { comment \"%s\"; }\n", table, marker);
    }
  if (g_str_equal (what, CHAIN_PUBLISH))
    g_string_append_printf (
        cmds,
        "add chain ip %1$s publish\n"
        "add chain ip %1$s publish_prerouting { type nat hook prerouting priority -100; policy "
        "accept; }\n"
        "flush chain ip %1$s publish_prerouting\n"
        "add rule ip %1$s publish_prerouting jump publish\n"
        "add chain ip %1$s publish_output { type nat hook output priority -100; policy accept; }\n"
        "flush chain ip %1$s publish_output\n"
        "add rule ip %1$s publish_output jump publish\n",
        table);
  else
    g_string_append_printf (
        cmds,
        "add chain ip %1$s egress\n"
        "add chain ip %1$s egress_forward { type filter hook forward priority -1; policy accept; "
        "}\n"
        "flush chain ip %1$s egress_forward\n"
        "add rule ip %1$s egress_forward jump egress\n"
        "add chain ip %1$s egress_input { type filter hook input priority -1; policy accept; }\n"
        "flush chain ip %1$s egress_input\n"
        "add rule ip %1$s egress_input jump egress\n",
        table);
}

static char *
ip_text (guint32 host_order)
{
  return g_strdup_printf ("%u.%u.%u.%u", host_order >> 24, (host_order >> 16) & 0xff,
                          (host_order >> 8) & 0xff, host_order & 0xff);
}

/* Is @addr (host order) on one of this host's interfaces? */
static gboolean
address_is_local (guint32 addr)
{
  struct ifaddrs *ifa = NULL;
  gboolean found = FALSE;

  if (getifaddrs (&ifa) < 0)
    return FALSE;
  for (struct ifaddrs *i = ifa; i != NULL && !found; i = i->ifa_next)
    if (i->ifa_addr != NULL && i->ifa_addr->sa_family == AF_INET
        && ntohl (((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr) == addr)
      found = TRUE;
  freeifaddrs (ifa);
  return found;
}

/* BUSY when a socket on this host holds @p's address and port: a bind test
 * (TCP with SO_REUSEADDR, so a TIME_WAIT left-over does not count; a
 * listening or bound socket still does). */
static gboolean
check_port_free (const BangerPublish *p, GError **error)
{
  struct sockaddr_in sa = { .sin_family = AF_INET };
  int one = 1;
  int fd = socket (AF_INET,
                   (p->proto == BANGER_PUBLISH_UDP ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
  int saved;

  if (fd < 0)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "socket: %s", g_strerror (errno));
      return FALSE;
    }
  if (p->proto == BANGER_PUBLISH_TCP)
    setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sa.sin_addr.s_addr = htonl (p->host_ip);
  sa.sin_port = htons (p->host_port);
  if (bind (fd, (struct sockaddr *)&sa, sizeof sa) == 0)
    {
      close (fd);
      return TRUE;
    }
  saved = errno;
  close (fd);
  {
    g_autofree char *t = banger_publish_to_string (p);
    if (saved == EADDRINUSE)
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_BUSY,
                   "Host port %u/%s is already in use on this host (a socket is bound to it); "
                   "cannot publish '%s'",
                   p->host_port, banger_publish_proto_to_string (p->proto), t);
    else
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "Cannot check host port of '%s': %s",
                   t, g_strerror (saved));
  }
  return FALSE;
}

static void
append_publish_rule (GString *cmds, const char *table, const char *vm_id, const char *guest_ip,
                     const BangerPublish *p)
{
  g_autofree char *canon = banger_publish_to_string (p);
  g_autofree char *host = ip_text (p->host_ip);
  const char *proto = banger_publish_proto_to_string (p->proto);

  if (p->host_ip == 0)
    g_string_append_printf (cmds,
                            "add rule ip %s " CHAIN_PUBLISH " fib daddr type local ip daddr != "
                            "127.0.0.0/8 %s dport %u dnat to %s:%u comment \"banger-vm:%s "
                            "publish %s\"\n",
                            table, proto, p->host_port, guest_ip, p->guest_port, vm_id, canon);
  else
    g_string_append_printf (cmds,
                            "add rule ip %s " CHAIN_PUBLISH " ip daddr %s %s dport %u dnat to "
                            "%s:%u comment \"banger-vm:%s publish %s\"\n",
                            table, host, proto, p->host_port, guest_ip, p->guest_port, vm_id,
                            canon);
}

gboolean
banger_nft_publish_set (const char *table, const char *install_id, const char *vm_id,
                        const char *guest_ip, GArray *list, GError **error)
{
  g_autoptr (GPtrArray) rules = NULL;
  g_autoptr (GString) cmds = g_string_new (NULL);
  g_autoptr (BangerNftCtx) ctx = NULL;
  gboolean exists;
  guint others = 0;

  if (!banger_validate_vm_name (vm_id, error) || !banger_priv_validate_ipv4 (guest_ip, error)
      || !prepare_table (table, install_id, &exists, error))
    return FALSE;
  if (exists && (rules = list_rules (table, CHAIN_PUBLISH, error)) == NULL)
    return FALSE;
  if (rules == NULL)
    rules = g_ptr_array_new_with_free_func ((GDestroyNotify)rule_free);

  for (guint i = 0; i < list->len; i++)
    {
      const BangerPublish *p = &g_array_index (list, BangerPublish, i);
      g_autofree char *canon = banger_publish_to_string (p);
      gboolean held = FALSE;

      if (p->host_ip != 0 && ((p->host_ip >> 24) == 127 || !address_is_local (p->host_ip)))
        {
          g_autofree char *host = ip_text (p->host_ip);
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                       "Host address %s of publish '%s' is %s", host, canon,
                       (p->host_ip >> 24) == 127
                           ? "a loopback address (DNAT from loopback does not reach a VM; "
                             "publish on 0.0.0.0 or a real address)"
                           : "not an address of this host");
          return FALSE;
        }
      for (guint j = 0; j < rules->len; j++)
        {
          Rule *r = rules->pdata[j];
          BangerPublish other;

          if (!g_str_equal (r->kind, "publish") || !banger_publish_parse (r->value, &other, NULL))
            continue;
          if (g_str_equal (r->vm_id, vm_id))
            {
              if (g_str_equal (r->value, canon))
                held = TRUE;
              continue;
            }
          if (banger_publish_overlaps (p, &other))
            {
              g_set_error (error, BANGER_ERROR, BANGER_ERROR_BUSY,
                           "Host port %u/%s is already published by VM '%s' (%s); cannot "
                           "publish '%s'",
                           p->host_port, banger_publish_proto_to_string (p->proto), r->vm_id,
                           r->value, canon);
              return FALSE;
            }
        }
      if (!held && !check_port_free (p, error))
        return FALSE;
    }
  for (guint j = 0; j < rules->len; j++)
    if (!g_str_equal (((Rule *)rules->pdata[j])->vm_id, vm_id))
      others++;
  if (list->len == 0 && others == rules->len)
    return TRUE; /* nothing to add or remove: the table is left as it is */
  if (others + list->len > BANGER_NFT_PUBLISH_MAX_TOTAL)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_LIMIT_EXCEEDED,
                   "banger's table already holds %u publish rules (at most %d)", others,
                   BANGER_NFT_PUBLISH_MAX_TOTAL);
      return FALSE;
    }

  append_skeleton (cmds, table, install_id, exists, CHAIN_PUBLISH);
  for (guint j = 0; j < rules->len; j++)
    {
      Rule *r = rules->pdata[j];
      if (g_str_equal (r->vm_id, vm_id))
        g_string_append_printf (cmds,
                                "delete rule ip %s " CHAIN_PUBLISH " handle %" G_GINT64_FORMAT "\n",
                                table, r->handle);
    }
  for (guint i = 0; i < list->len; i++)
    append_publish_rule (cmds, table, vm_id, guest_ip, &g_array_index (list, BangerPublish, i));
  ctx = banger_nft_ctx_new (FALSE);
  if (ctx == NULL)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_UNSUPPORTED,
                   "Cannot create an nftables context");
      return FALSE;
    }
  return banger_nft_run (ctx, cmds->str, error);
}

/* The rules of @chain, or an empty list when the table is absent. */
static GPtrArray *
rules_of (const char *table, const char *install_id, const char *chain, GError **error)
{
  gboolean exists;

  if (!prepare_table (table, install_id, &exists, error))
    return NULL;
  if (!exists)
    return g_ptr_array_new_with_free_func ((GDestroyNotify)rule_free);
  return list_rules (table, chain, error);
}

char *
banger_nft_publish_list (const char *table, const char *install_id, const char *vm_id,
                         GError **error)
{
  g_autoptr (GPtrArray) rules = NULL;
  g_autoptr (GString) s = g_string_new (NULL);

  if (vm_id != NULL && !banger_validate_vm_name (vm_id, error))
    return NULL;
  rules = rules_of (table, install_id, CHAIN_PUBLISH, error);
  if (rules == NULL)
    return NULL;
  for (guint j = 0; j < rules->len; j++)
    {
      Rule *r = rules->pdata[j];
      if (!g_str_equal (r->kind, "publish"))
        continue;
      if (vm_id == NULL)
        g_string_append_printf (s, "%s %s\n", r->vm_id, r->value);
      else if (g_str_equal (r->vm_id, vm_id))
        g_string_append_printf (s, "%s%s", s->len ? "," : "", r->value);
    }
  return g_string_free (g_steal_pointer (&s), FALSE);
}

/* What an egress rule's comment says: "none", or "cidrs:" + the first 16
 * hex digits of SHA-256 of the canonical list. */
static char *
egress_tag (BangerEgressMode mode, const char *canon)
{
  g_autofree char *sum = NULL;

  if (mode == BANGER_EGRESS_NONE)
    return g_strdup ("none");
  sum = g_compute_checksum_for_string (G_CHECKSUM_SHA256, canon, -1);
  return g_strdup_printf ("cidrs:%.16s", sum);
}

char *
banger_nft_egress_tag (const char *egress, GError **error)
{
  BangerEgressMode mode;
  g_autofree char *canon = banger_egress_parse (egress, &mode, NULL, error);

  if (canon == NULL)
    return NULL;
  return mode == BANGER_EGRESS_NAT ? g_strdup ("nat") : egress_tag (mode, canon);
}

gboolean
banger_nft_egress_set (const char *table, const char *install_id, const char *vm_id,
                       const char *guest_ip, const char *gateway, const char *egress,
                       GError **error)
{
  g_autoptr (GPtrArray) rules = NULL;
  g_autoptr (GPtrArray) cidrs = NULL;
  g_autoptr (GString) cmds = g_string_new (NULL);
  g_autoptr (BangerNftCtx) ctx = NULL;
  g_autofree char *canon = NULL;
  g_autofree char *comment = NULL;
  BangerEgressMode mode;
  gboolean exists;
  guint own = 0;

  if (!banger_validate_vm_name (vm_id, error) || !banger_priv_validate_ipv4 (guest_ip, error)
      || !banger_priv_validate_ipv4 (gateway, error))
    return FALSE;
  canon = banger_egress_parse (egress, &mode, &cidrs, error);
  if (canon == NULL || !prepare_table (table, install_id, &exists, error))
    return FALSE;
  if (exists && (rules = list_rules (table, CHAIN_EGRESS, error)) == NULL)
    return FALSE;
  if (rules != NULL)
    for (guint j = 0; j < rules->len; j++)
      if (g_str_equal (((Rule *)rules->pdata[j])->vm_id, vm_id))
        own++;
  if (mode == BANGER_EGRESS_NAT && own == 0)
    return TRUE; /* nothing to remove, and no table to make for it */

  append_skeleton (cmds, table, install_id, exists, CHAIN_EGRESS);
  for (guint j = 0; rules != NULL && j < rules->len; j++)
    {
      Rule *r = rules->pdata[j];
      if (g_str_equal (r->vm_id, vm_id))
        g_string_append_printf (cmds,
                                "delete rule ip %s " CHAIN_EGRESS " handle %" G_GINT64_FORMAT "\n",
                                table, r->handle);
    }
  if (mode != BANGER_EGRESS_NAT)
    {
      /* comments are at most 128 bytes: the list itself does not fit, its
       * digest does (banger_nft_egress_get compares it) */
      g_autofree char *tag = egress_tag (mode, canon);
      comment = g_strdup_printf ("comment \"banger-vm:%s egress %s\"", vm_id, tag);
      g_string_append_printf (cmds,
                              "add rule ip %s " CHAIN_EGRESS " ip saddr %s ip daddr %s accept %s\n",
                              table, guest_ip, gateway, comment);
      if (mode == BANGER_EGRESS_CIDRS)
        {
          g_ptr_array_add (cidrs, NULL);
          {
            g_autofree char *set = g_strjoinv (", ", (char **)cidrs->pdata);
            g_string_append_printf (cmds,
                                    "add rule ip %s " CHAIN_EGRESS " ip saddr %s ip daddr { %s } "
                                    "accept %s\n",
                                    table, guest_ip, set, comment);
          }
        }
      g_string_append_printf (cmds,
                              "add rule ip %s " CHAIN_EGRESS " ip saddr %s ct state "
                              "established,related accept %s\n"
                              "add rule ip %s " CHAIN_EGRESS " ip saddr %s drop %s\n",
                              table, guest_ip, comment, table, guest_ip, comment);
    }
  ctx = banger_nft_ctx_new (FALSE);
  if (ctx == NULL)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_UNSUPPORTED,
                   "Cannot create an nftables context");
      return FALSE;
    }
  return banger_nft_run (ctx, cmds->str, error);
}

char *
banger_nft_egress_get (const char *table, const char *install_id, const char *vm_id, GError **error)
{
  g_autoptr (GPtrArray) rules = NULL;

  if (!banger_validate_vm_name (vm_id, error))
    return NULL;
  rules = rules_of (table, install_id, CHAIN_EGRESS, error);
  if (rules == NULL)
    return NULL;
  for (guint j = 0; j < rules->len; j++)
    {
      Rule *r = rules->pdata[j];
      if (g_str_equal (r->vm_id, vm_id) && g_str_equal (r->kind, "egress"))
        return g_strdup (r->value);
    }
  return g_strdup ("nat");
}

gboolean
banger_nft_reach_clear (const char *table, const char *install_id, const char *vm_id,
                        guint *out_removed, GError **error)
{
  static const char *const chains[] = { CHAIN_PUBLISH, CHAIN_EGRESS };
  g_autoptr (GString) cmds = g_string_new (NULL);
  g_autoptr (BangerNftCtx) ctx = NULL;
  gboolean exists;
  guint n = 0;

  if (out_removed != NULL)
    *out_removed = 0;
  if (!banger_validate_vm_name (vm_id, error) || !prepare_table (table, install_id, &exists, error))
    return FALSE;
  if (!exists)
    return TRUE;
  for (guint c = 0; c < G_N_ELEMENTS (chains); c++)
    {
      g_autoptr (GPtrArray) rules = list_rules (table, chains[c], error);
      if (rules == NULL)
        return FALSE;
      for (guint j = 0; j < rules->len; j++)
        {
          Rule *r = rules->pdata[j];
          if (!g_str_equal (r->vm_id, vm_id))
            continue;
          g_string_append_printf (cmds, "delete rule ip %s %s handle %" G_GINT64_FORMAT "\n", table,
                                  chains[c], r->handle);
          n++;
        }
    }
  if (n == 0)
    return TRUE;
  ctx = banger_nft_ctx_new (FALSE);
  if (ctx == NULL)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_UNSUPPORTED,
                   "Cannot create an nftables context");
      return FALSE;
    }
  if (!banger_nft_run (ctx, cmds->str, error))
    return FALSE;
  if (out_removed != NULL)
    *out_removed = n;
  return TRUE;
}
