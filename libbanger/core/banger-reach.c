/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Publish and egress texts (see banger-reach.h). */
#include "config.h"

#include <string.h>

#include "banger-error.h"
#include "banger-ipv4.h"
#include "banger-quote.h"
#include "banger-reach.h"

/* 1-65535, decimal digits only, no leading zero. */
static gboolean
parse_port (const char *s, gsize len, guint16 *out)
{
  guint v = 0;

  if (len == 0 || len > 5 || s[0] == '0')
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      if (!g_ascii_isdigit (s[i]))
        return FALSE;
      v = v * 10 + (guint)(s[i] - '0');
    }
  if (v < 1 || v > 65535)
    return FALSE;
  *out = (guint16)v;
  return TRUE;
}

static gboolean
bad (GError **error, const char *text, const char *why)
{
  g_autofree char *q = banger_quote (text);
  g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
               "Publish '%s' is not [HOSTIP:]HOSTPORT:GUESTPORT[/tcp|/udp]: %s", q, why);
  return FALSE;
}

gboolean
banger_publish_parse (const char *text, BangerPublish *out, GError **error)
{
  BangerPublish p = { 0 };
  const char *slash;
  g_autofree char *body = NULL;
  g_auto (GStrv) parts = NULL;
  guint n;
  const char *hp, *gp;

  if (text == NULL || text[0] == '\0' || strlen (text) > 64)
    return bad (error, text, "empty or longer than 64 bytes");
  slash = strchr (text, '/');
  if (slash != NULL)
    {
      if (g_str_equal (slash + 1, "tcp"))
        p.proto = BANGER_PUBLISH_TCP;
      else if (g_str_equal (slash + 1, "udp"))
        p.proto = BANGER_PUBLISH_UDP;
      else
        return bad (error, text, "the protocol is not tcp or udp");
      body = g_strndup (text, slash - text);
    }
  else
    body = g_strdup (text);
  parts = g_strsplit (body, ":", -1);
  n = g_strv_length (parts);
  if (n != 2 && n != 3)
    return bad (error, text, "it needs two or three ':'-separated parts");
  if (n == 3)
    {
      guint32 a;
      if (!banger_ipv4_parse_address (parts[0], &a))
        return bad (error, text, "the host address is not an IPv4 address (a.b.c.d)");
      if (a != 0 && ((a >> 24) == 0 || (a >> 28) >= 0xe))
        return bad (error, text,
                    "the host address is in 0.0.0.0/8, multicast or reserved (0.0.0.0 alone "
                    "means every local address)");
      p.host_ip = a;
    }
  hp = parts[n - 2];
  gp = parts[n - 1];
  if (!parse_port (hp, strlen (hp), &p.host_port))
    return bad (error, text, "the host port is not 1-65535");
  if (!parse_port (gp, strlen (gp), &p.guest_port))
    return bad (error, text, "the guest port is not 1-65535");
  *out = p;
  return TRUE;
}

const char *
banger_publish_proto_to_string (BangerPublishProto proto)
{
  return proto == BANGER_PUBLISH_UDP ? "udp" : "tcp";
}

char *
banger_publish_to_string (const BangerPublish *p)
{
  return g_strdup_printf ("%u.%u.%u.%u:%u:%u/%s", p->host_ip >> 24, (p->host_ip >> 16) & 0xff,
                          (p->host_ip >> 8) & 0xff, p->host_ip & 0xff, p->host_port, p->guest_port,
                          banger_publish_proto_to_string (p->proto));
}

gboolean
banger_publish_overlaps (const BangerPublish *a, const BangerPublish *b)
{
  return a->proto == b->proto && a->host_port == b->host_port
         && (a->host_ip == b->host_ip || a->host_ip == 0 || b->host_ip == 0);
}

GArray *
banger_publish_parse_list (const char *const *texts, GError **error)
{
  g_autoptr (GArray) list = g_array_new (FALSE, TRUE, sizeof (BangerPublish));

  for (guint i = 0; texts != NULL && texts[i] != NULL; i++)
    {
      BangerPublish p;

      if (list->len >= BANGER_PUBLISH_MAX)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                       "At most %d publishes per VM", BANGER_PUBLISH_MAX);
          return NULL;
        }
      if (!banger_publish_parse (texts[i], &p, error))
        return NULL;
      for (guint j = 0; j < list->len; j++)
        if (banger_publish_overlaps (&p, &g_array_index (list, BangerPublish, j)))
          {
            g_autofree char *a = banger_publish_to_string (&p);
            g_autofree char *b = banger_publish_to_string (&g_array_index (list, BangerPublish, j));
            g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                         "Publishes '%s' and '%s' claim the same host port", a, b);
            return NULL;
          }
      g_array_append_val (list, p);
    }
  return g_steal_pointer (&list);
}

char *
banger_publish_list_join (GArray *list)
{
  g_autoptr (GString) s = g_string_new (NULL);

  for (guint i = 0; list != NULL && i < list->len; i++)
    {
      g_autofree char *t = banger_publish_to_string (&g_array_index (list, BangerPublish, i));
      if (i > 0)
        g_string_append_c (s, ',');
      g_string_append (s, t);
    }
  return g_string_free (g_steal_pointer (&s), FALSE);
}

GArray *
banger_publish_list_split (const char *joined, GError **error)
{
  g_auto (GStrv) parts = NULL;

  if (joined == NULL || joined[0] == '\0')
    return g_array_new (FALSE, TRUE, sizeof (BangerPublish));
  parts = g_strsplit (joined, ",", -1);
  return banger_publish_parse_list ((const char *const *)parts, error);
}

char *
banger_egress_parse (const char *text, BangerEgressMode *out_mode, GPtrArray **out_cidrs,
                     GError **error)
{
  g_autoptr (GPtrArray) cidrs = g_ptr_array_new_with_free_func (g_free);
  g_auto (GStrv) parts = NULL;
  BangerEgressMode mode;
  char *canon;

  if (text == NULL || text[0] == '\0' || g_str_equal (text, "nat"))
    {
      mode = BANGER_EGRESS_NAT;
      canon = g_strdup ("nat");
    }
  else if (g_str_equal (text, "none"))
    {
      mode = BANGER_EGRESS_NONE;
      canon = g_strdup ("none");
    }
  else
    {
      if (strlen (text) > 32 * 19)
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                       "Egress list is longer than %d CIDRs", BANGER_EGRESS_MAX_CIDRS);
          return NULL;
        }
      parts = g_strsplit (text, ",", -1);
      for (char **p = parts; *p; p++)
        {
          guint32 addr, mask;
          guint prefix;
          g_autofree char *q = NULL;

          if (!banger_ipv4_parse_cidr (*p, &addr, &prefix))
            {
              q = banger_quote (*p);
              g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                           "Egress '%s' is not nat, none or a list of IPv4 networks "
                           "(a.b.c.d/n,…)",
                           q);
              return NULL;
            }
          if (cidrs->len >= BANGER_EGRESS_MAX_CIDRS)
            {
              g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                           "Egress list is longer than %d CIDRs", BANGER_EGRESS_MAX_CIDRS);
              return NULL;
            }
          mask = prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
          addr &= mask;
          q = g_strdup_printf ("%u.%u.%u.%u/%u", addr >> 24, (addr >> 16) & 0xff,
                               (addr >> 8) & 0xff, addr & 0xff, prefix);
          if (g_ptr_array_find_with_equal_func (cidrs, q, g_str_equal, NULL))
            {
              g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                           "Egress network '%s' is listed twice", q);
              return NULL;
            }
          g_ptr_array_add (cidrs, g_steal_pointer (&q));
        }
      mode = BANGER_EGRESS_CIDRS;
      g_ptr_array_add (cidrs, NULL);
      canon = g_strjoinv (",", (char **)cidrs->pdata);
      g_ptr_array_remove_index (cidrs, cidrs->len - 1);
    }
  if (out_mode != NULL)
    *out_mode = mode;
  if (out_cidrs != NULL)
    *out_cidrs = g_steal_pointer (&cidrs);
  return canon;
}

gboolean
banger_validate_dns_domain (const char *domain, GError **error)
{
  gsize len = domain != NULL ? strlen (domain) : 0;
  gboolean ok = len >= 1 && len <= 190;
  gsize label = 0;

  for (gsize i = 0; ok && i <= len; i++)
    {
      char c = domain[i];
      if (c == '.' || c == '\0')
        {
          ok = label >= 1 && label <= 63 && domain[i - 1] != '-';
          label = 0;
        }
      else if (g_ascii_islower (c) || g_ascii_isdigit (c) || (c == '-' && label > 0))
        label++;
      else
        ok = FALSE;
    }
  if (ok)
    return TRUE;
  {
    g_autofree char *q = banger_quote (domain);
    g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                 "DNS domain '%s' is not dot-separated labels of lowercase letters, digits and "
                 "'-' (at most 190 bytes, no trailing dot)",
                 q);
  }
  return FALSE;
}

char *
banger_reverse_zone (guint32 addr, guint prefix)
{
  if (prefix >= 24)
    return g_strdup_printf ("%u.%u.%u.in-addr.arpa", (addr >> 8) & 0xff, (addr >> 16) & 0xff,
                            addr >> 24);
  if (prefix >= 16)
    return g_strdup_printf ("%u.%u.in-addr.arpa", (addr >> 16) & 0xff, addr >> 24);
  if (prefix >= 8)
    return g_strdup_printf ("%u.in-addr.arpa", addr >> 24);
  return NULL;
}
