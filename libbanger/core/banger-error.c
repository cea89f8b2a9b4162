/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <gio/gio.h>

#include "banger-error.h"
#include "banger-error-private.h"

G_DEFINE_QUARK (banger-error-quark, banger_error)

/* The fixed code <-> name table.  Names travel over the daemon and helper
 * sockets; they are part of the protocol and never change.  They equal the
 * GEnum nicks glib-mkenums derives (a unit test checks that). */
static const char *const error_names[] = {
  [BANGER_ERROR_FAILED] = "failed",
  [BANGER_ERROR_INVALID_ARGUMENT] = "invalid-argument",
  [BANGER_ERROR_NOT_FOUND] = "not-found",
  [BANGER_ERROR_ALREADY_EXISTS] = "already-exists",
  [BANGER_ERROR_PERMISSION_DENIED] = "permission-denied",
  [BANGER_ERROR_BUSY] = "busy",
  [BANGER_ERROR_UNSUPPORTED] = "unsupported",
  [BANGER_ERROR_TIMED_OUT] = "timed-out",
  [BANGER_ERROR_CANCELLED] = "cancelled",
  [BANGER_ERROR_PROTOCOL] = "protocol",
  [BANGER_ERROR_LIMIT_EXCEEDED] = "limit-exceeded",
  [BANGER_ERROR_VMM] = "vmm",
  [BANGER_ERROR_HOST_KEY_MISMATCH] = "host-key-mismatch",
  [BANGER_ERROR_CONFLICT] = "conflict",
};

/**
 * banger_error_to_name:
 * @code: a #BangerError
 *
 * The stable wire name of @code, as sent over banger's sockets.
 *
 * Returns: (transfer none): the name, or "failed" for an unknown code.
 *
 * Since: 0.1
 */
const char *
banger_error_to_name (BangerError code)
{
  if ((guint) code >= G_N_ELEMENTS (error_names))
    return error_names[BANGER_ERROR_FAILED];
  return error_names[code];
}

/**
 * banger_error_from_name:
 * @name: (nullable): a wire name such as "not-found"
 * @out_code: (out) (optional): where to store the code
 *
 * The inverse of banger_error_to_name().  An unknown name maps to
 * %BANGER_ERROR_FAILED, and the function returns %FALSE, so a newer peer's
 * error still arrives as a #BANGER_ERROR.
 *
 * Returns: %TRUE if @name is a known error name.
 *
 * Since: 0.1
 */
gboolean
banger_error_from_name (const char *name, BangerError *out_code)
{
  for (guint i = 0; name != NULL && i < G_N_ELEMENTS (error_names); i++)
    {
      if (g_str_equal (name, error_names[i]))
        {
          if (out_code)
            *out_code = (BangerError) i;
          return TRUE;
        }
    }
  if (out_code)
    *out_code = BANGER_ERROR_FAILED;
  return FALSE;
}

BangerError
banger_error_code_from_gerror (const GError *error)
{
  if (error == NULL)
    return BANGER_ERROR_FAILED;
  if (error->domain == BANGER_ERROR)
    return (guint) error->code < G_N_ELEMENTS (error_names) ? (BangerError) error->code
                                                            : BANGER_ERROR_FAILED;
  if (error->domain == G_IO_ERROR)
    {
      switch (error->code)
        {
        case G_IO_ERROR_NOT_FOUND:
          return BANGER_ERROR_NOT_FOUND;
        case G_IO_ERROR_EXISTS:
          return BANGER_ERROR_ALREADY_EXISTS;
        case G_IO_ERROR_PERMISSION_DENIED:
          return BANGER_ERROR_PERMISSION_DENIED;
        case G_IO_ERROR_BUSY:
          return BANGER_ERROR_BUSY;
        case G_IO_ERROR_NOT_SUPPORTED:
          return BANGER_ERROR_UNSUPPORTED;
        case G_IO_ERROR_TIMED_OUT:
          return BANGER_ERROR_TIMED_OUT;
        case G_IO_ERROR_CANCELLED:
          return BANGER_ERROR_CANCELLED;
        case G_IO_ERROR_INVALID_ARGUMENT:
        case G_IO_ERROR_INVALID_FILENAME:
          return BANGER_ERROR_INVALID_ARGUMENT;
        default:
          return BANGER_ERROR_FAILED;
        }
    }
  return BANGER_ERROR_FAILED;
}

BangerError
banger_error_code_from_errno (int errsv)
{
  switch (errsv)
    {
    case ENOENT:
    case ESRCH:
      return BANGER_ERROR_NOT_FOUND;
    case EEXIST:
      return BANGER_ERROR_ALREADY_EXISTS;
    case EPERM:
    case EACCES:
    case ELOOP:
    case EXDEV:
      return BANGER_ERROR_PERMISSION_DENIED;
    case EBUSY:
      return BANGER_ERROR_BUSY;
    case ENOSYS:
    case EOPNOTSUPP:
      return BANGER_ERROR_UNSUPPORTED;
    case ETIMEDOUT:
      return BANGER_ERROR_TIMED_OUT;
    case EINVAL:
    case ENAMETOOLONG:
      return BANGER_ERROR_INVALID_ARGUMENT;
    default:
      return BANGER_ERROR_FAILED;
    }
}

gboolean
banger_set_error_from_errno (GError **error, int errsv, const char *format, ...)
{
  va_list args;
  g_autofree char *msg = NULL;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, BANGER_ERROR, banger_error_code_from_errno (errsv), "%s: %s", msg,
               g_strerror (errsv));
  return FALSE;
}
