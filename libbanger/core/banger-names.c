/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "banger-error.h"
#include "banger-names.h"
#include "banger-quote.h"

static gboolean
is_lower_alnum (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/**
 * banger_validate_vm_name:
 * @name: (nullable): a proposed VM name
 * @error: return location for a #GError
 *
 * Checks that @name is an RFC 1123 DNS label, so that `<name>.<domain>`
 * resolves and the name can be used in host object names: 1 to
 * %BANGER_VM_NAME_MAX characters from `a-z`, `0-9` and `-`, neither starting
 * nor ending with `-`.  Uppercase is refused, not folded.
 *
 * Returns: %TRUE if @name is valid; otherwise %FALSE with
 *   %BANGER_ERROR_INVALID_ARGUMENT set.
 *
 * Since: 0.1
 */
gboolean
banger_validate_vm_name (const char *name, GError **error)
{
  g_autofree char *quoted = banger_quote (name);
  gsize len;

  if (name == NULL || name[0] == '\0')
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                           "VM name is empty");
      return FALSE;
    }
  len = strlen (name);
  if (len > BANGER_VM_NAME_MAX)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "VM name '%s' is %" G_GSIZE_FORMAT " bytes long; a DNS label has at most %d",
                   quoted, len, BANGER_VM_NAME_MAX);
      return FALSE;
    }
  for (gsize i = 0; i < len; i++)
    {
      if (!is_lower_alnum (name[i]) && name[i] != '-')
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                       "VM name '%s' is not a DNS label (lowercase letters, digits, '-')",
                       quoted);
          return FALSE;
        }
    }
  if (name[0] == '-' || name[len - 1] == '-')
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "VM name '%s' is not a DNS label (it may not start or end with '-')", quoted);
      return FALSE;
    }
  return TRUE;
}

/**
 * banger_validate_ifname:
 * @name: (nullable): a network interface name
 * @error: return location for a #GError
 *
 * Checks that @name is an interface name banger may create or delete: the
 * prefix %BANGER_IFNAME_PREFIX ("bng") followed by one or more characters from
 * `a-z` and `0-9`, at most %BANGER_IFNAME_MAX bytes in all.  This is much
 * narrower than what the kernel accepts: no `.`, `-`, `:`, `/`, `*`, quotes,
 * whitespace or uppercase, so a name can never be misread by nft, a shell or
 * `ip`, and never names an interface banger does not own (`eth0`, `lo`).
 *
 * Returns: %TRUE if @name is valid; otherwise %FALSE with
 *   %BANGER_ERROR_INVALID_ARGUMENT set.
 *
 * Since: 0.1
 */
gboolean
banger_validate_ifname (const char *name, GError **error)
{
  g_autofree char *quoted = banger_quote (name);
  const gsize prefix_len = strlen (BANGER_IFNAME_PREFIX);
  gsize len;

  if (name == NULL || name[0] == '\0')
    {
      g_set_error_literal (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                           "Interface name is empty");
      return FALSE;
    }
  len = strlen (name);
  if (len > BANGER_IFNAME_MAX)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "Interface name '%s' is %" G_GSIZE_FORMAT " bytes long; at most %d are allowed",
                   quoted, len, BANGER_IFNAME_MAX);
      return FALSE;
    }
  if (strncmp (name, BANGER_IFNAME_PREFIX, prefix_len) != 0 || len == prefix_len)
    {
      g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                   "Interface name '%s' is not banger's ('" BANGER_IFNAME_PREFIX
                   "' followed by lowercase letters and digits)",
                   quoted);
      return FALSE;
    }
  for (gsize i = prefix_len; i < len; i++)
    {
      if (!is_lower_alnum (name[i]))
        {
          g_set_error (error, BANGER_ERROR, BANGER_ERROR_INVALID_ARGUMENT,
                       "Interface name '%s' may only contain lowercase letters and digits "
                       "after '" BANGER_IFNAME_PREFIX "'",
                       quoted);
          return FALSE;
        }
    }
  return TRUE;
}
