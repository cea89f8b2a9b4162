/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * systemd-resolved per-link settings (see banger-resolved.h). */
#include "config.h"

#include <sys/socket.h>

#include "banger-error.h"
#include "banger-resolved.h"

#define RESOLVE1_NAME "org.freedesktop.resolve1"
#define RESOLVE1_PATH "/org/freedesktop/resolve1"
#define RESOLVE1_MANAGER "org.freedesktop.resolve1.Manager"
#define CALL_TIMEOUT_MS 5000

static char *test_bus_address;

void
banger_resolved_set_bus_address_for_testing (const char *address)
{
  g_free (test_bus_address);
  test_bus_address = g_strdup (address);
}

static GDBusConnection *
connect_bus (GCancellable *cancellable, GError **error)
{
  g_autoptr (GError) local = NULL;
  GDBusConnection *c;

  if (test_bus_address != NULL)
    c = g_dbus_connection_new_for_address_sync (
        test_bus_address,
        G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
            | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
        NULL, cancellable, &local);
  else
    {
      g_autofree char *addr
          = g_dbus_address_get_for_bus_sync (G_BUS_TYPE_SYSTEM, cancellable, &local);
      c = addr == NULL ? NULL
                       : g_dbus_connection_new_for_address_sync (
                           addr,
                           G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
                               | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                           NULL, cancellable, &local);
    }
  if (c == NULL)
    g_set_error (error, BANGER_ERROR, BANGER_ERROR_UNSUPPORTED,
                 "No system D-Bus to reach systemd-resolved: %s", local->message);
  return c;
}

static gboolean
call (GDBusConnection *c, const char *method, GVariant *args, GCancellable *cancellable,
      GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (GVariant) r = g_dbus_connection_call_sync (
      c, RESOLVE1_NAME, RESOLVE1_PATH, RESOLVE1_MANAGER, method, args, NULL,
      G_DBUS_CALL_FLAGS_NO_AUTO_START, CALL_TIMEOUT_MS, cancellable, &local);

  if (r != NULL)
    return TRUE;
  if (g_error_matches (local, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN)
      || g_error_matches (local, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER))
    g_set_error (error, BANGER_ERROR, BANGER_ERROR_UNSUPPORTED,
                 "systemd-resolved is not running (%s is not on the system bus)", RESOLVE1_NAME);
  else
    g_set_error (error, BANGER_ERROR, BANGER_ERROR_FAILED, "systemd-resolved refused %s: %s",
                 method, local->message);
  return FALSE;
}

gboolean
banger_resolved_set_link (int ifindex, guint32 dns_addr, const char *const *routing_domains,
                          GCancellable *cancellable, GError **error)
{
  g_autoptr (GDBusConnection) c = NULL;
  g_autoptr (GVariant) set_dns = NULL;
  g_autoptr (GVariant) set_domains = NULL;
  g_autoptr (GVariant) set_default_route = NULL;
  GVariantBuilder dns, domains, bytes;
  guint8 a[4]
      = { dns_addr >> 24, (dns_addr >> 16) & 0xff, (dns_addr >> 8) & 0xff, dns_addr & 0xff };

  g_return_val_if_fail (ifindex > 0, FALSE);
  c = connect_bus (cancellable, error);
  if (c == NULL)
    return FALSE;
  g_variant_builder_init (&bytes, G_VARIANT_TYPE ("ay"));
  for (guint i = 0; i < 4; i++)
    g_variant_builder_add (&bytes, "y", a[i]);
  g_variant_builder_init (&dns, G_VARIANT_TYPE ("a(iay)"));
  g_variant_builder_add (&dns, "(iay)", (gint32)AF_INET, &bytes);
  g_variant_builder_init (&domains, G_VARIANT_TYPE ("a(sb)"));
  for (guint i = 0; routing_domains != NULL && routing_domains[i] != NULL; i++)
    g_variant_builder_add (&domains, "(sb)", routing_domains[i], TRUE);
  /* all three made (and the builders consumed) before the first call, so
   * a failing call leaks none of them */
  set_dns = g_variant_ref_sink (g_variant_new ("(ia(iay))", (gint32)ifindex, &dns));
  set_domains = g_variant_ref_sink (g_variant_new ("(ia(sb))", (gint32)ifindex, &domains));
  set_default_route = g_variant_ref_sink (g_variant_new ("(ib)", (gint32)ifindex, FALSE));
  return call (c, "SetLinkDNS", set_dns, cancellable, error)
         && call (c, "SetLinkDomains", set_domains, cancellable, error)
         && call (c, "SetLinkDefaultRoute", set_default_route, cancellable, error);
}
