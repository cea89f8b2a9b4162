/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Host resolution advice for `banger doctor` (see banger-dns-advice.h). */
#include "config.h"

#include <string.h>

#include "banger-dns-advice.h"

/* Does a resolv.conf name @address as a nameserver? */
static gboolean
resolv_has_nameserver (const char *text, const char *address)
{
  g_auto (GStrv) lines = text ? g_strsplit (text, "\n", -1) : NULL;

  for (guint i = 0; lines != NULL && lines[i] != NULL; i++)
    {
      g_auto (GStrv) words = g_strsplit_set (g_strstrip (lines[i]), " \t", -1);
      guint n = 0;
      const char *w[2] = { NULL, NULL };

      for (guint j = 0; words[j] != NULL && n < 2; j++)
        if (words[j][0] != '\0')
          w[n++] = words[j];
      if (n == 2 && g_str_equal (w[0], "nameserver") && g_str_equal (w[1], address))
        return TRUE;
    }
  return FALSE;
}

BangerDnsHostResolver
banger_dns_host_advice (const BangerDnsHostFacts *facts, const char *domain, const char *address,
                        const char *reverse_zone, gboolean *out_ok, char **out_advice)
{
  gboolean stub
      = facts->resolv_conf != NULL && resolv_has_nameserver (facts->resolv_conf, "127.0.0.53");

  if (facts->resolved_running && stub)
    {
      *out_ok = TRUE;
      *out_advice = g_strdup_printf (
          "systemd-resolved answers the host: banger routes %s and %s to %s on its bridge "
          "(priv.resolved_link; by hand: resolvectl dns bngbr0 %s; resolvectl domain bngbr0 "
          "'~%s' '~%s')",
          domain, reverse_zone, address, address, domain, reverse_zone);
      return BANGER_DNS_HOST_RESOLVED;
    }
  if (facts->dnsmasq)
    {
      *out_ok = FALSE;
      *out_advice = g_strdup_printf (
          "dnsmasq answers the host: add to /etc/dnsmasq.d/banger.conf (NetworkManager: "
          "/etc/NetworkManager/dnsmasq.d/banger.conf):\n"
          "  server=/%s/%s\n"
          "  server=/%s/%s",
          domain, address, reverse_zone, address);
      return BANGER_DNS_HOST_DNSMASQ;
    }
  if (facts->unbound)
    {
      *out_ok = FALSE;
      *out_advice = g_strdup_printf ("unbound answers the host: add to its configuration:\n"
                                     "  server:\n"
                                     "    domain-insecure: \"%s\"\n"
                                     "    local-zone: \"%s.\" nodefault\n"
                                     "  stub-zone:\n"
                                     "    name: \"%s\"\n"
                                     "    stub-addr: %s\n"
                                     "  stub-zone:\n"
                                     "    name: \"%s\"\n"
                                     "    stub-addr: %s",
                                     domain, reverse_zone, domain, address, reverse_zone, address);
      return BANGER_DNS_HOST_UNBOUND;
    }
  if (resolv_has_nameserver (facts->resolv_conf, address))
    {
      *out_ok = TRUE;
      *out_advice = g_strdup_printf (
          "/etc/resolv.conf lists %s: the host asks banger first (other names are REFUSED "
          "there and glibc asks the next server; breaks with 'options rotate')",
          address);
      return BANGER_DNS_HOST_PLAIN;
    }
  *out_ok = FALSE;
  *out_advice = g_strdup_printf (
      "only /etc/resolv.conf (no systemd-resolved, dnsmasq or unbound): there is no per-domain "
      "routing; to resolve %s on the host, put 'nameserver %s' first in /etc/resolv.conf "
      "(banger answers REFUSED for other names and glibc moves on; one extra round trip per "
      "other lookup, and banger sees every name the host looks up; not with 'options "
      "rotate').  banger never edits that file itself.",
      domain, address);
  return BANGER_DNS_HOST_PLAIN;
}
