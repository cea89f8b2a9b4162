/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * doctor's host-dns check: how the host resolves <vm>.<domain>
 * (banger-dns-advice.c), for an engine config (the daemon's own, or the
 * CLI's $BANGER_CONFIG when no daemon answers).  The files read can be moved for
 * tests: BANGER_DOCTOR_ROOT is prefixed to every path. */
#include "config.h"

#include "banger-dns-advice.h"
#include "banger-engine-doctor.h"
#include "banger-engine-config.h"
#include "banger-reach.h"
#include "banger-store-lease.h"

static char *
path_of (const char *p)
{
  const char *root = g_getenv ("BANGER_DOCTOR_ROOT");
  return root ? g_build_filename (root, p, NULL) : g_strdup (p);
}

static gboolean
exists (const char *p)
{
  g_autofree char *full = path_of (p);
  return g_file_test (full, G_FILE_TEST_EXISTS);
}

char *
banger_engine_doctor_dns (const BangerEngineConfig *config, gboolean *out_ok)
{
  g_autofree char *resolv_path = path_of ("/etc/resolv.conf");
  g_autofree char *resolv = NULL;
  g_autofree char *advice = NULL;
  g_autofree char *address = NULL;
  g_autofree char *reverse = NULL;
  BangerDnsHostFacts facts = { 0 };
  guint32 net = 0;
  guint prefix = 0;

  if (config->dns_port == 0)
    {
      *out_ok = TRUE;
      return g_strdup ("the DNS responder is off ([network] dns-port=0)");
    }
  banger_store_parse_subnet (config->subnet, &net, &prefix, NULL, NULL);
  address = g_strdup_printf ("%u.%u.%u.%u", (net + 1) >> 24, ((net + 1) >> 16) & 0xff,
                             ((net + 1) >> 8) & 0xff, (net + 1) & 0xff);
  reverse = banger_reverse_zone (net, prefix);
  g_file_get_contents (resolv_path, &resolv, NULL, NULL);
  facts.resolv_conf = resolv;
  facts.resolved_running = exists ("/run/systemd/resolve/stub-resolv.conf");
  facts.dnsmasq = exists ("/etc/dnsmasq.d") || exists ("/etc/NetworkManager/dnsmasq.d");
  facts.unbound = exists ("/etc/unbound/unbound.conf");
  banger_dns_host_advice (&facts, config->domain, address, reverse ? reverse : "in-addr.arpa",
                          out_ok, &advice);
  return g_steal_pointer (&advice);
}
